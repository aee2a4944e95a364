"""The ReplicaSet controller, following pkg/controller/replicaset/replica_set.go.

Keeping the number of pods right is what every workload scenario rests on ("heal itself",
"scale", "roll out"), and *which* pod goes on a scale-down is visible to users, so the
victim ranking is upstream's ActivePodsWithRanks order, not an approximation.

Deliberate differences: no expectations (the store is never stale, so there is nothing to
wait for); pods are found through the owner index plus an index of orphans instead of
listing the namespace, so 30,000 pods do not make every sync linear in the namespace.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from kclusterkit.kube.meta import Obj, clone, controller_of, owner_reference, selector_matches
from kclusterkit.sim import errors
from kclusterkit.sim.api import Api
from kclusterkit.sim.controllers.util import (
    RetryingQueue,
    claim,
    controller_uid,
    create_pod,
    delete_pod,
    is_pod_active,
    is_pod_available,
    is_pod_ready,
    next_availability_check,
    ready_since,
    set_or_drop,
)
from kclusterkit.sim.resources import PODS, REPLICASETS
from kclusterkit.sim.store import DELETED

COMPONENT = "replicaset-controller"
BURST_REPLICAS = 500  # --concurrent-... burstReplicas default
SLOW_START_INITIAL_BATCH_SIZE = 1
DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"

Key = tuple[str, str]


class ReplicaSetController:
    # The ReplicationController manager is this controller over another kind, as upstream's
    # pkg/controller/replication wraps the ReplicaSet controller.
    resource = REPLICASETS
    kind = "ReplicaSet"
    component = COMPONENT

    @staticmethod
    def selector_of(obj: Obj) -> dict[str, Any] | None:
        return obj["spec"].get("selector")

    def __init__(self, api: Api, burst_replicas: int = BURST_REPLICAS) -> None:
        self.api = api
        self.store = api.store
        self.clock = api.clock
        self.burst_replicas = burst_replicas
        self.queue = RetryingQueue(self.clock, self.sync)
        # namespace -> names of pods without a controller (adoption candidates)
        self._orphans: dict[str, set[str]] = {}
        for pod in self.store.iter(PODS):
            self._index_orphan(pod, None)
        for rs in self.store.iter(self.resource):
            self.queue.add(_key(rs))
        self.store.subscribe(self.resource, self._on_rs)
        self.store.subscribe(PODS, self._on_pod)

    # -- event handlers -----------------------------------------------------------------
    def _on_rs(self, etype: str, rs: Obj, old: Obj | None) -> None:
        self.queue.add(_key(rs))

    def _index_orphan(self, pod: Obj, etype: str | None) -> None:
        meta = pod["metadata"]
        ns = meta.get("namespace", "")
        if etype != DELETED and controller_of(pod) is None:
            self._orphans.setdefault(ns, set()).add(meta["name"])
        else:
            names = self._orphans.get(ns)
            if names is not None:
                names.discard(meta["name"])

    def _on_pod(self, etype: str, pod: Obj, old: Obj | None) -> None:
        self._index_orphan(pod, etype)
        ns = pod["metadata"].get("namespace", "")
        ref = controller_of(pod)
        old_ref = controller_of(old) if old is not None else None
        if old_ref is not None and (ref is None or ref.get("uid") != old_ref.get("uid")):
            self._enqueue_ref(ns, old_ref)
        if ref is not None:
            rs = self._enqueue_ref(ns, ref)
            if rs is not None and old is not None and not is_pod_ready(old) and is_pod_ready(pod):
                min_ready = rs["spec"].get("minReadySeconds") or 0
                if min_ready > 0:
                    self.queue.add_after(_key(rs), min_ready)
            return
        if etype == DELETED:
            return
        labels = pod["metadata"].get("labels")
        labels_changed = old is None or old["metadata"].get("labels") != labels
        if labels_changed or old_ref is not None:
            for rs in self.store.iter(self.resource, ns):
                if selector_matches(self.selector_of(rs), pod["metadata"].get("labels")):
                    self.queue.add(_key(rs))

    def _enqueue_ref(self, ns: str, ref: dict[str, Any]) -> Obj | None:
        if ref.get("kind") != self.kind:
            return None
        rs = self.store.get(self.resource, ns, ref.get("name", ""))
        if rs is None or rs["metadata"]["uid"] != ref.get("uid"):
            return None
        self.queue.add(_key(rs))
        return rs

    # -- sync -----------------------------------------------------------------------------
    def sync(self, key: Key) -> None:
        ns, name = key
        rs = self.store.get(self.resource, ns, name)
        if rs is None:
            return
        pods = self._claim_pods(rs)
        manage_error: errors.StatusError | None = None
        if not rs["metadata"].get("deletionTimestamp"):
            manage_error = self._manage_replicas(rs, pods)
        current = self.store.get(self.resource, ns, name)
        if current is None:
            return
        # As upstream, the status describes the pods seen before this sync's creations and
        # deletions; their own events bring the next sync that counts them.
        status = calculate_status(self.clock, current, pods, manage_error)
        updated = self._update_status(current, status)
        min_ready = updated["spec"].get("minReadySeconds") or 0
        ustatus = updated.get("status") or {}
        if min_ready > 0 and ustatus.get("readyReplicas", 0) != ustatus.get("availableReplicas", 0):
            wait = next_availability_check(self.clock, pods, min_ready)
            self.queue.add_after(key, wait if wait is not None else float(min_ready))
        if manage_error is not None:
            raise manage_error

    def _claim_pods(self, rs: Obj) -> list[Obj]:
        """ClaimPods over the active pods: keep matching owned ones, adopt, release."""
        meta = rs["metadata"]
        ns, uid = meta.get("namespace", ""), meta["uid"]
        selector = self.selector_of(rs)
        deleting = bool(meta.get("deletionTimestamp"))
        candidates: dict[str, Obj] = {}
        for pod in self.store.owned_by(uid, PODS):
            candidates[pod["metadata"]["name"]] = pod
        for pod_name in sorted(self._orphans.get(ns, ())):
            pod = self.store.get(PODS, ns, pod_name)
            if pod is not None:
                candidates[pod_name] = pod
        # Only active pods are claimed; they carry no deletionTimestamp, so claim's
        # "not being deleted" check for orphans changes nothing here.
        active = {name: pod for name, pod in candidates.items() if is_pod_active(pod)}
        return claim(active, uid, selector, deleting,
                     adopt=lambda pod: self._adopt(rs, pod),
                     release=lambda pod: self._release(rs, pod))

    def _adopt(self, rs: Obj, pod: Obj) -> Obj | None:
        # canAdopt: re-read the owner; a ReplicaSet being deleted adopts nothing.
        fresh = self.store.get(self.resource, *_key(rs))
        if fresh is None or fresh["metadata"]["uid"] != rs["metadata"]["uid"] \
                or fresh["metadata"].get("deletionTimestamp"):
            return None
        patched = clone(pod)
        refs = patched["metadata"].setdefault("ownerReferences", [])
        refs.append(owner_reference(rs))
        try:
            return self.api.update(patched, subresource=None)
        except errors.StatusError as exc:
            if exc.code == 404:
                return None
            raise

    def _release(self, rs: Obj, pod: Obj) -> None:
        patched = clone(pod)
        set_or_drop(patched["metadata"], "ownerReferences",
                    [r for r in patched["metadata"].get("ownerReferences") or ()
                     if r.get("uid") != rs["metadata"]["uid"]])
        try:
            self.api.update(patched)
        except errors.StatusError as exc:
            if exc.code not in (404, 422):
                raise

    def _manage_replicas(self, rs: Obj, pods: list[Obj]) -> errors.StatusError | None:
        replicas = rs["spec"].get("replicas", 1)
        diff = len(pods) - replicas
        if diff < 0:
            count = min(-diff, self.burst_replicas)
            _, err = slow_start_batch(count, SLOW_START_INITIAL_BATCH_SIZE,
                                      lambda: self._create_pod(rs))
            return err
        if diff > 0:
            count = min(diff, self.burst_replicas)
            victims = pods_to_delete(self.clock, pods, self._related_pods(rs), count)
            first_error: errors.StatusError | None = None
            for pod in victims:
                err = self._delete_pod(rs, pod)
                if err is not None and first_error is None:
                    first_error = err
            return first_error
        return None

    def _create_pod(self, rs: Obj) -> None:
        meta = rs["metadata"]
        template = rs["spec"].get("template") or {}
        tmeta = template.get("metadata") or {}
        pod_meta: dict[str, Any] = {
            "generateName": f"{meta['name']}-",
            "namespace": meta.get("namespace", ""),
        }
        for field in ("labels", "annotations", "finalizers"):
            if tmeta.get(field):
                pod_meta[field] = clone(tmeta[field])
        pod_meta["ownerReferences"] = [owner_reference(rs)]
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta,
               "spec": clone(template.get("spec") or {})}
        create_pod(self.api, rs, pod, self.component)
        return None

    def _delete_pod(self, rs: Obj, pod: Obj) -> errors.StatusError | None:
        try:
            delete_pod(self.api, rs, pod, self.component)
        except errors.StatusError as exc:
            return exc
        return None

    def _related_pods(self, rs: Obj) -> list[Obj]:
        """Pods of every ReplicaSet sharing this one's controller (getIndirectlyRelatedPods).

        Upstream lists each sibling's pods by selector; the owner index gives the same pods
        for ReplicaSets that own theirs. A ReplicaSet without a controller has none.
        """
        ref = controller_of(rs)
        if ref is None:
            return []
        related: dict[str, Obj] = {}
        for sibling in self.store.owned_by(ref["uid"], self.resource):
            if controller_uid(sibling) != ref["uid"]:
                continue
            for pod in self.store.owned_by(sibling["metadata"]["uid"], PODS):
                related.setdefault(pod["metadata"]["uid"], pod)
        return list(related.values())

    def _update_status(self, rs: Obj, status: dict[str, Any]) -> Obj:
        old = rs.get("status") or {}
        generation = rs["metadata"].get("generation", 0)
        if _without(old, "observedGeneration") == _without(status, "observedGeneration") \
                and old.get("observedGeneration") == generation:
            return rs
        status["observedGeneration"] = generation
        updated = clone(rs)
        updated["status"] = _ordered_status(status)
        self.api.update(updated, subresource="status")
        return self.store.get(self.resource, rs["metadata"].get("namespace", ""),
                              rs["metadata"]["name"]) or rs


def _key(obj: Obj) -> Key:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def _without(d: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != key}


_STATUS_ORDER = ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas",
                 "observedGeneration", "conditions")


def _ordered_status(status: dict[str, Any]) -> dict[str, Any]:
    """Field order and omitempty as ReplicaSetStatus serialises (replicas is always there)."""
    out: dict[str, Any] = {"replicas": status.get("replicas", 0)}
    for field in _STATUS_ORDER[1:]:
        if status.get(field):
            out[field] = status[field]
    return out


def slow_start_batch(count: int, initial: int, fn: Any) -> tuple[int, errors.StatusError | None]:
    """Call ``fn`` ``count`` times in batches of 1, 2, 4, …; stop after a batch with an error.

    Within a batch every call is made (upstream runs them in parallel), so a quota that
    admits 3 of 10 pods sees 1 + 2 successes, then a batch of 4 failures, and no more tries.
    """
    remaining, successes = count, 0
    batch = min(remaining, initial)
    while batch > 0:
        failures: list[errors.StatusError] = []
        for _ in range(batch):
            try:
                fn()
            except errors.StatusError as exc:
                failures.append(exc)
        successes += batch - len(failures)
        if failures:
            return successes, failures[0]
        remaining -= batch
        batch = min(2 * batch, remaining)
    return successes, None


def calculate_status(clock: Any, rs: Obj, pods: list[Obj],
                     manage_error: errors.StatusError | None) -> dict[str, Any]:
    template_labels = (rs["spec"].get("template") or {}).get("metadata", {}).get("labels") or {}
    min_ready = rs["spec"].get("minReadySeconds") or 0
    fully = ready = available = 0
    for pod in pods:
        labels = pod["metadata"].get("labels") or {}
        if all(labels.get(k) == v for k, v in template_labels.items()):
            fully += 1
        if is_pod_ready(pod):
            ready += 1
            if is_pod_available(clock, pod, min_ready):
                available += 1
    old = rs.get("status") or {}
    conditions = [dict(c) for c in old.get("conditions") or ()]
    failure = next((c for c in conditions if c.get("type") == "ReplicaFailure"), None)
    if manage_error is not None and failure is None:
        diff = len(pods) - rs["spec"].get("replicas", 1)
        reason = "FailedCreate" if diff < 0 else "FailedDelete" if diff > 0 else ""
        conditions.append({"type": "ReplicaFailure", "status": "True",
                           "lastTransitionTime": clock.timestamp(), "reason": reason,
                           "message": manage_error.message})
    elif manage_error is None and failure is not None:
        conditions = [c for c in conditions if c.get("type") != "ReplicaFailure"]
    status: dict[str, Any] = {
        "replicas": len(pods),
        "fullyLabeledReplicas": fully,
        "readyReplicas": ready,
        "availableReplicas": available,
        "observedGeneration": old.get("observedGeneration", 0),
        "conditions": conditions,
    }
    return _ordered_status(status)


# -- victim ranking (controller.ActivePodsWithRanks) ---------------------------------------

_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


def pods_to_delete(clock: Any, pods: list[Obj], related: list[Obj],
                   diff: int) -> list[Obj]:
    """getPodsToDelete: rank by pods of related ReplicaSets on the same node, then sort."""
    if diff < len(pods):
        on_node: dict[str, int] = {}
        for pod in related:
            if is_pod_active(pod):
                node = pod["spec"].get("nodeName") or ""
                on_node[node] = on_node.get(node, 0) + 1
        ranks = [on_node.get(p["spec"].get("nodeName") or "", 0) for p in pods]
        pods = rank_pods(clock, pods, ranks)
    return pods[:diff]


def _deletion_cost(pod: Obj) -> int:
    value = (pod["metadata"].get("annotations") or {}).get(DELETION_COST_ANNOTATION)
    try:
        cost = int(value) if value is not None else 0
    except ValueError:
        return 0
    return cost if -(2**31) <= cost < 2**31 else 0


def _max_restarts(pod: Obj) -> tuple[int, int]:
    status = pod.get("status") or {}
    regular = max((c.get("restartCount", 0) for c in status.get("containerStatuses") or ()),
                  default=0)
    sidecar_names = {c.get("name") for c in pod["spec"].get("initContainers") or ()
                     if c.get("restartPolicy") == "Always"}
    sidecar = max((c.get("restartCount", 0) for c in status.get("initContainerStatuses") or ()
                   if c.get("name") in sidecar_names), default=0)
    return regular, sidecar


def _log_rank(now: float, t: float) -> int:
    nanos = (now - t) * 1e9
    return int(math.log2(nanos)) if nanos > 0 else -1


def rank_pods(clock: Any, pods: list[Obj], ranks: list[int]) -> list[Obj]:
    """Sort ``pods`` so the first ones are the best to delete (ActivePodsWithRanks.Less).

    Unassigned < assigned; Pending < Unknown < Running; not ready < ready; lower
    pod-deletion-cost first; more related pods on the node first; ready for a shorter time
    first; more restarts first; newer first — the last two time comparisons in upstream's
    LogarithmicScaleDown buckets (log2 of the age in ns, ties broken by UID).
    """
    now = clock.now
    facts = []
    for pod, rank in zip(pods, ranks, strict=True):
        meta = pod["metadata"]
        created = meta.get("creationTimestamp")
        facts.append({
            "pod": pod,
            "node": pod["spec"].get("nodeName") or "",
            "phase": _PHASE_ORDINAL.get((pod.get("status") or {}).get("phase", ""), 0),
            "ready": is_pod_ready(pod),
            "cost": _deletion_cost(pod),
            "rank": rank,
            "ready_at": ready_since(clock, pod),
            "restarts": _max_restarts(pod),
            "created": clock.seconds_of(created) if created else None,
            "uid": meta.get("uid", ""),
        })

    def less(a: dict[str, Any], b: dict[str, Any]) -> bool:
        if a["node"] != b["node"] and (not a["node"] or not b["node"]):
            return not a["node"]
        if a["phase"] != b["phase"]:
            return a["phase"] < b["phase"]
        if a["ready"] != b["ready"]:
            return not a["ready"]
        if a["cost"] != b["cost"]:
            return a["cost"] < b["cost"]
        if a["rank"] != b["rank"]:
            return a["rank"] > b["rank"]
        if a["ready"] and b["ready"] and a["ready_at"] != b["ready_at"]:
            result = _time_less(now, a["ready_at"], b["ready_at"], a["uid"], b["uid"])
            if result is not None:
                return result
        if a["restarts"][0] != b["restarts"][0]:
            return a["restarts"][0] > b["restarts"][0]
        if a["restarts"][1] != b["restarts"][1]:
            return a["restarts"][1] > b["restarts"][1]
        if a["created"] != b["created"]:
            result = _time_less(now, a["created"], b["created"], a["uid"], b["uid"])
            if result is not None:
                return result
        return False

    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        if less(a, b):
            return -1
        if less(b, a):
            return 1
        return 0

    return [f["pod"] for f in sorted(facts, key=functools.cmp_to_key(compare))]


def _time_less(now: float, t1: float | None, t2: float | None, uid1: str, uid2: str) -> bool | None:
    """Newer (or unknown) time first, compared in logarithmic age buckets."""
    if t1 is None or t2 is None:
        return t1 is None
    diff = _log_rank(now, t1) - _log_rank(now, t2)
    if diff == 0:
        return uid1 < uid2
    return diff < 0
