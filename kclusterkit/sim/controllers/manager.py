"""kube-controller-manager: the controllers of one cluster, each a typed attribute.

Adding a controller (HPA, PV binder, StatefulSet …) is one module in this package and one
line in ``ControllerManager.__init__``. Each controller only reads the store and writes
through the API, as upstream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kclusterkit.sim.controllers.attachdetach import AttachDetachController
from kclusterkit.sim.controllers.clusterroleaggregation import ClusterRoleAggregationController
from kclusterkit.sim.controllers.cronjob import CronJobController
from kclusterkit.sim.controllers.daemonset import DaemonSetController
from kclusterkit.sim.controllers.deployment import DeploymentController
from kclusterkit.sim.controllers.disruption import DisruptionController
from kclusterkit.sim.controllers.expand import ExpandController
from kclusterkit.sim.controllers.garbagecollector import GarbageCollector
from kclusterkit.sim.controllers.job import JobController
from kclusterkit.sim.controllers.namespace import NamespaceController
from kclusterkit.sim.controllers.nodelifecycle import (
    NodeLifecycleController,
    TaintEvictionController,
)
from kclusterkit.sim.controllers.persistentvolume import PersistentVolumeController
from kclusterkit.sim.controllers.podautoscaler import HorizontalController
from kclusterkit.sim.controllers.replicaset import ReplicaSetController
from kclusterkit.sim.controllers.replicationcontroller import ReplicationManager
from kclusterkit.sim.controllers.serviceaccounts import ServiceAccountsController
from kclusterkit.sim.controllers.statefulset import StatefulSetController
from kclusterkit.sim.controllers.ttlafterfinished import TTLAfterFinishedController
from kclusterkit.sim.controllers.util import RetryingQueue
from kclusterkit.sim.controllers.volumeprotection import (
    PVCProtectionController,
    PVProtectionController,
)
from kclusterkit.sim.workqueue import WorkQueue

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api
    from kclusterkit.sim.clock import Clock
    from kclusterkit.sim.metrics_server import MetricsServer
    from kclusterkit.sim.store import Store
    from kclusterkit.sim.timings import Timings


class ControllerHost:
    """What the controllers need of a cluster (``sim.cluster.Cluster`` has it)."""

    api: Api
    clock: Clock
    store: Store
    timings: Timings
    metrics_server: MetricsServer | None  # None: metrics.k8s.io is not served


class ControllerManager:
    """The controllers kube-controller-manager runs, started in upstream's order."""

    def __init__(self, cluster: ControllerHost) -> None:
        api = cluster.api
        self.node_lifecycle = NodeLifecycleController(cluster)
        self.taint_eviction = TaintEvictionController(cluster, self.node_lifecycle)
        self.replicaset = ReplicaSetController(api)
        self.deployment = DeploymentController(api)
        self.garbage_collector = GarbageCollector(api, delay=cluster.timings.gc_delay)
        self.namespace = NamespaceController(api)
        self.daemonset = DaemonSetController(api)
        self.persistent_volume = PersistentVolumeController(api)
        self.pvc_protection = PVCProtectionController(api)
        self.pv_protection = PVProtectionController(api)
        self.statefulset = StatefulSetController(api)
        self.job = JobController(api)
        self.cronjob = CronJobController(api)
        self.ttl_after_finished = TTLAfterFinishedController(api)
        self.replication = ReplicationManager(api)
        self.horizontal_pod_autoscaler = HorizontalController(
            cluster, getattr(cluster, "metrics_server", None))
        self.serviceaccounts = ServiceAccountsController(api)
        self.clusterrole_aggregation = ClusterRoleAggregationController(api)
        self.disruption = DisruptionController(api)
        self.attach_detach = AttachDetachController(api)
        self.volume_expand = ExpandController(api)

    def work_queues(self) -> list[WorkQueue]:
        """Every controller's work queue (found on the controllers' attributes), so that
        leader election can hold their work while this process does not lead."""
        found: list[WorkQueue] = []
        for controller in vars(self).values():
            found += queues_of(controller)
        return found


def queues_of(controller: object) -> list[WorkQueue]:
    """The work queues one controller object holds as attributes."""
    out: list[WorkQueue] = []
    for value in vars(controller).values():
        if isinstance(value, RetryingQueue):
            out.append(value.queue)
        elif isinstance(value, WorkQueue):
            out.append(value)
    return out
