"""The PersistentVolume binder, following pkg/controller/volume/persistentvolume/pv_controller.go.

It matches claims to volumes (class, access modes, capacity, selector, volume mode, a
``volumeName`` or ``claimRef`` chosen in advance), asks the class's external provisioner
for a volume when none fits (by annotating the claim, as upstream does for CSI and other
out-of-tree provisioners), leaves ``WaitForFirstConsumer`` claims alone until the scheduler
has chosen a node (``volume.kubernetes.io/selected-node``), and releases a volume whose
claim is gone. A released ``Retain`` volume stays; a released ``Delete`` volume is deleted
by whoever provisioned it (the external provisioner in ``sim.storage``), or fails with
upstream's event when no one can.

Event reasons and messages are upstream's (pkg/controller/volume/events/event.go and the
messages in pv_controller.go).
"""

from __future__ import annotations

from typing import Any

from kclusterkit.kube.meta import Obj, clone, selector_matches
from kclusterkit.kube.quantity import QuantityError, parse_quantity
from kclusterkit.sim import errors
from kclusterkit.sim.api import Api
from kclusterkit.sim.controllers.util import RetryingQueue
from kclusterkit.sim.resources import PVCS, PVS, STORAGECLASSES

COMPONENT = "persistentvolume-controller"
ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
ANN_DYNAMICALLY_PROVISIONED = "pv.kubernetes.io/provisioned-by"

MSG_NO_CLASS = "no persistent volumes available for this claim and no storage class is set"
MSG_WAIT_FOR_CONSUMER = "waiting for first consumer to be created before binding"


def external_provisioning_message(provisioner: str) -> str:
    """pv_controller.go provisionClaimOperationExternal (v1.30+ wording)."""
    return (f"Waiting for a volume to be created either by the external provisioner "
            f"'{provisioner}' or manually by the system administrator. If volume creation is "
            f"delayed, please verify that the provisioner is running and correctly registered.")


def claim_class(claim: Obj) -> str:
    """GetPersistentVolumeClaimClass: spec.storageClassName, "" when unset."""
    return (claim.get("spec") or {}).get("storageClassName") or ""


def _storage(obj: Obj, *path: str) -> Any:
    cur: Any = obj
    for part in path:
        cur = (cur or {}).get(part)
    try:
        return parse_quantity(cur) if cur is not None else None
    except QuantityError:
        return None


def volume_fits(pv: Obj, claim: Obj) -> bool:
    """findMatchingVolume's checks, except binding state: class, modes, size, selector."""
    spec, cspec = pv.get("spec") or {}, claim.get("spec") or {}
    if (spec.get("storageClassName") or "") != claim_class(claim):
        return False
    if (spec.get("volumeMode") or "Filesystem") != (cspec.get("volumeMode") or "Filesystem"):
        return False
    if not set(cspec.get("accessModes") or ()) <= set(spec.get("accessModes") or ()):
        return False
    want = _storage(claim, "spec", "resources", "requests", "storage")
    have = _storage(pv, "spec", "capacity", "storage")
    if want is None or have is None or have < want:
        return False
    selector = cspec.get("selector")
    return not selector or selector_matches(selector, pv["metadata"].get("labels") or {})


def node_allows(pv: Obj, node: Obj | None) -> bool:
    """CheckNodeAffinity: the volume's required node affinity matches the node's labels."""
    required = ((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required")
    if not required:
        return True
    if node is None:
        return False
    labels = node["metadata"].get("labels") or {}
    for term in required.get("nodeSelectorTerms") or ():
        ok = True
        for expr in term.get("matchExpressions") or ():
            value = labels.get(expr.get("key", ""))
            op = expr.get("operator")
            values = expr.get("values") or []
            if op == "In":
                ok = value in values
            elif op == "NotIn":
                ok = value not in values
            elif op == "Exists":
                ok = value is not None
            elif op == "DoesNotExist":
                ok = value is None
            else:
                ok = False
            if not ok:
                break
        if ok:
            return True
    return False


class PersistentVolumeController:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store
        self.clock = api.clock
        self.claims = RetryingQueue(self.clock, self.sync_claim)
        self.volumes = RetryingQueue(self.clock, self.sync_volume)
        for claim in self.store.iter(PVCS):
            self.claims.add(_key(claim))
        for pv in self.store.iter(PVS):
            self.volumes.add(pv["metadata"]["name"])
        self.store.subscribe(PVCS, self._on_claim)
        self.store.subscribe(PVS, self._on_volume)
        self.store.subscribe(STORAGECLASSES, self._on_class)

    # -- events -------------------------------------------------------------------------
    def _on_claim(self, etype: str, claim: Obj, old: Obj | None) -> None:
        self.claims.add(_key(claim))
        name = (claim.get("spec") or {}).get("volumeName")
        if name:
            self.volumes.add(name)
        # A deleted claim releases its volume; find it by claimRef too.
        for pv in self.store.iter(PVS):
            ref = (pv.get("spec") or {}).get("claimRef") or {}
            if ref.get("uid") == claim["metadata"].get("uid"):
                self.volumes.add(pv["metadata"]["name"])

    def _on_volume(self, etype: str, pv: Obj, old: Obj | None) -> None:
        self.volumes.add(pv["metadata"]["name"])
        ref = (pv.get("spec") or {}).get("claimRef")
        if ref:
            self.claims.add((ref.get("namespace", ""), ref.get("name", "")))
        else:
            # A volume became available: pending claims may fit it now.
            for claim in self.store.iter(PVCS):
                if (claim.get("status") or {}).get("phase") == "Pending":
                    self.claims.add(_key(claim))

    def _on_class(self, etype: str, sc: Obj, old: Obj | None) -> None:
        for claim in self.store.iter(PVCS):
            if claim_class(claim) == sc["metadata"]["name"]:
                self.claims.add(_key(claim))

    # -- claims -------------------------------------------------------------------------
    def sync_claim(self, key: tuple[str, str]) -> None:
        claim = self.store.get(PVCS, *key)
        if claim is None or claim["metadata"].get("deletionTimestamp"):
            return
        spec = claim.get("spec") or {}
        ann = claim["metadata"].get("annotations") or {}
        if not spec.get("volumeName"):
            self._sync_unbound_claim(claim)
            return
        pv = self.store.get(PVS, "", spec["volumeName"])
        if pv is None:
            if ann.get(ANN_BIND_COMPLETED):
                self._claim_phase(claim, "Lost")
                self.api.record_event(claim, "Warning", "ClaimLost",
                                      "Bound claim has lost reference to PersistentVolume. "
                                      "Data on the volume is lost!", COMPONENT)
            return
        ref = (pv.get("spec") or {}).get("claimRef")
        if ref is None:
            self._bind(pv, claim)
        elif ref.get("uid") == claim["metadata"]["uid"] or (
                not ref.get("uid") and ref.get("name") == key[1]
                and ref.get("namespace") == key[0]):
            self._bind(pv, claim)
        elif not ann.get(ANN_BIND_COMPLETED):
            self.api.record_event(claim, "Warning", "FailedBinding",
                                  f'volume "{pv["metadata"]["name"]}" already bound to a '
                                  f"different claim.", COMPONENT)
        else:
            self._claim_phase(claim, "Lost")
            self.api.record_event(claim, "Warning", "ClaimMisbound",
                                  "Two claims are bound to the same volume, this one is bound "
                                  "incorrectly", COMPONENT)

    def _class(self, name: str) -> Obj | None:
        return self.store.get(STORAGECLASSES, "", name) if name else None

    def _sync_unbound_claim(self, claim: Obj) -> None:
        ann = claim["metadata"].get("annotations") or {}
        cls = self._class(claim_class(claim))
        delay = cls is not None and cls.get("volumeBindingMode") == "WaitForFirstConsumer"
        selected = ann.get(ANN_SELECTED_NODE)
        pv = self._find_best_match(claim, delay and not selected)
        if pv is not None:
            self._bind(pv, claim)
            return
        if delay and not selected:
            self.api.record_event(claim, "Normal", "WaitForFirstConsumer",
                                  MSG_WAIT_FOR_CONSUMER, COMPONENT)
        elif claim_class(claim):
            if cls is None:
                self.api.record_event(
                    claim, "Warning", "ProvisioningFailed",
                    f'storageclass.storage.k8s.io "{claim_class(claim)}" not found', COMPONENT)
            else:
                self._provision(claim, cls)
        else:
            self.api.record_event(claim, "Normal", "FailedBinding", MSG_NO_CLASS, COMPONENT)
        self._claim_phase(claim, "Pending")

    def _find_best_match(self, claim: Obj, delay: bool) -> Obj | None:
        """findBestMatchForClaim: a volume pre-bound to this claim wins; otherwise the
        smallest available volume that fits (none when binding waits for a consumer)."""
        meta = claim["metadata"]
        best: Obj | None = None
        best_size: Any = None
        for pv in self.store.iter(PVS):
            if pv["metadata"].get("deletionTimestamp") or not volume_fits(pv, claim):
                continue
            ref = (pv.get("spec") or {}).get("claimRef")
            if ref is not None:
                if ref.get("name") == meta["name"] and \
                        ref.get("namespace") == meta.get("namespace") and \
                        ref.get("uid") in (None, "", meta["uid"]):
                    return pv
                continue
            if delay or (pv.get("status") or {}).get("phase") not in ("Available", "Pending"):
                continue
            size = _storage(pv, "spec", "capacity", "storage")
            if best is None or size < best_size:
                best, best_size = pv, size
        return best

    def _provision(self, claim: Obj, cls: Obj) -> None:
        """provisionClaim for an external provisioner: say who should provision it."""
        provisioner = cls.get("provisioner", "")
        ann = claim["metadata"].get("annotations") or {}
        if ann.get(ANN_STORAGE_PROVISIONER) != provisioner:
            updated = clone(claim)
            updated["metadata"].setdefault("annotations", {}).update({
                ANN_BETA_STORAGE_PROVISIONER: provisioner,
                ANN_STORAGE_PROVISIONER: provisioner,
            })
            claim = self.api.update(updated)
        self.api.record_event(claim, "Normal", "ExternalProvisioning",
                              external_provisioning_message(provisioner), COMPONENT)

    def _bind(self, pv: Obj, claim: Obj) -> None:
        """bind(): claimRef on the volume, volumeName on the claim, then both statuses."""
        meta = claim["metadata"]
        pspec = pv.get("spec") or {}
        ref = pspec.get("claimRef") or {}
        if ref.get("uid") != meta["uid"]:
            updated = clone(pv)
            if not ref:
                updated["metadata"].setdefault("annotations", {})[ANN_BOUND_BY_CONTROLLER] = "yes"
            updated["spec"]["claimRef"] = {
                "kind": "PersistentVolumeClaim", "namespace": meta.get("namespace", ""),
                "name": meta["name"], "uid": meta["uid"], "apiVersion": "v1",
                "resourceVersion": meta.get("resourceVersion", ""),
            }
            pv = self.api.update(updated)
        pv = self._volume_phase(pv, "Bound")
        ann = meta.get("annotations") or {}
        if claim["spec"].get("volumeName") != pv["metadata"]["name"] or \
                ann.get(ANN_BIND_COMPLETED) != "yes":
            updated = clone(claim)
            new_ann = updated["metadata"].setdefault("annotations", {})
            if not claim["spec"].get("volumeName"):
                new_ann[ANN_BOUND_BY_CONTROLLER] = "yes"
            new_ann[ANN_BIND_COMPLETED] = "yes"
            updated["spec"]["volumeName"] = pv["metadata"]["name"]
            claim = self.api.update(updated)
        status = claim.get("status") or {}
        want = {"phase": "Bound", "accessModes": list(pv["spec"].get("accessModes") or []),
                "capacity": dict(pv["spec"].get("capacity") or {})}
        if any(status.get(k) != val for k, val in want.items()):
            updated = clone(claim)
            updated["status"] = {**status, **want}
            self.api.update(updated, subresource="status")

    def _claim_phase(self, claim: Obj, phase: str) -> None:
        if (claim.get("status") or {}).get("phase") == phase:
            return
        updated = clone(claim)
        updated.setdefault("status", {})["phase"] = phase
        try:
            self.api.update(updated, subresource="status")
        except errors.StatusError as exc:
            if exc.code != 404:
                raise

    # -- volumes ------------------------------------------------------------------------
    def _volume_phase(self, pv: Obj, phase: str, message: str | None = None) -> Obj:
        status = pv.get("status") or {}
        if status.get("phase") == phase and status.get("message") == message:
            return pv
        updated = clone(pv)
        new_status: dict[str, Any] = {"phase": phase}
        if message:
            new_status["message"] = message
        # lastPhaseTransitionTime (PersistentVolumeLastPhaseTransitionTime, GA in v1.31).
        new_status["lastPhaseTransitionTime"] = (
            status.get("lastPhaseTransitionTime") if status.get("phase") == phase
            else self.clock.timestamp())
        updated["status"] = new_status
        return self.api.update(updated, subresource="status")

    def sync_volume(self, name: str) -> None:
        pv = self.store.get(PVS, "", name)
        if pv is None:
            return
        ref = (pv.get("spec") or {}).get("claimRef")
        if ref is None:
            if (pv.get("status") or {}).get("phase") != "Failed":
                self._volume_phase(pv, "Available")
            return
        if not ref.get("uid"):
            # Pre-bound by an administrator to a claim that may not exist yet.
            self._volume_phase(pv, "Available")
            return
        claim = self.store.get(PVCS, ref.get("namespace", ""), ref.get("name", ""))
        if claim is not None and claim["metadata"]["uid"] == ref.get("uid"):
            if (claim.get("spec") or {}).get("volumeName") == name:
                self._volume_phase(pv, "Bound")
            else:
                self.claims.add(_key(claim))
            return
        phase = (pv.get("status") or {}).get("phase")
        if phase not in ("Released", "Failed"):
            pv = self._volume_phase(pv, "Released")
            self._reclaim(pv)

    def _reclaim(self, pv: Obj) -> None:
        """reclaimVolume: Retain keeps it; Delete is the provisioner's job for volumes an
        external provisioner made; anything else has no deleter here."""
        policy = pv["spec"].get("persistentVolumeReclaimPolicy")
        ann = pv["metadata"].get("annotations") or {}
        if policy == "Retain":
            return
        if policy == "Delete" and ann.get(ANN_DYNAMICALLY_PROVISIONED):
            return  # the external provisioner deletes what it provisioned
        if policy == "Delete":
            message = ('error getting deleter volume plugin for volume '
                       f'"{pv["metadata"]["name"]}": no deletable volume plugin matched')
            self.api.record_event(pv, "Warning", "VolumeFailedDelete", message, COMPONENT)
            self._volume_phase(pv, "Failed", message)
        else:
            message = "No recycler plugin found for the volume!"
            self.api.record_event(pv, "Warning", "VolumeFailedRecycle", message, COMPONENT)
            self._volume_phase(pv, "Failed", message)


def _key(obj: Obj) -> tuple[str, str]:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
