"""The disruption controller, following pkg/controller/disruption/disruption.go.

It keeps each PodDisruptionBudget's status true — how many selected pods are healthy
(currentHealthy), how many must stay so (desiredHealthy), how many pods are expected
(expectedPods) and so how many may be disrupted now (disruptionsAllowed) — which is all
the eviction subresource reads when it answers a drain with 201 or 429.

- desiredHealthy: an integer minAvailable as is, with expectedPods the selected pods; a
  percentage minAvailable or any maxUnavailable scales against the pods' controllers'
  replicas (getExpectedScale: a Deployment through its ReplicaSet, a ReplicaSet, a
  StatefulSet), rounding up; desiredHealthy = expected - maxUnavailable, never below 0.
- currentHealthy (countHealthyPods): Ready pods not being deleted and not in
  disruptedPods (evicted within the last DeletionTimeout, 2 minutes).
- disruptionsAllowed = currentHealthy - desiredHealthy, 0 when negative or when no pod is
  expected; the DisruptionAllowed condition says SufficientPods / InsufficientPods.
- A budget that selects no pod gets the event NoPods "No matching pods found"; an
  eviction the controller never saw carried out (the pod still there 2 minutes later)
  gets NotDeleted on the pod.

Deliberate differences: pods without a controller under a percentage or maxUnavailable
budget are left out of the expected count (upstream's UnmanagedPods warning is not
emitted), and no SyncFailed condition (our lookups do not fail).
"""

from __future__ import annotations

import math
from typing import Any

from kclusterkit.kube.meta import Obj, clone, controller_of, selector_matches
from kclusterkit.sim import errors
from kclusterkit.sim.api import Api
from kclusterkit.sim.controllers.util import RetryingQueue, is_pod_ready
from kclusterkit.sim.kinds.policy import update_disruption_allowed_condition
from kclusterkit.sim.resources import DEPLOYMENTS, PDBS, PODS, REPLICASETS, for_kind

COMPONENT = "controllermanager"  # the disruption controller records as the manager does
DELETION_TIMEOUT = 120.0  # DeletionTimeout: 2 * time.Minute

Key = tuple[str, str]


def scaled_value(value: Any, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent."""
    if isinstance(value, str):
        percent = int(value.rstrip("%"))
        exact = percent * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value)


class DisruptionController:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store
        self.clock = api.clock
        self.queue = RetryingQueue(self.clock, self.sync)
        for pdb in self.store.iter(PDBS):
            self.queue.add(_key(pdb))
        self.store.subscribe(PDBS, self._on_pdb)
        self.store.subscribe(PODS, self._on_pod)

    # -- event handlers ---------------------------------------------------------------
    def _on_pdb(self, etype: str, pdb: Obj, old: Obj | None) -> None:
        self.queue.add(_key(pdb))

    def _on_pod(self, etype: str, pod: Obj, old: Obj | None) -> None:
        ns = pod["metadata"].get("namespace", "")
        labels = pod["metadata"].get("labels")
        old_labels = old["metadata"].get("labels") if old is not None else None
        for pdb in self.store.iter(PDBS, ns):
            selector = pdb["spec"].get("selector")
            if selector_matches(selector, labels) or (
                    old_labels is not None and selector_matches(selector, old_labels)):
                self.queue.add(_key(pdb))

    # -- sync -------------------------------------------------------------------------
    def sync(self, key: Key) -> None:
        ns, name = key
        pdb = self.store.get(PDBS, ns, name)
        if pdb is None or pdb["metadata"].get("deletionTimestamp"):
            return
        selector = pdb["spec"].get("selector")
        pods = [p for p in self.store.iter(PODS, ns)
                if selector_matches(selector, p["metadata"].get("labels"))]
        if not pods:
            self.api.record_event(pdb, "Normal", "NoPods", "No matching pods found", COMPONENT)
        expected, desired = self._expected(pdb, pods)
        disrupted, recheck = self._disrupted_pods(pdb, pods)
        healthy = self._count_healthy(pods, disrupted)
        self._update_status(pdb, healthy, desired, expected, disrupted)
        if recheck is not None:
            self.queue.add_after(key, recheck - self.clock.now)

    def _expected(self, pdb: Obj, pods: list[Obj]) -> tuple[int, int]:
        """getExpectedPodCount: (expectedCount, desiredHealthy)."""
        spec = pdb["spec"]
        if spec.get("maxUnavailable") is not None:
            expected = self._expected_scale(pods)
            unavailable = scaled_value(spec["maxUnavailable"], expected, True)
            return expected, max(expected - unavailable, 0)
        min_available = spec.get("minAvailable")
        if isinstance(min_available, str):
            expected = self._expected_scale(pods)
            return expected, scaled_value(min_available, expected, True)
        return len(pods), int(min_available or 0)

    def _expected_scale(self, pods: list[Obj]) -> int:
        """getExpectedScale: the replicas of every controller of the pods, each once."""
        refs: set[str] = set()
        owners: dict[str, int] = {}
        for pod in pods:
            ref = controller_of(pod)
            if ref is None or ref.get("uid") in refs:
                continue
            refs.add(ref.get("uid", ""))
            owner = self._scale_owner(pod["metadata"].get("namespace", ""), ref)
            if owner is not None:
                owners[owner["metadata"]["uid"]] = int(owner["spec"].get("replicas", 1))
        return sum(owners.values())

    def _scale_owner(self, ns: str, ref: dict[str, Any]) -> Obj | None:
        """The finders: a ReplicaSet a Deployment controls counts as the Deployment."""
        if ref.get("kind") == "ReplicaSet":
            rs = self.store.get(REPLICASETS, ns, ref.get("name", ""))
            if rs is None or rs["metadata"]["uid"] != ref.get("uid"):
                return None
            parent = controller_of(rs)
            if parent is not None and parent.get("kind") == "Deployment":
                dep = self.store.get(DEPLOYMENTS, ns, parent.get("name", ""))
                return dep if dep is not None and dep["metadata"]["uid"] == parent["uid"] \
                    else None
            return rs
        if ref.get("kind") in ("StatefulSet", "ReplicationController"):
            try:
                res = for_kind(ref.get("apiVersion", ""), ref["kind"])
            except LookupError:
                return None
            owner = self.store.get(res, ns, ref.get("name", ""))
            return owner if owner is not None and owner["metadata"]["uid"] == ref.get("uid") \
                else None
        return None

    def _disrupted_pods(self, pdb: Obj, pods: list[Obj]) -> tuple[dict[str, str], float | None]:
        """buildDisruptedPodMap: evictions not yet carried out, kept for DeletionTimeout."""
        recorded = (pdb.get("status") or {}).get("disruptedPods") or {}
        result: dict[str, str] = {}
        recheck: float | None = None
        for pod in pods:
            meta = pod["metadata"]
            if meta.get("deletionTimestamp") or meta["name"] not in recorded:
                continue
            stamp = recorded[meta["name"]]
            expected_deletion = self.clock.seconds_of(stamp) + DELETION_TIMEOUT
            if expected_deletion < self.clock.now:
                self.api.record_event(
                    pod, "Warning", "NotDeleted",
                    f"Pod was expected by PDB {pdb['metadata'].get('namespace', '')}/"
                    f"{pdb['metadata']['name']} to be deleted but it wasn't", COMPONENT)
            else:
                if recheck is None or expected_deletion < recheck:
                    recheck = expected_deletion
                result[meta["name"]] = stamp
        return result, recheck

    def _count_healthy(self, pods: list[Obj], disrupted: dict[str, str]) -> int:
        healthy = 0
        for pod in pods:
            meta = pod["metadata"]
            if meta.get("deletionTimestamp"):
                continue
            stamp = disrupted.get(meta["name"])
            if stamp and self.clock.seconds_of(stamp) + DELETION_TIMEOUT > self.clock.now:
                continue
            if is_pod_ready(pod):
                healthy += 1
        return healthy

    def _update_status(self, pdb: Obj, healthy: int, desired: int, expected: int,
                       disrupted: dict[str, str]) -> None:
        allowed = healthy - desired
        if expected <= 0 or allowed <= 0:
            allowed = 0
        status = pdb.get("status") or {}
        generation = pdb["metadata"].get("generation", 0)
        if (status.get("currentHealthy") == healthy and status.get("desiredHealthy") == desired
                and status.get("expectedPods") == expected
                and status.get("disruptionsAllowed") == allowed
                and (status.get("disruptedPods") or {}) == disrupted
                and status.get("observedGeneration") == generation):
            return
        new = {"currentHealthy": healthy, "desiredHealthy": desired, "expectedPods": expected,
               "disruptionsAllowed": allowed, "observedGeneration": generation}
        if disrupted:
            new["disruptedPods"] = disrupted
        new["conditions"] = clone(status.get("conditions") or [])
        update_disruption_allowed_condition(new, self.clock.timestamp())
        try:
            self.api.update({**pdb, "status": new}, subresource="status")
        except errors.StatusError as exc:
            if exc.code == 404:
                return
            raise


def _key(obj: Obj) -> Key:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
