"""The pvc-protection and pv-protection controllers (pkg/controller/volume/pvcprotection,
pkg/controller/volume/pvprotection).

A claim being deleted keeps its ``kubernetes.io/pvc-protection`` finalizer while a scheduled
pod that has not terminated uses it, so a database's volume cannot vanish under it; a
volume being deleted keeps ``kubernetes.io/pv-protection`` while it is Bound.
"""

from __future__ import annotations

from kclusterkit.kube.meta import Obj
from kclusterkit.sim.api import Api
from kclusterkit.sim.controllers.util import RetryingQueue, drop_finalizer
from kclusterkit.sim.kinds.storage import PV_PROTECTION, PVC_PROTECTION
from kclusterkit.sim.resources import PODS, PVCS, PVS


def pod_claims(pod: Obj) -> list[str]:
    """The claims a pod's volumes name (generic ephemeral volumes: ``<pod>-<volume>``)."""
    out = []
    for volume in (pod.get("spec") or {}).get("volumes") or ():
        ref = volume.get("persistentVolumeClaim")
        if ref and ref.get("claimName"):
            out.append(ref["claimName"])
        elif volume.get("ephemeral") is not None:
            out.append(f"{pod['metadata']['name']}-{volume.get('name', '')}")
    return out


def _pod_uses(pod: Obj, claim: str) -> bool:
    """podUsesPVC for a pod the kubelet may run: scheduled and not terminated."""
    if not (pod.get("spec") or {}).get("nodeName"):
        return False
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return False
    return claim in pod_claims(pod)


class PVCProtectionController:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store
        self.queue = RetryingQueue(api.clock, self.sync)
        self.store.subscribe(PVCS, self._on_claim)
        self.store.subscribe(PODS, self._on_pod)

    def _on_claim(self, etype: str, claim: Obj, old: Obj | None) -> None:
        if claim["metadata"].get("deletionTimestamp"):
            self.queue.add((claim["metadata"].get("namespace", ""), claim["metadata"]["name"]))

    def _on_pod(self, etype: str, pod: Obj, old: Obj | None) -> None:
        ns = pod["metadata"].get("namespace", "")
        for name in pod_claims(pod):
            self.queue.add((ns, name))

    def sync(self, key: tuple[str, str]) -> None:
        claim = self.store.get(PVCS, *key)
        if claim is None or not claim["metadata"].get("deletionTimestamp") or \
                PVC_PROTECTION not in (claim["metadata"].get("finalizers") or ()):
            return
        if any(_pod_uses(pod, key[1]) for pod in self.store.iter(PODS, key[0])):
            return
        drop_finalizer(self.api, claim, PVC_PROTECTION)


class PVProtectionController:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store
        self.queue = RetryingQueue(api.clock, self.sync)
        self.store.subscribe(PVS, self._on_volume)

    def _on_volume(self, etype: str, pv: Obj, old: Obj | None) -> None:
        if pv["metadata"].get("deletionTimestamp"):
            self.queue.add(pv["metadata"]["name"])

    def sync(self, name: str) -> None:
        pv = self.store.get(PVS, "", name)
        if pv is None or not pv["metadata"].get("deletionTimestamp") or \
                PV_PROTECTION not in (pv["metadata"].get("finalizers") or ()):
            return
        if (pv.get("status") or {}).get("phase") == "Bound":
            return
        drop_finalizer(self.api, pv, PV_PROTECTION)
