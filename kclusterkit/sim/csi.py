"""The controller side of the network-attached storage's CSI driver (Longhorn's
``driver.longhorn.io``): its external-attacher and external-resizer sidecars.

- external-attacher (kubernetes-csi/external-attacher): a VolumeAttachment for this driver
  gets the ``external-attacher/driver-longhorn-io`` finalizer, then ControllerPublishVolume
  takes ``ATTACH_SECONDS`` and the attachment is marked ``status.attached``; a deleted
  attachment is unpublished (``DETACH_SECONDS``) and its finalizer removed.
- external-resizer (kubernetes-csi/external-resizer): a bound claim the expand controller
  handed to this driver (``volume.kubernetes.io/storage-resizer``) whose request exceeds its
  capacity gets condition ``Resizing`` and event Resizing; ControllerExpandVolume grows the
  PersistentVolume, then, as Longhorn needs the filesystem grown on the node, the claim
  waits with ``FileSystemResizePending`` (event FileSystemResizeRequired) until the kubelet
  of a node running a pod that mounts it finishes (``sim.kubelet.volumes``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj, clone
from kclusterkit.kube.quantity import parse_quantity
from kclusterkit.sim.controllers.util import drop_finalizer
from kclusterkit.sim.resources import PVCS, PVS, VOLUMEATTACHMENTS

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api

ATTACH_SECONDS = 2.0
DETACH_SECONDS = 1.0
EXPAND_SECONDS = 1.0
ANN_RESIZER = "volume.kubernetes.io/storage-resizer"
MSG_FS_RESIZE_PENDING = ("Waiting for user to (re-)start a pod to finish file system resize "
                         "of volume on node.")


def attacher_finalizer(driver: str) -> str:
    """external-attacher's finalizer: external-attacher/<driver, dots as dashes>."""
    return "external-attacher/" + driver.replace(".", "-").replace("/", "-")


def claim_request(claim: Obj) -> Any:
    try:
        return parse_quantity(claim["spec"]["resources"]["requests"]["storage"])
    except (KeyError, TypeError, ValueError):
        return None


def claim_capacity(claim: Obj) -> Any:
    try:
        return parse_quantity(((claim.get("status") or {}).get("capacity") or {})["storage"])
    except (KeyError, TypeError, ValueError):
        return None


def set_claim_condition(status: dict[str, Any], ctype: str | None, now: str,
                        message: str = "", drop: tuple[str, ...] = ()) -> None:
    """Replace the resize conditions in ``drop`` by ``ctype`` (None: only drop them)."""
    kept = [c for c in status.get("conditions") or () if c.get("type") not in drop
            and c.get("type") != ctype]
    if ctype is not None:
        cond: dict[str, Any] = {"type": ctype, "status": "True", "lastProbeTime": None,
                                "lastTransitionTime": now}
        if message:
            cond["message"] = message
        kept.append(cond)
    if kept:
        status["conditions"] = kept
    else:
        status.pop("conditions", None)


class CsiControllerPlugin:
    """One CSI driver's controller sidecars (attacher and resizer)."""

    def __init__(self, api: Api, driver: str) -> None:
        self.api = api
        self.store = api.store
        self.clock = api.clock
        self.driver = driver
        self.component = f"external-resizer {driver}"
        self._busy: set[str] = set()
        self.store.subscribe(VOLUMEATTACHMENTS, self._on_attachment)
        self.store.subscribe(PVCS, self._on_claim)

    # -- external-attacher -------------------------------------------------------------
    def _on_attachment(self, etype: str, va: Obj, old: Obj | None) -> None:
        if etype == "DELETED" or (va.get("spec") or {}).get("attacher") != self.driver:
            return
        name = va["metadata"]["name"]
        key = "va/" + name
        if key in self._busy:
            return
        if va["metadata"].get("deletionTimestamp"):
            self._busy.add(key)
            self.clock.call_later(DETACH_SECONDS, self._detached, name, key)
        elif not (va.get("status") or {}).get("attached"):
            self._busy.add(key)
            self.clock.call_later(ATTACH_SECONDS, self._attached, name, key)

    def _attached(self, name: str, key: str) -> None:
        self._busy.discard(key)
        va = self.store.get(VOLUMEATTACHMENTS, "", name)
        if va is None or va["metadata"].get("deletionTimestamp"):
            if va is not None:
                self._on_attachment("MODIFIED", va, None)
            return
        updated = clone(va)
        finalizers = updated["metadata"].setdefault("finalizers", [])
        if attacher_finalizer(self.driver) not in finalizers:
            finalizers.append(attacher_finalizer(self.driver))
            updated = self.api.update(updated)
        updated = clone(updated)
        updated["status"] = {"attached": True}
        self.api.update(updated, subresource="status")

    def _detached(self, name: str, key: str) -> None:
        self._busy.discard(key)
        va = self.store.get(VOLUMEATTACHMENTS, "", name)
        if va is None:
            return
        drop_finalizer(self.api, va, attacher_finalizer(self.driver))

    # -- external-resizer --------------------------------------------------------------
    def _on_claim(self, etype: str, claim: Obj, old: Obj | None) -> None:
        if etype == "DELETED":
            return
        meta = claim["metadata"]
        if (meta.get("annotations") or {}).get(ANN_RESIZER) != self.driver:
            return
        want, have = claim_request(claim), claim_capacity(claim)
        if want is None or have is None or want <= have:
            return
        pv_name = (claim.get("spec") or {}).get("volumeName")
        pv = self.store.get(PVS, "", pv_name) if pv_name else None
        if pv is None:
            return
        try:
            pv_size = parse_quantity(pv["spec"]["capacity"]["storage"])
        except (KeyError, TypeError, ValueError):
            return
        key = f"pvc/{meta.get('namespace', '')}/{meta['name']}"
        if pv_size >= want or key in self._busy:
            return  # the controller part is done; the node part is the kubelet's
        self._busy.add(key)
        now = self.clock.timestamp()
        updated = clone(claim)
        status = updated.setdefault("status", {})
        size = claim["spec"]["resources"]["requests"]["storage"]
        set_claim_condition(status, "Resizing", now)
        status["allocatedResources"] = {"storage": size}
        status["allocatedResourceStatuses"] = {"storage": "ControllerResizeInProgress"}
        self.api.update(updated, subresource="status")
        self.api.record_event(claim, "Normal", "Resizing",
                              f"External resizer is resizing volume {pv_name}", self.component)
        self.clock.call_later(EXPAND_SECONDS, self._expanded, meta.get("namespace", ""),
                              meta["name"], pv_name, size, key)

    def _expanded(self, ns: str, name: str, pv_name: str, size: str, key: str) -> None:
        """ControllerExpandVolume returned: the volume is bigger; the filesystem on it
        is the node's to grow (NodeExpansionRequired)."""
        self._busy.discard(key)
        pv = self.store.get(PVS, "", pv_name)
        claim = self.store.get(PVCS, ns, name)
        if pv is None or claim is None:
            return
        updated_pv = clone(pv)
        updated_pv["spec"]["capacity"]["storage"] = size
        self.api.update(updated_pv)
        updated = clone(claim)
        status = updated.setdefault("status", {})
        set_claim_condition(status, "FileSystemResizePending", self.clock.timestamp(),
                            MSG_FS_RESIZE_PENDING, drop=("Resizing",))
        status["allocatedResourceStatuses"] = {"storage": "NodeResizePending"}
        self.api.update(updated, subresource="status")
        self.api.record_event(claim, "Normal", "FileSystemResizeRequired",
                              "Require file system resize of volume on node", self.component)
