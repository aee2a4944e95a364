"""The custom resources one API server serves, and their admission.

Upstream's crdHandler (apiextensions-apiserver pkg/apiserver/customresource_handler.go)
builds a storage and a strategy per served version of every Established CRD; requests for
a group/version/resource no CRD serves get the plain 404. This registry is that table for
one simulated API server (``Api.custom``): built-in kinds stay in ``sim.resources``, which
is shared by every cluster in the process, while custom ones belong to their cluster.

The strategy (customresource/strategy.go, status_strategy.go) splits spec and status when
the CRD declares the status subresource: writes to the main resource keep the stored
status, writes to ``/status`` keep everything but the status (metadata included).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj, clone, dig
from kclusterkit.sim.apiextensions import schema as schemas
from kclusterkit.sim.resources import Resource
from kclusterkit.sim.strategy import Cause, Strategy

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api

GROUP = "apiextensions.k8s.io"
# validation.go ValidateCustomResource: the scale subresource's replicas are an int32.
MAX_INT32 = 2**31 - 1


@dataclass
class Served:
    """One Established CRD: a Resource row per served version and what admission needs."""

    crd_name: str
    uid: str
    storage_version: str
    resources: dict[str, Resource]  # version name → row
    versions: dict[str, dict[str, Any]]  # version name → the CRD's version block
    terminating: bool = False
    strategy: CustomResourceStrategy = field(init=False)

    def __post_init__(self) -> None:
        self.strategy = CustomResourceStrategy(self)

    def version_of(self, obj: Obj) -> dict[str, Any]:
        version = str(obj.get("apiVersion", "")).rpartition("/")[2]
        return self.versions.get(version) or self.versions[self.storage_version]

    def schema_of(self, obj: Obj) -> dict[str, Any] | None:
        found = dig(self.version_of(obj), "schema", "openAPIV3Schema")
        return found if isinstance(found, dict) else None

    @property
    def status_enabled(self) -> bool:
        return "status" in next(iter(self.resources.values())).subresources

    def scale(self, version: str) -> dict[str, Any] | None:
        found = dig(self.versions.get(version) or {}, "subresources", "scale")
        return found if isinstance(found, dict) else None

    def columns(self, version: str) -> list[dict[str, Any]]:
        return list((self.versions.get(version) or {}).get("additionalPrinterColumns") or [])


_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int, str]:
    """apimachinery version/helpers.go CompareKubeAwareVersionStrings as a sort key: GA
    before beta before alpha, higher numbers first, other names last in lexical order."""
    found = _KUBE_VERSION.match(version)
    if found is None:
        return (3, 0, 0, version)
    major, stage, minor = found.groups()
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -int(major), -int(minor or 0), "")


def served_from(crd: Obj) -> Served:
    """What an Established CRD serves: its spec's served versions under its accepted names."""
    spec = crd.get("spec") or {}
    names = dig(crd, "status", "acceptedNames") or spec.get("names") or {}
    group = spec.get("group", "")
    namespaced = spec.get("scope") == "Namespaced"
    resources: dict[str, Resource] = {}
    versions: dict[str, dict[str, Any]] = {}
    storage = ""
    for version in spec.get("versions") or []:
        name = version.get("name", "")
        if version.get("storage"):
            storage = name
        versions[name] = version
        if not version.get("served"):
            continue
        subs = version.get("subresources") or {}
        resources[name] = Resource(
            group, name, names.get("kind", ""), names.get("plural", ""), namespaced,
            tuple(names.get("shortNames") or ()),
            tuple(s for s in ("status", "scale") if s in subs),
            categories=tuple(names.get("categories") or ()))
    return Served(crd["metadata"]["name"], crd["metadata"].get("uid", ""), storage,
                  resources, versions)


class CustomResources:
    """The custom resources an API server serves now, looked up as ``sim.resources`` is."""

    def __init__(self) -> None:
        self._served: dict[str, Served] = {}

    def install(self, served: Served) -> None:
        self._served[served.crd_name] = served

    def remove(self, crd_name: str) -> None:
        self._served.pop(crd_name, None)

    def get(self, crd_name: str) -> Served | None:
        return self._served.get(crd_name)

    def all(self) -> list[Served]:
        return list(self._served.values())

    def resources(self) -> list[Resource]:
        """Every served row; each CRD's versions in discovery's order (preferred first)."""
        return [res for s in self._served.values()
                for res in sorted(s.resources.values(), key=lambda r: version_priority(r.version))]

    def one_per_definition(self) -> list[Resource]:
        """One served resource of each CRD: its objects, whatever the version."""
        return [next(iter(s.resources.values())) for s in self._served.values()
                if s.resources]

    def served_for(self, res: Resource) -> Served | None:
        for served in self._served.values():
            if served.resources.get(res.version) == res:
                return served
        return None

    def for_kind(self, api_version: str, kind: str) -> Resource | None:
        for res in self.resources():
            if res.api_version == api_version and res.kind == kind:
                return res
        return None

    def for_path(self, group: str, version: str, plural: str) -> Resource | None:
        for res in self.resources():
            if (res.group, res.version, res.plural) == (group, version, plural):
                return res
        return None

    def lookup(self, name: str) -> Resource | None:
        """By the names kubectl accepts: kind, plural, singular, short name, plural.group."""
        lowered = name.lower()
        group = ""
        if "." in lowered:
            lowered, group = lowered.split(".", 1)
        for served in self._served.values():
            for res in served.resources.values():
                if group and res.group != group:
                    continue
                if lowered in (res.plural, res.singular, res.kind.lower(), *res.short_names):
                    return res
        return None

    def strategy(self, res: Resource) -> Strategy | None:
        served = self.served_for(res)
        return served.strategy if served is not None else None


class CustomResourceStrategy(Strategy):
    """customResourceStrategy: schema pruning, defaulting and validation; the status split
    only when the CRD declares the status subresource."""

    tracks_generation = True

    def __init__(self, served: Served) -> None:
        self.served = served

    @property  # type: ignore[override]
    def has_status(self) -> bool:  # the class attribute, per CRD
        return self.served.status_enabled

    def admit(self, api: Api, obj: Obj) -> None:
        if self.served.terminating:
            from kclusterkit.sim import errors

            res = next(iter(self.served.resources.values()))
            # customresource_handler.go: a terminating CRD refuses creates (405).
            raise errors.method_not_allowed(
                f'create is not supported on resources of kind "{res.key}"')

    def prepare_create(self, api: Api, obj: Obj) -> None:
        if self.served.status_enabled:
            obj.pop("status", None)

    def prepare_status_update(self, api: Api, obj: Obj, old: Obj) -> None:
        # status_strategy.go: the new object is the old one with the new status only.
        meta = clone(old["metadata"])
        meta["resourceVersion"] = obj["metadata"].get("resourceVersion",
                                                      meta.get("resourceVersion"))
        obj["metadata"] = meta

    def default(self, api: Api, obj: Obj) -> None:
        found = self.served.schema_of(obj)
        schemas.prune(obj, found)
        schemas.default(obj, found)

    def prepare_storage(self, obj: Obj) -> None:
        # Validated in the version it was written in, kept in the storage version: the
        # "None" conversion strategy changes apiVersion only (converter.go nopConverter);
        # reads in another served version get theirs back (sim.conversion.from_storage).
        group = str(obj.get("apiVersion", "")).rpartition("/")[0]
        obj["apiVersion"] = f"{group}/{self.served.storage_version}"

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        causes = schemas.validate(obj, self.served.schema_of(obj))
        version = str(obj.get("apiVersion", "")).rpartition("/")[2]
        scale = self.served.scale(version)
        if scale:
            causes += _scale_errors(obj, scale)
        return causes


def _scale_errors(obj: Obj, scale: dict[str, Any]) -> list[Cause]:
    """validator.go ValidateScaleSpec/ValidateScaleStatus: replicas at the declared paths
    are non-negative int32s."""
    from kclusterkit.sim.validation import invalid

    out: list[Cause] = []
    for key in ("specReplicasPath", "statusReplicasPath"):
        path = scale.get(key)
        if not path:
            continue
        value = dig(obj, *path.lstrip(".").split("."))
        if value is None:
            continue
        field_path = path.lstrip(".")
        if not isinstance(value, int) or isinstance(value, bool):
            # unstructured.NestedInt64's error, reported beside the schema's (as upstream).
            out.append(invalid(field_path, 0, f".{field_path} accessor error: "
                               f"{_go_v(value)} is of the type {_go_type(value)}, "
                               "expected int64"))
        elif value < 0:
            out.append(invalid(field_path, value, "should be a non-negative integer"))
        elif value > MAX_INT32:
            out.append(invalid(field_path, value, f"should be less than or equal to {MAX_INT32}"))
    return out


def scale_of(obj: Obj, scale: dict[str, Any]) -> Obj:
    """A custom object's autoscaling/v1 Scale (customresource/etcd.go scaleFromCustomResource)."""
    meta = obj["metadata"]

    def at(path: str | None) -> Any:
        return dig(obj, *path.lstrip(".").split(".")) if path else None

    replicas = at(scale.get("specReplicasPath"))
    status_replicas = at(scale.get("statusReplicasPath"))
    selector = at(scale.get("labelSelectorPath"))
    out: Obj = {
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": meta["name"], "namespace": meta.get("namespace", ""),
                     "uid": meta["uid"], "resourceVersion": meta["resourceVersion"],
                     "creationTimestamp": meta["creationTimestamp"]},
        "spec": {"replicas": replicas if isinstance(replicas, int) else 0},
        "status": {"replicas": status_replicas if isinstance(status_replicas, int) else 0},
    }
    if isinstance(selector, str) and selector:
        out["status"]["selector"] = selector
    return out


def set_spec_replicas(obj: Obj, scale: dict[str, Any], replicas: int) -> None:
    """Write a Scale's spec.replicas back at the CRD's specReplicasPath."""
    keys = str(scale.get("specReplicasPath", ".spec.replicas")).lstrip(".").split(".")
    node = obj
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[keys[-1]] = replicas


def _go_v(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return schemas.go_number(value)
    if isinstance(value, (dict, list)):
        return "map[...]" if isinstance(value, dict) else "[...]"
    return str(value)


def _go_type(value: Any) -> str:
    """%T of a decoded JSON value."""
    return {bool: "bool", float: "float64", str: "string", dict: "map[string]interface {}",
            list: "[]interface {}"}.get(type(value), "int64")
