"""The scheduler's VolumeBinding plugin (pkg/scheduler/framework/plugins/volumebinding).

PreFilter refuses a pod whose claim is missing, being deleted, or unbound under an
``Immediate`` class (UnschedulableAndUnresolvable, with the plugin's messages); Filter
keeps the pod off nodes its bound volumes' node affinity excludes; for unbound
``WaitForFirstConsumer`` claims the scheduler picks a node, writes it on the claim
(``volume.kubernetes.io/selected-node``) and holds the pod until the claim is bound, as
upstream's PreBind waits for the provisioner.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kclusterkit.kube.meta import Obj
from kclusterkit.sim.controllers.persistentvolume import (
    ANN_SELECTED_NODE,
    claim_class,
    node_allows,
)
from kclusterkit.sim.controllers.volumeprotection import pod_claims
from kclusterkit.sim.resources import PVCS, PVS, STORAGECLASSES
from kclusterkit.sim.store import Store

# binder.go / volume_binding.go reasons and messages.
ERR_UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"
REASON_NODE_CONFLICT = "node(s) had volume node affinity conflict"
REASON_NO_PV = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"


@dataclass
class VolumeCheck:
    error: str | None = None  # PreFilter's UnschedulableAndUnresolvable message
    volumes: list[Obj] = field(default_factory=list)  # bound volumes (node affinity)
    missing_volume: bool = False  # a claim names a volume that does not exist
    delayed: list[Obj] = field(default_factory=list)  # unbound WaitForFirstConsumer claims
    waiting: bool = False  # a node was chosen; the claim is being provisioned

    @property
    def relevant(self) -> bool:
        return bool(self.volumes or self.missing_volume or self.delayed)


def pre_filter(store: Store, pod: Obj) -> VolumeCheck:
    check = VolumeCheck()
    ns = pod["metadata"].get("namespace", "")
    for name in pod_claims(pod):
        claim = store.get(PVCS, ns, name)
        if claim is None:
            check.error = f'persistentvolumeclaim "{name}" not found'
            return check
        if claim["metadata"].get("deletionTimestamp"):
            check.error = f'persistentvolumeclaim "{name}" is being deleted'
            return check
        volume_name = (claim.get("spec") or {}).get("volumeName")
        if volume_name:
            pv = store.get(PVS, "", volume_name)
            if pv is None:
                check.missing_volume = True
            else:
                check.volumes.append(pv)
            continue
        cls = store.get(STORAGECLASSES, "", claim_class(claim)) if claim_class(claim) else None
        if cls is None or cls.get("volumeBindingMode") != "WaitForFirstConsumer":
            check.error = ERR_UNBOUND_IMMEDIATE
            return check
        if (claim["metadata"].get("annotations") or {}).get(ANN_SELECTED_NODE):
            check.waiting = True
        check.delayed.append(claim)
    return check


def node_reason(check: VolumeCheck, node: Obj | None) -> str | None:
    """Filter: why this node cannot take the pod's volumes (None when it can)."""
    if check.missing_volume:
        return REASON_NO_PV
    for pv in check.volumes:
        if not node_allows(pv, node):
            return REASON_NODE_CONFLICT
    return None
