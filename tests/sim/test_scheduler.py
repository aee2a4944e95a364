"""The scheduler: placement, spreading, filters and upstream's FailedScheduling wording."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from kclusterkit.kube.meta import condition
from kclusterkit.sim.cluster import Cluster, ClusterSpec, NodeShape
from kclusterkit.sim.kinds.pods import pod_requests
from kclusterkit.sim.resources import EVENTS, NODES, PODS
from kclusterkit.sim.scheduler import (
    fit_error,
    num_feasible_nodes_to_find,
    tolerates,
    version_hides_taints,
)


def pod(name: str, cpu: str | None = None, memory: str | None = None, **spec: Any) -> dict:
    container: dict[str, Any] = {"name": "app", "image": "nginx:1.25"}
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    if requests:
        container["resources"] = {"requests": requests}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [container], **spec}}


def events(cluster: Cluster, name: str, reason: str) -> list[dict]:
    return [e for e in cluster.store.iter(EVENTS, "default")
            if e["involvedObject"]["name"] == name and e["reason"] == reason]


def node_of(cluster: Cluster, name: str) -> str | None:
    return cluster.store.must_get(PODS, "default", name)["spec"].get("nodeName")


def test_a_pod_is_bound_with_a_scheduled_event_and_condition() -> None:
    cluster = Cluster(ClusterSpec(), seed=3)
    cluster.api.create(pod("web"))
    cluster.advance(0.1)
    stored = cluster.store.must_get(PODS, "default", "web")
    node = stored["spec"]["nodeName"]
    assert node in ("worker-1", "worker-2")  # never the tainted control plane
    scheduled = condition(stored, "PodScheduled")
    assert scheduled is not None and scheduled["status"] == "True"
    [event] = events(cluster, "web", "Scheduled")
    assert event["message"] == f"Successfully assigned default/web to {node}"
    assert event["source"] == {"component": "default-scheduler"}


def test_three_replicas_on_two_workers_spread_two_and_one() -> None:
    cluster = Cluster(ClusterSpec(), seed=5)
    cluster.api.create({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "n", "image": "nginx:1.25"}]}}},
    })
    cluster.advance(5)
    placed = Counter(p["spec"].get("nodeName") for p in cluster.store.iter(PODS, "default"))
    assert sorted(placed.values()) == [1, 2]
    assert set(placed) == {"worker-1", "worker-2"}


def test_many_pods_spread_evenly_over_many_nodes() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=10), seed=1)
    for i in range(50):
        cluster.api.create(pod(f"p{i}", cpu="100m"))
    cluster.advance(0.1)
    placed = Counter(node_of(cluster, f"p{i}") for i in range(50))
    assert len(placed) == 10
    # LeastAllocated evens out requested CPU, counting kube-system's pods (CoreDNS runs on
    # two of the workers): no node ends more than one 100m pod above another.
    requested = Counter({f"worker-{i}": 0 for i in range(1, 11)})
    for p in cluster.store.iter(PODS):
        if p["spec"].get("nodeName", "").startswith("worker-"):
            requested[p["spec"]["nodeName"]] += pod_requests(p["spec"])[0]
    assert max(requested.values()) - min(requested.values()) <= 100


def test_the_same_seed_places_pods_identically() -> None:
    def placement(seed: int) -> list[str | None]:
        cluster = Cluster(ClusterSpec(worker_nodes=5), seed=seed)
        for i in range(12):
            cluster.api.create(pod(f"p{i}"))
        cluster.advance(0.1)
        return [node_of(cluster, f"p{i}") for i in range(12)]

    assert placement(7) == placement(7)


def test_insufficient_cpu_gives_upstreams_aggregated_message() -> None:
    cluster = Cluster(ClusterSpec(), seed=1)
    cluster.api.create(pod("big", cpu="3"))
    cluster.api.create(pod("bigger", cpu="3"))
    cluster.api.create(pod("too-big", cpu="3"))
    cluster.advance(0.1)
    pending = [n for n in ("big", "bigger", "too-big") if node_of(cluster, n) is None]
    assert pending == ["too-big"]
    expected = ("0/3 nodes are available: 1 node(s) had untolerated taint "
                "{node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. "
                "no new claims to deallocate, preemption: 0/3 nodes are available: "
                "1 Preemption is not helpful for scheduling, "
                "2 No preemption victims found for incoming pod.")
    [event] = events(cluster, "too-big", "FailedScheduling")
    assert event["type"] == "Warning"
    assert event["message"] == expected
    cond = condition(cluster.store.must_get(PODS, "default", "too-big"), "PodScheduled")
    assert cond is not None
    assert (cond["status"], cond["reason"], cond["message"]) == ("False", "Unschedulable",
                                                                 expected)
    assert cond["observedGeneration"] == 1  # PodObservedGenerationTracking, on in v1.34


def test_a_request_larger_than_any_node_is_not_helped_by_preemption() -> None:
    cluster = Cluster(ClusterSpec(), seed=1)
    cluster.api.create(pod("huge", cpu="100", memory="1Ti"))
    cluster.advance(0.1)
    [event] = events(cluster, "huge", "FailedScheduling")
    assert event["message"] == (
        "0/3 nodes are available: 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu, 2 Insufficient memory. "
        "no new claims to deallocate, preemption: 0/3 nodes are available: "
        "3 Preemption is not helpful for scheduling.")


def test_node_selector_mismatch_and_never_preempting_pods() -> None:
    cluster = Cluster(ClusterSpec(), seed=1)
    cluster.api.create(pod("picky", nodeSelector={"disk": "ssd"}, preemptionPolicy="Never"))
    cluster.advance(0.1)
    [event] = events(cluster, "picky", "FailedScheduling")
    assert event["message"] == (
        "0/3 nodes are available: 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node "
        "affinity/selector. no new claims to deallocate, "
        "preemption: not eligible due to preemptionPolicy=Never.")


def test_required_node_affinity_and_tolerations_allow_the_control_plane() -> None:
    cluster = Cluster(ClusterSpec(), seed=1)
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}]}]}}}
    cluster.api.create(pod("cp", affinity=affinity, tolerations=[
        {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
         "effect": "NoSchedule"}]))
    cluster.api.create(pod("cp-untolerated", affinity=affinity))
    cluster.advance(0.1)
    assert node_of(cluster, "cp") == "control-plane"
    assert node_of(cluster, "cp-untolerated") is None


def test_cordoned_nodes_are_unschedulable() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=1)
    node = cluster.api.get(NODES, "", "worker-1")
    node["spec"]["unschedulable"] = True
    cluster.api.update(node)
    cluster.advance(0.1)
    cluster.api.create(pod("web"))
    cluster.advance(0.1)
    [event] = events(cluster, "web", "FailedScheduling")
    assert event["message"].startswith(
        "0/2 nodes are available: 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }, 1 node(s) were unschedulable.")


def test_too_many_pods() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1, node=NodeShape(pods=2)), seed=1)
    for i in range(3):
        cluster.api.create(pod(f"p{i}"))
    cluster.advance(0.1)
    [event] = events(cluster, "p2", "FailedScheduling")
    assert event["message"].startswith("0/2 nodes are available: 1 Too many pods, 1 node(s) "
                                       "had untolerated taint")


def test_a_pending_pod_is_scheduled_once_a_pod_frees_room() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=1)
    cluster.api.create(pod("first", cpu="3"))
    cluster.advance(1)
    cluster.api.create(pod("second", cpu="3"))
    cluster.advance(5)
    assert node_of(cluster, "second") is None
    cluster.api.delete(PODS, "default", "first", grace_period=0)
    cluster.advance(2)
    assert node_of(cluster, "second") == "worker-1"


def test_a_pending_pod_is_scheduled_when_a_node_joins() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=1)
    cluster.api.create(pod("a", cpu="3"))
    cluster.api.create(pod("b", cpu="3"))
    cluster.advance(1)
    assert node_of(cluster, "b") is None
    cluster.nodes.add_node("worker-2")
    cluster.advance(2)
    assert node_of(cluster, "b") == "worker-2"


def test_retries_back_off_and_events_fold() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=1)
    cluster.api.create(pod("huge", cpu="64"))
    cluster.advance(0.1)
    # Node heartbeats don't requeue it; the periodic flush does, after 5 minutes.
    cluster.advance(200)
    [event] = events(cluster, "huge", "FailedScheduling")
    assert event["count"] == 1
    cluster.advance(160)
    [event] = events(cluster, "huge", "FailedScheduling")
    assert event["count"] == 2


def test_pods_with_another_scheduler_are_left_alone() -> None:
    cluster = Cluster(ClusterSpec(), seed=1)
    cluster.api.create(pod("custom", schedulerName="my-scheduler"))
    cluster.advance(1)
    assert node_of(cluster, "custom") is None
    assert not events(cluster, "custom", "FailedScheduling")


def test_num_feasible_nodes_to_find_follows_upstream() -> None:
    assert num_feasible_nodes_to_find(50) == 50
    assert num_feasible_nodes_to_find(100) == 100  # 49 % of 100 -> at least 100
    assert num_feasible_nodes_to_find(1000) == 420  # 50 - 1000/125 = 42 %
    assert num_feasible_nodes_to_find(5000) == 500  # 10 %
    assert num_feasible_nodes_to_find(10000) == 500  # floor 5 %


def test_fit_error_sorts_the_histogram_as_strings() -> None:
    reasons = Counter({"Insufficient cpu": 10, "node(s) were unschedulable": 2})
    assert fit_error(12, reasons) == ("0/12 nodes are available: 10 Insufficient cpu, "
                                      "2 node(s) were unschedulable.")


@pytest.mark.parametrize(("toleration", "taint", "expected"), [
    ({"operator": "Exists"}, {"key": "a", "effect": "NoSchedule"}, True),
    ({"key": "a", "operator": "Equal", "value": "x"}, {"key": "a", "value": "y",
                                                      "effect": "NoSchedule"}, False),
    ({"key": "a", "value": "x"}, {"key": "a", "value": "x", "effect": "NoExecute"}, True),
    ({"key": "a", "operator": "Exists", "effect": "NoExecute"},
     {"key": "a", "effect": "NoSchedule"}, False),
])
def test_tolerations_match_as_upstream(toleration: dict, taint: dict, expected: bool) -> None:
    assert tolerates(toleration, taint) is expected


def test_newer_patch_releases_do_not_name_the_taint() -> None:
    assert not version_hides_taints("v1.34.1")
    assert version_hides_taints("v1.34.2")
    assert version_hides_taints("v1.35.0")
    cluster = Cluster(ClusterSpec(worker_nodes=0, kubernetes_version="v1.35.0"), seed=1)
    cluster.api.create(pod("web"))
    cluster.advance(0.1)
    [event] = events(cluster, "web", "FailedScheduling")
    assert event["message"].startswith(
        "0/1 nodes are available: 1 node(s) had untolerated taint(s). ")


def test_an_idle_scheduler_pops_a_moved_pod_before_its_back_off_ends() -> None:
    # SchedulerPopFromBackoffQ (beta, on by default since v1.33).
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=1)
    cluster.api.create(pod("first", cpu="3"))
    cluster.advance(0.5)
    cluster.api.create(pod("second", cpu="3"))
    cluster.advance(0.1)
    assert events(cluster, "second", "FailedScheduling")  # back-off until about t=1.5
    cluster.api.delete(PODS, "default", "first", grace_period=0)
    cluster.advance(0.1)
    assert node_of(cluster, "second") == "worker-1"
