"""The volume expand controller, following pkg/controller/volume/expand/expand_controller.go.

For a bound claim whose requested size grew past its capacity (admission already checked
that its class allows expansion), a CSI volume is expanded by the driver's external-resizer:
this controller only hands the claim over, by the ``volume.kubernetes.io/storage-resizer``
annotation naming the class's provisioner, and says so with the ExternalExpanding event.
"""

from __future__ import annotations

from kclusterkit.kube.meta import Obj, clone
from kclusterkit.sim.api import Api
from kclusterkit.sim.controllers.util import RetryingQueue
from kclusterkit.sim.csi import ANN_RESIZER, claim_capacity, claim_request
from kclusterkit.sim.resources import PVCS, PVS, STORAGECLASSES

COMPONENT = "volume_expand"
MSG_EXTERNAL = "waiting for an external controller to expand this PVC"


class ExpandController:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store
        self.queue = RetryingQueue(api.clock, self.sync)
        self.store.subscribe(PVCS, self._on_claim)

    def _on_claim(self, etype: str, claim: Obj, old: Obj | None) -> None:
        if etype == "DELETED":
            return
        want, have = claim_request(claim), claim_capacity(claim)
        if want is not None and have is not None and want > have:
            self.queue.add((claim["metadata"].get("namespace", ""), claim["metadata"]["name"]))

    def sync(self, key: tuple[str, str]) -> None:
        claim = self.store.get(PVCS, *key)
        if claim is None or (claim.get("status") or {}).get("phase") != "Bound":
            return
        want, have = claim_request(claim), claim_capacity(claim)
        if want is None or have is None or want <= have:
            return
        pv = self.store.get(PVS, "", (claim.get("spec") or {}).get("volumeName") or "")
        cls = self.store.get(STORAGECLASSES, "", (claim.get("spec") or {}).get(
            "storageClassName") or "")
        if pv is None or cls is None or not (pv.get("spec") or {}).get("csi"):
            return
        resizer = cls.get("provisioner", "")
        if (claim["metadata"].get("annotations") or {}).get(ANN_RESIZER) == resizer:
            return
        self.api.record_event(claim, "Normal", "ExternalExpanding", MSG_EXTERNAL, COMPONENT)
        updated = clone(claim)
        updated["metadata"].setdefault("annotations", {})[ANN_RESIZER] = resizer
        self.api.update(updated)
