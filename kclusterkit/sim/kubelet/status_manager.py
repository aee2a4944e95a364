"""The kubelet's status manager (pkg/kubelet/status/status_manager.go).

Pod workers mark a pod's status dirty; the manager writes it to the API server once per
instant if it differs from what is stored, and retries a write that failed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kclusterkit.sim import errors
from kclusterkit.sim.resources import PODS

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
