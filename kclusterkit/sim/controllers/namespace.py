"""The namespace controller, after pkg/controller/namespace/deletion.

Scenarios isolate themselves in namespaces and clean up by deleting them, so a namespace
must stay Terminating while its pods shut down gracefully and then disappear — with the
status conditions and re-check pacing upstream reports, because "kubectl delete ns" waits
on exactly that.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.kube.meta import Obj, clone
from kclusterkit.sim import errors
from kclusterkit.sim.api import Api
from kclusterkit.sim.controllers.util import RetryingQueue
from kclusterkit.sim.resources import NAMESPACES, PODS, RESOURCES, Resource, storage_of
from kclusterkit.sim.store import DELETED

FINALIZER = "kubernetes"
# Upstream waits this long for content that only finalizers keep (finalizerEstimateSeconds).
FINALIZER_ESTIMATE_SECONDS = 15

CONDITION_TYPES = (
    "NamespaceDeletionDiscoveryFailure",
    "NamespaceDeletionGroupVersionParsingFailure",
    "NamespaceDeletionContentFailure",
    "NamespaceContentRemaining",
    "NamespaceFinalizersRemaining",
)
OK_REASONS = {
    "NamespaceDeletionDiscoveryFailure": "ResourcesDiscovered",
    "NamespaceDeletionGroupVersionParsingFailure": "ParsedGroupVersions",
    "NamespaceDeletionContentFailure": "ContentDeleted",
    "NamespaceContentRemaining": "ContentRemoved",
    "NamespaceFinalizersRemaining": "ContentHasNoFinalizers",
}
OK_MESSAGES = {
    "NamespaceDeletionDiscoveryFailure": "All resources successfully discovered",
    "NamespaceDeletionGroupVersionParsingFailure": "All legacy kube types successfully parsed",
    "NamespaceDeletionContentFailure":
        "All content successfully deleted, may be waiting on finalization",
    "NamespaceContentRemaining": "All content successfully removed",
    "NamespaceFinalizersRemaining": "All content-preserving finalizers finished",
}


def _deletable(res: Resource) -> bool:
    return res.namespaced and "deletecollection" in res.verbs and "list" in res.verbs


class NamespaceController:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store
        self.clock = api.clock
        self.queue = RetryingQueue(self.clock, self.sync)
        for ns in self.store.iter(NAMESPACES):
            self.queue.add(ns["metadata"]["name"])
        self.store.subscribe(NAMESPACES, self._on_namespace)

    def _on_namespace(self, etype: str, ns: Obj, old: Obj | None) -> None:
        if etype != DELETED:
            self.queue.add(ns["metadata"]["name"])

    def sync(self, name: str) -> None:
        ns = self.store.get(NAMESPACES, "", name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        finalizers = list((ns.get("spec") or {}).get("finalizers") or [])
        if FINALIZER not in finalizers:
            return
        estimate, remaining, by_finalizer, failures = self._delete_all_content(name)
        self._update_conditions(name, remaining, by_finalizer, failures)
        if failures:
            self.queue.add_rate_limited(name)
            return
        if estimate > 0 or remaining:
            # namespace_controller.go: requeue after estimate/2 + 1 seconds.
            self.queue.add_after(name, estimate // 2 + 1)
            return
        self.api.finalize_namespace(name, [f for f in finalizers if f != FINALIZER])

    def _delete_all_content(self, name: str) -> tuple[int, dict[str, int], dict[str, int],
                                                       list[str]]:
        estimate = 0
        remaining: dict[str, int] = {}
        by_finalizer: dict[str, int] = {}
        failures: list[str] = []
        # Upstream's deleter walks discovery, so custom resources' objects go too.
        for res in (*RESOURCES, *self.api.custom.one_per_definition()):
            if not _deletable(res) or storage_of(res) is not res:
                continue
            items = list(self.store.iter(res, name))
            if not items:
                continue
            grace = _pod_grace_estimate(items) if res is PODS else 0
            for obj in sorted(items, key=lambda o: o["metadata"]["name"]):
                if obj["metadata"].get("deletionTimestamp"):
                    continue  # already going; deleting again changes nothing
                try:
                    self.api.delete(res, name, obj["metadata"]["name"], propagation="Background")
                except errors.StatusError as exc:
                    if exc.code != 404:
                        failures.append(exc.message)
            left = list(self.store.iter(res, name))
            if not left:
                continue
            counts: dict[str, int] = {}
            for obj in left:
                for finalizer in obj["metadata"].get("finalizers") or ():
                    counts[finalizer] = counts.get(finalizer, 0) + 1
            remaining[f"{res.plural}.{res.group}"] = len(left)
            for finalizer, count in counts.items():
                by_finalizer[finalizer] = by_finalizer.get(finalizer, 0) + count
            if grace:
                estimate = max(estimate, grace)
            elif counts:
                estimate = max(estimate, FINALIZER_ESTIMATE_SECONDS)
            else:
                failures.append(f"unexpected items still remain in namespace: {name} for gvr: "
                                f"{res.api_version}, Resource={res.plural}")
        return estimate, remaining, by_finalizer, failures

    def _update_conditions(self, name: str, remaining: dict[str, int],
                           by_finalizer: dict[str, int], failures: list[str]) -> None:
        now = self.clock.timestamp()
        failing: dict[str, tuple[str, str]] = {}
        if failures:
            failing["NamespaceDeletionContentFailure"] = (
                "ContentDeletionFailed",
                f"Failed to delete all resource types, {len(failures)} remaining: "
                + ", ".join(sorted(failures)))
        if remaining:
            parts = sorted(f"{k} has {n} resource instances" for k, n in remaining.items())
            failing["NamespaceContentRemaining"] = (
                "SomeResourcesRemain", "Some resources are remaining: " + ", ".join(parts))
        if by_finalizer:
            parts = sorted(f"{k} in {n} resource instances" for k, n in by_finalizer.items())
            failing["NamespaceFinalizersRemaining"] = (
                "SomeFinalizersRemain",
                "Some content in the namespace has finalizers remaining: " + ", ".join(parts))
        ns = self.store.get(NAMESPACES, "", name)
        if ns is None:
            return
        status = clone(ns.get("status") or {})
        conditions: list[dict[str, Any]] = status.setdefault("conditions", [])
        changed = False
        for ctype in CONDITION_TYPES:
            if ctype in failing:
                wanted_status, (reason, message) = "True", failing[ctype]
            else:
                wanted_status, reason, message = "False", OK_REASONS[ctype], OK_MESSAGES[ctype]
            old = next((c for c in conditions if c.get("type") == ctype), None)
            if old is None:
                conditions.append({"type": ctype, "status": wanted_status,
                                   "lastTransitionTime": now, "reason": reason,
                                   "message": message})
                changed = True
            elif (old["status"], old.get("reason"), old.get("message")) != \
                    (wanted_status, reason, message):
                if old["status"] != wanted_status:
                    old["lastTransitionTime"] = now
                old.update(status=wanted_status, reason=reason, message=message)
                changed = True
        if changed:
            updated = clone(ns)
            updated["status"] = status
            self.api.update(updated, subresource="status")


def _pod_grace_estimate(pods: list[Obj]) -> int:
    """estimateGracefulTerminationForPods: the longest grace period of non-terminal pods."""
    estimate = 0
    for pod in pods:
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
        if grace is not None and grace > estimate:
            estimate = int(grace)
    return estimate
