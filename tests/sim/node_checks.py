"""What the node tests share: a small Deployment to place, and a node's Ready condition and
events read back."""

from __future__ import annotations

from kclusterkit.kube.meta import condition
from kclusterkit.sim.cluster import Cluster
from kclusterkit.sim.resources import EVENTS, NODES


def deployment(replicas: int = 3) -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "n", "image": "nginx:1.25"}]}}},
    }


def ready(cluster: Cluster, name: str) -> dict:
    cond = condition(cluster.store.must_get(NODES, "", name), "Ready")
    assert cond is not None
    return cond


def node_events(cluster: Cluster, name: str, reason: str) -> list[dict]:
    return [e for e in cluster.store.iter(EVENTS, "default")
            if e["involvedObject"]["name"] == name and e["reason"] == reason]
