"""What the kubelet's tests share: a pod, and reading back what the
kubelet reported about it."""

from __future__ import annotations

from typing import Any

from kclusterkit.sim.cluster import Cluster
from kclusterkit.sim.resources import EVENTS, PODS


def make_pod(name: str = "web", image: str = "nginx:1.25", **container: Any) -> dict:
    spec_extra = container.pop("spec", {})
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "app", "image": image, **container}],
                     **spec_extra}}


def get(cluster: Cluster, name: str = "web") -> dict:
    return cluster.store.must_get(PODS, "default", name)


def state(cluster: Cluster, name: str = "web") -> dict:
    return get(cluster, name)["status"]["containerStatuses"][0]


def events(cluster: Cluster, name: str = "web", reason: str | None = None) -> list[dict]:
    out = [e for e in cluster.store.iter(EVENTS, "default")
           if e["involvedObject"]["name"] == name and e["source"].get("component") == "kubelet"]
    return [e for e in out if reason is None or e["reason"] == reason]


def run_until(cluster: Cluster, predicate: Any, limit: float = 600.0, step: float = 0.5
              ) -> float:
    end = cluster.now + limit
    while cluster.now < end:
        if predicate():
            return cluster.now
        cluster.advance(step)
    raise AssertionError("condition never held")
