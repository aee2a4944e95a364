"""autoscaling/v1 HorizontalPodAutoscalers: upstream's conversion to and from v2 (stored)."""

from __future__ import annotations

import json

import pytest

from kclusterkit.sim import errors
from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.kinds.autoscaling_v1 import (
    BEHAVIOR,
    CONDITIONS,
    METRIC_SPECS,
    METRIC_STATUSES,
    from_v1,
    to_v1,
)
from kclusterkit.sim.resources import HPAS, for_kind

V1 = for_kind("autoscaling/v1", "HorizontalPodAutoscaler")
REF = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}


def _v2(metrics: list[dict], **spec: object) -> dict:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "api", "namespace": "default"},
            "spec": {"scaleTargetRef": REF, "minReplicas": 2, "maxReplicas": 5,
                     "metrics": metrics, **spec}}


CPU50 = {"type": "Resource", "resource": {"name": "cpu", "target": {
    "type": "Utilization", "averageUtilization": 50}}}
MEMORY = {"type": "Resource", "resource": {"name": "memory", "target": {
    "type": "AverageValue", "averageValue": "200Mi"}}}
PODS = {"type": "Pods", "pods": {"metric": {"name": "packets-per-second"},
                                 "target": {"type": "AverageValue", "averageValue": "1k"}}}


def test_the_cpu_utilization_metric_is_the_v1_percentage_and_nothing_else() -> None:
    shown = to_v1(_v2([CPU50]))
    assert shown["apiVersion"] == "autoscaling/v1"
    assert shown["spec"] == {"scaleTargetRef": REF, "minReplicas": 2, "maxReplicas": 5,
                             "targetCPUUtilizationPercentage": 50}
    assert "annotations" not in shown["metadata"]
    assert from_v1(shown)["spec"]["metrics"] == [CPU50]


def test_other_metrics_and_the_behavior_travel_in_annotations_and_come_back() -> None:
    behavior = {"scaleDown": {"stabilizationWindowSeconds": 60, "selectPolicy": "Max",
                              "policies": [{"type": "Pods", "value": 1, "periodSeconds": 30}]}}
    stored = _v2([PODS, CPU50, MEMORY], behavior=behavior)
    shown = to_v1(stored)
    annotations = shown["metadata"]["annotations"]
    assert shown["spec"]["targetCPUUtilizationPercentage"] == 50
    # v1 MetricSpecs, in the v1 field names
    assert json.loads(annotations[METRIC_SPECS]) == [
        {"type": "Pods", "pods": {"metricName": "packets-per-second",
                                  "targetAverageValue": "1k"}},
        {"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "200Mi"}}]
    # the internal Go type marshalled without json tags (upstream's TODO)
    assert json.loads(annotations[BEHAVIOR]) == {"ScaleUp": None, "ScaleDown": {
        "StabilizationWindowSeconds": 60, "SelectPolicy": "Max",
        "Policies": [{"Type": "Pods", "Value": 1, "PeriodSeconds": 30}], "Tolerance": None}}
    back = from_v1(shown)
    # the annotation's metrics first, the CPU one last (as upstream rebuilds them)
    assert back["spec"]["metrics"] == [PODS, MEMORY, CPU50]
    assert back["spec"]["behavior"] == behavior
    assert "annotations" not in back["metadata"]  # round-trip annotations are dropped


def test_the_status_keeps_current_metrics_and_conditions_in_annotations() -> None:
    stored = _v2([CPU50])
    condition = {"type": "AbleToScale", "status": "True", "lastTransitionTime": "t",
                 "reason": "ReadyForNewScale", "message": "recommended size matches"}
    stored["status"] = {"currentReplicas": 2, "desiredReplicas": 3, "conditions": [condition],
                        "currentMetrics": [{"type": "Resource", "resource": {
                            "name": "cpu", "current": {"averageUtilization": 80,
                                                       "averageValue": "80m"}}}]}
    shown = to_v1(stored)
    assert shown["status"] == {"currentReplicas": 2, "desiredReplicas": 3,
                               "currentCPUUtilizationPercentage": 80}
    annotations = shown["metadata"]["annotations"]
    assert json.loads(annotations[METRIC_STATUSES]) == [{"type": "Resource", "resource": {
        "name": "cpu", "currentAverageUtilization": 80, "currentAverageValue": "80m"}}]
    assert json.loads(annotations[CONDITIONS]) == [condition]
    back = from_v1(shown)
    assert back["status"]["conditions"] == [condition]
    assert back["status"]["currentMetrics"][0]["resource"]["current"] == {
        "averageValue": "80m", "averageUtilization": 80}


def test_a_v1_object_without_a_target_gets_cpu_at_80_percent() -> None:
    v1 = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
          "metadata": {"name": "api", "annotations": {METRIC_SPECS: "not json", "team": "a"}},
          "spec": {"scaleTargetRef": REF, "maxReplicas": 4}}
    back = from_v1(v1)
    assert back["spec"]["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
    assert back["metadata"]["annotations"] == {"team": "a"}


@pytest.fixture()
def cluster() -> Cluster:
    return Cluster(ClusterSpec(control_plane_nodes=1, worker_nodes=1), seed=1)


def test_the_api_stores_v1_objects_as_v2_and_answers_in_the_version_asked(
        cluster: Cluster) -> None:
    created = cluster.api.create({"apiVersion": "autoscaling/v1",
                                  "kind": "HorizontalPodAutoscaler",
                                  "metadata": {"name": "api", "namespace": "default"},
                                  "spec": {"scaleTargetRef": REF, "maxReplicas": 5,
                                           "targetCPUUtilizationPercentage": 60}})
    assert created["apiVersion"] == "autoscaling/v1"
    assert created["spec"]["minReplicas"] == 1  # defaulted
    stored = cluster.store.get(HPAS, "default", "api")
    assert stored["apiVersion"] == "autoscaling/v2"
    assert stored["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 60
    assert cluster.api.get(V1, "default", "api")["spec"]["targetCPUUtilizationPercentage"] == 60
    patched = cluster.api.patch(V1, "default", "api", {"spec": {"maxReplicas": 7}},
                                "application/merge-patch+json")
    assert patched["spec"]["maxReplicas"] == 7 and patched["apiVersion"] == "autoscaling/v1"
    assert cluster.api.get(HPAS, "default", "api")["spec"]["maxReplicas"] == 7
    listed = cluster.api.list(V1, "default")
    assert listed["apiVersion"] == "autoscaling/v1"
    assert listed["items"][0]["spec"]["targetCPUUtilizationPercentage"] == 60
    with pytest.raises(errors.StatusError) as invalid:
        cluster.api.patch(V1, "default", "api", {"spec": {"targetCPUUtilizationPercentage": 0}},
                          "application/merge-patch+json")
    assert invalid.value.code == 422
    gone = cluster.api.delete(V1, "default", "api")
    assert gone["status"] == "Success" and cluster.store.get(HPAS, "default", "api") is None


@pytest.mark.parametrize(("metric", "field", "message"), [
    ({"type": "Pods", "pods": {"metric": {}, "target": {"type": "AverageValue",
                                                       "averageValue": "1"}}},
     "spec.metrics[0].pods.metric.name", "Required value: must specify a metric name"),
    ({"type": "Pods", "pods": {"metric": {"name": "pps"}, "target": {"type": "Value",
                                                                    "value": "1"}}},
     "spec.metrics[0].pods.target.averageValue",
     "Required value: must specify a positive target averageValue"),
    ({"type": "External", "external": {"metric": {"name": "q"}, "target": {
        "type": "Value", "value": "1", "averageValue": "2"}}},
     "spec.metrics[0].external.target.value",
     "Forbidden: may not set both a target value for metric and a per-pod target"),
    ({"type": "Object", "object": {"metric": {"name": "rps"}, "describedObject": {
        "name": "main"}, "target": {"type": "Value", "value": "0"}}},
     "spec.metrics[0].object.target.value", 'Invalid value: "0": must be positive'),
    ({"type": "Pods"}, "spec.metrics[0].pods",
     "Required value: must populate information for the given metric source"),
    ({"type": "Queue"}, "spec.metrics[0].type",
     'Unsupported value: "Queue": supported values: "ContainerResource", "External", '
     '"Object", "Pods", "Resource"'),
])
def test_custom_and_external_metrics_are_validated_as_upstream(
        cluster: Cluster, metric: dict, field: str, message: str) -> None:
    hpa = _v2([metric])
    with pytest.raises(errors.StatusError) as refused:
        cluster.api.create(hpa)
    causes = refused.value.status["details"]["causes"]
    assert {"field": field, "message": message} in [
        {"field": c["field"], "message": c["message"]} for c in causes]
