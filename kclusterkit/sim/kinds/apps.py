"""Deployments and ReplicaSets as the API server admits them (apps/v1 defaults, validation)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj, selector_matches
from kclusterkit.sim import validation as v
from kclusterkit.sim.kinds.pods import default_pod_template, validate_pod_spec
from kclusterkit.sim.resources import DEPLOYMENTS, REPLICASETS
from kclusterkit.sim.strategy import Cause, Strategy, register_strategy

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api




def _intstr_render(value: Any) -> v.GoValue:
    """An IntOrString bad value: ErrorBody uses its String() method, so no quotes."""
    return v.GoValue(str(value))


def _intstr_value(value: Any) -> int:
    """getIntOrPercentValue: the percent number, else IntValue() (Atoi of a string)."""
    if isinstance(value, str):
        if v.percent_errors(value) == []:
            return int(value[:-1])
        try:
            return int(value)
        except ValueError:
            return 0
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _positive_int_or_percent(path: str, value: Any) -> list[Cause]:
    """ValidatePositiveIntOrPercent (pkg/apis/apps/validation/validation.go)."""
    if isinstance(value, str):
        return [v.invalid(path, _intstr_render(value), e) for e in v.percent_errors(value)]
    if isinstance(value, int) and not isinstance(value, bool):
        return v.non_negative(path, value)
    return [v.invalid(path, _intstr_render(value), "must be an integer or percentage (e.g '5%')")]


def _validate_selector(spec: dict[str, Any]) -> list[Cause]:
    selector = spec.get("selector")
    if selector is None:
        return [v.required("spec.selector")]
    if not isinstance(selector, dict):
        return [v.invalid("spec.selector", v.GoValue(str(selector)), "invalid label selector")]
    out = v.labels("spec.selector.matchLabels", selector.get("matchLabels"))
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        # The message says "deployment" for ReplicaSets too, as upstream's does.
        out.append(
            v.invalid(
                "spec.selector",
                v.go_label_selector(selector),
                "empty selector is invalid for deployment",
            )
        )
    return out


def validate_selector_and_template(spec: dict[str, Any]) -> list[Cause]:
    """ValidatePodTemplateSpecForReplicaSet, preceded by the selector checks."""
    out = _validate_selector(spec)
    selector = spec.get("selector")
    template = spec.get("template")
    if not isinstance(template, dict):
        out.append(v.required("spec.template"))
        return out
    metadata = template.get("metadata") or {}
    labels = metadata.get("labels")
    # LabelSelectorAsSelector: nil selects nothing (so never matches), empty selects all.
    if selector is None or (
        isinstance(selector, dict)
        and (selector.get("matchLabels") or selector.get("matchExpressions"))
        and not selector_matches(selector, labels or {})
    ):
        out.append(
            v.invalid(
                "spec.template.metadata.labels",
                v.go_string_map(labels),
                "`selector` does not match template `labels`",
            )
        )
    out += v.labels("spec.template.metadata.labels", labels)
    out += v.annotations("spec.template.metadata.annotations", metadata.get("annotations"))
    out += validate_pod_spec("spec.template.spec", template.get("spec"))
    tspec = template.get("spec") if isinstance(template.get("spec"), dict) else {}
    policy = tspec.get("restartPolicy")
    if policy and policy != "Always":
        out.append(v.not_supported("spec.template.spec.restartPolicy", policy, ["Always"]))
    if tspec.get("activeDeadlineSeconds") is not None:
        out.append(
            v.forbidden(
                "spec.template.spec.activeDeadlineSeconds",
                "activeDeadlineSeconds in ReplicaSet is not Supported",
            )
        )
    return out


def _immutable_selector(spec: dict[str, Any], old: Obj) -> list[Cause]:
    """ValidateImmutableField on spec.selector (apps/v1 strategies' ValidateUpdate)."""
    selector = spec.get("selector")
    if selector == (old.get("spec") or {}).get("selector"):
        return []
    return [v.invalid("spec.selector", v.go_label_selector(selector), "field is immutable")]


def _go_strategy(strategy: dict[str, Any]) -> v.GoValue:
    """``%#v`` of the internal apps.DeploymentStrategy (the pointer address is made up)."""
    rolling = (
        "(*apps.RollingUpdateDeployment)(nil)"
        if strategy.get("rollingUpdate") is None
        else "(*apps.RollingUpdateDeployment)(0xc000000000)"
    )
    return v.GoValue(
        f"apps.DeploymentStrategy{{Type:{v.go_quote(str(strategy.get('type') or ''))}, "
        f"RollingUpdate:{rolling}}}"
    )


class ReplicaSetStrategy(Strategy):
    tracks_generation = True

    def prepare_create(self, api: Api, obj: Obj) -> None:
        obj["status"] = {"replicas": 0}

    def default(self, api: Api, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict):
            spec.setdefault("replicas", 1)
            default_pod_template(spec)

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [v.required("spec")]
        # ValidateReplicaSetSpec, then the strategy's immutable selector.
        out = v.non_negative("spec.replicas", spec.get("replicas"))
        out += v.non_negative("spec.minReadySeconds", spec.get("minReadySeconds"))
        out += validate_selector_and_template(spec)
        if old is not None:
            out += _immutable_selector(spec, old)
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
        # SetDefaults_Deployment (pkg/apis/apps/v1/defaults.go).
        strategy = spec.setdefault("strategy", {})
        if isinstance(strategy, dict):
            if not strategy.get("type"):
                strategy["type"] = "RollingUpdate"
            if strategy["type"] == "RollingUpdate":
                if not isinstance(strategy.get("rollingUpdate"), dict):
                    strategy["rollingUpdate"] = {}
                rolling = strategy["rollingUpdate"]
                if rolling.get("maxUnavailable") is None:
                    rolling["maxUnavailable"] = "25%"
                if rolling.get("maxSurge") is None:
                    rolling["maxSurge"] = "25%"
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        default_pod_template(spec)

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [v.required("spec")]
        # ValidateDeploymentSpec's order, then the strategy's immutable selector.
        out = v.non_negative("spec.replicas", spec.get("replicas"))
        out += validate_selector_and_template(spec)
        out += self._validate_strategy(spec.get("strategy") or {})
        out += v.non_negative("spec.minReadySeconds", spec.get("minReadySeconds"))
        out += v.non_negative("spec.revisionHistoryLimit", spec.get("revisionHistoryLimit"))
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
        if old is not None:
            out += _immutable_selector(spec, old)
        return out

    @staticmethod
    def _validate_strategy(strategy: dict[str, Any]) -> list[Cause]:
        """ValidateDeploymentStrategy / ValidateRollingUpdateDeployment."""
        stype = strategy.get("type")
        rolling = strategy.get("rollingUpdate")
        if stype == "Recreate":
            if rolling is not None:
                return [
                    v.forbidden(
                        "spec.strategy.rollingUpdate",
                        "may not be specified when strategy `type` is 'Recreate'",
                    )
                ]
            return []
        if stype != "RollingUpdate":
            return [
                v.not_supported(
                    "spec.strategy", _go_strategy(strategy), ["Recreate", "RollingUpdate"]
                )
            ]
        if not isinstance(rolling, dict):
            return [
                v.required(
                    "spec.strategy.rollingUpdate", "this should be defaulted and never be nil"
                )
            ]
        path = "spec.strategy.rollingUpdate"
        surge, unavailable = rolling.get("maxSurge"), rolling.get("maxUnavailable")
        out = _positive_int_or_percent(f"{path}.maxUnavailable", unavailable)
        out += _positive_int_or_percent(f"{path}.maxSurge", surge)
        if _intstr_value(unavailable) == 0 and _intstr_value(surge) == 0:
            out.append(
                v.invalid(
                    f"{path}.maxUnavailable",
                    _intstr_render(unavailable),
                    "may not be 0 when `maxSurge` is 0",
                )
            )
        if (
            isinstance(unavailable, str)
            and not v.percent_errors(unavailable)
            and int(unavailable[:-1]) > 100
        ):
            out.append(
                v.invalid(
                    f"{path}.maxUnavailable",
                    _intstr_render(unavailable),
                    "must not be greater than 100%",
                )
            )
        return out


register_strategy(REPLICASETS, ReplicaSetStrategy())
register_strategy(DEPLOYMENTS, DeploymentStrategy())
