"""Discovery documents: which groups, versions and resources the server offers.

kubectl and the kubernetes client resolve every name (``deploy``, ``po``) and every URL
through these documents. We serve legacy discovery only; the aggregated form kubectl asks
for first is answered as plain ``application/json``, which makes it fall back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kclusterkit.sim.resources import RESOURCES, Resource

# Subresource kinds and verbs as upstream's discovery lists them.
_SUBRESOURCES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    # name: (group, version, kind, verbs); "" group/version/kind = the parent's
    "status": ("", "", "", ("get", "patch", "update")),
    "scale": ("autoscaling", "v1", "Scale", ("get", "patch", "update")),
    "log": ("", "", "Pod", ("get",)),
    "exec": ("", "", "PodExecOptions", ("create", "get")),
    "binding": ("", "", "Binding", ("create",)),
    "eviction": ("policy", "v1", "Eviction", ("create",)),
    "finalize": ("", "", "", ("update",)),
    "proxy": ("", "", "", ("create", "delete", "get", "patch", "update")),
    "token": ("authentication.k8s.io", "v1", "TokenRequest", ("create",)),
}


def group_versions(extra: Sequence[Resource] = ()) -> dict[str, list[str]]:
    """Group name → versions served, in table order ("" is the legacy core group);
    ``extra``: the custom resources of Established CRDs, after the built-in groups."""
    out: dict[str, list[str]] = {}
    for res in (*RESOURCES, *extra):
        versions = out.setdefault(res.group, [])
        if res.version not in versions:
            versions.append(res.version)
    return out


def api_versions(server_address: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
        {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


# Groups served beside the registered resources: aggregated APIs (name, versions).
AGGREGATED: list[tuple[str, list[str]]] = [("metrics.k8s.io", ["v1beta1"])]


def api_group_list(extra: Sequence[Resource] = ()) -> dict[str, Any]:
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        _group(name, versions) for name, versions in group_versions(extra).items() if name] + [
        _group(name, versions) for name, versions in AGGREGATED]}


def api_group(name: str, extra: Sequence[Resource] = ()) -> dict[str, Any] | None:
    versions = group_versions(extra).get(name)
    if not name or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def _entry(res: Resource) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": res.plural, "singularName": res.singular,
                             "namespaced": res.namespaced, "kind": res.kind,
                             "verbs": list(res.verbs)}
    if res.short_names:
        entry["shortNames"] = list(res.short_names)
    if res.categories:
        entry["categories"] = list(res.categories)
    return entry


def _sub_entry(res: Resource, sub: str) -> dict[str, Any]:
    group, version, kind, verbs = _SUBRESOURCES.get(sub, ("", "", "", ("get",)))
    if sub == "proxy":
        kind = f"{res.kind}ProxyOptions"
    entry: dict[str, Any] = {"name": f"{res.plural}/{sub}", "singularName": "",
                             "namespaced": res.namespaced, "kind": kind or res.kind,
                             "verbs": list(verbs)}
    if group:
        entry["group"], entry["version"] = group, version
    return entry


def resource_list(group: str, version: str,
                  extra: Sequence[Resource] = ()) -> dict[str, Any] | None:
    rows = [r for r in (*RESOURCES, *extra) if r.group == group and r.version == version]
    if not rows:
        return None
    resources = []
    for res in rows:
        resources.append(_entry(res))
        resources.extend(_sub_entry(res, sub) for sub in res.subresources)
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version, "resources": resources}
