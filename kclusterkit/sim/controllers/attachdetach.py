"""The attach/detach controller, following pkg/controller/volume/attachdetach.

Its desired state is every scheduled pod that has not finished, with the CSI persistent
volumes its claims are bound to; its actual state is the VolumeAttachment objects
(storage.k8s.io/v1, named ``csi-<sha256(volume handle, driver, node)>`` as csi_attacher.go
names them) that the CSI driver's external-attacher marks ``attached``. The reconciler
(reconciler/reconciler.go) detaches what no pod on a node needs any more (deleting the
VolumeAttachment, after taking the volume out of the node's ``status.volumesAttached``)
and attaches what a pod needs. A volume whose access modes allow one node only
(ReadWriteOnce, ReadWriteOncePod) is never attached to a second node while it is attached
to the first: the waiting pods get upstream's FailedAttachVolume event, once
(``Multi-Attach error for volume "pvc-…" Volume is already used by pod(s) web-0``).
Once attached, the volume goes into the node's ``status.volumesAttached``, which is what
the kubelet waits for before it starts the pod (``sim.kubelet.volumes``).

Local and hostPath volumes are not attachable and are never seen here.
"""

from __future__ import annotations

import hashlib
from typing import Any

from kclusterkit.kube.meta import Obj, clone
from kclusterkit.sim import errors
from kclusterkit.sim.api import Api
from kclusterkit.sim.controllers.util import RetryingQueue
from kclusterkit.sim.controllers.volumeprotection import pod_claims
from kclusterkit.sim.resources import NODES, PODS, PVCS, PVS, VOLUMEATTACHMENTS

COMPONENT = "attachdetach-controller"
MULTI_NODE_MODES = ("ReadWriteMany", "ReadOnlyMany")


def attachment_name(handle: str, driver: str, node: str) -> str:
    """csi_attacher.go getAttachmentName."""
    return "csi-" + hashlib.sha256(f"{handle}{driver}{node}".encode()).hexdigest()


def unique_volume_name(pv: Obj) -> str:
    """The attached volume's name in node status: kubernetes.io/csi/<driver>^<handle>."""
    csi = (pv.get("spec") or {}).get("csi") or {}
    return f"kubernetes.io/csi/{csi.get('driver', '')}^{csi.get('volumeHandle', '')}"


def volume_message(prefix: str, pv_name: str, suffix: str) -> str:
    """operationexecutor's GenerateMsg: ``<prefix> for volume "<name>" <suffix>``."""
    return f"{prefix} for volume \"{pv_name}\" {suffix}"


class AttachDetachController:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store
        self.queue = RetryingQueue(api.clock, self.sync)
        # (pod uid, volume) pairs already told about a Multi-Attach error (upstream marks
        # MultiAttachErrorReported on the volume to attach, so it says it once).
        self._reported: set[tuple[str, str]] = set()
        for pv in self.store.iter(PVS):
            self.queue.add(pv["metadata"]["name"])
        self.store.subscribe(PODS, self._on_pod)
        self.store.subscribe(PVS, lambda e, pv, old: self.queue.add(pv["metadata"]["name"]))
        self.store.subscribe(PVCS, self._on_claim)
        self.store.subscribe(VOLUMEATTACHMENTS, self._on_attachment)

    def _on_pod(self, etype: str, pod: Obj, old: Obj | None) -> None:
        ns = pod["metadata"].get("namespace", "")
        for name in pod_claims(pod):
            claim = self.store.get(PVCS, ns, name)
            volume = ((claim or {}).get("spec") or {}).get("volumeName")
            if volume:
                self.queue.add(volume)

    def _on_claim(self, etype: str, claim: Obj, old: Obj | None) -> None:
        volume = (claim.get("spec") or {}).get("volumeName")
        if volume:
            self.queue.add(volume)

    def _on_attachment(self, etype: str, va: Obj, old: Obj | None) -> None:
        pv = ((va.get("spec") or {}).get("source") or {}).get("persistentVolumeName")
        if pv:
            self.queue.add(pv)

    # -- desired and actual state ------------------------------------------------------
    def _pods_by_node(self, pv: Obj) -> dict[str, list[Obj]]:
        ref = (pv.get("spec") or {}).get("claimRef") or {}
        ns, claim = ref.get("namespace", ""), ref.get("name", "")
        out: dict[str, list[Obj]] = {}
        if not claim:
            return out
        bound = self.store.get(PVCS, ns, claim)
        if bound is None or (bound.get("spec") or {}).get("volumeName") != pv["metadata"]["name"]:
            return out
        for pod in self.store.iter(PODS, ns):
            node = (pod.get("spec") or {}).get("nodeName")
            if not node or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            if claim in pod_claims(pod):
                out.setdefault(node, []).append(pod)
        return out

    def _attachments(self, pv_name: str) -> dict[str, Obj]:
        return {va["spec"]["nodeName"]: va for va in self.store.iter(VOLUMEATTACHMENTS)
                if ((va.get("spec") or {}).get("source") or {}).get(
                    "persistentVolumeName") == pv_name}

    # -- the reconciler ----------------------------------------------------------------
    def sync(self, pv_name: str) -> None:
        pv = self.store.get(PVS, "", pv_name)
        attachments = self._attachments(pv_name)
        csi = ((pv or {}).get("spec") or {}).get("csi")
        if pv is None or not csi:
            for node, va in attachments.items():
                self._detach(va, node, None)
            return
        wanted = self._pods_by_node(pv)
        for node, va in attachments.items():
            if node not in wanted:
                self._detach(va, node, pv)
        modes = set((pv.get("spec") or {}).get("accessModes") or ())
        multi = bool(modes & set(MULTI_NODE_MODES))
        for node, pods in sorted(wanted.items()):
            va = attachments.get(node)
            if va is None:
                others = [n for n in attachments if n != node]
                if others and not multi:
                    self._multi_attach_error(pv, pods, wanted, node)
                    continue
                self._attach(pv, csi, node)
                attachments = self._attachments(pv_name)
            elif (va.get("status") or {}).get("attached") and \
                    not va["metadata"].get("deletionTimestamp"):
                self._mark_attached(pv, node, pods)

    def _attach(self, pv: Obj, csi: dict[str, Any], node: str) -> None:
        name = attachment_name(csi.get("volumeHandle", ""), csi.get("driver", ""), node)
        va = {"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment",
              "metadata": {"name": name},
              "spec": {"attacher": csi.get("driver", ""), "nodeName": node,
                       "source": {"persistentVolumeName": pv["metadata"]["name"]}}}
        try:
            self.api.create(va)
        except errors.StatusError as exc:
            if exc.code != 409:
                raise

    def _mark_attached(self, pv: Obj, node_name: str, pods: list[Obj]) -> None:
        """MarkVolumeAsAttached + the node status updater: the volume in
        ``status.volumesAttached``, and SuccessfulAttachVolume for the pods."""
        node = self.store.get(NODES, "", node_name)
        if node is None:
            return
        unique = unique_volume_name(pv)
        attached = list((node.get("status") or {}).get("volumesAttached") or [])
        if any(v.get("name") == unique for v in attached):
            return
        updated = clone(node)
        updated["status"]["volumesAttached"] = [*attached, {"name": unique, "devicePath": ""}]
        self.api.update(updated, subresource="status")
        message = volume_message("AttachVolume.Attach succeeded", pv["metadata"]["name"], "")
        for pod in pods:
            self.api.record_event(pod, "Normal", "SuccessfulAttachVolume", message, COMPONENT)

    def _detach(self, va: Obj, node_name: str, pv: Obj | None) -> None:
        """RemoveVolumeFromReportAsAttached, then the detach: delete the VolumeAttachment
        (the external-attacher detaches and lets it go)."""
        node = self.store.get(NODES, "", node_name)
        if node is not None and pv is not None:
            unique = unique_volume_name(pv)
            attached = (node.get("status") or {}).get("volumesAttached") or []
            if any(v.get("name") == unique for v in attached):
                updated = clone(node)
                rest = [v for v in attached if v.get("name") != unique]
                if rest:
                    updated["status"]["volumesAttached"] = rest
                else:
                    updated["status"].pop("volumesAttached", None)
                self.api.update(updated, subresource="status")
        if va["metadata"].get("deletionTimestamp"):
            return
        try:
            self.api.delete(VOLUMEATTACHMENTS, "", va["metadata"]["name"])
        except errors.StatusError as exc:
            if exc.code != 404:
                raise

    def _multi_attach_error(self, pv: Obj, pods: list[Obj], wanted: dict[str, list[Obj]],
                            node: str) -> None:
        """reconciler.go reportMultiAttachError."""
        pv_name = pv["metadata"]["name"]
        users = [p for n, ps in wanted.items() if n != node for p in ps]
        for pod in pods:
            key = (pod["metadata"]["uid"], pv_name)
            if key in self._reported:
                continue
            self._reported.add(key)
            ns = pod["metadata"].get("namespace", "")
            local = [p["metadata"]["name"] for p in users
                     if p["metadata"].get("namespace", "") == ns]
            others = len(users) - len(local)
            if not users:
                suffix = ("Volume is already exclusively attached to one node and can't be "
                          "attached to another")
            elif local:
                suffix = f"Volume is already used by pod(s) {', '.join(local)}"
                if others:
                    suffix += f" and {others} pod(s) in different namespaces"
            else:
                suffix = f"Volume is already used by {others} pod(s) in different namespaces"
            self.api.record_event(pod, "Warning", "FailedAttachVolume",
                                  volume_message("Multi-Attach error", pv_name, suffix),
                                  COMPONENT)
