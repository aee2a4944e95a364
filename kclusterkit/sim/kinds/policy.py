"""PodDisruptionBudgets as the API server admits them (policy/v1).

A budget is what lets a drain keep a service up: the eviction subresource reads its
status, and the disruption controller writes it. Admission follows upstream:
PrepareForCreate clears the status (pkg/registry/policy/poddisruptionbudget/strategy.go),
the spec is mutable and bumps the generation, and validation is
ValidatePodDisruptionBudgetSpec (pkg/apis/policy/validation/validation.go).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj
from kclusterkit.sim import validation as v
from kclusterkit.sim.resources import PDBS
from kclusterkit.sim.strategy import Cause, Strategy, register_strategy

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api

UNHEALTHY_POLICIES = ["AlwaysAllow", "IfHealthyBudget"]


def empty_status() -> dict[str, Any]:
    """policy.PodDisruptionBudgetStatus{}: its four counts are not omitempty."""
    return {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0,
            "expectedPods": 0}


def _positive_int_or_percent(path: str, value: Any) -> list[Cause]:
    """ValidatePositiveIntOrPercent and IsNotMoreThan100Percent (apps validation)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return [v.invalid(path, value, "must be an integer or percentage (e.g '5%')")]
    if isinstance(value, str):
        errs = v.percent_errors(value)
        if errs:
            return [v.invalid(path, v.GoValue(value), e) for e in errs]
        if int(value[:-1]) > 100:
            return [v.invalid(path, v.GoValue(value), "must not be greater than 100%")]
        return []
    return v.non_negative(path, value)


class PodDisruptionBudgetStrategy(Strategy):
    tracks_generation = True

    def prepare_create(self, api: Api, obj: Obj) -> None:
        obj["status"] = empty_status()

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        spec = obj.get("spec")
        if spec is None:
            spec = obj["spec"] = {}
        if not isinstance(spec, dict):
            return [v.invalid("spec", spec, "must be an object")]
        out: list[Cause] = []
        if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
            out.append(v.invalid("spec", v.GoValue(_go_spec(spec)),
                                 "minAvailable and maxUnavailable cannot be both set"))
        for name in ("minAvailable", "maxUnavailable"):
            if spec.get(name) is not None:
                out += _positive_int_or_percent(f"spec.{name}", spec[name])
        selector = spec.get("selector")
        if selector is not None and not isinstance(selector, dict):
            out.append(v.invalid("spec.selector", selector, "must be a label selector"))
        elif isinstance(selector, dict):
            out += v.labels("spec.selector.matchLabels", selector.get("matchLabels"))
        policy = spec.get("unhealthyPodEvictionPolicy")
        if policy is not None and policy not in UNHEALTHY_POLICIES:
            out.append(v.not_supported("spec.unhealthyPodEvictionPolicy", policy,
                                       UNHEALTHY_POLICIES))
        return out


def _go_spec(spec: dict[str, Any]) -> str:
    """How field.Invalid prints the spec struct (%#v), reduced to the two budgets."""
    def show(value: Any) -> str:
        if isinstance(value, str):
            return f'{{Type:1, IntVal:0, StrVal:"{value}"}}'
        return f'{{Type:0, IntVal:{value}, StrVal:""}}'
    return (f"policy.PodDisruptionBudgetSpec{{MinAvailable:{show(spec['minAvailable'])}, "
            f"MaxUnavailable:{show(spec['maxUnavailable'])}}}")


def update_disruption_allowed_condition(status: dict[str, Any], now: str) -> None:
    """pdbhelper.UpdateDisruptionAllowedCondition with meta.SetStatusCondition."""
    if status.get("disruptionsAllowed", 0) > 0:
        wanted = {"status": "True", "reason": "SufficientPods"}
    else:
        wanted = {"status": "False", "reason": "InsufficientPods"}
    conditions = status.setdefault("conditions", [])
    for cond in conditions:
        if cond.get("type") == "DisruptionAllowed":
            if cond.get("status") != wanted["status"]:
                cond["lastTransitionTime"] = now
            cond.update(wanted)
            cond["observedGeneration"] = status.get("observedGeneration", 0)
            cond.setdefault("message", "")
            return
    conditions.append({"type": "DisruptionAllowed", **wanted, "message": "",
                       "observedGeneration": status.get("observedGeneration", 0),
                       "lastTransitionTime": now})


register_strategy(PDBS, PodDisruptionBudgetStrategy())
