"""busybox nc, ping and hostname -i, and agnhost /clientip, across nodes of a simulated
cluster: what a person types to check the pod network by hand."""

from __future__ import annotations

import pytest

from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.resources import PODS


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    c = Cluster(ClusterSpec(), seed=1)
    for name, node, container in (
            ("client", "worker-1", {"image": "busybox:1.36", "command": ["sleep", "3600"]}),
            ("echo", "worker-2", {"image": "registry.k8s.io/e2e-test-images/agnhost:2.53",
                                  "args": ["netexec"]})):
        c.api.create({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": name, "namespace": "default"},
                      "spec": {"nodeName": node, "containers": [{"name": "c", **container}]}})
    c.advance(30)
    return c


def ip(cluster: Cluster, name: str) -> str:
    return cluster.store.must_get(PODS, "default", name)["status"]["podIP"]


def run(cluster: Cluster, *cmd: str) -> tuple[int, str, str]:
    return cluster.nodes.exec("default", "client", list(cmd))


def test_hostname_i_prints_the_pod_ip(cluster: Cluster) -> None:
    assert run(cluster, "hostname", "-i") == (0, ip(cluster, "client") + "\n", "")


def test_nc_z_across_nodes(cluster: Cluster) -> None:
    target = ip(cluster, "echo")
    assert run(cluster, "nc", "-z", "-w", "2", target, "8080") == (0, "", "")
    assert run(cluster, "nc", "-zv", "-w", "2", target, "8081") == (
        1, "", f"nc: {target} ({target}:8081): Connection refused\n")
    assert run(cluster, "nc", "-z", "-w", "2", "10.1.2.3", "80") == (1, "", "nc: timeout\n")
    assert run(cluster, "nc", "-z", "nosuchname", "80")[2] == "nc: bad address 'nosuchname'\n"


def test_ping_a_pod_answers_and_a_service_ip_does_not(cluster: Cluster) -> None:
    target = ip(cluster, "echo")
    code, out, _ = run(cluster, "ping", "-c", "2", target)
    assert code == 0
    assert out.startswith(f"PING {target} ({target}): 56 data bytes\n64 bytes from {target}: "
                          "seq=0 ttl=62")
    assert "2 packets transmitted, 2 packets received, 0% packet loss" in out
    code, out, _ = run(cluster, "ping", "-c", "1", "10.96.0.1")
    assert code == 1 and "1 packets transmitted, 0 packets received, 100% packet loss" in out


def test_agnhost_clientip_reports_the_client_pod(cluster: Cluster) -> None:
    code, out, _ = run(cluster, "wget", "-qO-", f"http://{ip(cluster, 'echo')}:8080/clientip")
    assert code == 0 and out.startswith(ip(cluster, "client") + ":")
