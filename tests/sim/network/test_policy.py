"""NetworkPolicy semantics of the simulated network plugin, rule by rule."""

from __future__ import annotations

from typing import Any

import pytest

from kclusterkit.sim import errors
from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.network.policy import PolicyEngine
from kclusterkit.sim.resources import NETWORKPOLICIES


@pytest.fixture
def cluster() -> Cluster:
    c = Cluster(ClusterSpec(worker_nodes=1), seed=1)
    for ns, team in (("shop", "shop"), ("other", "other")):
        c.api.create({"apiVersion": "v1", "kind": "Namespace",
                      "metadata": {"name": ns, "labels": {"team": team}}})
    return c


def pod(ns: str, name: str, ip: str, ports: list[dict] | None = None, **labels: str) -> dict:
    return {"metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"containers": [{"name": "c", "ports": ports or []}]},
            "status": {"podIP": ip}}


def policy(cluster: Cluster, name: str, ns: str = "shop", **spec: Any) -> dict:
    return cluster.api.create({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                               "metadata": {"name": name, "namespace": ns}, "spec": spec})


DB = pod("shop", "db", "10.244.1.10", [{"name": "http", "containerPort": 8080}], app="db")
API = pod("shop", "api", "10.244.1.11", app="api")
WEB = pod("shop", "web", "10.244.1.12", app="web")
STRANGER = pod("other", "x", "10.244.1.13", app="api")


def allowed(cluster: Cluster, src: dict, dst: dict, port: int = 8080) -> bool:
    return PolicyEngine(cluster.store).allowed(src, src["status"]["podIP"], dst,
                                               dst["status"]["podIP"], port)


def test_defaults_fill_policy_types_and_protocol(cluster: Cluster) -> None:
    made = policy(cluster, "p", podSelector={}, egress=[{"ports": [{"port": 53}]}])
    assert made["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert made["spec"]["egress"][0]["ports"][0]["protocol"] == "TCP"
    assert policy(cluster, "q")["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}


def test_validation_refuses_a_bad_cidr_and_an_ipblock_with_selectors(cluster: Cluster) -> None:
    with pytest.raises(errors.StatusError) as exc:
        policy(cluster, "p", podSelector={}, ingress=[{"from": [
            {"ipBlock": {"cidr": "10.0.0.0/33"}}]}])
    assert "spec.ingress[0].from[0].ipBlock.cidr" in exc.value.message
    with pytest.raises(errors.StatusError) as exc:
        policy(cluster, "p", podSelector={}, ingress=[{"from": [
            {"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}])
    assert "may not specify more than 1 peer" in exc.value.message


def test_no_policy_allows_everything_and_default_deny_isolates(cluster: Cluster) -> None:
    assert allowed(cluster, WEB, DB) and allowed(cluster, STRANGER, DB)
    policy(cluster, "deny", podSelector={}, policyTypes=["Ingress"])
    assert not allowed(cluster, API, DB) and not allowed(cluster, STRANGER, DB)
    assert allowed(cluster, DB, STRANGER)  # other namespace: not selected


def test_policies_add_up_and_selectors_scope_to_namespaces(cluster: Cluster) -> None:
    policy(cluster, "deny", podSelector={}, policyTypes=["Ingress"])
    policy(cluster, "api", podSelector={"matchLabels": {"app": "db"}},
           ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "api"}}}]}])
    assert allowed(cluster, API, DB)
    assert not allowed(cluster, STRANGER, DB)  # same labels, other namespace
    assert not allowed(cluster, WEB, DB)
    policy(cluster, "team", podSelector={"matchLabels": {"app": "db"}},
           ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "other"}},
                               "podSelector": {"matchLabels": {"app": "api"}}}]}])
    assert allowed(cluster, STRANGER, DB)
    assert not allowed(cluster, WEB, DB)


def test_ports_named_ranges_and_ipblocks(cluster: Cluster) -> None:
    policy(cluster, "named", podSelector={"matchLabels": {"app": "db"}},
           ingress=[{"ports": [{"port": "http"}]}])
    assert allowed(cluster, WEB, DB, 8080) and not allowed(cluster, WEB, DB, 9090)
    policy(cluster, "range", podSelector={"matchLabels": {"app": "db"}},
           ingress=[{"from": [{"ipBlock": {"cidr": "10.244.1.0/24",
                                           "except": ["10.244.1.12/32"]}}],
                     "ports": [{"port": 9000, "endPort": 9100}]}])
    assert allowed(cluster, API, DB, 9090)
    assert not allowed(cluster, WEB, DB, 9090)  # excepted address
    assert not allowed(cluster, API, DB, 9200)


def test_egress_isolation_and_dns(cluster: Cluster) -> None:
    engine = PolicyEngine(cluster.store)
    policy(cluster, "out", podSelector={"matchLabels": {"app": "api"}}, policyTypes=["Egress"],
           egress=[{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}]}])
    assert allowed(cluster, API, DB) and not allowed(cluster, API, WEB)
    assert not engine.dns_allowed(API, "10.244.1.11")
    assert engine.dns_allowed(WEB, "10.244.1.12")
    policy(cluster, "dns", podSelector={}, policyTypes=["Egress"], egress=[{
        "to": [{"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
        "ports": [{"protocol": "UDP", "port": 53}]}])
    assert engine.dns_allowed(API, "10.244.1.11")
    assert cluster.store.get(NETWORKPOLICIES, "shop", "dns") is not None
