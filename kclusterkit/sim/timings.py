"""Upstream's default timings, in cluster seconds, each overridable per environment.

Sources are listed in ../shared/UPSTREAM.md; a value here that differs from upstream is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass
class Timings:
    node_status_update_frequency: float = 10.0  # kubelet: Ready condition heartbeat
    node_lease_duration: float = 40.0  # kubelet lease; renewed every quarter of it
    node_monitor_period: float = 5.0  # node lifecycle controller
    node_monitor_grace_period: float = 50.0  # NotReady/Unknown after this without heartbeat
    node_startup_grace_period: float = 60.0
    default_toleration_seconds: float = 300.0  # not-ready / unreachable NoExecute
    termination_grace_period: float = 30.0
    crashloop_initial_backoff: float = 10.0
    crashloop_max_backoff: float = 300.0
    crashloop_reset_after: float = 600.0  # backoff forgotten after 10 min running
    pod_worker_backoff: float = 10.0  # kubelet backOffPeriod: failed syncs retried in [10, 15) s
    image_pull_initial_backoff: float = 10.0
    image_pull_max_backoff: float = 300.0
    image_pull_seconds: float = 2.0  # time to pull an image not yet on the node
    container_start_seconds: float = 0.5
    sandbox_start_seconds: float = 0.5
    deployment_progress_deadline: float = 600.0
    hpa_sync_period: float = 15.0
    hpa_tolerance: float = 0.1
    hpa_downscale_stabilization: float = 300.0
    scheduler_backoff_initial: float = 1.0
    scheduler_backoff_max: float = 10.0
    scheduler_unschedulable_flush: float = 300.0  # podMaxInUnschedulablePodsDuration
    gc_delay: float = 0.0
    # Leader election of kube-scheduler and kube-controller-manager
    # (k8s.io/component-base/config/v1alpha1/defaults.go
    # RecommendedDefaultLeaderElectionConfiguration).
    leader_elect_lease_duration: float = 15.0
    leader_elect_renew_deadline: float = 10.0
    leader_elect_retry_period: float = 2.0

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def updated(self, overrides: dict[str, Any]) -> Timings:
        unknown = sorted(set(overrides) - set(self.names()))
        if unknown:
            raise KeyError(", ".join(unknown))
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update({k: float(v) for k, v in overrides.items()})
        return Timings(**values)
