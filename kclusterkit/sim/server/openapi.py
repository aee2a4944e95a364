"""A minimal OpenAPI v3 document: enough for kubectl to pick server-side field validation.

kubectl create/apply validate manifests either client-side (downloading the protobuf
OpenAPI v2 document) or, when the server's OpenAPI v3 shows the ``fieldValidation`` query
parameter on a kind's PATCH operation, by asking the server to (``fieldValidation=Strict``).
We advertise the latter and answer it in ``fields``. The PATCH operations deliberately
carry no request body schema, so client-side ``kubectl apply`` computes its strategic merge
patch from kubectl's compiled-in types instead of looking for schemas we do not serve.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from kclusterkit.sim.resources import RESOURCES, Resource
from kclusterkit.sim.server import openapi_bodies

_QUERY = {
    "dryRun": "When present, indicates that modifications should not be persisted.",
    "fieldManager": "fieldManager is a name associated with the actor or entity that is making "
                    "these changes.",
    "fieldValidation": "fieldValidation instructs the server on how to handle objects in the "
                       "request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid "
                       "values are: Ignore, Warn (default), Strict.",
}


def _param(name: str, where: str = "query") -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": where, "schema": {"type": "string",
                                                                   "uniqueItems": True}}
    if where == "path":
        param["required"] = True
    else:
        param["description"] = _QUERY.get(name, "")
    return param


def _op(res: Resource, action: str, op_id: str, writes: bool) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": op_id,
        "responses": {"200": {"description": "OK"}, "401": {"description": "Unauthorized"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": res.group, "version": res.version,
                                            "kind": res.kind},
    }
    if writes:
        op["parameters"] = [_param(n) for n in ("dryRun", "fieldManager", "fieldValidation")]
    return op


def _prefix(res: Resource) -> str:
    return f"/apis/{res.group}/{res.version}" if res.group else f"/api/{res.version}"


def gv_document(group: str, version: str) -> dict[str, Any] | None:
    rows = [r for r in RESOURCES if r.group == group and r.version == version]
    if not rows:
        return None
    paths: dict[str, Any] = {}
    for res in rows:
        base = _prefix(res) + ("/namespaces/{namespace}" if res.namespaced else "")
        params = [_param("namespace", "path")] if res.namespaced else []
        op_base = res.kind
        paths[f"{base}/{res.plural}"] = {
            "get": _op(res, "list", f"list{op_base}", False),
            "post": _op(res, "post", f"create{op_base}", True),
            "parameters": params,
        }
        paths[f"{base}/{res.plural}/{{name}}"] = {
            "get": _op(res, "get", f"read{op_base}", False),
            "put": _op(res, "put", f"replace{op_base}", True),
            "patch": _op(res, "patch", f"patch{op_base}", True),
            "delete": _op(res, "delete", f"delete{op_base}", False),
            "parameters": [*params, _param("name", "path")],
        }
    title = "Kubernetes"
    return {"openapi": "3.0.0", "info": {"title": title, "version": "unversioned"},
            "paths": paths, "components": {"schemas": {}}}


def gv_key(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _hash(doc: dict[str, Any]) -> str:
    return hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest().upper()


def index() -> dict[str, Any]:
    seen: dict[str, dict[str, str]] = {}
    for res in RESOURCES:
        key = gv_key(res.group, res.version)
        if key not in seen:
            doc = gv_document(res.group, res.version)
            assert doc is not None
            seen[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={_hash(doc)}"}
    return {"paths": seen}


def document_for(path: str) -> dict[str, Any] | None:
    """The document for ``/openapi/v3/api/v1`` or ``/openapi/v3/apis/{group}/{version}``."""
    parts = [p for p in path.split("/") if p][2:]
    if parts == [openapi_bodies.PATH]:
        return openapi_bodies.document()
    if len(parts) == 2 and parts[0] == "api":
        return gv_document("", parts[1])
    if len(parts) == 3 and parts[0] == "apis":
        return gv_document(parts[1], parts[2])
    return None
