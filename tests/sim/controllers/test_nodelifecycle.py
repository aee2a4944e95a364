"""The node lifecycle and taint eviction controllers: failure detection, taints, eviction
timing (pkg/controller/nodelifecycle, pkg/controller/tainteviction)."""

from __future__ import annotations

from kclusterkit.kube.meta import clone, condition
from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.resources import NODES, PODS
from tests.sim.node_checks import deployment, node_events, ready


def test_a_failed_node_goes_unknown_after_the_grace_period_and_its_pods_move() -> None:
    cluster = Cluster(ClusterSpec(), seed=4)
    nodes = cluster.nodes
    cluster.api.create(deployment())
    cluster.advance(10)
    on_one = [p for p in cluster.store.iter(PODS, "default") if p["spec"]["nodeName"] == "worker-1"]
    assert on_one
    victim = on_one[0]["metadata"]["name"]
    nodes.fail_node("worker-1")
    failed_at = cluster.now  # the lease was renewed at this instant
    assert nodes.is_failed("worker-1")
    cluster.advance(50)
    assert ready(cluster, "worker-1")["status"] == "True"
    cluster.advance(5)
    rc = ready(cluster, "worker-1")
    assert (rc["status"], rc["reason"], rc["message"]) == (
        "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")
    unknown_at = cluster.now
    assert unknown_at - failed_at == 55  # first 5-second monitor tick past 50 s
    node = cluster.store.must_get(NODES, "", "worker-1")
    assert {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"} in \
        node["spec"]["taints"]
    assert any(t["key"] == "node.kubernetes.io/unreachable" and t["effect"] == "NoExecute"
               for t in node["spec"]["taints"])
    pod = cluster.store.must_get(PODS, "default", victim)
    assert condition(pod, "Ready")["status"] == "False"
    assert [e["message"] for e in node_events(cluster, victim, "NodeNotReady")] == \
        ["Node is not ready"]
    assert node_events(cluster, "worker-1", "NodeNotReady")[0]["message"] == \
        "Node worker-1 status is now: NodeNotReady"
    # The default 300 s toleration of the unreachable taint runs out, then eviction.
    cluster.advance(299)
    assert not cluster.store.must_get(PODS, "default", victim)["metadata"].get(
        "deletionTimestamp")
    cluster.advance(1)
    pod = cluster.store.must_get(PODS, "default", victim)
    assert pod["metadata"].get("deletionTimestamp")  # kept: its kubelet is gone
    disruption = condition(pod, "DisruptionTarget")
    assert disruption["reason"] == "DeletionByTaintManager"
    [evicted] = node_events(cluster, victim, "TaintManagerEviction")
    assert evicted["message"] == f"Marking for deletion Pod default/{victim}"
    cluster.advance(15)
    running = [p for p in cluster.store.iter(PODS, "default")
               if not p["metadata"].get("deletionTimestamp")
               and p["status"].get("phase") == "Running"]
    assert len(running) == 3
    assert all(p["spec"]["nodeName"] == "worker-2" for p in running)
    # The node comes back: taints go, the terminating pod is finally removed.
    nodes.recover_node("worker-1")
    cluster.advance(6)
    assert ready(cluster, "worker-1")["status"] == "True"
    assert "taints" not in cluster.store.must_get(NODES, "", "worker-1")["spec"]
    cluster.advance(1)
    assert cluster.store.get(PODS, "default", victim) is None


def test_a_brief_failure_cancels_the_pending_eviction() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=1)
    nodes = cluster.nodes
    cluster.api.create(deployment(1))
    cluster.advance(10)
    [pod] = list(cluster.store.iter(PODS, "default"))
    name = pod["metadata"]["name"]
    nodes.fail_node("worker-1")
    cluster.advance(70)
    assert condition(cluster.store.must_get(PODS, "default", name), "Ready")["status"] == \
        "False"
    nodes.recover_node("worker-1")
    cluster.advance(1)
    pod = cluster.store.must_get(PODS, "default", name)
    assert condition(pod, "Ready")["status"] == "True"
    cluster.advance(5)  # the next monitor pass lifts the NoExecute taint
    assert not cluster.store.must_get(PODS, "default", name)["metadata"].get(
        "deletionTimestamp")
    assert [e["message"] for e in node_events(cluster, name, "TaintManagerEviction")] == [
        f"Cancelling deletion of Pod default/{name}"]


def test_an_api_outage_does_not_make_every_node_unknown() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=2), seed=1)
    cluster.advance(10)
    cluster.api.unavailable_reason = "etcdserver: request timed out"
    cluster.advance(120)  # kubelets cannot renew their leases meanwhile
    cluster.api.unavailable_reason = None
    cluster.advance(30)
    assert all(ready(cluster, n)["status"] == "True" for n in ("worker-1", "worker-2"))


def test_a_ready_condition_flipped_behind_a_live_kubelet_is_written_back_at_its_sync() -> None:
    # MarkPodsNotReady runs whenever a node goes NotReady, also when its kubelet stays alive
    # (the network plugin gone, say). Once the node is fine again, only the kubelet's status
    # manager (syncBatch every 10 s) writes its own Ready=True back; without it Services
    # would keep the pods out of their endpoints for good.
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=1)
    cluster.api.create(deployment(1))
    cluster.advance(10)
    [pod] = list(cluster.store.iter(PODS, "default"))
    name = pod["metadata"]["name"]
    flipped = clone(pod)
    condition(flipped, "Ready")["status"] = "False"
    cluster.api.update(flipped, subresource="status")
    cluster.advance(0.5)
    assert condition(cluster.store.must_get(PODS, "default", name), "Ready")["status"] == \
        "False"
    cluster.advance(10)
    assert condition(cluster.store.must_get(PODS, "default", name), "Ready")["status"] == \
        "True"
