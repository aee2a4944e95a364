"""autoscaling/v1 HorizontalPodAutoscaler: upstream's conversion to and from v2 (stored).

pkg/apis/autoscaling/v1/conversion.go: v1 has one metric of its own,
``targetCPUUtilizationPercentage`` (and ``currentCPUUtilizationPercentage`` in the
status), the v2 CPU Resource metric with an ``averageUtilization`` target. Everything else
v2 holds travels in annotations so that a v1 client reading and writing the object back
loses nothing (pkg/apis/autoscaling/annotations.go):

- ``autoscaling.alpha.kubernetes.io/metrics``: the other metrics, as v1 MetricSpecs;
- ``autoscaling.alpha.kubernetes.io/current-metrics``: every current metric, as v1
  MetricStatuses (the CPU one too, for its raw value);
- ``autoscaling.alpha.kubernetes.io/behavior``: the behavior, as ``json.Marshal`` of the
  *internal* Go type writes it: no json tags, so Go field names (``ScaleUp``,
  ``StabilizationWindowSeconds``...) and nil pointers as ``null`` (upstream's TODO);
- ``autoscaling.alpha.kubernetes.io/conditions``: the status conditions.

Reading v1 back (v1 -> v2) takes the annotations' contents into the object and drops the
annotations (DropRoundTripHorizontalPodAutoscalerAnnotations); an annotation that does not
decode is ignored. A v1 object with no metric at all gets CPU at 80%
(autoscaling.DefaultCPUUtilization): "autoscaling/v1 formerly had an implicit default
applied in the controller".
"""

from __future__ import annotations

import json
from typing import Any

from kclusterkit.kube.meta import Obj, clone
from kclusterkit.sim import conversion
from kclusterkit.sim.kinds.autoscaling import DEFAULT_CPU_UTILIZATION
from kclusterkit.sim.resources import for_kind

METRIC_SPECS = "autoscaling.alpha.kubernetes.io/metrics"
METRIC_STATUSES = "autoscaling.alpha.kubernetes.io/current-metrics"
CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"
BEHAVIOR = "autoscaling.alpha.kubernetes.io/behavior"
# v2beta2's round-trip annotations for the (1.33+) tolerance; dropped alike.
TOLERANCE_DOWN = "autoscaling.alpha.kubernetes.io/scale-down-tolerance"
TOLERANCE_UP = "autoscaling.alpha.kubernetes.io/scale-up-tolerance"
ROUND_TRIP = (METRIC_SPECS, BEHAVIOR, TOLERANCE_DOWN, TOLERANCE_UP, METRIC_STATUSES,
              CONDITIONS)


def _dumps(value: Any) -> str:
    """encoding/json's compact form."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _drop_round_trip(meta: dict[str, Any]) -> None:
    annotations = meta.get("annotations")
    if not isinstance(annotations, dict) or not any(k in annotations for k in ROUND_TRIP):
        return
    kept = {k: v for k, v in annotations.items() if k not in ROUND_TRIP}
    if kept:
        meta["annotations"] = kept
    else:
        meta.pop("annotations", None)


def _some(src: dict[str, Any], key: str, out: dict[str, Any], out_key: str) -> None:
    if src.get(key) is not None:
        out[out_key] = src[key]


def _ref(ref: Any) -> dict[str, Any]:
    ref = ref if isinstance(ref, dict) else {}
    out = {"kind": ref.get("kind", ""), "name": ref.get("name", "")}
    _some(ref, "apiVersion", out, "apiVersion")
    return out


def _is_cpu(metric: Any) -> bool:
    return isinstance(metric, dict) and metric.get("type") == "Resource" \
        and isinstance(metric.get("resource"), dict) and metric["resource"].get("name") == "cpu"


def _cpu_utilization_target(metric: Any) -> int | None:
    if not _is_cpu(metric):
        return None
    return ((metric["resource"].get("target") or {}).get("averageUtilization"))


# -- metric specs and statuses, field by field (the v1 structs' field order) ------------
def _spec_to_v1(m: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": m.get("type", "")}
    if isinstance(m.get("object"), dict):
        src, target = m["object"], m["object"].get("target") or {}
        v: dict[str, Any] = {"target": _ref(src.get("describedObject")),
                             "metricName": (src.get("metric") or {}).get("name", ""),
                             "targetValue": target.get("value") or "0"}
        _some(src.get("metric") or {}, "selector", v, "selector")
        _some(target, "averageValue", v, "averageValue")
        out["object"] = v
    if isinstance(m.get("pods"), dict):
        src, target = m["pods"], m["pods"].get("target") or {}
        v = {"metricName": (src.get("metric") or {}).get("name", ""),
             "targetAverageValue": target.get("averageValue") or "0"}
        _some(src.get("metric") or {}, "selector", v, "selector")
        out["pods"] = v
    for key in ("resource", "containerResource"):
        if isinstance(m.get(key), dict):
            src, target = m[key], m[key].get("target") or {}
            v = {"name": src.get("name", "")}
            _some(target, "averageUtilization", v, "targetAverageUtilization")
            _some(target, "averageValue", v, "targetAverageValue")
            if key == "containerResource":
                v["container"] = src.get("container", "")
            out[key] = v
    if isinstance(m.get("external"), dict):
        src, target = m["external"], m["external"].get("target") or {}
        v = {"metricName": (src.get("metric") or {}).get("name", "")}
        _some(src.get("metric") or {}, "selector", v, "metricSelector")
        _some(target, "value", v, "targetValue")
        _some(target, "averageValue", v, "targetAverageValue")
        out["external"] = v
    return out


def _identifier(src: dict[str, Any], selector_key: str) -> dict[str, Any]:
    out = {"name": src.get("metricName", "")}
    _some(src, selector_key, out, "selector")
    return out


def _spec_from_v1(m: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": m.get("type", "")}
    if isinstance(m.get("object"), dict):
        src = m["object"]
        target = {"type": "Value" if src.get("averageValue") is None else "AverageValue",
                  "value": src.get("targetValue") or "0"}
        _some(src, "averageValue", target, "averageValue")
        out["object"] = {"describedObject": _ref(src.get("target")),
                         "metric": _identifier(src, "selector"), "target": target}
    if isinstance(m.get("pods"), dict):
        src = m["pods"]
        out["pods"] = {"metric": _identifier(src, "selector"),
                       "target": {"type": "AverageValue",
                                  "averageValue": src.get("targetAverageValue") or "0"}}
    for key in ("resource", "containerResource"):
        if isinstance(m.get(key), dict):
            src = m[key]
            target = {"type": "AverageValue" if src.get("targetAverageUtilization") is None
                      else "Utilization"}
            _some(src, "targetAverageUtilization", target, "averageUtilization")
            _some(src, "targetAverageValue", target, "averageValue")
            v: dict[str, Any] = {"name": src.get("name", ""), "target": target}
            if key == "containerResource":
                v["container"] = src.get("container", "")
            out[key] = v
    if isinstance(m.get("external"), dict):
        src = m["external"]
        target = {"type": "AverageValue" if src.get("targetValue") is None else "Value"}
        _some(src, "targetValue", target, "value")
        _some(src, "targetAverageValue", target, "averageValue")
        out["external"] = {"metric": _identifier(src, "metricSelector"), "target": target}
    return out


def _status_to_v1(m: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": m.get("type", "")}
    if isinstance(m.get("object"), dict):
        src, current = m["object"], m["object"].get("current") or {}
        v: dict[str, Any] = {"target": _ref(src.get("describedObject")),
                             "metricName": (src.get("metric") or {}).get("name", ""),
                             "currentValue": current.get("value") or "0"}
        _some(src.get("metric") or {}, "selector", v, "selector")
        _some(current, "averageValue", v, "averageValue")
        out["object"] = v
    if isinstance(m.get("pods"), dict):
        src, current = m["pods"], m["pods"].get("current") or {}
        v = {"metricName": (src.get("metric") or {}).get("name", ""),
             "currentAverageValue": current.get("averageValue") or "0"}
        _some(src.get("metric") or {}, "selector", v, "selector")
        out["pods"] = v
    for key in ("resource", "containerResource"):
        if isinstance(m.get(key), dict):
            src, current = m[key], m[key].get("current") or {}
            v = {"name": src.get("name", "")}
            _some(current, "averageUtilization", v, "currentAverageUtilization")
            v["currentAverageValue"] = current.get("averageValue") or "0"
            if key == "containerResource":
                v["container"] = src.get("container", "")
            out[key] = v
    if isinstance(m.get("external"), dict):
        src, current = m["external"], m["external"].get("current") or {}
        v = {"metricName": (src.get("metric") or {}).get("name", "")}
        _some(src.get("metric") or {}, "selector", v, "metricSelector")
        v["currentValue"] = current.get("value") or "0"
        _some(current, "averageValue", v, "currentAverageValue")
        out["external"] = v
    return out


def _status_from_v1(m: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": m.get("type", "")}
    if isinstance(m.get("object"), dict):
        src = m["object"]
        current = {"value": src.get("currentValue") or "0"}
        _some(src, "averageValue", current, "averageValue")
        out["object"] = {"metric": _identifier(src, "selector"), "current": current,
                         "describedObject": _ref(src.get("target"))}
    if isinstance(m.get("pods"), dict):
        src = m["pods"]
        out["pods"] = {"metric": _identifier(src, "selector"),
                       "current": {"averageValue": src.get("currentAverageValue") or "0"}}
    for key in ("resource", "containerResource"):
        if isinstance(m.get(key), dict):
            src = m[key]
            current = {"averageValue": src.get("currentAverageValue") or "0"}
            _some(src, "currentAverageUtilization", current, "averageUtilization")
            v: dict[str, Any] = {"name": src.get("name", "")}
            if key == "containerResource":
                v["container"] = src.get("container", "")
            v["current"] = current
            out[key] = v
    if isinstance(m.get("external"), dict):
        src = m["external"]
        current = {"value": src.get("currentValue") or "0"}
        _some(src, "currentAverageValue", current, "averageValue")
        out["external"] = {"metric": _identifier(src, "metricSelector"), "current": current}
    return out


def _condition(c: dict[str, Any]) -> dict[str, Any]:
    out = {"type": c.get("type", ""), "status": c.get("status", "")}
    for key in ("lastTransitionTime", "reason", "message"):
        _some(c, key, out, key)
    return out


# -- behavior: the internal Go type, marshalled without json tags ----------------------
def _rules_to_go(rules: Any) -> dict[str, Any] | None:
    if not isinstance(rules, dict):
        return None
    policies = rules.get("policies")
    return {"StabilizationWindowSeconds": rules.get("stabilizationWindowSeconds"),
            "SelectPolicy": rules.get("selectPolicy"),
            "Policies": [{"Type": p.get("type", ""), "Value": p.get("value", 0),
                          "PeriodSeconds": p.get("periodSeconds", 0)}
                         for p in policies if isinstance(p, dict)]
            if isinstance(policies, list) else None,
            "Tolerance": rules.get("tolerance")}


def _get_ci(obj: dict[str, Any], name: str) -> Any:
    """A key as encoding/json matches it: exactly, else ignoring case."""
    if name in obj:
        return obj[name]
    return next((v for k, v in obj.items() if k.lower() == name.lower()), None)


def _rules_from_go(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    out: dict[str, Any] = {}
    for go, key in (("StabilizationWindowSeconds", "stabilizationWindowSeconds"),
                    ("SelectPolicy", "selectPolicy")):
        if _get_ci(raw, go) is not None:
            out[key] = _get_ci(raw, go)
    policies = _get_ci(raw, "Policies")
    if isinstance(policies, list):
        out["policies"] = [{"type": _get_ci(p, "Type") or "", "value": _get_ci(p, "Value") or 0,
                            "periodSeconds": _get_ci(p, "PeriodSeconds") or 0}
                           for p in policies if isinstance(p, dict)]
    if _get_ci(raw, "Tolerance") is not None:
        out["tolerance"] = _get_ci(raw, "Tolerance")
    return out


def _loads(annotations: dict[str, Any], key: str) -> Any:
    raw = annotations.get(key)
    if not isinstance(raw, str):
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None  # upstream ignores an annotation that does not unmarshal


# -- the object ------------------------------------------------------------------------
def to_v1(stored: Obj) -> Obj:
    """Convert_autoscaling_HorizontalPodAutoscaler_To_v1_HorizontalPodAutoscaler."""
    meta = clone(stored.get("metadata") or {})
    _drop_round_trip(meta)
    spec = stored.get("spec") or {}
    status = stored.get("status") or {}
    metrics = [m for m in spec.get("metrics") or [] if isinstance(m, dict)]
    v1_spec: dict[str, Any] = {"scaleTargetRef": _ref(spec.get("scaleTargetRef"))}
    _some(spec, "minReplicas", v1_spec, "minReplicas")
    v1_spec["maxReplicas"] = spec.get("maxReplicas", 0)
    for metric in metrics:  # the first CPU metric decides, then the loop breaks
        if _is_cpu(metric):
            target = _cpu_utilization_target(metric)
            if target is not None:
                v1_spec["targetCPUUtilizationPercentage"] = target
            break
    v1_status: dict[str, Any] = {}
    _some(status, "observedGeneration", v1_status, "observedGeneration")
    _some(status, "lastScaleTime", v1_status, "lastScaleTime")
    v1_status["currentReplicas"] = status.get("currentReplicas", 0)
    v1_status["desiredReplicas"] = status.get("desiredReplicas", 0)
    current = [m for m in status.get("currentMetrics") or [] if isinstance(m, dict)]
    for metric in current:  # no break: the last CPU utilization wins
        if _is_cpu(metric):
            value = (metric["resource"].get("current") or {}).get("averageUtilization")
            if value is not None:
                v1_status["currentCPUUtilizationPercentage"] = value
    annotations: dict[str, str] = {}
    others = [_spec_to_v1(m) for m in metrics if _cpu_utilization_target(m) is None]
    if others:
        annotations[METRIC_SPECS] = _dumps(others)
    if current:
        annotations[METRIC_STATUSES] = _dumps([_status_to_v1(m) for m in current])
    if isinstance(spec.get("behavior"), dict):
        behavior = spec["behavior"]
        annotations[BEHAVIOR] = _dumps({"ScaleUp": _rules_to_go(behavior.get("scaleUp")),
                                        "ScaleDown": _rules_to_go(behavior.get("scaleDown"))})
    conditions = [c for c in status.get("conditions") or [] if isinstance(c, dict)]
    if conditions:
        annotations[CONDITIONS] = _dumps([_condition(c) for c in conditions])
    if annotations:
        meta["annotations"] = {**(meta.get("annotations") or {}), **annotations}
    return {"kind": stored.get("kind", "HorizontalPodAutoscaler"), "apiVersion": "autoscaling/v1",
            "metadata": meta, "spec": v1_spec, "status": v1_status}


def from_v1(obj: Obj) -> Obj:
    """Convert_v1_HorizontalPodAutoscaler_To_autoscaling_HorizontalPodAutoscaler."""
    out = clone(obj)
    meta = out.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    status = obj.get("status") if isinstance(obj.get("status"), dict) else {}
    v2_spec: dict[str, Any] = {"scaleTargetRef": _ref(spec.get("scaleTargetRef"))}
    _some(spec, "minReplicas", v2_spec, "minReplicas")
    v2_spec["maxReplicas"] = spec.get("maxReplicas", 0)
    metrics: list[dict[str, Any]] = []
    if spec.get("targetCPUUtilizationPercentage") is not None:
        metrics.append({"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization",
            "averageUtilization": spec["targetCPUUtilizationPercentage"]}}})
    others = _loads(annotations, METRIC_SPECS)
    if isinstance(others, list):
        # "the normal Spec conversion could have populated out.Spec.Metrics with a single
        # element": the annotation's metrics come first, the CPU one last
        metrics = [_spec_from_v1(m) for m in others if isinstance(m, dict)] + metrics
    behavior = _loads(annotations, BEHAVIOR)
    if isinstance(behavior, dict):
        up = _rules_from_go(_get_ci(behavior, "ScaleUp"))
        down = _rules_from_go(_get_ci(behavior, "ScaleDown"))
        if up is not None or down is not None:  # not the zero behavior
            v2_spec["behavior"] = {**({"scaleUp": up} if up is not None else {}),
                                   **({"scaleDown": down} if down is not None else {})}
    if not metrics:
        metrics = [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": DEFAULT_CPU_UTILIZATION}}}]
    v2_spec["metrics"] = metrics
    v2_status: dict[str, Any] = {}
    _some(status, "observedGeneration", v2_status, "observedGeneration")
    _some(status, "lastScaleTime", v2_status, "lastScaleTime")
    v2_status["currentReplicas"] = status.get("currentReplicas", 0)
    v2_status["desiredReplicas"] = status.get("desiredReplicas", 0)
    if status.get("currentCPUUtilizationPercentage") is not None:
        v2_status["currentMetrics"] = [{"type": "Resource", "resource": {
            "name": "cpu",
            "current": {"averageUtilization": status["currentCPUUtilizationPercentage"]}}}]
    current = _loads(annotations, METRIC_STATUSES)
    if isinstance(current, list):  # "the ones here have more information"
        v2_status["currentMetrics"] = [_status_from_v1(m) for m in current
                                       if isinstance(m, dict)]
    conditions = _loads(annotations, CONDITIONS)
    if isinstance(conditions, list):
        v2_status["conditions"] = [_condition(c) for c in conditions if isinstance(c, dict)]
    _drop_round_trip(meta)
    out["spec"], out["status"] = v2_spec, v2_status
    return out


conversion.register(for_kind("autoscaling/v1", "HorizontalPodAutoscaler"), from_v1, to_v1)
