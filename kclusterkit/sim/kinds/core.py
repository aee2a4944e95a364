"""Namespaces, Nodes and Events as the API server admits them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kclusterkit.kube.meta import Obj
from kclusterkit.sim import validation as v
from kclusterkit.sim.resources import EVENTS, NAMESPACES, NODES
from kclusterkit.sim.strategy import Cause, Strategy, register_strategy

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api




class NamespaceStrategy(Strategy):
    def prepare_create(self, api: Api, obj: Obj) -> None:
        # namespaceStrategy.PrepareForCreate: status reset to Active (SetDefaults_NamespaceStatus)
        # and the "kubernetes" finalizer the namespace controller removes after emptying it.
        obj["status"] = {"phase": "Active"}
        obj.setdefault("spec", {})["finalizers"] = ["kubernetes"]

    def default(self, api: Api, obj: Obj) -> None:
        # SetDefaults_Namespace: only named namespaces get the label (not generateName ones).
        name = obj["metadata"].get("name")
        if name:
            labels = obj["metadata"].get("labels") or {}
            labels["kubernetes.io/metadata.name"] = name
            obj["metadata"]["labels"] = labels

    def after_delete_request(self, api: Api, obj: Obj, grace: float | None) -> Obj | None:
        # The namespace controller empties it, then removes the spec finalizer.
        obj.setdefault("status", {})["phase"] = "Terminating"
        return obj


class NodeStrategy(Strategy):
    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        out: list[Cause] = []
        # validateNodeTaints (pkg/apis/core/validation/validation.go), in part.
        for i, taint in enumerate((obj.get("spec") or {}).get("taints") or []):
            effect = taint.get("effect")
            key = taint.get("key")
            if not key:
                out.append(v.required(f"spec.taints[{i}].key"))
            else:
                out += [
                    v.invalid(f"spec.taints[{i}].key", key, e)
                    for e in v.qualified_name_errors(str(key))
                ]
            out += v.required_one_of(f"spec.taints[{i}].effect", effect,
                                     ["NoSchedule", "PreferNoSchedule", "NoExecute"])
        return out


class EventStrategy(Strategy):
    has_status = False


register_strategy(NAMESPACES, NamespaceStrategy())
register_strategy(NODES, NodeStrategy())
register_strategy(EVENTS, EventStrategy())
