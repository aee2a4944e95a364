"""The ReplicationController manager (pkg/controller/replication).

Upstream runs the ReplicaSet controller over ReplicationControllers converted to
ReplicaSets; here the same controller class runs over the other kind, whose selector is a
plain label map instead of a LabelSelector.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.kube.meta import Obj
from kclusterkit.sim.controllers.replicaset import ReplicaSetController
from kclusterkit.sim.resources import REPLICATIONCONTROLLERS


class ReplicationManager(ReplicaSetController):
    resource = REPLICATIONCONTROLLERS
    kind = "ReplicationController"
    component = "replication-controller"

    @staticmethod
    def selector_of(obj: Obj) -> dict[str, Any] | None:
        selector = obj["spec"].get("selector")
        return {"matchLabels": dict(selector)} if selector else None
