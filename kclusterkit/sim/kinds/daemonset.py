"""DaemonSets as the API server admits them: apps/v1 defaults and validation.

Defaults follow SetDefaults_DaemonSet (pkg/apis/apps/v1/defaults.go): updateStrategy
RollingUpdate with maxUnavailable 1 and maxSurge 0, revisionHistoryLimit 10. Validation
follows ValidateDaemonSetSpec / ValidateDaemonSetUpdateStrategy
(pkg/apis/apps/validation/validation.go), with the selector and template checks the
ReplicaSet shares.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj
from kclusterkit.sim import validation as v
from kclusterkit.sim.kinds.apps import validate_selector_and_template
from kclusterkit.sim.kinds.pods import default_pod_template
from kclusterkit.sim.resources import DAEMONSETS
from kclusterkit.sim.strategy import Cause, Strategy, register_strategy

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api


def _int_or_percent(path: str, value: Any) -> list[Cause]:
    if isinstance(value, str):
        return [v.invalid(path, v.GoValue(value), e) for e in v.percent_errors(value)]
    if isinstance(value, int) and not isinstance(value, bool):
        return v.non_negative(path, value)
    return [v.invalid(path, v.GoValue(str(value)), "must be an integer or percentage (e.g '5%')")]


def _is_zero(value: Any) -> bool:
    if isinstance(value, str) and value.endswith("%"):
        return value[:-1] == "0"
    return value in (0, "0", None)


class DaemonSetStrategy(Strategy):
    tracks_generation = True

    def prepare_create(self, api: Api, obj: Obj) -> None:
        obj["status"] = {"currentNumberScheduled": 0, "numberMisscheduled": 0,
                         "desiredNumberScheduled": 0, "numberReady": 0}

    def default(self, api: Api, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            return
        strategy = spec.setdefault("updateStrategy", {})
        if isinstance(strategy, dict):
            if not strategy.get("type"):
                strategy["type"] = "RollingUpdate"
            if strategy["type"] == "RollingUpdate":
                if not isinstance(strategy.get("rollingUpdate"), dict):
                    strategy["rollingUpdate"] = {}
                strategy["rollingUpdate"].setdefault("maxUnavailable", 1)
                strategy["rollingUpdate"].setdefault("maxSurge", 0)
        spec.setdefault("revisionHistoryLimit", 10)
        default_pod_template(spec)

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [v.required("spec")]
        out = validate_selector_and_template(spec)
        out += v.non_negative("spec.minReadySeconds", spec.get("minReadySeconds"))
        out += v.non_negative("spec.revisionHistoryLimit", spec.get("revisionHistoryLimit"))
        strategy = spec.get("updateStrategy") or {}
        stype = strategy.get("type")
        if stype not in ("RollingUpdate", "OnDelete"):
            out.append(v.not_supported("spec.updateStrategy.type", stype,
                                       ["OnDelete", "RollingUpdate"]))
        elif stype == "RollingUpdate":
            rolling = strategy.get("rollingUpdate") or {}
            path = "spec.updateStrategy.rollingUpdate"
            unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
            out += _int_or_percent(f"{path}.maxUnavailable", unavailable)
            out += _int_or_percent(f"{path}.maxSurge", surge)
            if _is_zero(unavailable) and _is_zero(surge):
                out.append(v.invalid(f"{path}.maxUnavailable", v.GoValue(str(unavailable)),
                                     "may not be 0 when `maxSurge` is 0"))
        if old is not None and spec.get("selector") != (old.get("spec") or {}).get("selector"):
            out.append(v.invalid("spec.selector", v.go_label_selector(spec.get("selector")),
                                 "field is immutable"))
        return out


register_strategy(DAEMONSETS, DaemonSetStrategy())
