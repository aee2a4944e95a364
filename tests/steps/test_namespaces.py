"""Scenario-owned namespaces in the step library: "in namespace" resolves to the real
name, a policy by namespace name uses it, and bad names or labels are clear errors.
The steps are called without behave, on the simulator."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from behave.model import Table

from kclusterkit.driver.base import Driver
from kclusterkit.driver.sim import SimDriver
from kclusterkit.steps import namespaces, netpol, workloads
from kclusterkit.steps._support import ScenarioState, StepUsageError


class Prefixing(SimDriver):
    """A simulator that names namespaces as a real cluster's driver does."""

    def create_namespace(self, name, labels=None):  # type: ignore[no-untyped-def]
        return super().create_namespace(f"kk-run-1-{name}", labels)


def scenario(driver: Driver | None = None) -> SimpleNamespace:
    driver = driver or SimDriver(seed=1)
    driver.open_scenario("t")
    return SimpleNamespace(kk=ScenarioState(driver=driver, seed=1))


def test_in_namespace_means_the_namespace_the_scenario_made() -> None:
    context = scenario(Prefixing(seed=1))
    namespaces.a_labelled_namespace(context, name="other", labels="team=web, tier=front")
    assert context.kk.namespace("other") == "kk-run-1-other"
    assert context.kk.namespace("kube-system") == "kube-system"
    ns = context.kk.driver.get("namespaces", "kk-run-1-other", "")
    assert ns["metadata"]["labels"]["tier"] == "front"
    namespaces.pod_in_namespace(context, name="c", ns="other", label="app=c",
                                image="busybox:1.36 sleep 3600")
    assert context.kk.driver.get("pods", "c", "kk-run-1-other") is not None
    netpol.allow_from_namespace(context, name="p", ns="other", target="app=db", port=80)
    policy = context.kk.driver.get("networkpolicies", "p")
    assert policy["spec"]["ingress"][0]["from"][0]["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "kk-run-1-other"}}


def test_bad_names_labels_and_repeats_are_usage_errors() -> None:
    context = scenario()
    with pytest.raises(StepUsageError, match="not a namespace name"):
        namespaces.a_namespace(context, name="Other")
    with pytest.raises(StepUsageError, match='"team" is not a label'):
        namespaces.a_labelled_namespace(context, name="x", labels="team")
    namespaces.a_namespace(context, name="other")
    with pytest.raises(StepUsageError, match="made already"):
        namespaces.a_namespace(context, name="other")


def test_a_pod_reaches_a_service_of_another_namespace_by_its_matrix_row() -> None:
    context = scenario(Prefixing(seed=1))
    namespaces.a_namespace(context, name="shop")
    namespaces.deployment_in_namespace(context, name="db", ns="shop",
                                       image="agnhost:2.53 netexec", n=1)
    namespaces.service_in_namespace(context, name="db", ns="shop", port=8080, target=8080,
                                    deployment="db")
    namespaces.pod_in_namespace(context, name="c", ns="shop", label="app=c",
                                image="busybox:1.36 sleep 3600")
    workloads.a_pod(context, name="here", image="busybox:1.36 sleep 3600")
    namespaces.pod_running_in(context, name="c", ns="shop", d=60)
    context.kk.driver.sleep(30)
    context.table = Table(["from", "to", "port", "reachable"], rows=[
        ['pod "here"', 'service "db" in namespace "shop"', "8080", "yes"],
        ['pod "c" in namespace "shop"', 'service "db" in namespace "shop"', "8080", "yes"],
        ['pod "c" in namespace "shop"', 'pod "here"', "8080", "no"],
    ])
    netpol.connections_hold(context, d=30)
