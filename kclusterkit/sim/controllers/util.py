"""What every simulated controller shares with upstream's pkg/controller/controller_utils.go.

Pod predicates (active, ready, available), the rate-limited work queue controllers retry
failed syncs through, and the small owner-reference helpers; kept in one place so the
ReplicaSet, Deployment and garbage-collector controllers agree on them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from kclusterkit.kube.meta import Obj, clone, controller_of, dig, selector_matches
from kclusterkit.sim import errors
from kclusterkit.sim.clock import Clock
from kclusterkit.sim.resources import PODS
from kclusterkit.sim.workqueue import WorkQueue

# Upstream DefaultControllerRateLimiter: per-item exponential backoff from 5 ms to 1000 s.
BASE_RETRY_DELAY = 0.005
MAX_RETRY_DELAY = 1000.0


class RetryingQueue:
    """A ``WorkQueue`` whose failed syncs are retried with upstream's per-key backoff."""

    def __init__(self, clock: Clock, sync: Callable[[Any], None], delay: float = 0.0) -> None:
        self.clock = clock
        self._sync = sync
        self.delay = delay
        self.queue = WorkQueue(clock, self._process, delay)
        self._failures: dict[Hashable, int] = {}
        self.syncs = 0

    def add(self, key: Hashable) -> None:
        # Not WorkQueue.add: that keeps a later pending re-check (e.g. minReadySeconds) and
        # would delay this event's reconcile until then; upstream processes it now.
        self.queue.add_after(key, self.delay)

    def add_after(self, key: Hashable, seconds: float) -> None:
        self.queue.add_after(key, seconds)

    def add_rate_limited(self, key: Hashable) -> None:
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        self.queue.add_after(key, min(BASE_RETRY_DELAY * 2**failures, MAX_RETRY_DELAY))

    def forget(self, key: Hashable) -> None:
        self._failures.pop(key, None)

    def _process(self, key: Hashable) -> None:
        self.syncs += 1
        try:
            self._sync(key)
        except errors.StatusError:
            self.add_rate_limited(key)
        else:
            self.forget(key)

    def __len__(self) -> int:
        return len(self.queue)


# -- pods -----------------------------------------------------------------------------


def is_pod_active(pod: Obj) -> bool:
    """Not terminal and not being deleted (controller.IsPodActive)."""
    phase = dig(pod, "status", "phase")
    return phase not in ("Succeeded", "Failed") and not pod["metadata"].get("deletionTimestamp")


def ready_condition(pod: Obj) -> dict[str, Any] | None:
    for cond in dig(pod, "status", "conditions") or ():
        if cond.get("type") == "Ready":
            return cond
    return None


def is_pod_ready(pod: Obj) -> bool:
    cond = ready_condition(pod)
    return cond is not None and cond.get("status") == "True"


def ready_since(clock: Clock, pod: Obj) -> float | None:
    """Cluster seconds at which a ready pod became ready (its Ready condition's transition)."""
    cond = ready_condition(pod)
    if cond is None or cond.get("status") != "True" or not cond.get("lastTransitionTime"):
        return None
    return clock.seconds_of(cond["lastTransitionTime"])


def is_pod_available(clock: Clock, pod: Obj, min_ready_seconds: int) -> bool:
    """Ready for at least ``minReadySeconds`` (podutil.IsPodAvailable).

    Upstream requires the deadline to lie strictly before now; on a discrete clock that
    would leave a re-check scheduled at the deadline finding nothing to do, so the deadline
    instant itself counts as available here.
    """
    if not is_pod_ready(pod):
        return False
    if not min_ready_seconds:
        return True
    since = ready_since(clock, pod)
    return since is not None and since + min_ready_seconds <= clock.now


def next_availability_check(clock: Clock, pods: list[Obj], min_ready_seconds: int) -> float | None:
    """Seconds until the next ready pod becomes available (FindMinNextPodAvailabilityCheck)."""
    if min_ready_seconds <= 0:
        return None
    best: float | None = None
    for pod in pods:
        since = ready_since(clock, pod)
        if since is None:
            continue
        wait = since + min_ready_seconds - clock.now
        if wait > 0 and (best is None or wait < best):
            best = wait
    return best


# -- owners ---------------------------------------------------------------------------


def controller_uid(obj: Obj) -> str | None:
    for ref in obj["metadata"].get("ownerReferences") or ():
        if ref.get("controller"):
            return ref.get("uid")
    return None


def namespace_terminating(exc: errors.StatusError) -> bool:
    """The create was refused because the namespace is terminating (NamespaceTerminatingCause)."""
    return exc.code == 403 and "because it is being terminated" in exc.message


def claim(candidates: dict[str, Obj], uid: str, selector: dict[str, Any] | None,
          deleting: bool, adopt: Callable[[Obj], Obj | None],
          release: Callable[[Obj], Any]) -> list[Obj]:
    """ControllerRefManager.ClaimObject over ``candidates`` in name order: keep the owned
    ones that match, release the owned ones that no longer do (unless the owner is being
    deleted), adopt matching orphans that are not being deleted themselves."""
    claimed: list[Obj] = []
    for name in sorted(candidates):
        obj = candidates[name]
        ref = controller_of(obj)
        matches = selector_matches(selector, obj["metadata"].get("labels"))
        if ref is not None:
            if ref.get("uid") != uid:
                continue
            if matches:
                claimed.append(obj)
            elif not deleting:
                release(obj)
            continue
        if deleting or not matches or obj["metadata"].get("deletionTimestamp"):
            continue
        adopted = adopt(obj)
        if adopted is not None:
            claimed.append(adopted)
    return claimed


def create_pod(api: Any, owner: Obj, pod: Obj, component: str) -> Obj | None:
    """RealPodControl.CreatePods (pkg/controller/controller_utils.go): create the owner's pod
    and record SuccessfulCreate, or FailedCreate and raise; None when the namespace is
    terminating (the create is refused and nothing is recorded, as upstream skips it)."""
    try:
        created = api.create(pod)
    except errors.StatusError as exc:
        if namespace_terminating(exc):
            return None
        api.record_event(owner, "Warning", "FailedCreate", f"Error creating: {exc.message}",
                         component)
        raise
    api.record_event(owner, "Normal", "SuccessfulCreate",
                     f"Created pod: {created['metadata']['name']}", component)
    return created


def delete_pod(api: Any, owner: Obj, pod: Obj, component: str) -> bool:
    """RealPodControl.DeletePod (pkg/controller/controller_utils.go): delete the owner's pod
    and record SuccessfulDelete, or FailedDelete and raise. False when it was already gone."""
    name = pod["metadata"]["name"]
    try:
        api.delete(PODS, pod["metadata"].get("namespace", ""), name)
    except errors.StatusError as exc:
        if exc.code == 404:
            return False
        api.record_event(owner, "Warning", "FailedDelete", f"Error deleting: {exc.message}",
                         component)
        raise
    api.record_event(owner, "Normal", "SuccessfulDelete", f"Deleted pod: {name}", component)
    return True


def set_or_drop(meta: dict[str, Any], field: str, items: list[Any]) -> None:
    """Set a metadata list (ownerReferences, finalizers), or drop it when empty: the API
    serves those fields omitempty."""
    if items:
        meta[field] = items
    else:
        meta.pop(field, None)


def drop_finalizer(api: Any, obj: Obj, finalizer: str) -> None:
    """Write ``obj`` back without ``finalizer``; an object already gone is no error."""
    updated = clone(obj)
    set_or_drop(updated["metadata"], "finalizers",
                [f for f in updated["metadata"].get("finalizers") or () if f != finalizer])
    try:
        api.update(updated)
    except errors.StatusError as exc:
        if exc.code != 404:
            raise


def creation_key(obj: Obj) -> tuple[str, str]:
    """ByCreationTimestamp order: oldest first, ties by name (RFC 3339 sorts as time)."""
    return obj["metadata"].get("creationTimestamp") or "", obj["metadata"]["name"]
