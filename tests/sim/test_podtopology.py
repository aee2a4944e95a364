"""Inter-pod affinity, anti-affinity, topology spread and preferred node affinity, as the
scheduler applies them on a whole simulated cluster with zones."""

from __future__ import annotations

from typing import Any

import pytest

from kclusterkit.kube.meta import condition
from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.resources import NODES, PODS


@pytest.fixture
def cluster() -> Cluster:
    return Cluster(ClusterSpec(control_plane_nodes=1, worker_nodes=3,
                               zones=("zone-a", "zone-b")), seed=1)


def pod(name: str, app: str, **spec: Any) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "labels": {"app": app}},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}], **spec}}


def node_of(cluster: Cluster, name: str) -> str | None:
    return cluster.store.must_get(PODS, "default", name)["spec"].get("nodeName")


def unschedulable(cluster: Cluster, name: str) -> str:
    cond = condition(cluster.store.must_get(PODS, "default", name), "PodScheduled")
    assert cond is not None and cond["status"] == "False"
    return cond["message"]


def anti(app: str, key: str = "kubernetes.io/hostname") -> dict:
    return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key}]}}


def test_zones_label_the_nodes_round_robin(cluster: Cluster) -> None:
    zones = {n["metadata"]["name"]: n["metadata"]["labels"].get("topology.kubernetes.io/zone")
             for n in cluster.store.iter(NODES)}
    assert zones == {"control-plane": "zone-a", "worker-1": "zone-a", "worker-2": "zone-b",
                     "worker-3": "zone-a"}


def test_required_anti_affinity_keeps_one_per_node_and_says_why(cluster: Cluster) -> None:
    for i in range(4):
        cluster.api.create(pod(f"w{i}", "web", affinity=anti("web")))
    cluster.advance(5)
    nodes = [node_of(cluster, f"w{i}") for i in range(4)]
    assert sorted(n for n in nodes if n) == ["worker-1", "worker-2", "worker-3"]
    waiting = [f"w{i}" for i in range(4) if nodes[i] is None][0]
    assert unschedulable(cluster, waiting).startswith(
        "0/4 nodes are available: 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }, 3 node(s) didn't match pod anti-affinity "
        "rules. no new claims to deallocate, preemption: 0/4 nodes are available: 1 "
        "Preemption is not helpful for scheduling, 3 No preemption victims found for "
        "incoming pod.")


def test_an_existing_pods_anti_affinity_repels_the_newcomer(cluster: Cluster) -> None:
    cluster.api.create(pod("loner", "loner", affinity=anti("web", "topology.kubernetes.io/zone")))
    cluster.advance(5)
    zone_of_loner = {"worker-1": "zone-a", "worker-3": "zone-a", "worker-2": "zone-b"}[
        node_of(cluster, "loner")]
    cluster.api.create(pod("w", "web"))
    cluster.advance(5)
    placed = node_of(cluster, "w")
    assert placed is not None
    assert {"worker-1": "zone-a", "worker-3": "zone-a", "worker-2": "zone-b"}[placed] != \
        zone_of_loner


def test_zone_spread_with_max_skew_one(cluster: Cluster) -> None:
    spread = [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
               "whenUnsatisfiable": "DoNotSchedule",
               "labelSelector": {"matchLabels": {"app": "web"}}}]
    for i in range(6):
        cluster.api.create(pod(f"w{i}", "web", topologySpreadConstraints=spread))
        cluster.advance(1)
    zones = [{"worker-1": "a", "worker-3": "a", "worker-2": "b"}[node_of(cluster, f"w{i}")]
             for i in range(6)]
    assert zones.count("a") == 3 and zones.count("b") == 3


def test_spread_on_a_missing_key_is_unresolvable(cluster: Cluster) -> None:
    spread = [{"maxSkew": 1, "topologyKey": "rack", "whenUnsatisfiable": "DoNotSchedule",
               "labelSelector": {"matchLabels": {"app": "web"}}}]
    cluster.api.create(pod("w", "web", topologySpreadConstraints=spread))
    cluster.advance(5)
    assert "3 node(s) didn't match pod topology spread constraints (missing required " \
           "label)" in unschedulable(cluster, "w")
    assert "4 Preemption is not helpful for scheduling" in unschedulable(cluster, "w")


def test_required_affinity_follows_the_target_and_a_self_matching_first_pod_goes(
        cluster: Cluster) -> None:
    follow = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "db"}},
         "topologyKey": "kubernetes.io/hostname"}]}}
    cluster.api.create(pod("early", "side", affinity=follow))
    cluster.advance(5)
    assert node_of(cluster, "early") is None
    assert "didn't match pod affinity rules" in unschedulable(cluster, "early")
    cluster.api.create(pod("db", "db"))
    cluster.advance(40)  # the assigned pod's arrival moves the waiting pod back
    assert node_of(cluster, "early") == node_of(cluster, "db")
    own = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "group"}},
         "topologyKey": "kubernetes.io/hostname"}]}}
    cluster.api.create(pod("g1", "group", affinity=own))
    cluster.advance(5)
    cluster.api.create(pod("g2", "group", affinity=own))
    cluster.advance(5)
    assert node_of(cluster, "g1") is not None and node_of(cluster, "g1") == node_of(cluster,
                                                                                  "g2")


def test_preferred_node_affinity_draws_pods(cluster: Cluster) -> None:
    node = cluster.store.must_get(NODES, "", "worker-3")
    node["metadata"]["labels"]["disk"] = "ssd"
    cluster.api.update(node)
    prefer = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 100, "preference": {"matchExpressions": [
            {"key": "disk", "operator": "In", "values": ["ssd"]}]}}]}}
    for i in range(3):
        cluster.api.create(pod(f"p{i}", "p", affinity=prefer))
        cluster.advance(1)
    assert [node_of(cluster, f"p{i}") for i in range(3)] == ["worker-3"] * 3
