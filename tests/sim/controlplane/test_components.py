"""The control plane's parts: kube-system pods, leader election, etcd quorum, API servers."""

from __future__ import annotations

import pytest

from kclusterkit.sim import errors, faults
from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.resources import ENDPOINTS, LEASES, PODS


def cluster_of(cp: int = 1, workers: int = 2) -> Cluster:
    c = Cluster(ClusterSpec(control_plane_nodes=cp, worker_nodes=workers), seed=1)
    c.advance(30)
    return c


def deployment(replicas: int = 2) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "n",
                                                           "image": "nginx:1.25"}]}}}}


def system_pods(c: Cluster) -> dict[str, str]:
    return {p["metadata"]["name"]: p["spec"].get("nodeName", "")
            for p in c.store.iter(PODS, "kube-system")
            if not p["metadata"].get("deletionTimestamp")}


def web_pods(c: Cluster) -> list[dict]:
    return [p for p in c.store.iter(PODS, "default")
            if not p["metadata"].get("deletionTimestamp")]


def test_kube_system_runs_kubeadms_pods_on_the_right_nodes() -> None:
    c = cluster_of(cp=3, workers=2)
    pods = system_pods(c)
    for node in ("control-plane", "control-plane-2", "control-plane-3"):
        for component in ("etcd", "kube-apiserver", "kube-scheduler", "kube-controller-manager"):
            assert pods[f"{component}-{node}"] == node
    proxies = sorted(n for name, n in pods.items() if name.startswith("kube-proxy-"))
    assert proxies == sorted(["control-plane", "control-plane-2", "control-plane-3",
                              "worker-1", "worker-2"])
    assert len([n for n in pods if n.startswith("kindnet-")]) == 5
    assert len([n for n in pods if n.startswith("coredns-")]) == 2
    mirror = c.store.must_get(PODS, "kube-system", "kube-apiserver-control-plane")
    assert mirror["metadata"]["annotations"]["kubernetes.io/config.source"] == "file"
    assert mirror["status"]["podIP"] == mirror["status"]["hostIP"]  # hostNetwork
    assert all(p["status"]["phase"] == "Running" for p in c.store.iter(PODS, "kube-system"))


def test_without_a_scheduler_pods_wait_and_are_placed_when_it_returns() -> None:
    c = cluster_of()
    faults.apply(c, "stop-component", {"component": "kube-scheduler"})
    c.advance(2)
    assert "kube-scheduler-control-plane" not in system_pods(c)  # its mirror pod went
    c.api.create(deployment(3))
    c.advance(60)
    assert len(web_pods(c)) == 3  # the controller manager made them ...
    assert all(not p["spec"].get("nodeName") for p in web_pods(c))  # ... nobody placed them
    faults.apply(c, "start-component", {"component": "kube-scheduler"})
    c.advance(30)
    assert all(p["spec"].get("nodeName") for p in web_pods(c))
    assert "kube-scheduler-control-plane" in system_pods(c)


def test_without_a_controller_manager_deleted_pods_are_not_replaced() -> None:
    c = cluster_of()
    c.api.create(deployment(2))
    c.advance(20)
    faults.apply(c, "stop-component", {"component": "kube-controller-manager"})
    c.advance(1)
    c.api.delete(PODS, "default", web_pods(c)[0]["metadata"]["name"], grace_period=0)
    c.advance(60)
    assert len(web_pods(c)) == 1
    faults.apply(c, "start-component", {"component": "kube-controller-manager"})
    c.advance(20)
    assert len(web_pods(c)) == 2


def test_another_instance_takes_the_lease_after_it_expires() -> None:
    # kube-controller-manager does not release its lease when it stops: the others wait
    # for the 15 s lease duration past its last renewal, trying every 2 s.
    c = cluster_of(cp=3)
    holder = c.store.must_get(LEASES, "kube-system", "kube-controller-manager")["spec"]
    leader = holder["holderIdentity"].split("_")[0]
    renewed = c.clock.seconds_of(holder["renewTime"])
    faults.apply(c, "stop-component", {"component": "kube-controller-manager", "node": leader})
    c.advance(12)
    assert c.control_plane.lease_holder("kube-controller-manager") == holder["holderIdentity"]
    assert not c.control_plane.controllers_leading()
    c.advance(8)
    lease = c.store.must_get(LEASES, "kube-system", "kube-controller-manager")["spec"]
    assert lease["holderIdentity"].split("_")[0] != leader
    assert lease["leaseTransitions"] == 1
    assert c.control_plane.controllers_leading()
    took = c.clock.seconds_of(lease["acquireTime"])
    assert renewed + 15 <= took <= renewed + 15 + 2


def test_a_stopped_scheduler_releases_its_lease_and_another_takes_it_at_once() -> None:
    c = cluster_of(cp=3)
    holder = c.store.must_get(LEASES, "kube-system", "kube-scheduler")["spec"]
    leader = holder["holderIdentity"].split("_")[0]
    stopped_at = c.now
    faults.apply(c, "stop-component", {"component": "kube-scheduler", "node": leader})
    released = c.store.must_get(LEASES, "kube-system", "kube-scheduler")["spec"]
    assert (released["holderIdentity"], released["leaseDurationSeconds"]) == ("", 1)
    c.advance(2)  # the next retry period
    lease = c.store.must_get(LEASES, "kube-system", "kube-scheduler")["spec"]
    assert lease["holderIdentity"].split("_")[0] not in ("", leader)
    assert c.clock.seconds_of(lease["acquireTime"]) - stopped_at <= 2
    assert c.control_plane.scheduler_leading()
    # A failed node sends no SIGTERM: nothing is released.
    new_leader = lease["holderIdentity"].split("_")[0]
    c.nodes.fail_node(new_leader)
    assert c.control_plane.lease_holder("kube-scheduler") == lease["holderIdentity"]


def test_etcd_needs_a_majority_and_keeps_the_data() -> None:
    c = cluster_of(cp=3)
    c.api.create(deployment(2))
    c.advance(10)
    faults.apply(c, "stop-component", {"component": "etcd", "node": "control-plane-2"})
    c.api.get(c.api.resource_of(deployment()), "default", "web")  # 2 of 3: quorum
    faults.apply(c, "stop-component", {"component": "etcd", "node": "control-plane-3"})
    with pytest.raises(errors.StatusError) as caught:
        c.api.list(PODS, "default")
    assert (caught.value.code, caught.value.message) == (500, "etcdserver: request timed out")
    faults.apply(c, "start-component", {"component": "etcd", "node": "control-plane-3"})
    assert c.api.get(c.api.resource_of(deployment()), "default", "web")["spec"]["replicas"] == 2


def test_no_api_server_refuses_and_the_kubernetes_service_lists_the_live_ones() -> None:
    c = cluster_of(cp=3)
    faults.apply(c, "stop-component", {"component": "kube-apiserver", "node": "control-plane"})
    c.advance(5)
    ep = c.store.must_get(ENDPOINTS, "default", "kubernetes")
    assert [a["ip"] for a in ep["subsets"][0]["addresses"]] == ["172.18.0.3", "172.18.0.4"]
    faults.apply(c, "stop-component", {"component": "kube-apiserver"})
    with pytest.raises(errors.StatusError) as caught:
        c.api.list(PODS, "default")
    assert caught.value.code == 503
    faults.apply(c, "start-component", {"component": "kube-apiserver"})
    assert c.api.list(PODS, "default")["items"] is not None


def test_losing_the_only_control_plane_node_keeps_pods_running() -> None:
    c = cluster_of()
    c.api.create(deployment(2))
    c.advance(20)
    faults.apply(c, "fail-node", {"node": "control-plane"})
    assert c.api.unavailable_reason
    c.advance(120)
    assert all(p["status"]["phase"] == "Running" for p in web_pods(c))
    faults.apply(c, "recover-node", {"node": "control-plane"})
    assert c.api.unavailable_reason is None


def test_three_control_plane_nodes_survive_losing_one() -> None:
    c = cluster_of(cp=3)
    c.api.create(deployment(2))
    c.advance(20)
    faults.apply(c, "fail-node", {"node": "control-plane"})
    assert c.api.unavailable_reason is None
    c.api.delete(PODS, "default", web_pods(c)[0]["metadata"]["name"], grace_period=0)
    c.advance(40)
    ready = [p for p in web_pods(c) if p["status"].get("phase") == "Running"]
    assert len(ready) == 2


def test_dns_answers_only_while_coredns_is_ready() -> None:
    c = cluster_of()
    client = {"metadata": {"namespace": "default", "name": "x"}, "spec": {}}
    assert c.network.resolve(client, "kubernetes") == ["10.96.0.1"]
    coredns = c.api.get(c.api.resource_of({"apiVersion": "apps/v1", "kind": "Deployment"}),
                        "kube-system", "coredns")
    coredns["spec"]["replicas"] = 0
    c.api.update(coredns)
    c.advance(40)
    assert c.network.resolve(client, "kubernetes") is None
    assert not c.network.dns.answers(client)


def test_a_fault_naming_what_does_not_exist_lists_what_does() -> None:
    c = cluster_of()
    with pytest.raises(errors.StatusError) as caught:
        faults.apply(c, "stop-component", {"component": "kube-dns"})
    assert "known: etcd, kube-apiserver, kube-controller-manager, kube-scheduler" in \
        caught.value.message
    with pytest.raises(errors.StatusError) as caught:
        faults.apply(c, "stop-component", {"component": "etcd", "node": "worker-1"})
    assert "control-plane nodes: control-plane" in caught.value.message


def test_a_leader_cut_off_from_its_api_server_leads_again_after_a_restart() -> None:
    # Regression: a holder that missed its renew deadline kept its old identity and never
    # took the lease again, so nothing was reconciled after the API server came back.
    c = cluster_of()
    faults.apply(c, "stop-component", {"component": "kube-apiserver"})
    c.advance(30)  # past the 10 s renew deadline
    assert not c.control_plane.controllers_leading()
    faults.apply(c, "start-component", {"component": "kube-apiserver"})
    c.advance(20)  # the old lease expires 15 s after its last renewal
    assert c.control_plane.controllers_leading() and c.control_plane.scheduler_leading()
    c.api.create(deployment(2))
    c.advance(20)
    assert len(web_pods(c)) == 2 and all(p["spec"].get("nodeName") for p in web_pods(c))
