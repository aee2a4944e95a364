"""kube-controller-manager for the simulator: the controllers that turn intent into pods.

``start_controllers`` wires them to a cluster's API the way the controller manager starts
its loops; each one only reads the store and writes through the API, as upstream.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.sim.controllers.deployment import DeploymentController
from kclusterkit.sim.controllers.garbagecollector import GarbageCollector
from kclusterkit.sim.controllers.namespace import NamespaceController
from kclusterkit.sim.controllers.replicaset import ReplicaSetController

__all__ = [
    "DeploymentController",
    "GarbageCollector",
    "NamespaceController",
    "ReplicaSetController",
    "start_controllers",
]


def start_controllers(cluster: Any) -> dict[str, object]:
    """Start the workload controllers on ``cluster`` (anything with ``.api`` and ``.timings``)."""
    api = cluster.api
    timings = getattr(cluster, "timings", None)
    gc_delay = getattr(timings, "gc_delay", 0.0) if timings is not None else 0.0
    return {
        "replicaset-controller": ReplicaSetController(api),
        "deployment-controller": DeploymentController(api),
        "garbage-collector": GarbageCollector(api, delay=gc_delay),
        "namespace-controller": NamespaceController(api),
    }
