"""Namespace controller: empty the namespace, wait for graceful termination, then go."""

from __future__ import annotations

import pytest
from conftest import Sim, deployment

from kclusterkit.sim import errors
from kclusterkit.sim.resources import NAMESPACES, PODS


def _conditions(sim: Sim, name: str) -> dict[str, dict]:
    ns = sim.store.get(NAMESPACES, "", name)
    return {c["type"]: c for c in ns["status"].get("conditions") or ()}


def test_terminating_namespace_waits_for_pods_then_disappears(sim: Sim) -> None:
    sim.api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    spec = deployment(replicas=3)
    spec["metadata"]["namespace"] = "team"
    sim.api.create(spec)
    sim.api.create({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "cfg", "namespace": "team"}, "data": {"a": "b"}})
    sim.run(10)
    started = sim.now
    sim.api.delete(NAMESPACES, "", "team")
    sim.settle()
    ns = sim.store.get(NAMESPACES, "", "team")
    assert ns["status"]["phase"] == "Terminating"
    remaining = _conditions(sim, "team")["NamespaceContentRemaining"]
    assert (remaining["status"], remaining["reason"], remaining["message"]) == (
        "True", "SomeResourcesRemain",
        "Some resources are remaining: pods. has 3 resource instances")
    assert _conditions(sim, "team")["NamespaceDeletionDiscoveryFailure"]["reason"] == \
        "ResourcesDiscovered"
    assert sim.store.get(PODS, "team", sim.pods("team", active=False)[0]["metadata"]["name"])
    assert sim.pods("team") == []  # all terminating, no replacements
    with pytest.raises(errors.StatusError) as refused:
        sim.api.create({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "late", "namespace": "team"}})
    assert refused.value.code == 403
    sim.clock.run_until(started + 29)
    assert sim.store.get(NAMESPACES, "", "team") is not None
    # Pods go at 30 s; the controller re-checks after estimate/2 + 1 = 16 s steps.
    sim.clock.run_until(started + 33)
    assert sim.store.get(NAMESPACES, "", "team") is None
    assert sim.pods("team", active=False) == []


def test_empty_namespace_goes_at_once(sim: Sim) -> None:
    sim.api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "empty"}})
    sim.api.delete(NAMESPACES, "", "empty")
    sim.settle()
    assert sim.store.get(NAMESPACES, "", "empty") is None


def test_namespace_with_other_finalizers_waits_for_them(sim: Sim) -> None:
    sim.api.create({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    sim.api.delete(NAMESPACES, "", "held")
    sim.settle()
    ns = sim.store.get(NAMESPACES, "", "held")
    assert ns is not None and ns["spec"]["finalizers"] == []
