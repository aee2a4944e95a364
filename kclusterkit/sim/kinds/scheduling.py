"""PriorityClasses (scheduling.k8s.io/v1) and the Priority admission plugin.

A pod's ``priorityClassName`` becomes its ``spec.priority`` (and ``preemptionPolicy``) at
admission (plugin/pkg/admission/priority/admission.go); the scheduler orders its queue by
it. Validation follows pkg/apis/scheduling/validation: user classes may not exceed
1,000,000,000 nor take the reserved ``system-`` prefix, and the value never changes. The
two system classes always exist (the API server creates them at start); here they are
known to admission even before anyone lists them.

Knowingly left out: preemption itself (the scheduler still reports that no victims were
found), and the PodPriority checks on pod updates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj
from kclusterkit.sim import errors
from kclusterkit.sim import validation as v
from kclusterkit.sim.resources import PRIORITYCLASSES
from kclusterkit.sim.strategy import Cause, Strategy, register_strategy

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api

HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000
SYSTEM_PREFIX = "system-"
SYSTEM_CLASSES = {"system-node-critical": 2_000_001_000,
                  "system-cluster-critical": 2_000_000_000}


class PriorityClassStrategy(Strategy):
    has_status = False

    def default(self, api: Api, obj: Obj) -> None:
        obj.setdefault("preemptionPolicy", "PreemptLowerPriority")

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        name = obj["metadata"].get("name", "")
        value = obj.get("value")
        out: list[Cause] = []
        if not isinstance(value, int) or isinstance(value, bool):
            return [v.required("value")]
        if name.startswith(SYSTEM_PREFIX):
            if SYSTEM_CLASSES.get(name) != value:
                out.append(v.forbidden("metadata.name", "priority class names with "
                                       f"'{SYSTEM_PREFIX}' prefix are reserved for system "
                                       "use only"))
        elif value > HIGHEST_USER_DEFINABLE_PRIORITY:
            out.append(v.forbidden("value", "maximum allowed value of a user defined priority "
                                   f"is {HIGHEST_USER_DEFINABLE_PRIORITY}"))
        if obj.get("preemptionPolicy") not in ("PreemptLowerPriority", "Never"):
            out.append(v.not_supported("preemptionPolicy", obj.get("preemptionPolicy"),
                                       ["Never", "PreemptLowerPriority"]))
        if old is not None and old.get("value") != value:
            out.append(v.forbidden("Value", "may not be changed in an update."))
        if old is None and obj.get("globalDefault"):
            for other in api.store.iter(PRIORITYCLASSES):
                if other.get("globalDefault") and other["metadata"]["name"] != name:
                    raise errors.forbidden(
                        f'priorityclasses.scheduling.k8s.io "{name}" is forbidden: '
                        f"PriorityClass {other['metadata']['name']} is marked as default. "
                        "Only one default can exist")
        return out


register_strategy(PRIORITYCLASSES, PriorityClassStrategy())


def _class(api: Api, name: str) -> dict[str, Any] | None:
    found = api.store.get(PRIORITYCLASSES, "", name)
    if found is not None:
        return found
    if name in SYSTEM_CLASSES:
        return {"value": SYSTEM_CLASSES[name], "preemptionPolicy": "PreemptLowerPriority"}
    return None


def admit_priority(api: Api, pod: Obj) -> None:
    """The Priority admission plugin on pod create: resolve the class (or the global
    default), set priority and preemptionPolicy, refuse an unknown class or a mismatch."""
    spec = pod["spec"]
    name = spec.get("priorityClassName") or ""
    pod_name = pod["metadata"].get("name", "")
    if name:
        cls = _class(api, name)
        if cls is None:
            raise errors.forbidden(f'pods "{pod_name}" is forbidden: no PriorityClass with '
                                   f"name {name} was found")
    else:
        defaults = [c for c in api.store.iter(PRIORITYCLASSES) if c.get("globalDefault")]
        cls = max(defaults, key=lambda c: c.get("value", 0)) if defaults else None
        if cls is not None:
            spec["priorityClassName"] = cls["metadata"]["name"]
    value = int(cls.get("value", 0)) if cls is not None else 0
    given = spec.get("priority")
    if given is not None and given != value:
        raise errors.forbidden(
            f'pods "{pod_name}" is forbidden: the integer value of priority ({given}) must '
            "not be provided in pod spec; priority admission controller computed "
            f"{value} from the given PriorityClass name")
    spec["priority"] = value
    policy = (cls or {}).get("preemptionPolicy") or "PreemptLowerPriority"
    spec.setdefault("preemptionPolicy", policy)
