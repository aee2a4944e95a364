"""The kubelet's volume manager for attachable volumes (pkg/kubelet/volumemanager).

With controller-managed attach/detach (the node's ``volumes.kubernetes.io/controller-
managed-attach-detach`` annotation) the kubelet never attaches a CSI volume itself: before
it creates a pod's sandbox it waits (WaitForAttachAndMount, polling, at most 2 min 3 s at a
time) until the attach/detach controller lists the volume in the node's
``status.volumesAttached``. A pod whose wait times out gets FailedMount (``Unable to attach
or mount volumes: unmounted volumes=[…], unattached volumes=[…], failed to process
volumes=[]: context deadline exceeded``) and waits again; it shows ContainerCreating all the
while.

A persistent volume whose node affinity excludes the node (a local volume of another node,
reached by a pod given its ``nodeName`` directly) never mounts: FailedMount
``MountVolume.NodeAffinity check failed for volume "…" : no matching NodeSelectorTerms``,
so a local volume's files are reachable only from its own node.

It also finishes an online expansion: a mounted volume whose claim waits with
``FileSystemResizePending`` is grown on the node (NodeExpandVolume), the claim's
``status.capacity`` becomes the volume's, and the pod and claim get
FileSystemResizeSuccessful.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj, clone
from kclusterkit.sim import errors
from kclusterkit.sim.controllers.persistentvolume import node_allows
from kclusterkit.sim.csi import set_claim_condition
from kclusterkit.sim.resources import NODES, PODS, PVCS, PVS

if TYPE_CHECKING:
    from kclusterkit.sim.kubelet.kubelet import Kubelet, PodRun

RETRY_SECONDS = 1.0  # podAttachAndMountRetryInterval is 300 ms; a second is plenty here
TIMEOUT_SECONDS = 123.0  # podAttachAndMountTimeout: 2 min 3 s
NODE_EXPAND_SECONDS = 1.0


def _volume_of(kubelet: Kubelet, namespace: str, volume: dict[str, Any]) -> Obj | None:
    """The PersistentVolume behind a pod volume (None for other volumes)."""
    name = (volume.get("persistentVolumeClaim") or {}).get("claimName")
    if not name:
        return None
    claim = kubelet.cluster.store.get(PVCS, namespace, name)
    pv_name = ((claim or {}).get("spec") or {}).get("volumeName")
    return kubelet.cluster.store.get(PVS, "", pv_name) if pv_name else None


def _attachable(kubelet: Kubelet, namespace: str, volume: dict[str, Any]) -> Obj | None:
    """The CSI PersistentVolume behind a pod volume, when it must be attached."""
    pv = _volume_of(kubelet, namespace, volume)
    return pv if pv is not None and (pv.get("spec") or {}).get("csi") else None


def foreign(kubelet: Kubelet, pr: PodRun) -> list[str]:
    """The pod's persistent volumes whose node affinity excludes this node (a local volume
    of another node): the mount's node-affinity check fails for them."""
    node = kubelet.cluster.store.get(NODES, "", kubelet.node_name)
    out = []
    for volume in pr.spec.get("volumes") or ():
        pv = _volume_of(kubelet, pr.namespace, volume)
        if pv is not None and not node_allows(pv, node):
            out.append(pv["metadata"]["name"])
    return out


def unattached(kubelet: Kubelet, pr: PodRun) -> list[str]:
    """The pod's volumes (by their name in the pod) not yet attached to this node."""
    node = kubelet.cluster.store.get(NODES, "", kubelet.node_name) or {}
    attached = {v.get("name") for v in (node.get("status") or {}).get("volumesAttached") or ()}
    out = []
    for volume in pr.spec.get("volumes") or ():
        pv = _attachable(kubelet, pr.namespace, volume)
        if pv is None:
            continue
        csi = pv["spec"]["csi"]
        if f"kubernetes.io/csi/{csi.get('driver')}^{csi.get('volumeHandle')}" not in attached:
            out.append(volume.get("name", ""))
    return out


def wait_for_attach(kubelet: Kubelet, pr: PodRun) -> bool:
    """True when the pod's volumes are attached; otherwise keep the pod waiting and look
    again in a moment (and say FailedMount each time the wait times out)."""
    missing = unattached(kubelet, pr)
    elsewhere = foreign(kubelet, pr)
    if not missing and not elsewhere:
        pr.attach_wait = None
        return True
    now = kubelet.clock.now
    if pr.attach_wait is None:
        pr.attach_wait = now
        pod = kubelet.cluster.store.get(PODS, pr.namespace, pr.name)
        for pv_name in elsewhere if pod is not None else ():
            # operation_generator.go checkNodeAffinity, as GenerateError words it.
            kubelet.api.record_event(
                pod, "Warning", "FailedMount",
                f'MountVolume.NodeAffinity check failed for volume "{pv_name}" : '
                "no matching NodeSelectorTerms", "kubelet", host=kubelet.node_name)
    elif now - pr.attach_wait >= TIMEOUT_SECONDS:
        pr.attach_wait = now
        names = " ".join(missing) or " ".join(
            v.get("name", "") for v in pr.spec.get("volumes") or ()
            if (_volume_of(kubelet, pr.namespace, v) or {}).get("metadata", {}).get("name")
            in elsewhere)
        pod = kubelet.cluster.store.get(PODS, pr.namespace, pr.name)
        if pod is not None:
            kubelet.api.record_event(
                pod, "Warning", "FailedMount",
                f"Unable to attach or mount volumes: unmounted volumes=[{names}], "
                f"unattached volumes=[{' '.join(missing)}], failed to process volumes=[]: "
                "context deadline exceeded", "kubelet", host=kubelet.node_name)
    if pr.sandbox_timer is None:  # one poll at a time, however often the pod syncs
        pr.sandbox_timer = kubelet.clock.call_later(RETRY_SECONDS, _poll, kubelet, pr)
    return False


def _poll(kubelet: Kubelet, pr: PodRun) -> None:
    pr.sandbox_timer = None
    kubelet.sync(pr)


def on_claim(kubelet: Kubelet, etype: str, claim: Obj, old: Obj | None) -> None:
    """A claim waiting for its filesystem to grow: grow it if a pod here mounts it."""
    if etype == "DELETED" or not kubelet.alive:
        return
    if not any(c.get("type") == "FileSystemResizePending"
               for c in (claim.get("status") or {}).get("conditions") or ()):
        return
    ns, name = claim["metadata"].get("namespace", ""), claim["metadata"]["name"]
    for pr in kubelet.pods.values():
        if pr.namespace != ns or pr.sandbox != "ready" or pr.done or pr.terminating:
            continue
        if any((v.get("persistentVolumeClaim") or {}).get("claimName") == name
               for v in pr.spec.get("volumes") or ()):
            kubelet.clock.call_later(NODE_EXPAND_SECONDS, _node_expand, kubelet, pr, ns, name)
            return


def _node_expand(kubelet: Kubelet, pr: PodRun, ns: str, name: str) -> None:
    """NodeExpandVolume succeeded: capacity recorded, condition and status cleared."""
    store = kubelet.cluster.store
    claim = store.get(PVCS, ns, name)
    pv = store.get(PVS, "", ((claim or {}).get("spec") or {}).get("volumeName") or "")
    if claim is None or pv is None or not any(
            c.get("type") == "FileSystemResizePending"
            for c in (claim.get("status") or {}).get("conditions") or ()):
        return
    updated = clone(claim)
    status = updated.setdefault("status", {})
    status["capacity"] = {**(status.get("capacity") or {}),
                          "storage": pv["spec"]["capacity"]["storage"]}
    set_claim_condition(status, None, kubelet.clock.timestamp(),
                        drop=("FileSystemResizePending", "Resizing"))
    statuses = dict(status.get("allocatedResourceStatuses") or {})
    statuses.pop("storage", None)
    if statuses:
        status["allocatedResourceStatuses"] = statuses
    else:
        status.pop("allocatedResourceStatuses", None)
    try:
        kubelet.api.update(updated, subresource="status")
    except errors.StatusError:
        return
    message = (f'MountVolume.NodeExpandVolume succeeded for volume "{pv["metadata"]["name"]}" '
               f"{kubelet.node_name}")
    pod = store.get(PODS, pr.namespace, pr.name)
    if pod is not None:
        kubelet.api.record_event(pod, "Normal", "FileSystemResizeSuccessful", message,
                                 "kubelet", host=kubelet.node_name)
    kubelet.api.record_event(claim, "Normal", "FileSystemResizeSuccessful", message,
                             "kubelet", host=kubelet.node_name)
