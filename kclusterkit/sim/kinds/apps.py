"""Deployments and ReplicaSets as the API server admits them (apps/v1 defaults, validation)."""

from __future__ import annotations

from typing import Any

from kclusterkit.sim import validation as v
from kclusterkit.sim.api import Api, Strategy, register_strategy
from kclusterkit.sim.kinds.pods import default_pod_spec, validate_pod_spec
from kclusterkit.sim.meta import Obj, selector_matches
from kclusterkit.sim.resources import DEPLOYMENTS, REPLICASETS

Cause = tuple[str, str, str]


def _int_or_percent(path: str, value: Any) -> list[Cause]:
    if isinstance(value, bool):
        return [v.invalid(path, value, "must be an integer or percentage (e.g '5%')")]
    if isinstance(value, int):
        return v.non_negative(path, value)
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        if int(value[:-1]) > 100 and path.endswith("maxUnavailable"):
            return [v.invalid(path, value, "must not be greater than 100%")]
        return []
    return [v.invalid(path, value, "must be an integer or percentage (e.g '5%')")]


def validate_selector_and_template(spec: dict[str, Any]) -> list[Cause]:
    out: list[Cause] = []
    selector = spec.get("selector")
    template = spec.get("template")
    if not isinstance(selector, dict):
        out.append(v.required("spec.selector"))
    elif not selector.get("matchLabels") and not selector.get("matchExpressions"):
        out.append(v.invalid("spec.selector", "", "empty selector is invalid for deployment"))
    else:
        out += v.labels("spec.selector.matchLabels", selector.get("matchLabels"))
    if not isinstance(template, dict):
        out.append(v.required("spec.template"))
        return out
    labels = (template.get("metadata") or {}).get("labels") or {}
    out += v.labels("spec.template.metadata.labels", labels)
    if isinstance(selector, dict) and (
        selector.get("matchLabels") or selector.get("matchExpressions")
    ):
        if not selector_matches(selector, labels):
            out.append(
                v.invalid(
                    "spec.template.metadata.labels",
                    labels,
                    "`selector` does not match template `labels`",
                )
            )
    out += validate_pod_spec("spec.template.spec", template.get("spec"))
    policy = (template.get("spec") or {}).get("restartPolicy")
    if policy not in (None, "Always"):
        out.append(v.not_supported("spec.template.spec.restartPolicy", policy, ["Always"]))
    return out


def _default_template(spec: dict[str, Any]) -> None:
    template = spec.get("template")
    if isinstance(template, dict):
        template.setdefault("metadata", {})
        template["metadata"].setdefault("creationTimestamp", None)
        if isinstance(template.get("spec"), dict):
            default_pod_spec(template["spec"])


class ReplicaSetStrategy(Strategy):
    tracks_generation = True

    def prepare_create(self, api: Api, obj: Obj) -> None:
        obj["status"] = {"replicas": 0}

    def default(self, api: Api, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict):
            spec.setdefault("replicas", 1)
            _default_template(spec)

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [v.required("spec")]
        out = v.non_negative("spec.replicas", spec.get("replicas"))
        out += v.non_negative("spec.minReadySeconds", spec.get("minReadySeconds"))
        out += validate_selector_and_template(spec)
        if old is not None and spec.get("selector") != (old.get("spec") or {}).get("selector"):
            out.append(v.invalid("spec.selector", spec.get("selector"), "field is immutable"))
        return out


class DeploymentStrategy(Strategy):
    tracks_generation = True

    def prepare_create(self, api: Api, obj: Obj) -> None:
        obj.pop("status", None)

    def default(self, api: Api, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            return
        spec.setdefault("replicas", 1)
        strategy = spec.setdefault("strategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxUnavailable", "25%")
            rolling.setdefault("maxSurge", "25%")
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        _default_template(spec)

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [v.required("spec")]
        out = v.non_negative("spec.replicas", spec.get("replicas"))
        out += v.non_negative("spec.minReadySeconds", spec.get("minReadySeconds"))
        out += v.non_negative("spec.revisionHistoryLimit", spec.get("revisionHistoryLimit"))
        out += validate_selector_and_template(spec)
        strategy = spec.get("strategy") or {}
        stype = strategy.get("type")
        if stype not in ("RollingUpdate", "Recreate"):
            out.append(v.not_supported("spec.strategy.type", stype, ["Recreate", "RollingUpdate"]))
        rolling = strategy.get("rollingUpdate")
        if stype == "Recreate" and rolling:
            out.append(
                v.forbidden(
                    "spec.strategy.rollingUpdate",
                    "may not be specified when strategy `type` is 'Recreate'",
                )
            )
        if stype == "RollingUpdate" and isinstance(rolling, dict):
            surge, unavailable = rolling.get("maxSurge"), rolling.get("maxUnavailable")
            out += _int_or_percent("spec.strategy.rollingUpdate.maxSurge", surge)
            out += _int_or_percent("spec.strategy.rollingUpdate.maxUnavailable", unavailable)
            if surge in (0, "0%") and unavailable in (0, "0%"):
                out.append(
                    v.invalid(
                        "spec.strategy.rollingUpdate.maxUnavailable",
                        unavailable,
                        "may not be 0 when `maxSurge` is 0",
                    )
                )
        deadline = spec.get("progressDeadlineSeconds")
        if deadline is not None:
            out += v.non_negative("spec.progressDeadlineSeconds", deadline)
            if isinstance(deadline, int) and deadline <= (spec.get("minReadySeconds") or 0):
                out.append(
                    v.invalid(
                        "spec.progressDeadlineSeconds",
                        deadline,
                        "must be greater than minReadySeconds",
                    )
                )
        if old is not None and spec.get("selector") != (old.get("spec") or {}).get("selector"):
            out.append(v.invalid("spec.selector", spec.get("selector"), "field is immutable"))
        return out


register_strategy(REPLICASETS, ReplicaSetStrategy())
register_strategy(DEPLOYMENTS, DeploymentStrategy())
