"""DaemonSet controller on a whole simulated cluster: placement, tolerations, rolling update."""

from __future__ import annotations

from typing import Any

import pytest

from kclusterkit.kube.meta import clone
from kclusterkit.sim import errors
from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.controllers.daemonset import pinned_node, should_run
from kclusterkit.sim.resources import DAEMONSETS, NODES, PODS


def daemonset(name: str = "agent", image: str = "nginx:1.25", **spec: Any) -> dict:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": image}]}},
                     **spec}}


def ds_pods(cluster: Cluster, name: str = "agent") -> list[dict]:
    return [p for p in cluster.store.iter(PODS, "default")
            if p["metadata"]["name"].startswith(f"{name}-")
            and not p["metadata"].get("deletionTimestamp")]


@pytest.fixture
def cluster() -> Cluster:
    return Cluster(ClusterSpec(control_plane_nodes=1, worker_nodes=2), seed=1)


def test_one_pod_per_schedulable_node_with_default_tolerations(cluster: Cluster) -> None:
    created = cluster.api.create(daemonset())
    assert created["spec"]["updateStrategy"] == {
        "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    cluster.advance(30)
    pods = ds_pods(cluster)
    # The control-plane node's NoSchedule taint is not tolerated: the workers only.
    assert sorted(p["spec"]["nodeName"] for p in pods) == ["worker-1", "worker-2"]
    keys = {(t["key"], t["effect"]) for t in pods[0]["spec"]["tolerations"]}
    assert {("node.kubernetes.io/not-ready", "NoExecute"),
            ("node.kubernetes.io/unreachable", "NoExecute"),
            ("node.kubernetes.io/unschedulable", "NoSchedule")} <= keys
    assert pinned_node(pods[0]) == pods[0]["spec"]["nodeName"]
    status = cluster.store.must_get(DAEMONSETS, "default", "agent")["status"]
    assert status["desiredNumberScheduled"] == 2
    assert status["numberReady"] == 2 and status["updatedNumberScheduled"] == 2


def test_toleration_and_node_selector_choose_nodes(cluster: Cluster) -> None:
    ds = daemonset()
    ds["spec"]["template"]["spec"]["tolerations"] = [
        {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
         "effect": "NoSchedule"}]
    cluster.api.create(ds)
    other = daemonset("picky")
    other["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/hostname": "worker-2"}
    cluster.api.create(other)
    cluster.advance(30)
    assert sorted(p["spec"]["nodeName"] for p in ds_pods(cluster)) == [
        "control-plane", "worker-1", "worker-2"]
    assert [p["spec"]["nodeName"] for p in ds_pods(cluster, "picky")] == ["worker-2"]


def test_deleted_daemon_pod_is_replaced_on_its_node(cluster: Cluster) -> None:
    cluster.api.create(daemonset())
    cluster.advance(30)
    victim = ds_pods(cluster)[0]
    cluster.api.delete(PODS, "default", victim["metadata"]["name"])
    cluster.advance(5)
    on_node = [p for p in ds_pods(cluster) if p["spec"]["nodeName"] == victim["spec"]["nodeName"]]
    assert len(on_node) == 1 and on_node[0]["metadata"]["uid"] != victim["metadata"]["uid"]


def test_rolling_update_replaces_one_node_at_a_time(cluster: Cluster) -> None:
    cluster.api.create(daemonset())
    cluster.advance(30)
    ds = clone(cluster.store.must_get(DAEMONSETS, "default", "agent"))
    ds["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26"
    cluster.api.update(ds)
    most_unavailable = 0
    for _ in range(120):
        cluster.advance(0.5)
        ready = [p for p in ds_pods(cluster)
                 if any(c["type"] == "Ready" and c["status"] == "True"
                        for c in (p.get("status") or {}).get("conditions") or [])]
        most_unavailable = max(most_unavailable, 2 - len(ready))
    images = sorted(p["spec"]["containers"][0]["image"] for p in ds_pods(cluster))
    assert images == ["nginx:1.26", "nginx:1.26"]
    assert most_unavailable == 1  # maxUnavailable 1: never both nodes at once


def test_a_node_tainted_noexecute_loses_the_pod_noschedule_keeps_it(cluster: Cluster) -> None:
    node = cluster.store.must_get(NODES, "", "worker-1")
    assert should_run({"containers": []}, node) == (True, True)
    tainted = clone(node)
    tainted["spec"]["taints"] = [{"key": "x", "effect": "NoSchedule"}]
    assert should_run({"containers": []}, tainted) == (False, True)
    tainted["spec"]["taints"] = [{"key": "x", "effect": "NoExecute"}]
    assert should_run({"containers": []}, tainted) == (False, False)


def test_validation_names_the_field(cluster: Cluster) -> None:
    bad = daemonset(updateStrategy={"type": "Sometimes"})
    with pytest.raises(errors.StatusError) as caught:
        cluster.api.create(bad)
    assert caught.value.code == 422
    assert "spec.updateStrategy.type" in caught.value.message
