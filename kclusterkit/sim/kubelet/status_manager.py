"""The kubelet's status manager (pkg/kubelet/status/status_manager.go).

Pod workers mark a pod's status dirty; the manager writes it to the API server once per
instant if it differs from what is stored, and retries a write that failed.

Someone else may change what the kubelet owns: the node lifecycle controller marks every pod
of an unreachable node not Ready (MarkPodsNotReady). Upstream's manager notices on its
periodic ``syncBatch`` (every ``syncPeriod`` = 10 s), where ``needsReconcile`` compares the
stored status with its own and writes its own back; a pod whose Ready condition was flipped
behind the kubelet's back is reconciled at the next such tick here too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kclusterkit.sim import errors
from kclusterkit.sim.resources import PODS

SYNC_PERIOD = 10.0  # status_manager.go: syncPeriod = 10 * time.Second

if TYPE_CHECKING:
    from kclusterkit.sim.kubelet.kubelet import Kubelet, PodRun


class StatusManager:
    def __init__(self, kubelet: Kubelet) -> None:
        self.kubelet = kubelet
        self.clock = kubelet.clock
        self.api = kubelet.api
        self.store = kubelet.cluster.store
        self._dirty: dict[str, PodRun] = {}
        self._flush_timer: Any = None
        self._reconcile: dict[str, PodRun] = {}
        self._reconcile_timer: Any = None

    def needs_reconcile(self, pr: PodRun) -> None:
        """The stored status may differ from the kubelet's: check it at the next syncBatch."""
        self._reconcile[pr.uid] = pr
        if self._reconcile_timer is None:
            now = self.clock.now
            tick = (int(now // SYNC_PERIOD) + 1) * SYNC_PERIOD
            self._reconcile_timer = self.clock.call_at(tick, self._sync_batch)

    def _sync_batch(self) -> None:
        self._reconcile_timer = None
        pending, self._reconcile = self._reconcile, {}
        for pr in pending.values():
            if not pr.done and self.kubelet.alive:
                self.write(pr)

    def mark_dirty(self, pr: PodRun) -> None:
        self._dirty[pr.uid] = pr
        if self._flush_timer is None:
            self._flush_timer = self.clock.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_timer = None
        dirty, self._dirty = self._dirty, {}
        for pr in dirty.values():
            if not pr.done and self.kubelet.alive:
                self.write(pr)

    def write(self, pr: PodRun) -> None:
        """Send the pod's status to the API server if it differs from what is stored."""
        pod = self.store.get(PODS, pr.namespace, pr.name)
        if pod is None or pod["metadata"]["uid"] != pr.uid:
            return
        current = pod.get("status") or {}
        status = self.kubelet.build_status(pr, current, pod["metadata"].get("generation", 0))
        if status == current:
            return
        try:
            self.api.update({**pod, "status": status}, subresource="status")
        except errors.StatusError:
            # API unavailable or a race: try again shortly, as the status manager does.
            self._dirty[pr.uid] = pr
            if self._flush_timer is None:
                self._flush_timer = self.clock.call_later(1.0, self._flush)
