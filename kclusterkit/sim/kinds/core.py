"""Namespaces, Nodes and Events as the API server admits them."""

from __future__ import annotations

from kclusterkit.sim import validation as v
from kclusterkit.sim.api import Api, Strategy, register_strategy
from kclusterkit.sim.meta import Obj
from kclusterkit.sim.resources import EVENTS, NAMESPACES, NODES

Cause = tuple[str, str, str]


class NamespaceStrategy(Strategy):
    def prepare_create(self, api: Api, obj: Obj) -> None:
        obj["status"] = {"phase": "Active"}
        obj.setdefault("spec", {})["finalizers"] = ["kubernetes"]

    def default(self, api: Api, obj: Obj) -> None:
        labels = obj["metadata"].setdefault("labels", {})
        labels["kubernetes.io/metadata.name"] = obj["metadata"].get("name", "")

    def after_delete_request(self, api: Api, obj: Obj, grace: float | None) -> Obj | None:
        # The namespace controller empties it, then removes the spec finalizer.
        obj.setdefault("status", {})["phase"] = "Terminating"
        return obj


class NodeStrategy(Strategy):
    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        out: list[Cause] = []
        for i, taint in enumerate((obj.get("spec") or {}).get("taints") or []):
            effect = taint.get("effect")
            if effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
                out.append(
                    v.not_supported(
                        f"spec.taints[{i}].effect",
                        effect,
                        ["NoSchedule", "PreferNoSchedule", "NoExecute"],
                    )
                )
        return out


class EventStrategy(Strategy):
    has_status = False


register_strategy(NAMESPACES, NamespaceStrategy())
register_strategy(NODES, NodeStrategy())
register_strategy(EVENTS, EventStrategy())
