"""Autoscaling steps on the simulator, called without behave: what they skip, judge and say."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from kclusterkit.driver.sim import SimDriver
from kclusterkit.errors import NotSupported
from kclusterkit.steps import autoscaling, traffic
from kclusterkit.steps._support import ScenarioState, StepUsageError, WaitTimedOut
from kclusterkit.steps.services import a_service
from kclusterkit.steps.workloads import a_deployment_requesting_cpu, deployment_has_at_least


def scenario(seed: int = 1) -> SimpleNamespace:
    driver = SimDriver(seed=seed)
    driver.open_scenario("t")
    context = SimpleNamespace(kk=ScenarioState(driver=driver, seed=seed))
    a_deployment_requesting_cpu(context, name="api", image="agnhost:2.53 netexec", n=2,
                                cpu="100m")
    a_service(context, name="api", port=80, target=8080, deployment="api")
    driver.sleep(30)
    return context


def test_a_failed_autoscaling_wait_shows_what_the_autoscaler_saw() -> None:
    context = scenario()
    autoscaling.request_costs(context, name="api", cpu="18m", d=1.0)
    autoscaling.autoscaled_cpu(context, name="api", low=2, high=10, cpu=50)
    traffic.service_receives(context, name="api", rate=10)
    with pytest.raises(WaitTimedOut) as failed:
        deployment_has_at_least(context, name="api", n=8, d=120)
    message = str(failed.value)
    assert 'autoscaler "api": current 4, desired 4 (min 2, max 10)' in message
    assert "metric cpu: " in message and "/ target 50%" in message
    assert "ScalingActive=True ValidMetricFound" in message
    assert "event Normal SuccessfulRescale: New size: 4; reason: cpu resource utilization " \
           "(percentage of request) above target" in message


def test_the_autoscaler_wants_and_pod_cpu_steps_pass_under_load() -> None:
    context = scenario()
    autoscaling.request_costs(context, name="api", cpu="18m", d=1.0)
    autoscaling.autoscaled_cpu(context, name="api", low=2, high=10, cpu=50)
    traffic.service_receives(context, name="api", rate=10)
    autoscaling.pod_cpu_above(context, name="api", cpu="30m", d=60)
    assert context.kk.that_pod is not None
    autoscaling.autoscaler_wants(context, name="api", n=4, d=120)
    traffic.load_stops(context, name="api")
    autoscaling.pods_cpu_below(context, name="api", cpu="10m", d=60)


def _skips(context: SimpleNamespace) -> list[str]:
    reasons: list[str] = []
    context.scenario = SimpleNamespace(skip=lambda reason: reasons.append(reason))
    return reasons


def test_steps_that_need_the_simulators_annotations_skip_on_a_real_cluster() -> None:
    context = scenario()
    reasons = _skips(context)
    context.kk.driver.seed = None  # what a real cluster's driver says
    autoscaling.request_costs(context, name="api", cpu="5m", d=1.0)
    autoscaling.memory_grows(context, name="api", memory="1Mi")
    assert len(reasons) == 2 and all("real cluster" in r for r in reasons)
    annotations = context.kk.driver.get("deployments", "api")["metadata"].get("annotations")
    assert not any(k.startswith("kclusterkit.io/") for k in annotations or {})


def test_no_metrics_api_skips_the_autoscaling_scenario() -> None:
    context = scenario()

    def unserved(kind: str, namespace: str | None = None) -> list:
        raise NotSupported("the cluster does not serve the resource metrics API")

    context.kk.driver.resource_metrics = unserved
    reasons = _skips(context)
    autoscaling.autoscaled_cpu(context, name="api", low=2, high=4, cpu=50)
    assert reasons and "autoscaling needs the resource metrics API" in reasons[0]
    assert context.kk.driver.get("horizontalpodautoscalers", "api") is None


def test_bounds_are_checked() -> None:
    context = scenario()
    with pytest.raises(StepUsageError, match="1 <= minimum <= maximum"):
        autoscaling.autoscaled_cpu(context, name="api", low=5, high=2, cpu=50)


def test_a_resource_consumer_is_asked_for_the_cost_on_any_cluster() -> None:
    from kclusterkit.steps._autoscaler import load_target
    from kclusterkit.steps.workloads import a_deployment_requesting_cpu as deploy

    context = scenario()
    reasons = _skips(context)
    deploy(context, name="rc", image="resource-consumer:1.13", n=1, cpu="100m")
    context.kk.driver.seed = None  # a real cluster: the workload burns what it is asked
    autoscaling.request_costs(context, name="rc", cpu="18m", d=1.0)
    assert reasons == []
    assert load_target(context, "rc", "http://rc:80/") == (
        "http://rc:80/ConsumeCPU?millicores=18&durationSec=1", "POST")
    assert load_target(context, "api", "http://api:80/hostname") == (
        "http://api:80/hostname", "GET")
    with pytest.raises(StepUsageError, match="whole millicores and seconds"):
        autoscaling.request_costs(context, name="rc", cpu="18m", d=0.5)


def test_an_open_load_on_a_throttled_service_times_out_as_wget_would() -> None:
    from kclusterkit.steps.workloads import workload

    driver = SimDriver(seed=1)
    driver.open_scenario("t")
    context = SimpleNamespace(kk=ScenarioState(driver=driver, seed=1))
    manifest = workload("Deployment", "slow", "agnhost:2.53 netexec", 1)
    manifest["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "limits": {"cpu": "50m"}}
    driver.create(manifest)
    a_service(context, name="slow", port=80, target=8080, deployment="slow")
    driver.sleep(30)
    autoscaling.request_costs(context, name="slow", cpu="100m", d=1.0)
    load = driver.start_load("http://slow:80/hostname", 5.0)
    driver.sleep(30)  # 5/s × 100m asked of a 50m container: the queue only grows
    records = load.stop()
    assert records[0].ok
    late = [r for r in records if not r.ok]
    assert late and all(r.error == "connection timed out" for r in late)
    assert records[-1].ok is False


def test_a_named_pods_cpu_use() -> None:
    from kclusterkit.steps.workloads import a_pod

    context = scenario()
    a_pod(context, name="idle", image="busybox:1.36 sleep 3600")
    with pytest.raises(WaitTimedOut) as failed:
        autoscaling.named_pod_cpu_above(context, name="idle", cpu="5m", d=60)
    assert 'CPU use of pod "idle":' in str(failed.value)
    assert "idle: c" in str(failed.value) or "idle: busybox" in str(failed.value)
