"""The HPA controller on a whole simulated cluster: metrics from load, upstream's algorithm."""

from __future__ import annotations

from typing import Any

import pytest

from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.controllers import replica_calculator as rc
from kclusterkit.sim.controllers.podautoscaler import _with_rules
from kclusterkit.sim.resources import DEPLOYMENTS, EVENTS, HPAS

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.53"


def _cluster(replicas: int = 2, cost: str = "20m", **hpa_spec: Any) -> Cluster:
    cluster = Cluster(ClusterSpec(worker_nodes=2), seed=1)
    api = cluster.api
    api.create({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {
        "name": "api", "annotations": {"kclusterkit.io/request-cpu": cost}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "api"}},
                 "template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{
                     "name": "api", "image": AGNHOST, "args": ["netexec"],
                     "resources": {"requests": {"cpu": "100m", "memory": "32Mi"}}}]}}}})
    api.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"},
                "spec": {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": 8080}]}})
    spec = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"},
            "minReplicas": 2, "maxReplicas": 10,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                "type": "Utilization", "averageUtilization": 50}}}]}
    spec.update(hpa_spec)
    api.create({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "api"}, "spec": spec})
    return cluster


def _load(cluster: Cluster, rate: float) -> None:
    pause = f"{1 / rate:g}"
    cluster.api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "load"},
                        "spec": {"terminationGracePeriodSeconds": 0, "containers": [{
                            "name": "c", "image": "busybox:1.36", "command": [
                                "sh", "-c", f"while true; do wget -qO- -T 2 http://api/; "
                                f"sleep {pause}; done"]}]}})


def _status(cluster: Cluster) -> dict:
    return cluster.store.must_get(HPAS, "default", "api")["status"]


def _events(cluster: Cluster, reason: str) -> list[str]:
    return [e["message"] for e in cluster.store.iter(EVENTS, "default")
            if e["involvedObject"]["kind"] == "HorizontalPodAutoscaler" and e["reason"] == reason]


def _condition(cluster: Cluster, ctype: str) -> dict:
    return next(c for c in _status(cluster)["conditions"] if c["type"] == ctype)


def test_defaults_fill_min_replicas_and_the_cpu_target() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=1)
    hpa = cluster.api.create({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                              "metadata": {"name": "x"}, "spec": {
                                  "scaleTargetRef": {"kind": "Deployment", "name": "x"},
                                  "maxReplicas": 3, "behavior": {"scaleDown": {}}}})
    assert hpa["spec"]["minReplicas"] == 1
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 80
    assert hpa["spec"]["behavior"]["scaleUp"]["policies"][0] == {
        "type": "Pods", "value": 4, "periodSeconds": 15}
    assert "stabilizationWindowSeconds" not in hpa["spec"]["behavior"]["scaleDown"]


def test_load_scales_out_and_idleness_scales_in_after_the_window() -> None:
    cluster = _cluster()
    cluster.advance(60)
    assert _status(cluster)["desiredReplicas"] == 2
    assert _condition(cluster, "ScalingActive")["reason"] == "ValidMetricFound"
    _load(cluster, 10)  # 10/s × 20m for 1 s = 200m over 2 pods of 100m: 100% → 4 pods
    cluster.advance(90)
    assert cluster.store.must_get(DEPLOYMENTS, "default", "api")["spec"]["replicas"] == 4
    assert _events(cluster, "SuccessfulRescale") == [
        "New size: 4; reason: cpu resource utilization (percentage of request) above target"]
    cluster.advance(120)
    assert _status(cluster)["currentMetrics"][0]["resource"]["current"]["averageUtilization"] \
        == pytest.approx(50, abs=5)
    cluster.api.delete(cluster.api.resource_of({"apiVersion": "v1", "kind": "Pod"}),
                       "default", "load")
    cluster.advance(240)  # idle, but within the 5-minute downscale stabilization window
    assert cluster.store.must_get(DEPLOYMENTS, "default", "api")["spec"]["replicas"] == 4
    assert _condition(cluster, "AbleToScale")["reason"] == "ScaleDownStabilized"
    cluster.advance(120)
    assert cluster.store.must_get(DEPLOYMENTS, "default", "api")["spec"]["replicas"] == 2
    assert _events(cluster, "SuccessfulRescale")[-1] == \
        "New size: 2; reason: All metrics below target"
    assert _condition(cluster, "ScalingLimited")["reason"] == "TooFewReplicas"


def test_max_replicas_caps_the_scale_out() -> None:
    cluster = _cluster(cost="200m", maxReplicas=3)
    cluster.advance(60)
    _load(cluster, 10)
    cluster.advance(120)
    assert cluster.store.must_get(DEPLOYMENTS, "default", "api")["spec"]["replicas"] == 3
    limited = _condition(cluster, "ScalingLimited")
    assert (limited["status"], limited["reason"]) == ("True", "TooManyReplicas")


def test_min_replicas_is_enforced_on_a_smaller_target() -> None:
    cluster = _cluster(replicas=1, minReplicas=3)
    cluster.advance(20)
    assert cluster.store.must_get(DEPLOYMENTS, "default", "api")["spec"]["replicas"] == 3
    assert _events(cluster, "SuccessfulRescale") == [
        "New size: 3; reason: Current number of replicas below Spec.MinReplicas"]


def test_memory_average_value_target() -> None:
    cluster = _cluster(metrics=[{"type": "Resource", "resource": {"name": "memory", "target": {
        "type": "AverageValue", "averageValue": "4Mi"}}}])
    cluster.advance(60)  # agnhost idles at 9Mi: 9/4 → ceil(2 × 2.25) = 5, limited to 4
    current = _status(cluster)["currentMetrics"][0]["resource"]["current"]
    assert current["averageValue"] == "9437184"  # NewMilliQuantity(…, DecimalSI), as upstream
    assert _events(cluster, "SuccessfulRescale")[0] == \
        "New size: 4; reason: memory resource above target"
    cluster.advance(120)  # every pod idles above the target: up to the maximum
    assert cluster.store.must_get(DEPLOYMENTS, "default", "api")["spec"]["replicas"] == 10


def test_behavior_policies_limit_the_rate() -> None:
    cluster = _cluster(cost="200m", behavior={"scaleUp": {"policies": [
        {"type": "Pods", "value": 1, "periodSeconds": 60}]}})
    cluster.advance(60)
    _load(cluster, 10)
    cluster.advance(50)
    assert cluster.store.must_get(DEPLOYMENTS, "default", "api")["spec"]["replicas"] == 3
    assert _condition(cluster, "ScalingLimited")["reason"] == "ScaleUpLimit"


def test_without_metrics_scaling_is_not_active() -> None:
    cluster = _cluster()
    cluster.metrics_server.enabled = False
    cluster.advance(60)
    active = _condition(cluster, "ScalingActive")
    assert (active["status"], active["reason"]) == ("False", "FailedGetResourceMetric")
    assert any("unable to fetch metrics from resource metrics API" in m
               for m in _events(cluster, "FailedComputeMetricsReplicas"))


def test_scale_up_limit_without_behavior() -> None:
    assert _with_rules(2, 20, 1, 100) == (
        4, "ScaleUpLimit",
        "the desired replica count is increasing faster than the maximum scale rate")
    assert _with_rules(6, 20, 1, 100)[0] == 12


def _pod(name: str, phase: str = "Running", ready: bool = True, cpu: str = "100m") -> dict:
    return {"metadata": {"name": name}, "spec": {"containers": [
        {"name": "c", "resources": {"requests": {"cpu": cpu}}}]},
        "status": {"phase": phase, "startTime": "0",
                   "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                   "lastTransitionTime": "0"}]}}


def test_missing_pods_dampen_a_scale_down() -> None:
    # 2 pods at 10% of a 50% target, a third without metrics counted at 100%: stay.
    pods = [_pod("a"), _pod("b"), _pod("c")]
    metrics = {"a": rc.PodMetric(10, 1000, 15), "b": rc.PodMetric(10, 1000, 15)}
    replicas, utilization, _ = rc.resource_replicas(3, 50, "cpu", pods, metrics, 0.1, 300, 30,
                                                    1000, float)
    assert utilization == 10
    assert replicas == 3


def test_unready_pods_count_as_zero_when_scaling_up() -> None:
    pods = [_pod("a"), _pod("b"), _pod("c", ready=False)]
    metrics = {n: rc.PodMetric(100, 1000, 15) for n in ("a", "b", "c")}
    replicas, _, _ = rc.resource_replicas(3, 50, "cpu", pods, metrics, 0.1, 300, 30, 1000, float)
    assert replicas == 4  # (100+100+0)/300 = 66% over a 50% target: ceil(1.33 × 3)


def test_memory_utilization_of_the_request() -> None:
    # agnhost idles at 9Mi of a 32Mi request: 28% of an 80% target scales in to the minimum
    cluster = _cluster(replicas=4, metrics=[{"type": "Resource", "resource": {
        "name": "memory", "target": {"type": "Utilization", "averageUtilization": 80}}}],
        behavior={"scaleDown": {"stabilizationWindowSeconds": 0}})
    cluster.advance(90)
    current = _status(cluster)["currentMetrics"][0]["resource"]["current"]
    assert current["averageUtilization"] == 28
    assert cluster.store.must_get(DEPLOYMENTS, "default", "api")["spec"]["replicas"] == 2
    assert _events(cluster, "SuccessfulRescale") == [
        "New size: 2; reason: All metrics below target"]


def test_a_missing_request_makes_the_metric_invalid() -> None:
    cluster = _cluster(metrics=[{"type": "Resource", "resource": {
        "name": "ephemeral-storage", "target": {"type": "Utilization",
                                                "averageUtilization": 50}}}])
    cluster.advance(60)
    active = _condition(cluster, "ScalingActive")
    assert active["status"] == "False" and active["reason"] == "FailedGetResourceMetric"


PODS_METRIC = {"type": "Pods", "pods": {"metric": {"name": "packets-per-second"},
                                        "target": {"type": "AverageValue",
                                                   "averageValue": "1k"}}}
OBJECT_METRIC = {"type": "Object", "object": {
    "metric": {"name": "requests-per-second"},
    "describedObject": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                        "name": "main-route"},
    "target": {"type": "Value", "value": "10k"}}}
EXTERNAL_METRIC = {"type": "External", "external": {
    "metric": {"name": "queue_messages_ready", "selector": {"matchLabels": {"queue": "worker"}}},
    "target": {"type": "AverageValue", "averageValue": "30"}}}
NO_CUSTOM = ("unable to fetch metrics from custom metrics API: no custom metrics API "
             "(custom.metrics.k8s.io) registered")


@pytest.mark.parametrize(("metric", "reason", "message"), [
    (PODS_METRIC, "FailedGetPodsMetric",
     f"unable to get metric packets-per-second: {NO_CUSTOM}"),
    # upstream's format string puts the error after "<namespace> <name>/"
    (OBJECT_METRIC, "FailedGetObjectMetric",
     f"unable to get metric requests-per-second: Ingress on default main-route/{NO_CUSTOM}"),
    (EXTERNAL_METRIC, "FailedGetExternalMetric",
     "unable to get external metric default/queue_messages_ready/&LabelSelector{MatchLabels:"
     "map[string]string{queue: worker,},MatchExpressions:[]LabelSelectorRequirement{},}: "
     "unable to fetch metrics from external metrics API: the server could not find the "
     "requested resource (get queue_messages_ready.external.metrics.k8s.io)"),
])
def test_a_metric_no_served_api_answers_stops_scaling_and_keeps_the_replicas(
        metric: dict, reason: str, message: str) -> None:
    cluster = _cluster(cost="200m", metrics=[metric])  # a load that would scale CPU out
    _load(cluster, 10)
    cluster.advance(90)
    active = _condition(cluster, "ScalingActive")
    assert (active["status"], active["reason"]) == ("False", reason)
    assert active["message"] == f"the HPA was unable to compute the replica count: {message}"
    assert _events(cluster, reason)[0] == message
    assert any(m.startswith("invalid metrics (1 invalid out of 1), first error is: ")
               for m in _events(cluster, "FailedComputeMetricsReplicas"))
    assert cluster.store.must_get(DEPLOYMENTS, "default", "api")["spec"]["replicas"] == 2
    status = _status(cluster)
    assert (status["currentReplicas"], status["desiredReplicas"]) == (2, 2)
    assert status["currentMetrics"] == [{"type": ""}]  # the failed metric's empty status


def test_with_a_valid_metric_the_failed_ones_do_not_block_a_scale_out() -> None:
    cpu = {"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": 50}}}
    cluster = _cluster(metrics=[PODS_METRIC, cpu])
    _load(cluster, 10)  # 200m over 2 pods of 100m: cpu asks for more pods
    cluster.advance(90)
    assert cluster.store.must_get(DEPLOYMENTS, "default", "api")["spec"]["replicas"] > 2
    active = _condition(cluster, "ScalingActive")
    assert (active["status"], active["reason"]) == ("True", "ValidMetricFound")
    assert _events(cluster, "FailedGetPodsMetric")
    metrics = _status(cluster)["currentMetrics"]
    assert metrics[0] == {"type": ""} and metrics[1]["resource"]["name"] == "cpu"


def test_a_failed_metric_blocks_a_scale_down_the_valid_ones_ask_for() -> None:
    cpu = {"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": 50}}}
    cluster = _cluster(replicas=4, metrics=[EXTERNAL_METRIC, cpu], minReplicas=1)
    cluster.advance(400)  # idle: cpu alone would scale in to 1 after the window
    assert cluster.store.must_get(DEPLOYMENTS, "default", "api")["spec"]["replicas"] == 4
    active = _condition(cluster, "ScalingActive")
    assert (active["status"], active["reason"]) == ("False", "FailedGetExternalMetric")


def _container_metric(container: str) -> dict:
    return {"type": "ContainerResource", "containerResource": {
        "name": "cpu", "container": container,
        "target": {"type": "Utilization", "averageUtilization": 50}}}


def test_a_container_resource_metric_reads_that_container() -> None:
    cluster = _cluster(metrics=[_container_metric("api")])
    _load(cluster, 10)
    cluster.advance(90)
    assert cluster.store.must_get(DEPLOYMENTS, "default", "api")["spec"]["replicas"] > 2
    active = _condition(cluster, "ScalingActive")
    assert active["message"] == ("the HPA was able to successfully calculate a replica count "
                                 "from cpu container resource utilization (percentage of "
                                 "request)")
    current = _status(cluster)["currentMetrics"][0]
    assert current["type"] == "ContainerResource"
    assert (current["containerResource"]["name"], current["containerResource"]["container"]) \
        == ("cpu", "api")


def test_a_container_resource_metric_of_a_missing_container_fails() -> None:
    cluster = _cluster(metrics=[_container_metric("sidecar")])
    cluster.advance(60)
    active = _condition(cluster, "ScalingActive")
    assert (active["status"], active["reason"]) == ("False", "FailedGetContainerResourceMetric")
    assert "failed to get cpu utilization: unable to get metrics for resource cpu: failed to " \
           "get container metrics: container sidecar not present in metrics for pod " \
           "default/api-" in active["message"]
