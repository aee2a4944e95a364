"""An OpenAPI v3 document with request-body schemas for every served kind, for fuzzers.

``/openapi/v3/{group-version}`` is shaped for kubectl, and deliberately carries no schemas
(see ``openapi``): kubectl computes strategic merge patches from a server's schemas when it
finds them, and ours lack the patch directives. Fuzzers such as schemathesis need the
opposite: every operation with a body schema to build from. This document, at
``/openapi/v3/kclusterkit-all`` and not listed in the ``/openapi/v3`` index (so kubectl
never reads it), describes all served kinds in one place, with schemas generated from the
same Go types the server decodes bodies into (``kclusterkit.sim.api_types``). Watches are
left out: a fuzzer cannot end a stream.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from kclusterkit.sim.api_types import ROOTS, STRUCTS
from kclusterkit.sim.resources import RESOURCES, Resource

PATH = "kclusterkit-all"
_INT = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_QUERY_STRINGS = ("labelSelector", "fieldSelector", "continue", "resourceVersion",
                  "resourceVersionMatch", "fieldManager", "fieldValidation", "dryRun",
                  "propagationPolicy")
_QUERY_INTS = ("limit", "gracePeriodSeconds")
# Path parameters a fuzzer should mostly get right, or every request is a 404: one namespace
# that exists, and short DNS-1123 names (so creates and the reads after them meet).
_NAMESPACE = {"type": "string", "enum": ["default"]}
_NAME = {"type": "string", "pattern": "^[a-z]([-a-z0-9]{0,6}[a-z0-9])?$"}


def _schema(ftype: str) -> dict[str, Any]:
    if ftype.startswith("@"):
        return {"$ref": f"#/components/schemas/{ftype[1:]}"}
    if ftype == "[]byte":
        return {"type": "string", "format": "byte"}
    if ftype.startswith("[]"):
        return {"type": "array", "items": _schema(ftype[2:])}
    if ftype.startswith("map[string]"):
        return {"type": "object", "additionalProperties": _schema(ftype[len("map[string]"):])}
    if ftype in _INT:
        low, high = _INT[ftype]
        return {"type": "integer", "format": ftype, "minimum": low, "maximum": high}
    return {"string": {"type": "string"}, "bool": {"type": "boolean"},
            "float64": {"type": "number"},
            "Time": {"type": "string", "format": "date-time"},
            "Quantity": {"oneOf": [{"type": "string"}, {"type": "number"}]}}.get(ftype, {})


def _components() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model, (_, fields) in STRUCTS.items():
        schemas[model] = {"type": "object",
                          "properties": {name: _schema(t) for name, t in fields.items()}}
    meta = schemas["V1ObjectMeta"]["properties"]
    meta["name"], meta["namespace"] = _NAME, _NAMESPACE
    schemas["JSONPatch"] = {"type": "array", "items": {
        "type": "object", "required": ["op", "path"],
        "properties": {"op": {"type": "string", "enum": ["add", "remove", "replace", "move",
                                                           "copy", "test"]},
                       "path": {"type": "string"}, "from": {"type": "string"}, "value": {}}}}
    return schemas


def _params(names: tuple[str, ...], ints: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return ([{"name": n, "in": "query", "schema": {"type": "string"}} for n in names]
            + [{"name": n, "in": "query", "schema": {"type": "integer"}} for n in ints])


def _body(model: str, patch: bool = False) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{model}"}
    if not patch:
        return {"required": True, "content": {"application/json": {"schema": ref}}}
    return {"required": True, "content": {
        "application/merge-patch+json": {"schema": ref},
        "application/strategic-merge-patch+json": {"schema": ref},
        "application/json-patch+json": {"schema": {"$ref": "#/components/schemas/JSONPatch"}},
    }}


def _op(op_id: str, *, params: list[dict[str, Any]] | None = None,
        body: dict[str, Any] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": op_id, "responses": {
        "200": {"description": "OK"}, "201": {"description": "Created"},
        "default": {"description": "a Status"}}}
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = body
    return op


def _paths(res: Resource, model: str) -> dict[str, Any]:
    prefix = f"/apis/{res.group}/{res.version}" if res.group else f"/api/{res.version}"
    base = prefix + ("/namespaces/{namespace}" if res.namespaced else "")
    path_params = [{"name": "namespace", "in": "path", "required": True,
                    "schema": _NAMESPACE}] if res.namespaced else []
    name_param = {"name": "name", "in": "path", "required": True, "schema": _NAME}
    group = res.group.replace(".", "_") or "core"
    kind = f"{group}_{res.version}_{res.kind}"
    write = _params(("dryRun", "fieldManager", "fieldValidation"))
    return {
        f"{base}/{res.plural}": {
            "parameters": path_params,
            "get": _op(f"list_{kind}", params=_params(_QUERY_STRINGS[:5], ("limit",))),
            "post": _op(f"create_{kind}", params=write, body=_body(model)),
            "delete": _op(f"deletecollection_{kind}", params=_params(
                ("labelSelector", "fieldSelector", "propagationPolicy", "dryRun"),
                ("gracePeriodSeconds",))),
        },
        f"{base}/{res.plural}/{{name}}": {
            "parameters": [*path_params, name_param],
            "get": _op(f"read_{kind}", params=_params(("resourceVersion",))),
            "put": _op(f"replace_{kind}", params=write, body=_body(model)),
            "patch": _op(f"patch_{kind}", params=write, body=_body(model, patch=True)),
            "delete": _op(f"delete_{kind}", params=_params(
                ("propagationPolicy", "dryRun"), ("gracePeriodSeconds",))),
        },
    }


@cache
def document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for res in RESOURCES:
        model = ROOTS.get(f"{res.api_version}/{res.kind}")
        if model is not None:
            paths.update(_paths(res, model))
    return {"openapi": "3.0.3",
            "info": {"title": "kclusterkit simulated cluster (request bodies for fuzzers)",
                     "version": "unversioned"},
            "paths": paths,
            "components": {"schemas": _components(),
                           "securitySchemes": {"BearerToken": {"type": "http",
                                                               "scheme": "bearer"}}},
            "security": [{"BearerToken": []}]}
