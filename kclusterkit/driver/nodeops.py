"""What cordon, label and taint change on a Node object, shared by both drivers.

``kubectl cordon`` patches ``spec.unschedulable`` (true, or removed on uncordon);
``kubectl label`` and ``kubectl taint`` edit ``metadata.labels`` and ``spec.taints``, a taint
being identified by its key and effect. The drivers read the node, apply one of these,
and write it back with optimistic concurrency (a 409 means: read again and redo).
"""

from __future__ import annotations

from typing import Any

from kclusterkit.kube.meta import clone

Obj = dict[str, Any]
EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def same_taint(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.get("key") == b.get("key") and a.get("effect") == b.get("effect")


def with_unschedulable(node: Obj, unschedulable: bool) -> Obj:
    new = clone(node)
    spec = new.setdefault("spec", {})
    if unschedulable:
        spec["unschedulable"] = True
    else:
        spec.pop("unschedulable", None)
    return new


def with_label(node: Obj, key: str, value: str | None) -> Obj:
    new = clone(node)
    labels = new["metadata"].setdefault("labels", {})
    if value is None:
        labels.pop(key, None)
    else:
        labels[key] = value
    return new


def with_taint(node: Obj, taint: dict[str, Any], present: bool) -> Obj:
    new = clone(node)
    spec = new.setdefault("spec", {})
    taints = [t for t in spec.get("taints") or [] if not same_taint(t, taint)]
    if present:
        taints.append({k: v for k, v in taint.items() if v not in (None, "")})
    if taints:
        spec["taints"] = taints
    else:
        spec.pop("taints", None)
    return new


def label_of(node: Obj, key: str) -> str | None:
    return (node["metadata"].get("labels") or {}).get(key)


def taint_of(node: Obj, taint: dict[str, Any]) -> dict[str, Any] | None:
    for t in (node.get("spec") or {}).get("taints") or []:
        if same_taint(t, taint):
            return clone(t)
    return None
