"""kube-controller-manager: the controllers of one cluster, each a typed attribute.

Adding a controller (HPA, PV binder, StatefulSet …) is one module in this package and one
line in ``ControllerManager.__init__``. Each controller only reads the store and writes
through the API, as upstream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kclusterkit.sim.controllers.daemonset import DaemonSetController
from kclusterkit.sim.controllers.deployment import DeploymentController
from kclusterkit.sim.controllers.disruption import DisruptionController
from kclusterkit.sim.controllers.garbagecollector import GarbageCollector
from kclusterkit.sim.controllers.namespace import NamespaceController
from kclusterkit.sim.controllers.nodelifecycle import (
    NodeLifecycleController,
    TaintEvictionController,
)
from kclusterkit.sim.controllers.replicaset import ReplicaSetController

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api
    from kclusterkit.sim.clock import Clock
    from kclusterkit.sim.store import Store
    from kclusterkit.sim.timings import Timings


class ControllerHost:
    """What the controllers need of a cluster (``sim.cluster.Cluster`` has it)."""

    api: Api
    clock: Clock
    store: Store
    timings: Timings


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
        self.disruption = DisruptionController(api)
