"""The network plugin is kind's kindnet DaemonSet: its pod on a node configures CNI there,
and only then does that node's kubelet report Ready."""

from __future__ import annotations

from kclusterkit.kube.meta import condition
from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.kubelet.node_status import NETWORK_NOT_READY
from kclusterkit.sim.resources import DAEMONSETS, EVENTS, NODES, PODS


def ready(cluster: Cluster, node: str) -> dict:
    cond = condition(cluster.store.must_get(NODES, "", node), "Ready")
    assert cond is not None
    return cond


def kindnet_pods(cluster: Cluster) -> list[dict]:
    return [p for p in cluster.store.iter(PODS, "kube-system")
            if (p["metadata"].get("labels") or {}).get("app") == "kindnet"]


def test_a_cluster_without_the_plugin_has_no_daemonset_and_installing_it_readies_nodes(
        ) -> None:
    cluster = Cluster(ClusterSpec(network_plugin=False), seed=1)
    assert cluster.store.get(DAEMONSETS, "kube-system", "kindnet") is None
    cluster.advance(10)
    assert ready(cluster, "worker-1")["message"] == NETWORK_NOT_READY
    cluster.nodes.set_network_plugin(True)
    # The API has the DaemonSet; the nodes wait for its pods to write their CNI config.
    ds = cluster.store.must_get(DAEMONSETS, "kube-system", "kindnet")
    assert ds["spec"]["template"]["spec"]["containers"][0]["image"].startswith(
        "docker.io/kindest/kindnetd:")
    assert ready(cluster, "worker-1")["status"] == "False"
    cluster.advance(10)
    nodes = {p["spec"].get("nodeName") for p in kindnet_pods(cluster)
             if (p.get("status") or {}).get("phase") == "Running"}
    assert nodes == {"control-plane", "worker-1", "worker-2"}
    for node in nodes:
        assert ready(cluster, node)["status"] == "True"


def test_removing_the_plugin_deletes_the_daemonset_and_unreadies_every_node() -> None:
    cluster = Cluster(ClusterSpec(), seed=1)
    cluster.advance(5)
    assert len(kindnet_pods(cluster)) == 3
    cluster.nodes.set_network_plugin(False)
    assert cluster.store.get(DAEMONSETS, "kube-system", "kindnet") is None
    assert ready(cluster, "worker-2")["status"] == "False"
    assert ready(cluster, "worker-2")["message"] == NETWORK_NOT_READY
    cluster.advance(40)
    assert kindnet_pods(cluster) == []


def test_pods_wait_for_the_network_but_host_network_pods_do_not() -> None:
    cluster = Cluster(ClusterSpec(network_plugin=False, worker_nodes=1), seed=1)
    tolerate = [{"operator": "Exists"}]
    for name, host in (("app", False), ("agent", True)):
        cluster.api.create({"apiVersion": "v1", "kind": "Pod",
                            "metadata": {"name": name, "namespace": "default"},
                            "spec": {"nodeName": "worker-1", "hostNetwork": host,
                                     "tolerations": tolerate,
                                     "containers": [{"name": "c", "image": "nginx:1.25"}]}})
    cluster.advance(10)
    app = cluster.store.must_get(PODS, "default", "app")
    assert app["status"].get("phase") == "Pending"
    assert cluster.store.must_get(PODS, "default", "agent")["status"]["phase"] == "Running"
    [event] = [e for e in cluster.store.iter(EVENTS, "default")
               if e["involvedObject"]["name"] == "app" and e["reason"] == "NetworkNotReady"]
    assert event["message"] == f"network is not ready: {NETWORK_NOT_READY}"
    cluster.nodes.set_network_plugin(True)
    cluster.advance(10)
    app = cluster.store.must_get(PODS, "default", "app")
    assert app["status"]["phase"] == "Running"
    assert app["status"]["podIP"].startswith("10.244.")
