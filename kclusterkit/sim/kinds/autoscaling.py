"""HorizontalPodAutoscaler (autoscaling/v2) as the API server admits it.

Defaults are pkg/apis/autoscaling/v2/defaults.go: ``minReplicas`` 1; no metrics means CPU
at 80% utilization (autoscaling.DefaultCPUUtilization); a ``behavior`` that is given has
its missing rules filled (scale up: no stabilization, select Max of 4 pods or 100% per
15 s; scale down: select Max, 100% per 15 s, the stabilization window left nil so the
controller applies its --horizontal-pod-autoscaler-downscale-stabilization). A missing
``behavior`` stays missing: the controller then uses its behaviour-less path.
Validation follows pkg/apis/autoscaling/validation/validation.go for the fields a
scenario writes.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj
from kclusterkit.kube.quantity import QuantityError, parse_quantity
from kclusterkit.sim.resources import HPAS
from kclusterkit.sim.strategy import Strategy, register_strategy

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api

Cause = tuple[str, str, str]
DEFAULT_CPU_UTILIZATION = 80
SCALE_UP_DEFAULT: dict[str, Any] = {
    "stabilizationWindowSeconds": 0, "selectPolicy": "Max",
    "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15},
                 {"type": "Percent", "value": 100, "periodSeconds": 15}]}
SCALE_DOWN_DEFAULT: dict[str, Any] = {
    "selectPolicy": "Max", "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}
_POLICY_TYPES = ("Pods", "Percent")
_SELECT = ("Max", "Min", "Disabled")
_TARGET_TYPES = ("Utilization", "Value", "AverageValue")


def _rules(given: Any, default: dict[str, Any]) -> dict[str, Any]:
    """GenerateHPAScaleUpRules / GenerateHPAScaleDownRules: fill what is nil."""
    rules = dict(given) if isinstance(given, dict) else {}
    if "stabilizationWindowSeconds" not in rules and "stabilizationWindowSeconds" in default:
        rules["stabilizationWindowSeconds"] = default["stabilizationWindowSeconds"]
    rules.setdefault("selectPolicy", default["selectPolicy"])
    if not rules.get("policies"):
        rules["policies"] = copy.deepcopy(default["policies"])
    return rules


class HorizontalPodAutoscalerStrategy(Strategy):
    def default(self, api: Api, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            return
        spec.setdefault("minReplicas", 1)
        if not spec.get("metrics"):
            spec["metrics"] = [{"type": "Resource", "resource": {
                "name": "cpu", "target": {"type": "Utilization",
                                          "averageUtilization": DEFAULT_CPU_UTILIZATION}}}]
        behavior = spec.get("behavior")
        if isinstance(behavior, dict):
            behavior["scaleUp"] = _rules(behavior.get("scaleUp"), SCALE_UP_DEFAULT)
            behavior["scaleDown"] = _rules(behavior.get("scaleDown"), SCALE_DOWN_DEFAULT)

    def prepare_create(self, api: Api, obj: Obj) -> None:
        obj["status"] = {"desiredReplicas": 0}  # an empty status; desiredReplicas has no omitempty

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        causes: list[Cause] = []
        spec = obj.get("spec") or {}
        ref = spec.get("scaleTargetRef") or {}
        if not ref.get("kind"):
            causes.append(("FieldValueRequired", "spec.scaleTargetRef.kind",
                           "Required value"))
        if not ref.get("name"):
            causes.append(("FieldValueRequired", "spec.scaleTargetRef.name",
                           "Required value"))
        low, high = spec.get("minReplicas", 1), spec.get("maxReplicas")
        if isinstance(low, int) and low < 1:
            causes.append(("FieldValueInvalid", "spec.minReplicas",
                           f"Invalid value: {low}: must be greater than or equal to 1"))
        if not isinstance(high, int) or high < 1:
            causes.append(("FieldValueInvalid", "spec.maxReplicas",
                           f"Invalid value: {high}: must be greater than 0"))
        elif isinstance(low, int) and high < low:
            causes.append(("FieldValueInvalid", "spec.maxReplicas",
                           f"Invalid value: {high}: must be greater than or equal to "
                           "`minReplicas`"))
        for i, metric in enumerate(spec.get("metrics") or []):
            causes.extend(_metric(f"spec.metrics[{i}]", metric))
        behavior = spec.get("behavior")
        if isinstance(behavior, dict):
            for side in ("scaleUp", "scaleDown"):
                causes.extend(_behavior(f"spec.behavior.{side}", behavior.get(side) or {}))
        return causes


_SOURCES = {"Object": "object", "Pods": "pods", "Resource": "resource",
            "ContainerResource": "containerResource", "External": "external"}


def _metric(path: str, metric: Any) -> list[Cause]:
    """validateMetricSpec: the type, its one source, and that source's fields."""
    if not isinstance(metric, dict):
        return [("FieldValueInvalid", path, "Invalid value: must be an object")]
    kind = metric.get("type")
    causes: list[Cause] = []
    if not kind:
        causes.append(("FieldValueRequired", f"{path}.type",
                       "Required value: must specify a metric source type"))
    expected = _SOURCES.get(kind or "")
    if expected is None:
        supported = ", ".join(f'"{t}"' for t in sorted(_SOURCES))
        causes.append(("FieldValueNotSupported", f"{path}.type",
                       f'Unsupported value: "{kind or ""}": supported values: {supported}'))
    elif not isinstance(metric.get(expected), dict):
        causes.append(("FieldValueRequired", f"{path}.{expected}",
                       "Required value: must populate information for the given metric "
                       "source"))
    present = [key for key in _SOURCES.values() if metric.get(key) is not None]
    if len(present) != 1:
        causes.extend(("FieldForbidden", f"{path}.{key}",
                       "Forbidden: must populate the given metric source only")
                      for key in present if key != expected)
    source = metric.get(expected) if expected else None
    if not isinstance(source, dict) or kind == "ContainerResource":
        return causes
    if kind == "Resource":
        return causes + _resource_metric(path, metric)
    where = f"{path}.{expected}"
    if kind == "Object":
        ref = source.get("describedObject") or {}
        for key in ("kind", "name"):
            if not ref.get(key):
                causes.append(("FieldValueRequired", f"{where}.describedObject.{key}",
                               "Required value"))
    causes.extend(_metric_identifier(f"{where}.metric", source.get("metric") or {}))
    target = source.get("target") or {}
    causes.extend(_metric_target(f"{where}.target", target))
    value, average = target.get("value"), target.get("averageValue")
    if kind == "Pods" and average is None:
        causes.append(("FieldValueRequired", f"{where}.target.averageValue",
                       "Required value: must specify a positive target averageValue"))
    if kind == "Object" and value is None and average is None:
        causes.append(("FieldValueRequired", f"{where}.target.averageValue",
                       "Required value: must set either a target value or averageValue"))
    if kind == "External":
        if value is None and average is None:
            causes.append(("FieldValueRequired", f"{where}.target.averageValue",
                           "Required value: must set either a target value for metric or a "
                           "per-pod target"))
        elif value is not None and average is not None:
            causes.append(("FieldForbidden", f"{where}.target.value",
                           "Forbidden: may not set both a target value for metric and a "
                           "per-pod target"))
    return causes


def _metric_identifier(path: str, metric: Any) -> list[Cause]:
    """validateMetricIdentifier: a name that is a valid path segment."""
    name = metric.get("name") if isinstance(metric, dict) else None
    if not name:
        return [("FieldValueRequired", f"{path}.name", "Required value: must specify a metric "
                 "name")]
    problems = [f"may not be '{name}'"] if name in (".", "..") else []
    problems += [f"may not contain '{ch}'" for ch in ("/", "%") if ch in str(name)]
    return [("FieldValueInvalid", f"{path}.name", f'Invalid value: "{name}": {p}')
            for p in problems]


def _metric_target(path: str, target: dict[str, Any]) -> list[Cause]:
    """validateMetricTarget, as upstream words it (field path with its space included)."""
    kind = target.get("type") or ""
    causes: list[Cause] = []
    if not kind:
        causes.append(("FieldValueRequired", f"{path}.type",
                       "Required value: must specify a metric target type"))
    if kind not in _TARGET_TYPES:
        causes.append(("FieldValueInvalid", f"{path}.type", f'Invalid value: "{kind}": must be '
                       "either Utilization, Value, or AverageValue"))
    if all(target.get(k) is None for k in ("averageUtilization", "averageValue", "value")):
        causes.append(("FieldValueInvalid", f"{path}. utilization, value and averageValue",
                       f'Invalid value: "{kind}": at least one not nil'))
    for key in ("value", "averageValue"):
        raw = target.get(key)
        if raw is None:
            continue
        try:
            positive = parse_quantity(raw) > 0
        except (QuantityError, TypeError):
            positive = False
        if not positive:
            causes.append(("FieldValueInvalid", f"{path}.{key}",
                           f'Invalid value: "{raw}": must be positive'))
    utilization = target.get("averageUtilization")
    if utilization is not None and (not isinstance(utilization, int) or utilization < 1):
        causes.append(("FieldValueInvalid", f"{path}.averageUtilization",
                       f"Invalid value: {utilization}: must be greater than 0"))
    return causes


def _resource_metric(path: str, metric: dict[str, Any]) -> list[Cause]:
    res = metric.get("resource") or {}
    causes: list[Cause] = []
    if not res.get("name"):
        causes.append(("FieldValueRequired", f"{path}.resource.name",
                       "Required value: must specify a resource name"))
    target = res.get("target") or {}
    kind = target.get("type")
    if kind not in _TARGET_TYPES:
        causes.append(("FieldValueRequired" if not kind else "FieldValueNotSupported",
                       f"{path}.resource.target.type",
                       "Required value: must specify a metric target type" if not kind else
                       f'Unsupported value: "{kind}": supported values: "Utilization", '
                       '"Value", "AverageValue"'))
    elif kind == "Utilization":
        value = target.get("averageUtilization")
        if not isinstance(value, int) or value < 1:
            causes.append(("FieldValueInvalid", f"{path}.resource.target.averageUtilization",
                           f"Invalid value: {value}: must be greater than 0"))
    elif kind == "AverageValue" and target.get("averageValue") in (None, ""):
        causes.append(("FieldValueRequired", f"{path}.resource.target.averageValue",
                       "Required value: must set either a target raw value or a target "
                       "utilization"))
    return causes


def _behavior(path: str, rules: dict[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    window = rules.get("stabilizationWindowSeconds")
    if isinstance(window, int) and not 0 <= window <= 3600:
        causes.append(("FieldValueInvalid", f"{path}.stabilizationWindowSeconds",
                       f"Invalid value: {window}: must be less than or equal to 3600"
                       if window > 3600 else
                       f"Invalid value: {window}: must be greater than or equal to zero"))
    select = rules.get("selectPolicy")
    if select is not None and select not in _SELECT:
        causes.append(("FieldValueNotSupported", f"{path}.selectPolicy",
                       f'Unsupported value: "{select}": supported values: "Disabled", '
                       '"Max", "Min"'))
    for i, policy in enumerate(rules.get("policies") or []):
        where = f"{path}.policies[{i}]"
        if policy.get("type") not in _POLICY_TYPES:
            causes.append(("FieldValueNotSupported", f"{where}.type",
                           f'Unsupported value: "{policy.get("type")}": supported values: '
                           '"Percent", "Pods"'))
        if not isinstance(policy.get("value"), int) or policy["value"] <= 0:
            causes.append(("FieldValueInvalid", f"{where}.value",
                           f"Invalid value: {policy.get('value')}: must be greater than zero"))
        period = policy.get("periodSeconds")
        if not isinstance(period, int) or not 0 < period <= 1800:
            causes.append(("FieldValueInvalid", f"{where}.periodSeconds",
                           f"Invalid value: {period}: must be greater than zero and less than "
                           "or equal to 1800"))
    return causes


register_strategy(HPAS, HorizontalPodAutoscalerStrategy())
