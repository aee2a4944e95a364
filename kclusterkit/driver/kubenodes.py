"""Node maintenance on a real cluster: cordon, labels, taints and evictions, undone after.

Nodes are shared: a scenario that cordons, labels or taints one changes the cluster for
everybody. So each write is refused unless the environment sets ``allow_disruptive:
true`` (``Refused``), and ``NodeChanges`` remembers the value every (node, field) had before
the scenario first touched it; ``undo()`` puts those back when the scenario ends, and
the driver calls it from its SIGINT/SIGTERM handler too. Evicting a pod outside the run's
own namespaces (what a drain does) is disruptive in the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from kclusterkit.driver import nodeops
from kclusterkit.driver.errors import ApiError, ClusterError, Refused
from kclusterkit.driver.kubeapi import NO_RETRY, Rest, RetryPolicy

Obj = dict[str, Any]
ABSENT = object()


class NodeChanges:
    """The writes a run made to nodes, and how to take them back."""

    def __init__(self, rest: Rest, allow_disruptive: bool, log: Callable[[str], None]) -> None:
        self.rest = rest
        self.allow_disruptive = allow_disruptive
        self._log = log
        self._lock = threading.RLock()
        # (node, field) -> the value before the run first changed it
        self._before: dict[tuple[str, str], Any] = {}

    def refuse_unless_allowed(self, what: str) -> None:
        if not self.allow_disruptive:
            raise Refused(f"{what}: disruptive on a shared cluster (it changes a node every "
                          "workload uses), and the environment file does not set "
                          "allow_disruptive: true")

    @property
    def pending(self) -> list[tuple[str, str]]:
        with self._lock:
            return sorted(self._before)

    # -- writes ------------------------------------------------------------------------
    def _edit(self, name: str, edit: Callable[[Obj], Obj],
              policy: RetryPolicy | None = None) -> Obj:
        path = f"/api/v1/nodes/{name}"
        for _ in range(5):
            node = self.rest.call("GET", path, policy=policy)
            try:
                return self.rest.call("PUT", path, body=edit(node), policy=policy)
            except ApiError as exc:
                if exc.code != 409:
                    raise
        raise ClusterError(f"node {name} kept changing while it was being written")

    def _remember(self, name: str, field: str, value: Any) -> None:
        with self._lock:
            self._before.setdefault((name, field), value)

    def set_unschedulable(self, name: str, unschedulable: bool) -> None:
        self.refuse_unless_allowed(f"{'cordoning' if unschedulable else 'uncordoning'} "
                                   f"node {name}")

        def edit(node: Obj) -> Obj:
            self._remember(name, "unschedulable",
                           bool((node.get("spec") or {}).get("unschedulable")))
            return nodeops.with_unschedulable(node, unschedulable)
        self._edit(name, edit)

    def set_label(self, name: str, key: str, value: str | None) -> None:
        self.refuse_unless_allowed(f"labelling node {name}")

        def edit(node: Obj) -> Obj:
            self._remember(name, f"label:{key}", nodeops.label_of(node, key))
            return nodeops.with_label(node, key, value)
        self._edit(name, edit)

    def set_taint(self, name: str, taint: Obj, present: bool) -> None:
        self.refuse_unless_allowed(f"tainting node {name}")

        def edit(node: Obj) -> Obj:
            self._remember(name, f"taint:{taint.get('key')}:{taint.get('effect')}",
                           nodeops.taint_of(node, taint) or {"key": taint.get("key"),
                                                             "effect": taint.get("effect"),
                                                             "absent": True})
            return nodeops.with_taint(node, taint, present)
        self._edit(name, edit)

    # -- undo --------------------------------------------------------------------------
    def undo(self, quick: bool = False) -> list[str]:
        """Put every changed field back; returns what could not be (and logs it)."""
        with self._lock:
            before, self._before = self._before, {}
        by_node: dict[str, list[tuple[str, Any]]] = {}
        for (node, field), value in before.items():
            by_node.setdefault(node, []).append((field, value))
        failed: list[str] = []
        for node, fields in sorted(by_node.items()):
            def restore(obj: Obj, fields: list[tuple[str, Any]] = fields) -> Obj:
                for field, value in fields:
                    if field == "unschedulable":
                        obj = nodeops.with_unschedulable(obj, value)
                    elif field.startswith("label:"):
                        obj = nodeops.with_label(obj, field[len("label:"):], value)
                    else:
                        obj = nodeops.with_taint(obj, {k: v for k, v in value.items()
                                                       if k != "absent"},
                                                 not value.get("absent"))
                return obj
            try:
                self._edit(node, restore, policy=NO_RETRY if quick else None)
            except ClusterError as exc:
                what = ", ".join(f for f, _ in fields)
                failed.append(f"node {node} ({what}): {exc}")
                self._log(f"kclusterkit: could not restore node {node} ({what}) as it was "
                          f"before the run: {exc}")
        return failed
