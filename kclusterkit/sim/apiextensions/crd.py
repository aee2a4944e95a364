"""The CustomResourceDefinition kind's admission (apiextensions.k8s.io/v1).

Defaults from pkg/apis/apiextensions/v1/defaults.go (singular, listKind, conversion
strategy None); PrepareForCreate/PrepareForUpdate from pkg/registry/customresourcedefinition
/strategy.go (status reset and storedVersions on create, the storage version added on
update); validation from pkg/apis/apiextensions/validation/validation.go, with its field
paths and wording: the name must be ``<plural>.<group>``, a group with a dot, a scope,
exactly one storage version, a structural schema for every version, the names, scale
paths and printer columns; group and plural never change, scope and kind not once
Established. Deleting a CRD (registry's etcd.go Delete) puts the
``customresourcecleanup.apiextensions.k8s.io`` finalizer and a Terminating condition on
it; the finalizer controller (``controllers``) removes the objects and then the finalizer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj, dig
from kclusterkit.sim.apiextensions.schema import structural_errors
from kclusterkit.sim.resources import for_plural
from kclusterkit.sim.strategy import Cause, Strategy, register_strategy
from kclusterkit.sim.validation import (
    GoValue,
    dns1035_label_errors,
    dns1123_subdomain_errors,
    go_quote,
    invalid,
    not_supported,
    required,
)

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api

CRDS = for_plural("apiextensions.k8s.io", "customresourcedefinitions")
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
SCOPES = ["Cluster", "Namespaced"]
COLUMN_TYPES = ["boolean", "date", "integer", "number", "string"]


def condition(crd: Obj, ctype: str) -> Obj | None:
    for cond in dig(crd, "status", "conditions") or []:
        if cond.get("type") == ctype:
            return cond
    return None


def is_true(crd: Obj, ctype: str) -> bool:
    cond = condition(crd, ctype)
    return cond is not None and cond.get("status") == "True"


def set_condition(crd: Obj, cond: Obj, now: str) -> None:
    """apihelpers.SetCRDCondition: lastTransitionTime moves only when the status does."""
    status = crd.setdefault("status", {})
    conditions = list(status.get("conditions") or [])
    for i, old in enumerate(conditions):
        if old.get("type") == cond["type"]:
            when = old.get("lastTransitionTime") if old.get("status") == cond["status"] else now
            conditions[i] = {**cond, "lastTransitionTime": when}
            break
    else:
        conditions.append({**cond, "lastTransitionTime": now})
    status["conditions"] = conditions


def _go_versions(versions: list[Any]) -> GoValue:
    """%#v of []apiextensions.CustomResourceDefinitionVersion, as the Invalid value prints
    it (pointers are shown as Go shows them: by address, here a fixed one)."""
    parts = []
    for v in versions:
        v = v if isinstance(v, dict) else {}
        pointer = "(*apiextensions.CustomResourceValidation)(0xc000a0c000)" if v.get("schema") \
            else "(*apiextensions.CustomResourceValidation)(nil)"
        subs = "(*apiextensions.CustomResourceSubresources)(0xc000a0c008)" \
            if v.get("subresources") else "(*apiextensions.CustomResourceSubresources)(nil)"
        parts.append(
            "apiextensions.CustomResourceDefinitionVersion{"
            f'Name:{go_quote(str(v.get("name", "")))}, '
            f'Served:{str(bool(v.get("served"))).lower()}, '
            f'Storage:{str(bool(v.get("storage"))).lower()}, '
            f'Deprecated:{str(bool(v.get("deprecated"))).lower()}, '
            f'DeprecationWarning:(*string)(nil), Schema:{pointer}, Subresources:{subs}, '
            "AdditionalPrinterColumns:[]apiextensions.CustomResourceColumnDefinition(nil), "
            "SelectableFields:[]apiextensions.SelectableField(nil)}")
    return GoValue("[]apiextensions.CustomResourceDefinitionVersion{" + ", ".join(parts) + "}")


class CustomResourceDefinitionStrategy(Strategy):
    tracks_generation = True

    def default(self, api: Api, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            return
        names = spec.get("names")
        if isinstance(names, dict) and isinstance(names.get("kind"), str) and names["kind"]:
            names.setdefault("singular", names["kind"].lower())
            names.setdefault("listKind", names["kind"] + "List")
        if not spec.get("conversion"):
            spec["conversion"] = {"strategy": "None"}
        status = obj.get("status")
        if isinstance(status, dict):
            # PrepareForUpdate: a new storage version is recorded as stored.
            stored = list(status.get("storedVersions") or [])
            for version in spec.get("versions") or []:
                if isinstance(version, dict) and version.get("storage") and \
                        version.get("name") not in stored:
                    stored.append(version.get("name"))
            status["storedVersions"] = stored

    def prepare_create(self, api: Api, obj: Obj) -> None:
        obj["status"] = {"acceptedNames": {"plural": "", "kind": ""}, "storedVersions": []}

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        out: list[Cause] = []
        names = spec.get("names") if isinstance(spec.get("names"), dict) else {}
        name = obj["metadata"].get("name", "")
        if name != f"{names.get('plural', '')}.{spec.get('group', '')}":
            out.append(invalid("metadata.name", name,
                               'must be spec.names.plural+"."+spec.group'))
        out += _spec(spec, names)
        if old is not None:
            out += _update(spec, old.get("spec") or {}, is_true(old, "Established"))
        return out

    def after_delete_request(self, api: Api, obj: Obj, grace: float | None) -> Obj | None:
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            return None
        finalizers = list(meta.get("finalizers") or [])
        if CLEANUP_FINALIZER not in finalizers:
            meta["finalizers"] = [*finalizers, CLEANUP_FINALIZER]
        set_condition(obj, {"type": "Terminating", "status": "True",
                            "reason": "InstanceDeletionPending",
                            "message": "CustomResourceDefinition marked for deletion; "
                                       "CustomResource deletion will begin soon"},
                      api.clock.timestamp())
        return obj


def _spec(spec: dict[str, Any], names: dict[str, Any]) -> list[Cause]:
    out: list[Cause] = []
    group = spec.get("group")
    if not group:
        out.append(required("spec.group"))
    elif errs := dns1123_subdomain_errors(str(group)):
        out.append(invalid("spec.group", group, ",".join(errs)))
    elif len(str(group).split(".")) < 2:
        out.append(invalid("spec.group", group, "should be a domain with at least one dot"))
    scope = spec.get("scope")
    if not scope:
        out.append(required("spec.scope"))
    elif scope not in SCOPES:
        out.append(not_supported("spec.scope", scope, SCOPES))
    versions = spec.get("versions") if isinstance(spec.get("versions"), list) else []
    storage, seen, unique = 0, set(), True
    for i, version in enumerate(versions):
        version = version if isinstance(version, dict) else {}
        vpath = f"spec.versions[{i}]"
        if version.get("storage"):
            storage += 1
        vname = str(version.get("name", ""))
        if vname in seen:
            unique = False
        seen.add(vname)
        if errs := dns1035_label_errors(vname):
            out.append(invalid(f"{vpath}.name", vname, ",".join(errs)))
        out += _version(version, vpath)
    if not unique:
        out.append(invalid("spec.versions", _go_versions(versions),
                           "must contain unique version names"))
    if storage != 1:
        out.append(invalid("spec.versions", _go_versions(versions),
                           "must have exactly one version marked as storage version"))
    for key in ("plural", "singular", "kind", "listKind"):
        if not names.get(key):
            out.append(required(f"spec.names.{key}"))
    out += _names(names, "spec.names")
    return out


def _names(names: dict[str, Any], path: str) -> list[Cause]:
    out: list[Cause] = []
    for key in ("plural", "singular"):
        value = names.get(key)
        if value and (errs := dns1035_label_errors(str(value))):
            out.append(invalid(f"{path}.{key}", value, ",".join(errs)))
    for key in ("kind", "listKind"):
        value = names.get(key)
        if value and (errs := dns1035_label_errors(str(value).lower())):
            out.append(invalid(f"{path}.{key}", value, "may have mixed case, but should "
                               "otherwise match: " + ",".join(errs)))
    for i, short in enumerate(names.get("shortNames") or []):
        if errs := dns1035_label_errors(str(short)):
            out.append(invalid(f"{path}.shortNames[{i}]", short, ",".join(errs)))
    for i, category in enumerate(names.get("categories") or []):
        if errs := dns1035_label_errors(str(category)):
            out.append(invalid(f"{path}.categories[{i}]", category, ",".join(errs)))
    if names.get("kind") and names.get("kind") == names.get("listKind"):
        out.append(invalid(f"{path}.listKind", names["listKind"],
                           "kind and listKind may not be the same"))
    return out


def _version(version: dict[str, Any], vpath: str) -> list[Cause]:
    out: list[Cause] = []
    schema = dig(version, "schema", "openAPIV3Schema")
    if not isinstance(schema, dict):
        # v1 requires a structural schema for every version.
        out.append(required(f"{vpath}.schema.openAPIV3Schema", "schemas are required"))
    else:
        out += structural_errors(schema, f"{vpath}.schema.openAPIV3Schema")
    scale = dig(version, "subresources", "scale")
    if isinstance(scale, dict):
        spath = f"{vpath}.subresources.scale"
        spec_path = scale.get("specReplicasPath")
        if not spec_path:
            out.append(required(f"{spath}.specReplicasPath"))
        elif not str(spec_path).startswith(".spec."):
            out.append(invalid(f"{spath}.specReplicasPath", spec_path,
                               "should be a json path under .spec"))
        status_path = scale.get("statusReplicasPath")
        if not status_path:
            out.append(required(f"{spath}.statusReplicasPath"))
        elif not str(status_path).startswith(".status."):
            out.append(invalid(f"{spath}.statusReplicasPath", status_path,
                               "should be a json path under .status"))
        selector = scale.get("labelSelectorPath")
        if selector and not str(selector).startswith((".spec.", ".status.")):
            out.append(invalid(f"{spath}.labelSelectorPath", selector,
                               "should be a json path under either .spec or .status"))
    for i, column in enumerate(version.get("additionalPrinterColumns") or []):
        column = column if isinstance(column, dict) else {}
        cpath = f"{vpath}.additionalPrinterColumns[{i}]"
        if not column.get("name"):
            out.append(required(f"{cpath}.name"))
        if not column.get("type"):
            out.append(required(f"{cpath}.type"))
        elif column["type"] not in COLUMN_TYPES:
            out.append(not_supported(f"{cpath}.type", column["type"], COLUMN_TYPES))
        if not column.get("jsonPath"):
            out.append(required(f"{cpath}.jsonPath"))
    return out


def _update(spec: dict[str, Any], old: dict[str, Any], established: bool) -> list[Cause]:
    """ValidateCustomResourceDefinitionSpecUpdate: what can never change, or not once served."""
    immutable = "field is immutable"
    out: list[Cause] = []
    if established:
        if spec.get("scope") != old.get("scope"):
            out.append(invalid("spec.scope", spec.get("scope"), immutable))
        if dig(spec, "names", "kind") != dig(old, "names", "kind"):
            out.append(invalid("spec.names.kind", dig(spec, "names", "kind"), immutable))
    if spec.get("group") != old.get("group"):
        out.append(invalid("spec.group", spec.get("group"), immutable))
    if dig(spec, "names", "plural") != dig(old, "names", "plural"):
        out.append(invalid("spec.names.plural", dig(spec, "names", "plural"), immutable))
    return out


register_strategy(CRDS, CustomResourceDefinitionStrategy())
