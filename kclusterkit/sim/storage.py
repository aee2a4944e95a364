"""Where persistent volumes keep their files, and the provisioner that makes volumes.

A volume's files outlive the pod that wrote them: they belong to the PersistentVolume a
claim is bound to, so a replacement pod (or a StatefulSet's pod coming back) mounting the
same claim sees them, and deleting the volume by its reclaim policy is what loses them.

The cluster's default StorageClass is kind's ``standard``: the rancher ``local-path``
provisioner with ``WaitForFirstConsumer`` binding (kind's
pkg/cluster/internal/create/actions/installstorage/storage.go manifest). The provisioner
here follows rancher/local-path-provisioner's provisioner.go and the external-provisioner
library it uses (sig-storage-lib-external-provisioner controller.go): volumes named
``pvc-<claim uid>``, a host path under ``/var/local-path-provisioner``, a required node
affinity to the node the scheduler chose, ReadWriteOnce only, and deletion of what it
provisioned once the volume is Released under a ``Delete`` policy.

A second, non-default class offers network-attached volumes: ``longhorn`` (Longhorn's CSI
driver ``driver.longhorn.io``, as its chart installs it: ``Immediate`` binding, volume
expansion allowed). Its volumes are ``csi`` volumes with no node affinity, so their files
follow a pod to whichever node it runs on, once the attach/detach controller has attached
them there (``sim.csi`` holds that driver's attacher and resizer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj
from kclusterkit.sim import errors
from kclusterkit.sim.csi import CsiControllerPlugin
from kclusterkit.sim.resources import PVCS, PVS, STORAGECLASSES

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api

LOCAL_PATH = "rancher.io/local-path"
LOCAL_PATH_DIR = "/var/local-path-provisioner"
# How the external-provisioner library names itself in events: <provisioner>_<pod>_<uuid>.
PROVISIONER_IDENTITY = f"{LOCAL_PATH}_local-path-provisioner-7dc846544d-x2zvb_" \
                       "c3e6d2a0-4a41-4f0e-9a4c-3f2d9c1b7e55"
ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
ANN_PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
ANN_LOCAL_NODE = "local.path.provisioner/selected-node"

LONGHORN = "driver.longhorn.io"
# The csi-provisioner sidecar of longhorn-csi-plugin's controller names itself like this.
LONGHORN_IDENTITY = f"{LONGHORN}_csi-provisioner-5d8dd96b57-lf8pq_" \
                    "8c1f3a52-7d0e-4b6a-9c47-2e5b8f0d1a63"
LONGHORN_CLASS: Obj = {
    "apiVersion": "storage.k8s.io/v1",
    "kind": "StorageClass",
    "metadata": {"name": "longhorn"},
    "provisioner": LONGHORN,
    "allowVolumeExpansion": True,
    "reclaimPolicy": "Delete",
    "volumeBindingMode": "Immediate",
    "parameters": {"numberOfReplicas": "3", "staleReplicaTimeout": "30",
                   "fromBackup": "", "fsType": "ext4", "dataLocality": "disabled"},
}

STANDARD_CLASS: Obj = {
    "apiVersion": "storage.k8s.io/v1",
    "kind": "StorageClass",
    "metadata": {"name": "standard",
                 "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
    "provisioner": LOCAL_PATH,
    "reclaimPolicy": "Delete",
    "volumeBindingMode": "WaitForFirstConsumer",
}


class Storage:
    """The cluster's persistent volumes' files (one tree per PersistentVolume) and the
    local-path provisioner."""

    def __init__(self, api: Api | None = None, default_class: bool = True,
                 network_class: bool = True) -> None:
        self._volumes: dict[str, dict[str, str]] = {}
        self._claims: dict[tuple[str, str], dict[str, str]] = {}
        self.api = api
        if api is None:
            return
        self.store = api.store
        if default_class and self.store.get(STORAGECLASSES, "", "standard") is None:
            api.create(STANDARD_CLASS)
        if network_class and self.store.get(STORAGECLASSES, "", "longhorn") is None:
            api.create(LONGHORN_CLASS)
        # Longhorn's CSI controller sidecars (attacher, resizer) run whether or not the
        # class exists: a class made later by hand may name the driver.
        self.csi = CsiControllerPlugin(api, LONGHORN)
        self.store.subscribe(PVCS, self._on_claim)
        self.store.subscribe(PVS, self._on_volume)

    # -- files ----------------------------------------------------------------------------
    def volume_files(self, pod: Obj, volume: dict[str, Any]) -> dict[str, str] | None:
        """The files of the persistent volume ``volume`` names (keyed by path in the
        volume), or None when it is not a claim."""
        claim_name = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if not claim_name:
            return None
        ns = pod["metadata"].get("namespace", "")
        if self.api is not None:
            claim = self.store.get(PVCS, ns, claim_name)
            pv_name = ((claim or {}).get("spec") or {}).get("volumeName")
            if pv_name:
                return self._volumes.setdefault(pv_name, {})
        return self._claims.setdefault((ns, claim_name), {})

    def files_of(self, pv_name: str) -> dict[str, str] | None:
        """A volume's files (None when nothing was ever written to it)."""
        return self._volumes.get(pv_name)

    # -- the local-path provisioner -------------------------------------------------------
    def _on_claim(self, etype: str, claim: Obj, old: Obj | None) -> None:
        if etype == "DELETED" or claim["metadata"].get("deletionTimestamp"):
            return
        ann = claim["metadata"].get("annotations") or {}
        if ann.get(ANN_STORAGE_PROVISIONER) not in (LOCAL_PATH, LONGHORN) or \
                (claim.get("spec") or {}).get("volumeName"):
            return
        self.api.clock.call_soon(self._provision, claim["metadata"].get("namespace", ""),
                                 claim["metadata"]["name"], claim["metadata"]["uid"])

    def _provision(self, ns: str, name: str, uid: str) -> None:
        claim = self.store.get(PVCS, ns, name)
        if claim is None or claim["metadata"]["uid"] != uid or \
                (claim.get("spec") or {}).get("volumeName"):
            return
        pv_name = f"pvc-{uid}"
        if self.store.get(PVS, "", pv_name) is not None:
            return
        spec = claim.get("spec") or {}
        cls = self.store.get(STORAGECLASSES, "", spec.get("storageClassName") or "")
        if cls is None:
            return
        ann = claim["metadata"].get("annotations") or {}
        node = ann.get(ANN_SELECTED_NODE)
        modes = list(spec.get("accessModes") or [])
        failure = None
        if cls.get("provisioner") == LONGHORN:
            self._provision_network(claim, cls, pv_name)
            return
        if any(m not in ("ReadWriteOnce", "ReadWriteOncePod") for m in modes):
            failure = ("NodePath only supports ReadWriteOnce and ReadWriteOncePod (1.22+) "
                       "access modes")
        elif not node:
            failure = "configuration error, no node was specified"
        if failure is not None:
            self.api.record_event(claim, "Warning", "ProvisioningFailed",
                                  f'failed to provision volume with StorageClass '
                                  f'"{cls["metadata"]["name"]}": {failure}',
                                  PROVISIONER_IDENTITY)
            return
        self.api.record_event(claim, "Normal", "Provisioning",
                              f'External provisioner is provisioning volume for claim '
                              f'"{ns}/{name}"', PROVISIONER_IDENTITY)
        pv = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": pv_name, "annotations": {
                ANN_LOCAL_NODE: node, ANN_PROVISIONED_BY: LOCAL_PATH}},
            "spec": {
                "accessModes": modes,
                "capacity": {"storage": spec["resources"]["requests"]["storage"]},
                "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                             "namespace": ns, "name": name, "uid": uid,
                             "resourceVersion": claim["metadata"]["resourceVersion"]},
                "hostPath": {"path": f"{LOCAL_PATH_DIR}/{pv_name}_{ns}_{name}",
                             "type": "DirectoryOrCreate"},
                "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}},
                "persistentVolumeReclaimPolicy": cls.get("reclaimPolicy", "Delete"),
                "storageClassName": cls["metadata"]["name"],
                "volumeMode": spec.get("volumeMode", "Filesystem"),
            },
        }
        self._create_volume(claim, cls, pv, PROVISIONER_IDENTITY)

    def _provision_network(self, claim: Obj, cls: Obj, pv_name: str) -> None:
        """The external-provisioner sidecar with Longhorn's CreateVolume: a csi volume
        with no node affinity (any node may attach it)."""
        meta, spec = claim["metadata"], claim.get("spec") or {}
        ns, name = meta.get("namespace", ""), meta["name"]
        self.api.record_event(claim, "Normal", "Provisioning",
                              f'External provisioner is provisioning volume for claim '
                              f'"{ns}/{name}"', LONGHORN_IDENTITY)
        params = dict(cls.get("parameters") or {})
        pv = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": pv_name, "annotations": {
                ANN_PROVISIONED_BY: LONGHORN,
                "volume.kubernetes.io/provisioner-deletion-secret-name": "",
                "volume.kubernetes.io/provisioner-deletion-secret-namespace": ""}},
            "spec": {
                "accessModes": list(spec.get("accessModes") or []),
                "capacity": {"storage": spec["resources"]["requests"]["storage"]},
                "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                             "namespace": ns, "name": name, "uid": meta["uid"],
                             "resourceVersion": meta["resourceVersion"]},
                "csi": {"driver": LONGHORN, "volumeHandle": pv_name,
                        "fsType": params.pop("fsType", "ext4"),
                        "volumeAttributes": {
                            **params,
                            "storage.kubernetes.io/csiProvisionerIdentity":
                                LONGHORN_IDENTITY.split("_", 1)[1]}},
                "persistentVolumeReclaimPolicy": cls.get("reclaimPolicy", "Delete"),
                "storageClassName": cls["metadata"]["name"],
                "volumeMode": spec.get("volumeMode", "Filesystem"),
            },
        }
        self._create_volume(claim, cls, pv, LONGHORN_IDENTITY)

    def _create_volume(self, claim: Obj, cls: Obj, pv: Obj, identity: str) -> None:
        """The provisioner's last step: create the PV, and say so on the claim."""
        try:
            self.api.create(pv)
        except errors.StatusError as exc:
            self.api.record_event(claim, "Warning", "ProvisioningFailed",
                                  f'failed to provision volume with StorageClass '
                                  f'"{cls["metadata"]["name"]}": {exc.message}', identity)
            return
        self.api.record_event(claim, "Normal", "ProvisioningSucceeded",
                              f"Successfully provisioned volume {pv['metadata']['name']}",
                              identity)

    def _on_volume(self, etype: str, pv: Obj, old: Obj | None) -> None:
        if etype == "DELETED":
            self._volumes.pop(pv["metadata"]["name"], None)
            return
        ann = pv["metadata"].get("annotations") or {}
        if ann.get(ANN_PROVISIONED_BY) not in (LOCAL_PATH, LONGHORN) or \
                (pv.get("status") or {}).get("phase") != "Released" or \
                (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy") != "Delete" or \
                pv["metadata"].get("deletionTimestamp"):
            return
        self.api.clock.call_soon(self._delete, pv["metadata"]["name"], pv["metadata"]["uid"])

    def _delete(self, name: str, uid: str) -> None:
        pv = self.store.get(PVS, "", name)
        if pv is None or pv["metadata"]["uid"] != uid or pv["metadata"].get("deletionTimestamp"):
            return
        # The provisioner's helper pod removes the directory, then the volume object goes.
        self._volumes.pop(name, None)
        try:
            self.api.delete(PVS, "", name)
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
