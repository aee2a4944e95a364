"""Deleting pods, one or several, and what follows: gone, replaced, or — for a pod no
controller owns — gone for good. The steps are called without behave, on the simulator."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from kclusterkit.driver.sim import SimDriver
from kclusterkit.steps import healing
from kclusterkit.steps._support import ExpectationNotMet, HoldBroken, ScenarioState, StepUsageError
from kclusterkit.steps.workloads import a_deployment, a_pod, deployment_is_available


def scenario(replicas: int = 3) -> SimpleNamespace:
    driver = SimDriver(seed=1)
    driver.open_scenario("t")
    context = SimpleNamespace(kk=ScenarioState(driver=driver, seed=1))
    a_deployment(context, name="web", image="nginx:1.25", n=replicas)
    deployment_is_available(context, name="web", d=60)
    return context


def live_pods(context: SimpleNamespace, labels: str = "app=web") -> list[str]:
    return sorted(p["metadata"]["name"] for p in context.kk.driver.list("pods", labels=labels)
                  if not p["metadata"].get("deletionTimestamp"))


def test_deleting_several_pods_remembers_them_all_and_waits_for_every_one() -> None:
    context = scenario()
    driver = context.kk.driver
    before = live_pods(context)
    # a finalizer keeps the second one (Terminating) until it is removed
    driver.patch("pods", before[1], {"metadata": {"finalizers": ["example.com/hold"]}})
    healing.delete_pods_of_deployment(context, n=2, name="web")
    deleted = context.kk.memo["deleted_pods"]
    assert [ref.name for ref in deleted] == before[:2]  # the first by name: a seed replays it
    assert context.kk.deleted_pod is None  # "the deleted pod" would not say which one
    with pytest.raises(ExpectationNotMet) as failed:
        healing.deleted_pods_gone_within(context, d=30)
    message = str(failed.value)
    assert "1 of the 2 deleted pods still exists" in message
    assert before[1] in message and before[0] not in message
    driver.patch("pods", before[1], {"metadata": {"finalizers": None}})
    healing.deleted_pods_gone_within(context, d=1)
    after = live_pods(context)
    assert len(after) == 3 and not set(after) & set(before[:2])


def test_more_pods_than_are_ready_cannot_be_deleted() -> None:
    context = scenario(replicas=2)
    with pytest.raises(StepUsageError, match=r'deployment "web" has only 2 ready pods to act on '
                                             r"\(3 wanted\)"):
        healing.delete_pods_of_deployment(context, n=3, name="web")
    assert len(live_pods(context)) == 2


def test_one_pod_deleted_is_also_the_deleted_pod() -> None:
    context = scenario()
    healing.delete_pods_of_deployment(context, n=1, name="web")
    assert context.kk.deleted_pod == context.kk.memo["deleted_pods"][0]
    healing.deleted_pod_gone_within(context, d=60)
    healing.deleted_pods_gone_within(context, d=0)  # the plural step reads a single delete too


def test_the_deleted_pods_need_a_delete_first() -> None:
    context = scenario(replicas=1)
    with pytest.raises(StepUsageError, match="no deleted pods to refer to yet"):
        healing.deleted_pods_gone_within(context, d=1)


def test_a_bare_pod_is_gone_for_good_while_a_deployments_pod_is_replaced() -> None:
    context = scenario()
    a_pod(context, name="lonely", image="nginx:1.25")
    a_pod(context, name="buddy", image="nginx:1.25")  # a peer with other labels
    context.kk.driver.sleep(30)
    with pytest.raises(ExpectationNotMet, match='pod "lonely" exists'):
        healing.pod_does_not_exist_within(context, name="lonely", d=5)
    healing.delete_named_pod(context, name="lonely")
    healing.pod_does_not_exist_within(context, name="lonely", d=60)
    healing.no_replacement_for(context, d=120)

    healing.delete_pod_of_deployment(context, name="web")
    with pytest.raises(HoldBroken) as broken:
        healing.no_replacement_for(context, d=120)
    message = str(broken.value)
    assert "1 pod took the place of pod" in message
    assert "pod-template-hash=" in message  # the replacement carries every label it had


def test_a_peer_already_there_is_no_replacement_but_a_pod_of_the_same_name_is() -> None:
    context = scenario(replicas=1)
    driver = context.kk.driver
    for name in ("a", "b"):
        driver.create({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": name, "labels": {"app": "shared"}},
                       "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}})
    driver.sleep(30)
    healing.delete_named_pod(context, name="a")
    healing.pod_does_not_exist_within(context, name="a", d=60)
    healing.no_replacement_for(context, d=10)  # "b" was there before the delete
    driver.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"},
                   "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}})
    with pytest.raises(HoldBroken, match='1 pod took the place of pod "a"'):
        healing.no_replacement_for(context, d=10)
