"""PersistentVolumes, PersistentVolumeClaims and StorageClasses as the API server admits them.

Besides defaults and validation (pkg/apis/core/v1/defaults.go, pkg/apis/core/validation,
pkg/apis/storage/v1/defaults.go) two admission plugins act on create here, because the
simulator has no separate admission chain:
- DefaultStorageClass (plugin/pkg/admission/storage/storageclass/setdefault): a claim that
  names no class gets the default one (the newest when several are marked default);
- StorageObjectInUseProtection (plugin/pkg/admission/storage/storageobjectinuseprotection):
  claims get the ``kubernetes.io/pvc-protection`` finalizer, volumes
  ``kubernetes.io/pv-protection``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj
from kclusterkit.kube.quantity import parse_quantity
from kclusterkit.sim import errors
from kclusterkit.sim import validation as v
from kclusterkit.sim.resources import PVCS, PVS, STORAGECLASSES, VOLUMEATTACHMENTS
from kclusterkit.sim.strategy import Cause, Strategy, register_strategy

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
BETA_DEFAULT_CLASS_ANNOTATION = "storageclass.beta.kubernetes.io/is-default-class"
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]


def is_default_class(sc: Obj) -> bool:
    """storageutil.IsDefaultAnnotation: either annotation set to "true"."""
    ann = sc["metadata"].get("annotations") or {}
    return ann.get(DEFAULT_CLASS_ANNOTATION) == "true" or \
        ann.get(BETA_DEFAULT_CLASS_ANNOTATION) == "true"


def default_class(api: Api) -> Obj | None:
    """GetDefaultClass: the newest class marked default, ties by name."""
    defaults = [sc for sc in api.store.iter(STORAGECLASSES) if is_default_class(sc)]
    if not defaults:
        return None
    return max(defaults, key=lambda sc: (sc["metadata"].get("creationTimestamp") or "",
                                         sc["metadata"]["name"]))


def _add_finalizer(obj: Obj, name: str) -> None:
    finalizers = obj["metadata"].setdefault("finalizers", [])
    if name not in finalizers:
        finalizers.append(name)


def _validate_access_modes(path: str, modes: Any) -> list[Cause]:
    if not modes:
        return [v.required(path, "at least 1 access mode is required")]
    out: list[Cause] = []
    for mode in modes:
        if mode not in ACCESS_MODES:
            out.append(v.not_supported(path, mode, ACCESS_MODES))
    if "ReadWriteOncePod" in modes and len(modes) > 1:
        out.append(v.forbidden(path, "may not use ReadWriteOncePod with other access modes"))
    return out


def _validate_storage(path: str, value: Any) -> list[Cause]:
    if value is None:
        return [v.required(path)]
    try:
        amount = parse_quantity(value)
    except ValueError:
        return [v.invalid(path, value, "must be a valid resource quantity")]
    if amount <= 0:
        return [v.invalid(path, value, "must be greater than zero")]
    return []


class PersistentVolumeClaimStrategy(Strategy):
    def prepare_create(self, api: Api, obj: Obj) -> None:
        obj["status"] = {"phase": "Pending"}
        spec = obj.setdefault("spec", {})
        if "storageClassName" not in spec or spec.get("storageClassName") is None:
            sc = default_class(api)
            if sc is not None:
                spec["storageClassName"] = sc["metadata"]["name"]
        _add_finalizer(obj, PVC_PROTECTION)

    def default(self, api: Api, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        spec.setdefault("volumeMode", "Filesystem")
        obj.setdefault("status", {}).setdefault("phase", "Pending")

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        spec = obj.get("spec") or {}
        out = _validate_access_modes("spec.accessModes", spec.get("accessModes"))
        requests = (spec.get("resources") or {}).get("requests") or {}
        out += _validate_storage("spec.resources[storage]", requests.get("storage"))
        if old is not None and old["metadata"].get("deletionTimestamp") is None:
            out += self._validate_update(api, obj, old)
        return out

    @staticmethod
    def _validate_update(api: Api, obj: Obj, old: Obj) -> list[Cause]:
        """ValidatePersistentVolumeClaimUpdate, then the PersistentVolumeClaimResize
        admission plugin (plugin/pkg/admission/storage/persistentvolume/resize)."""
        spec, old_spec = obj.get("spec") or {}, dict(old.get("spec") or {})
        new_spec = dict(spec)
        bound = bool(old_spec.get("volumeName"))
        for s in (old_spec, new_spec):
            if bound:
                s.pop("resources", None)
            if not bound:
                s.pop("volumeName", None)
        immutable = ("spec is immutable after creation except resources.requests and "
                     "volumeAttributesClassName for bound claims")
        if old_spec != new_spec:
            return [v.forbidden("spec", immutable)]
        want = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
        was = (((old.get("spec") or {}).get("resources") or {}).get("requests") or {}).get(
            "storage")
        try:
            grows = parse_quantity(want) > parse_quantity(was)
            capacity = ((old.get("status") or {}).get("capacity") or {}).get("storage")
            shrinks = capacity is not None and parse_quantity(want) < parse_quantity(capacity)
        except (ValueError, TypeError):
            return []
        if shrinks:
            return [v.forbidden("spec.resources.requests.storage",
                                "field can not be less than status.capacity")]
        if grows:
            if (old.get("status") or {}).get("phase") != "Bound":
                raise errors.forbidden(f'persistentvolumeclaims "{old["metadata"]["name"]}" '
                                       "is forbidden: Only bound persistent volume claims "
                                       "can be expanded")
            cls = api.store.get(STORAGECLASSES, "", spec.get("storageClassName") or "")
            if cls is None or not cls.get("allowVolumeExpansion"):
                raise errors.forbidden(f'persistentvolumeclaims "{old["metadata"]["name"]}" '
                                       "is forbidden: only dynamically provisioned pvc can be "
                                       "resized and the storageclass that provisions the pvc "
                                       "must support resize")
        return []


class PersistentVolumeStrategy(Strategy):
    def prepare_create(self, api: Api, obj: Obj) -> None:
        obj["status"] = {"phase": "Pending"}
        _add_finalizer(obj, PV_PROTECTION)

    def default(self, api: Api, obj: Obj) -> None:
        # SetDefaults_PersistentVolume: Retain unless said otherwise, Filesystem mode.
        spec = obj.setdefault("spec", {})
        spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
        spec.setdefault("volumeMode", "Filesystem")
        obj.setdefault("status", {}).setdefault("phase", "Pending")

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        spec = obj.get("spec") or {}
        out = _validate_access_modes("spec.accessModes", spec.get("accessModes"))
        out += _validate_storage("spec.capacity[storage]", (spec.get("capacity") or {}).get(
            "storage"))
        out += v.required_one_of("spec.persistentVolumeReclaimPolicy",
                                 spec.get("persistentVolumeReclaimPolicy"),
                                 ["Delete", "Recycle", "Retain"])
        return out


class StorageClassStrategy(Strategy):
    has_status = False

    def default(self, api: Api, obj: Obj) -> None:
        # pkg/apis/storage/v1/defaults.go
        obj.setdefault("reclaimPolicy", "Delete")
        obj.setdefault("volumeBindingMode", "Immediate")

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        out: list[Cause] = []
        if not obj.get("provisioner"):
            out.append(v.required("provisioner"))
        out += v.required_one_of("reclaimPolicy", obj.get("reclaimPolicy"),
                                 ["Delete", "Retain"])
        out += v.required_one_of("volumeBindingMode", obj.get("volumeBindingMode"),
                                 ["Immediate", "WaitForFirstConsumer"])
        if old is not None:
            for field in ("provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"):
                if obj.get(field) != old.get(field):
                    out.append(v.forbidden(field, "updates to " + field + " are forbidden."))
        return out


class VolumeAttachmentStrategy(Strategy):
    """pkg/apis/storage/validation ValidateVolumeAttachment(Update): attacher, node and
    exactly one source; the spec never changes once made."""

    def prepare_create(self, api: Api, obj: Obj) -> None:
        obj["status"] = {"attached": False}

    def default(self, api: Api, obj: Obj) -> None:
        obj.setdefault("status", {}).setdefault("attached", False)

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        spec = obj.get("spec") or {}
        out: list[Cause] = []
        if not spec.get("attacher"):
            out.append(v.required("spec.attacher"))
        if not spec.get("nodeName"):
            out.append(v.required("spec.nodeName"))
        source = spec.get("source") or {}
        if bool(source.get("persistentVolumeName")) == bool(source.get("inlineVolumeSpec")):
            out.append(v.required("spec.source", "must specify exactly one of "
                                  "inlineVolumeSpec and persistentVolumeName"))
        if old is not None and spec != old.get("spec"):
            out.append(v.invalid("spec", spec, "field is immutable"))
        return out


register_strategy(PVCS, PersistentVolumeClaimStrategy())
register_strategy(PVS, PersistentVolumeStrategy())
register_strategy(STORAGECLASSES, StorageClassStrategy())
register_strategy(VOLUMEATTACHMENTS, VolumeAttachmentStrategy())
