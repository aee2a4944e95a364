from __future__ import annotations

import pytest
from netfakes import FakeCluster

from kclusterkit.sim.network.dns import candidates, pod_dns_config
from kclusterkit.sim.resources import PODS, SERVICES


@pytest.fixture(scope="module")
def c() -> FakeCluster:
    cluster = FakeCluster()
    cluster.service("echo", ns="web")
    cluster.service("db", ns="web", clusterIP="None", selector={"app": "db"})
    cluster.pod("echo-0", "10.244.1.5", ns="web", app="echo")
    cluster.pod("db-0", "10.244.1.7", ns="web", app="db")
    cluster.pod("db-1", "10.244.2.7", ns="web", app="db", ready=False)
    cluster.pod("client", "10.244.1.100", ns="web", app="client")
    cluster.pod("elsewhere", "10.244.2.100", ns="default", app="client")
    return cluster


def pod(c: FakeCluster, name: str, ns: str = "web") -> dict:
    return c.store.get(PODS, ns, name)


def echo_ip(c: FakeCluster) -> str:
    return c.store.get(SERVICES, "web", "echo")["spec"]["clusterIP"]


@pytest.mark.parametrize("name", ["echo", "echo.web", "echo.web.svc",
                                  "echo.web.svc.cluster.local", "echo.web.svc.cluster.local."])
def test_service_names_resolve_through_the_search_path(c, name):
    assert c.network.resolve(pod(c, "client"), name) == [echo_ip(c)]


def test_short_names_only_resolve_in_the_pods_own_namespace(c):
    assert c.network.resolve(pod(c, "elsewhere", "default"), "echo") is None
    assert c.network.resolve(pod(c, "elsewhere", "default"), "echo.web") == [echo_ip(c)]


def test_kubernetes_default_and_unknown_names(c):
    assert c.network.resolve(pod(c, "client"), "kubernetes.default") == ["10.96.0.1"]
    assert c.network.resolve(pod(c, "client"), "nope") is None
    assert c.network.resolve(pod(c, "client"), "nope.web.svc.cluster.local") is None
    assert c.network.resolve(pod(c, "client"), "example.com") is None


def test_headless_service_resolves_to_its_ready_pods(c):
    assert c.network.resolve(pod(c, "client"), "db") == ["10.244.1.7"]
    assert c.network.resolve(None, "10-244-1-7.db.web.svc.cluster.local") == ["10.244.1.7"]
    assert c.network.resolve(None, "10-244-2-7.db.web.svc.cluster.local") is None


def test_pod_records(c):
    assert c.network.resolve(None, "10-244-1-5.web.pod.cluster.local") == ["10.244.1.5"]
    assert c.network.resolve(pod(c, "client"), "10-244-1-5.web.pod") == ["10.244.1.5"]
    assert c.network.resolve(None, "10-244-1-5.nons.pod.cluster.local") is None


def test_from_outside_only_fully_qualified_names_resolve(c):
    assert c.network.resolve(None, "echo.web.svc.cluster.local") == [echo_ip(c)]
    assert c.network.resolve(None, "echo") is None
    assert c.network.resolve(None, "10.1.2.3") == ["10.1.2.3"]


def test_resolv_conf_of_a_cluster_first_pod(c):
    assert c.network.resolv_conf(pod(c, "client")) == (
        "search web.svc.cluster.local svc.cluster.local cluster.local\n"
        "nameserver 10.96.0.10\n"
        "options ndots:5\n")


def test_dns_policy_default_and_dns_config():
    host = {"metadata": {"namespace": "web"}, "spec": {"dnsPolicy": "Default"}}
    assert "10.96.0.10" not in pod_dns_config(host).nameservers
    custom = {"metadata": {"namespace": "web"},
              "spec": {"dnsConfig": {"searches": ["corp.example"],
                                     "options": [{"name": "ndots", "value": "2"},
                                                 {"name": "edns0"}]}}}
    config = pod_dns_config(custom)
    assert config.searches[-1] == "corp.example"
    assert config.render().endswith("options ndots:2 edns0\n")
    host_net = {"metadata": {"namespace": "web"}, "spec": {"hostNetwork": True}}
    assert "10.96.0.10" not in pod_dns_config(host_net).nameservers


def test_ndots_decides_whether_the_name_is_tried_as_is_first():
    config = pod_dns_config({"metadata": {"namespace": "web"}, "spec": {}})
    assert candidates("a.b", config)[0] == "a.b.web.svc.cluster.local"
    assert candidates("a.b.c.d.e.f", config)[0] == "a.b.c.d.e.f"
    assert candidates("a.", config) == ["a"]
