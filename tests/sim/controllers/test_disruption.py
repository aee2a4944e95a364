"""PodDisruptionBudgets: admission, the disruption controller's status, and eviction."""

from __future__ import annotations

from typing import Any

import pytest

from kclusterkit.sim import errors
from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.controllers.disruption import scaled_value
from kclusterkit.sim.resources import EVENTS, PDBS, PODS


def deployment(name: str = "web", replicas: int = 4) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c",
                                                           "image": "nginx:1.25"}]}}}}


def pdb(name: str = "web", **spec: Any) -> dict:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec}}


def live_pods(cluster: Cluster, app: str = "web") -> list[dict]:
    return sorted((p for p in cluster.store.iter(PODS, "default")
                   if (p["metadata"].get("labels") or {}).get("app") == app
                   and not p["metadata"].get("deletionTimestamp")),
                  key=lambda p: p["metadata"]["name"])


@pytest.fixture
def cluster() -> Cluster:
    c = Cluster(ClusterSpec(control_plane_nodes=1, worker_nodes=2), seed=1)
    c.api.create(deployment())
    c.advance(60)
    return c


def status(cluster: Cluster, name: str = "web") -> dict:
    return cluster.store.must_get(PDBS, "default", name)["status"]


def test_create_clears_status_and_validation_refuses_both_budgets(cluster: Cluster) -> None:
    body = pdb(minAvailable=1)
    body["status"] = {"disruptionsAllowed": 9}
    created = cluster.api.create(body)
    assert created["status"] == {"disruptionsAllowed": 0, "currentHealthy": 0,
                                 "desiredHealthy": 0, "expectedPods": 0}
    with pytest.raises(errors.StatusError) as exc:
        cluster.api.create(pdb("both", minAvailable=1, maxUnavailable=1))
    assert exc.value.code == 422
    assert "minAvailable and maxUnavailable cannot be both set" in exc.value.message
    with pytest.raises(errors.StatusError) as exc:
        cluster.api.create(pdb("big", maxUnavailable="150%"))
    assert "spec.maxUnavailable: Invalid value: 150%: must not be greater than 100%" \
        in exc.value.message


@pytest.mark.parametrize("spec, desired, allowed", [
    ({"minAvailable": 3}, 3, 1),
    ({"minAvailable": "50%"}, 2, 2),
    ({"maxUnavailable": 1}, 3, 1),
    ({"maxUnavailable": "30%"}, 2, 2),  # 30% of 4 rounds up to 2 unavailable
    ({"minAvailable": 5}, 5, 0),
])
def test_status_counts_follow_the_budget(cluster: Cluster, spec: dict, desired: int,
                                         allowed: int) -> None:
    cluster.api.create(pdb(**spec))
    cluster.advance(1)
    st = status(cluster)
    assert (st["currentHealthy"], st["desiredHealthy"], st["expectedPods"],
            st["disruptionsAllowed"]) == (4, desired, 4, allowed)
    cond = st["conditions"][0]
    assert cond["type"] == "DisruptionAllowed"
    assert (cond["status"], cond["reason"]) == (
        ("True", "SufficientPods") if allowed else ("False", "InsufficientPods"))
    assert st["observedGeneration"] == 1


def test_scaled_value_rounds_up() -> None:
    assert scaled_value("25%", 5, True) == 2
    assert scaled_value("25%", 5, False) == 1
    assert scaled_value(3, 5, True) == 3


def test_eviction_decrements_then_refuses_with_429(cluster: Cluster) -> None:
    cluster.api.create(pdb(maxUnavailable=1))
    cluster.advance(1)
    first, second = live_pods(cluster)[:2]
    cluster.api.evict("default", first["metadata"]["name"])
    st = status(cluster)
    assert st["disruptionsAllowed"] == 0
    assert first["metadata"]["name"] in st["disruptedPods"]
    gone = cluster.store.get(PODS, "default", first["metadata"]["name"])
    assert gone is None or gone["metadata"].get("deletionTimestamp")
    if gone is not None:
        cond = [c for c in gone["status"]["conditions"] if c["type"] == "DisruptionTarget"]
        assert cond and cond[0]["reason"] == "EvictionByEvictionAPI"
    cluster.advance(0.5)  # the controller sees the terminating pod, the new one not Ready
    with pytest.raises(errors.StatusError) as exc:
        cluster.api.evict("default", second["metadata"]["name"])
    assert exc.value.code == 429 and exc.value.reason == "TooManyRequests"
    assert exc.value.message == \
        "Cannot evict pod as it would violate the pod's disruption budget."
    assert exc.value.details["causes"][0] == {
        "reason": "DisruptionBudget",
        "message": "The disruption budget web needs 3 healthy pods and has 3 currently"}
    # Once the replacement is Ready the budget allows the next eviction.
    cluster.advance(60)
    assert status(cluster)["disruptionsAllowed"] == 1
    cluster.api.evict("default", second["metadata"]["name"])


def test_eviction_without_budget_deletes_and_two_budgets_are_an_error(cluster: Cluster) -> None:
    pod = live_pods(cluster)[0]["metadata"]["name"]
    cluster.api.evict("default", pod, dry_run=True)
    assert cluster.store.get(PODS, "default", pod)["metadata"].get("deletionTimestamp") is None
    cluster.api.create(pdb("a", minAvailable=1))
    cluster.api.create(pdb("b", minAvailable=1))
    cluster.advance(1)
    with pytest.raises(errors.StatusError) as exc:
        cluster.api.evict("default", pod)
    assert exc.value.code == 500
    assert "more than one PodDisruptionBudget" in exc.value.message


def test_a_budget_not_yet_observed_refuses(cluster: Cluster) -> None:
    cluster.api.create(pdb(minAvailable=0))
    # The controller has not run yet: observedGeneration 0 < generation 1.
    with pytest.raises(errors.StatusError) as exc:
        cluster.api.evict("default", live_pods(cluster)[0]["metadata"]["name"])
    assert exc.value.code == 429
    assert "is still being processed by the server" in \
        exc.value.details["causes"][0]["message"]


def test_no_pods_event_and_expired_disruption(cluster: Cluster) -> None:
    cluster.api.create({**pdb("none", minAvailable=1),
                        "spec": {"selector": {"matchLabels": {"app": "nothing"}},
                                 "minAvailable": 1}})
    cluster.advance(1)
    reasons = [e["reason"] for e in cluster.store.iter(EVENTS, "default")]
    assert "NoPods" in reasons
    st = status(cluster, "none")
    assert (st["expectedPods"], st["disruptionsAllowed"]) == (0, 0)
