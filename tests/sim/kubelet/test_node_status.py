"""The kubelet's own Node: registration, Lease renewal, status posts, and what a failed
kubelet does (kubelet_node_status.go, nodelease)."""

from __future__ import annotations

from kubernetes.client.models import V1Node

from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.resources import LEASES, NODES, PODS
from tests.sim.node_checks import node_events, ready


def test_nodes_register_like_kubeadm_nodes() -> None:
    cluster = Cluster(ClusterSpec(control_plane_nodes=3, worker_nodes=2), seed=1)
    names = [n["metadata"]["name"] for n in cluster.store.iter(NODES)]
    assert names == ["control-plane", "control-plane-2", "control-plane-3",
                     "worker-1", "worker-2"]
    cp = cluster.store.must_get(NODES, "", "control-plane")
    assert cp["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] == ""
    assert cp["spec"]["taints"] == [{"key": "node-role.kubernetes.io/control-plane",
                                     "effect": "NoSchedule"}]
    worker = cluster.store.must_get(NODES, "", "worker-2")
    labels = worker["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == "worker-2"
    assert labels["kubernetes.io/os"] == labels["beta.kubernetes.io/os"] == "linux"
    assert labels["kubernetes.io/arch"] == "amd64"
    assert "taints" not in worker["spec"]
    assert worker["spec"]["podCIDR"] == "10.244.4.0/24"
    status = worker["status"]
    assert status["addresses"] == [{"type": "InternalIP", "address": "172.18.0.6"},
                                   {"type": "Hostname", "address": "worker-2"}]
    assert status["capacity"]["cpu"] == "4" and status["capacity"]["pods"] == "110"
    assert status["capacity"]["memory"] == "8388608Ki"
    assert status["allocatable"]["memory"] == "8286208Ki"  # minus the 100Mi eviction threshold
    assert status["nodeInfo"]["kubeletVersion"] == "v1.34.1"
    assert [c["type"] for c in status["conditions"]] == [
        "MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
    rc = ready(cluster, "worker-2")
    assert (rc["status"], rc["reason"], rc["message"]) == (
        "True", "KubeletReady", "kubelet is posting ready status")
    # The kubernetes client (pydantic models) accepts it, nodeInfo included.
    parsed = V1Node.from_dict(worker)
    assert parsed.status.node_info.machine_id == status["nodeInfo"]["machineID"]
    assert node_events(cluster, "worker-2", "NodeReady")[0]["message"] == \
        "Node worker-2 status is now: NodeReady"
    assert node_events(cluster, "worker-2", "RegisteredNode")[0]["message"] == \
        "Node worker-2 event: Registered Node worker-2 in Controller"


def test_without_a_network_plugin_nodes_are_not_ready_and_tainted() -> None:
    cluster = Cluster(ClusterSpec(network_plugin=False), seed=1)
    rc = ready(cluster, "worker-1")
    assert (rc["status"], rc["reason"]) == ("False", "KubeletNotReady")
    assert rc["message"] == (
        "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
        "message:Network plugin returns error: cni plugin not initialized")
    cluster.advance(6)
    taints = cluster.store.must_get(NODES, "", "worker-1")["spec"]["taints"]
    assert {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"} in taints
    assert any(t["key"] == "node.kubernetes.io/not-ready" and t["effect"] == "NoExecute"
               for t in taints)
    cluster.nodes.set_network_plugin(True)
    cluster.advance(6)
    assert ready(cluster, "worker-1")["status"] == "True"
    assert "taints" not in cluster.store.must_get(NODES, "", "worker-1")["spec"]


def test_leases_are_renewed_every_ten_seconds() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=1)
    lease = cluster.store.must_get(LEASES, "kube-node-lease", "worker-1")
    assert lease["spec"]["holderIdentity"] == "worker-1"
    assert lease["spec"]["leaseDurationSeconds"] == 40
    assert lease["metadata"]["ownerReferences"][0]["kind"] == "Node"
    renewals = []
    last = lease["spec"]["renewTime"]
    for _ in range(60):
        cluster.advance(1)
        now = cluster.store.must_get(LEASES, "kube-node-lease", "worker-1")["spec"]["renewTime"]
        if now != last:
            renewals.append(cluster.now)
            last = now
    assert renewals == [10, 20, 30, 40, 50, 60]


def test_node_status_is_posted_on_change_or_every_five_minutes() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=1)
    before = ready(cluster, "worker-1")["lastHeartbeatTime"]
    cluster.advance(290)
    assert ready(cluster, "worker-1")["lastHeartbeatTime"] == before
    cluster.advance(20)
    assert ready(cluster, "worker-1")["lastHeartbeatTime"] == "2026-01-01T00:05:00Z"


def test_a_container_keeps_running_on_a_failed_node_but_is_not_restarted() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=1)
    nodes = cluster.nodes
    cluster.api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                        "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
                                                 "command": ["sleep", "20"]}]}})
    cluster.advance(5)
    nodes.fail_node("worker-1")
    cluster.advance(30)  # the process exited meanwhile; nobody restarts or reports it
    status = cluster.store.must_get(PODS, "default", "p")["status"]["containerStatuses"][0]
    assert "running" in status["state"] and status["restartCount"] == 0
    nodes.recover_node("worker-1")
    cluster.advance(1)
    status = cluster.store.must_get(PODS, "default", "p")["status"]["containerStatuses"][0]
    assert status["restartCount"] == 1
    assert status["lastState"]["terminated"]["reason"] == "Completed"
