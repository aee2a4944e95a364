"""The preemption steps on the simulator, called without behave: a preemptor is seen
through the victims' Preempted events, and a failure shows what was preempted."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from kclusterkit.driver.sim import SimDriver
from kclusterkit.steps import preemption
from kclusterkit.steps._support import ExpectationNotMet, ScenarioState
from kclusterkit.steps.workloads import deployment_is_available


def scenario() -> SimpleNamespace:
    driver = SimDriver(seed=1)
    driver.open_scenario("t")
    context = SimpleNamespace(kk=ScenarioState(driver=driver, seed=1))
    preemption.a_priority_class(context, name="batch", value=100)
    preemption.a_priority_class(context, name="critical", value=1000)
    preemption.a_polite_priority_class(context, name="polite", value=1000)
    preemption.a_deployment_of_class(context, name="jobs", cls="batch", image="nginx:1.25", n=2)
    deployment_is_available(context, name="jobs", d=60)
    return context


def test_a_preemptor_is_seen_through_its_victims_events() -> None:
    context = scenario()
    preemption.a_pod_of_class(context, name="urgent", cls="critical", image="nginx:1.25")
    preemption.pod_preempts(context, pod="urgent", n=1, name="jobs", d=60)
    with pytest.raises(ExpectationNotMet) as failed:
        preemption.none_preempted(context, name="jobs")
    text = str(failed.value)
    assert "1 pod of deployment \"jobs\" preempted" in text
    uid = context.kk.driver.get("pods", "urgent")["metadata"]["uid"]
    assert f"Preempted by pod {uid} on node worker-" in text


def test_a_class_that_never_preempts_leaves_the_deployment_alone() -> None:
    context = scenario()
    preemption.a_pod_of_class(context, name="patient", cls="polite", image="nginx:1.25")
    preemption.pod_pending_with(context, pod="patient",
                                text="not eligible due to preemptionPolicy=Never.", d=30)
    preemption.none_preempted(context, name="jobs")
    with pytest.raises(ExpectationNotMet) as failed:
        preemption.pod_preempts(context, pod="patient", n=1, name="jobs", d=20)
    assert "0 pods of deployment \"jobs\" preempted" in str(failed.value)
    assert "nominated node: none" in str(failed.value)
