"""The REST verbs over one resource: get, list, create, update, patch, delete, collections.

Handlers translate HTTP (query parameters, content types, status codes) into calls on the
simulator's ``Api`` and back; admission and storage semantics stay in ``Api`` so the HTTP
path and the in-process driver cannot drift apart.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kclusterkit.kube.meta import clone
from kclusterkit.sim import conversion, errors, fieldmanager
from kclusterkit.sim import patch as patching
from kclusterkit.sim.apiextensions.schema import prune
from kclusterkit.sim.auth import ADMIN, UserInfo, escalation, reviews
from kclusterkit.sim.errors import StatusError
from kclusterkit.sim.resources import Resource
from kclusterkit.sim.server import fields, tables
from kclusterkit.sim.server.encoding import dumps, json_response, parse_body, wants_table
from kclusterkit.sim.server.params import PATCH_TYPES, dry_run, flag
from kclusterkit.sim.server.params import int_param as _int_param
from kclusterkit.sim.server.params import not_allowed as _not_allowed
from kclusterkit.sim.server.params import selectors as _selectors
from kclusterkit.sim.server.paths import Target, not_found_path

if TYPE_CHECKING:
    from kclusterkit.sim.server.app import SimServer

# Where a request's authenticated (and impersonated) user is kept for the handlers.
USER = web.RequestKey("user", UserInfo)
# Registries that answer a completed DELETE with the object rather than a Status.
RETURN_DELETED = ("pods", "services")
# -- continue tokens --------------------------------------------------------------------
def encode_continue(rv: int, namespace: str, name: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": f"{namespace}/{name}\x00"})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(data, dict) or not isinstance(data.get("start"), str):
            raise TypeError("start is not a string")
        ns, _, name = data["start"].rstrip("\x00").partition("/")
        return int(data["rv"]), (ns, name)
    except (ValueError, KeyError, TypeError, RecursionError):
        raise errors.bad_request("continue key is not valid: incorrect encoded start "
                                 "resourceVersion (version meta.k8s.io/v1)") from None


class Rest:
    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.api = server.cluster.api
        self.store = server.cluster.store

    # -- entry --------------------------------------------------------------------------
    async def handle(self, request: web.Request, target: Target) -> web.StreamResponse:
        method = request.method
        res = target.res
        if res.namespaced and target.namespace is None and target.name is not None:
            raise not_found_path()
        if target.sub is not None:
            return await self.subresource(request, target)
        if reviews.handles(res):
            if method != "POST" or target.name is not None:
                raise _not_allowed("POST")
            body = await self._body(request)
            answer = reviews.create(self.server.access, self.user(request), res, body,
                                    target.namespace or "")
            return json_response(answer, 201)
        if target.name is None:
            if method == "GET":
                if target.legacy_watch or flag(request, "watch"):
                    return await self.server.watches.serve(request, target)
                return self.list(request, target)
            if method == "POST":
                if res.namespaced and target.namespace is None:
                    raise _not_allowed("GET")
                return await self.create(request, target)
            if method == "DELETE":
                return await self.delete_collection(request, target)
            raise _not_allowed("GET", "POST", "DELETE")
        if target.legacy_watch:
            if method != "GET":
                raise _not_allowed("GET")
            return await self.server.watches.serve(request, target)
        if method == "GET":
            return self.get(request, target)
        if method == "PUT":
            return await self.update(request, target, None)
        if method == "PATCH":
            return await self.patch(request, target, None)
        if method == "DELETE":
            return await self.delete(request, target)
        raise _not_allowed("GET", "PUT", "PATCH", "DELETE")

    @staticmethod
    def user(request: web.Request) -> UserInfo:
        """Who the request is, as the server's authentication filter found it."""
        found = request.get(USER)
        return found if isinstance(found, UserInfo) else ADMIN

    def manager(self, request: web.Request, options: str) -> str:
        """The request's field manager: ``?fieldManager=``, else its User-Agent's prefix
        (managerOrUserAgent, handlers/create.go); checked as ValidateFieldManager does."""
        given = request.query.get("fieldManager", "")
        if not given:
            return fieldmanager.manager_from_user_agent(request.headers.get("User-Agent", ""))
        problem = None
        if len(given.encode()) > fieldmanager.MAX_MANAGER_LENGTH:
            problem = f"Too long: may not be more than {fieldmanager.MAX_MANAGER_LENGTH} bytes"
        else:
            bad = next(((i, ch) for i, ch in enumerate(given) if not ch.isprintable()), None)
            if bad is not None:
                problem = (f"Invalid value: {json.dumps(given)}: invalid character "
                           f"U+{ord(bad[1]):04X} (at position {bad[0]})")
        if problem:
            raise errors.StatusError(422, "Invalid", f'{options}.meta.k8s.io "" is invalid: '
                                     f"fieldManager: {problem}",
                                     {"group": "meta.k8s.io", "kind": options, "causes": [
                                         {"reason": "FieldValueInvalid"
                                          if problem.startswith("Invalid") else
                                          "FieldValueTooLong", "message": problem,
                                          "field": "fieldManager"}]})
        return given

    def check_escalation(self, request: web.Request, res: Resource, obj: Any) -> None:
        escalation.check(self.server.access, self.user(request), res, obj)

    async def body(self, request: web.Request) -> Any:
        """The request's decoded body, read as every handler reads it."""
        return await self._body(request)

    async def subresource(self, request: web.Request, target: Target) -> web.StreamResponse:
        from kclusterkit.sim.server import subresources

        return await subresources.handle(self, request, target)

    # -- reads --------------------------------------------------------------------------
    def get(self, request: web.Request, target: Target) -> web.Response:
        self.api.check_available()
        obj = self.store.must_get(target.res, target.namespace or "", target.name or "")
        if wants_table(request.headers.get("Accept", "")):
            return json_response(tables.table(self.server.cluster, target.res, [obj],
                                              request.query.get("includeObject", "Metadata")))
        return json_response(self.server.encode(target.res, obj))

    def list(self, request: web.Request, target: Target) -> web.Response:
        self.api.check_available()
        res = target.res
        labels, fields_ = _selectors(request, res)
        revision = self.store.revision
        rv = request.query.get("resourceVersion", "")
        match = request.query.get("resourceVersionMatch", "")
        if match and match not in ("Exact", "NotOlderThan"):
            raise errors.bad_request(f'resourceVersionMatch: Unsupported value: "{match}"')
        if match and not rv:
            raise errors.bad_request("resourceVersionMatch is forbidden unless resourceVersion "
                                     "is provided")
        if rv and rv != "0":
            try:
                wanted = int(rv)
            except ValueError:
                raise errors.bad_request(f'invalid resource version "{rv}"') from None
            if wanted > revision:
                raise StatusError(504, "Timeout", f"Too large resource version: {wanted}, "
                                  f"current resource version: {revision}",
                                  {"causes": [{"reason": "ResourceVersionTooLarge",
                                               "message": "Too large resource version"}],
                                   "retryAfterSeconds": 1})
            if match == "Exact" and wanted != revision:
                # Knowingly different: the store keeps no snapshots, only the present.
                raise errors.gone(f"too old resource version: {wanted} ({revision})")
        items = self.store.list(res, target.namespace, labels, fields_)
        token = request.query.get("continue", "")
        if token:
            revision, start = decode_continue(token)
            items = [o for o in items
                     if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > start]
        limit = _int_param(request, "limit")
        meta: dict[str, Any] = {"resourceVersion": str(revision)}
        if limit and limit > 0 and len(items) > limit:
            last = items[limit - 1]["metadata"]
            meta["continue"] = encode_continue(revision, last.get("namespace", ""), last["name"])
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        if wants_table(request.headers.get("Accept", "")):
            table = tables.table(self.server.cluster, res, items,
                                 request.query.get("includeObject", "Metadata"))
            table["metadata"] = meta
            return json_response(table)
        encode = self.server.encode
        head = dumps({"kind": f"{res.kind}List", "apiVersion": res.api_version,
                      "metadata": meta})[:-1]
        body = b"".join((head, b',"items":[', b",".join(encode(res, o) for o in items),
                         b"]}"))
        return json_response(body)

    # -- writes -------------------------------------------------------------------------
    async def _body(self, request: web.Request) -> Any:
        raw = await request.read()
        return parse_body(raw, request.headers.get("Content-Type", "application/json"))

    def _object_body(self, body: Any, res: Resource) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise errors.bad_request("Object 'Kind' is missing in the request body")
        body.setdefault("apiVersion", res.api_version)
        body.setdefault("kind", res.kind)
        if body["apiVersion"] != res.api_version:
            raise errors.bad_request(
                f"the API version in the data ({body['apiVersion']}) does not match the expected "
                f"API version ({res.api_version})")
        if body["kind"] != res.kind:
            raise errors.bad_request(
                f"the kind in the data ({body['kind']}) does not match the expected kind "
                f"({res.kind})")
        if not isinstance(body.get("metadata", {}), dict):
            raise errors.bad_request("metadata must be an object")
        return body

    def _validation_headers(self, request: web.Request, res: Resource, body: Any,
                            patch_type: str | None = None) -> dict[str, str]:
        """Unknown fields as ``fieldValidation`` wants them: error, warnings or nothing."""
        mode = request.query.get("fieldValidation") or "Warn"  # upstream's default
        if mode not in ("Strict", "Warn", "Ignore"):
            raise errors.bad_request(
                f'fieldValidation: Unsupported value: "{mode}": supported values: '
                '"Ignore", "Strict", "Warn"')
        if mode == "Ignore" or patch_type == patching.JSON_PATCH:
            return {}
        unknown = fields.unknown_fields(res, body)
        served = self.api.custom.served_for(res)
        if served is not None and isinstance(body, dict):  # what the CRD's schema prunes
            unknown = prune(clone(body), served.schema_of(body))
        if not unknown:
            return {}
        if mode == "Strict":
            text = ", ".join(f'unknown field "{f}"' for f in unknown)
            raise errors.bad_request(f"strict decoding error: {text}")
        # Field names come from the body: no control character may reach a header (Go's
        # net/http writes a header's newlines as spaces; aiohttp refuses the response).
        return {"Warning": _header_safe(", ".join(f'299 - "unknown field \\"{f}\\""'
                                                 for f in unknown))}

    async def create(self, request: web.Request, target: Target) -> web.Response:
        body = self._object_body(await self._body(request), target.res)
        headers = self._validation_headers(request, target.res, body)
        if target.namespace and isinstance(body.get("metadata"), dict):
            body["metadata"].setdefault("namespace", target.namespace)
        self.check_escalation(request, target.res, body)
        created = self.api.create(body, target.namespace or None, dry_run=dry_run(request),
                                  decode=True, manager=self.manager(request, "CreateOptions"))
        self.server.kick()
        return json_response(created, 201, headers)

    async def update(self, request: web.Request, target: Target, sub: str | None) -> web.Response:
        body = self._object_body(await self._body(request), target.res)
        name = body.setdefault("metadata", {}).get("name")
        if name != target.name:
            raise errors.bad_request(f"the name of the object ({name}) does not match the name "
                                     f"on the URL ({target.name})")
        rv = body["metadata"].get("resourceVersion") if isinstance(body["metadata"], dict) else None
        if isinstance(rv, str) and rv and not rv.isdigit():
            # The storage versioner parses it as an unsigned integer (api_object_versioner.go);
            # upstream's update path lets the raw strconv error through as a 500, its read
            # paths answer a 400 in this form: we answer the 400.
            raise errors.bad_request(f'resourceVersion: Invalid value: "{rv}": '
                                     f'strconv.ParseUint: parsing "{rv}": invalid syntax')
        headers = self._validation_headers(request, target.res, body)
        if target.namespace:
            body["metadata"].setdefault("namespace", target.namespace)
        self.check_escalation(request, target.res, body)
        updated = self.api.update(body, target.namespace or None, subresource=sub,
                                  dry_run=dry_run(request), decode=True,
                                  manager=self.manager(request, "UpdateOptions"))
        self.server.kick()
        return json_response(updated, 200, headers)

    async def patch(self, request: web.Request, target: Target, sub: str | None) -> web.Response:
        ctype = request.headers.get("Content-Type", "").split(";", 1)[0].strip()
        if ctype not in PATCH_TYPES:
            raise StatusError(415, "UnsupportedMediaType",
                              f'the body of the request was in an unknown format - accepted '
                              f'media types include: {", ".join(PATCH_TYPES)}')
        body = await self._body(request)
        res, ns, name = target.res, target.namespace or "", target.name or ""
        headers = self._validation_headers(request, res, body, ctype)
        dry = dry_run(request)
        _check_name(body, name, ns)
        # ValidatePatchOptions (apimachinery's validation.go), before the object is read.
        force = flag(request, "force")
        if ctype == patching.APPLY_PATCH:
            if not request.query.get("fieldManager"):
                raise errors.StatusError(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: '
                                         "fieldManager: Required value: is required for apply "
                                         "patch", {"group": "meta.k8s.io", "kind": "PatchOptions",
                                                   "causes": [{"reason": "FieldValueRequired",
                                                               "message": "Required value: is "
                                                               "required for apply patch",
                                                               "field": "fieldManager"}]})
            # The applied configuration is a whole object of the resource's kind.
            body = self._object_body(body, res)
        elif "force" in request.query:
            raise errors.StatusError(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: '
                                     "force: Forbidden: may not be specified for non-apply patch")
        manager = self.manager(request, "PatchOptions")
        creating = ctype == patching.APPLY_PATCH and sub is None and \
            self.store.get(res, ns, name) is None
        if res.group == escalation.RBAC:  # what the patch would write, checked first
            self.check_escalation(request, res, self.api.patch(
                res, ns, name, clone(body), ctype, subresource=sub, dry_run=True,
                manager=manager, force=force))
        patched = self.api.patch(res, ns, name, body, ctype, subresource=sub, dry_run=dry,
                                 manager=manager, force=force)
        self.server.kick()
        return json_response(patched, 201 if creating else 200, headers)

    async def _delete_options(self, request: web.Request) -> dict[str, Any]:
        body = await self._body(request) or {}
        if not isinstance(body, dict):
            raise errors.bad_request("DeleteOptions must be an object")
        grace = body.get("gracePeriodSeconds")
        if "gracePeriodSeconds" in request.query:
            grace = _int_param(request, "gracePeriodSeconds")
        propagation = request.query.get("propagationPolicy") or body.get("propagationPolicy")
        orphan = body.get("orphanDependents")
        if "orphanDependents" in request.query:
            orphan = flag(request, "orphanDependents")
        if propagation is None and orphan is not None:
            propagation = "Orphan" if orphan else "Background"
        if propagation not in (None, "Orphan", "Background", "Foreground"):
            raise errors.StatusError(422, "Invalid", "DeleteOptions.meta.k8s.io \"\" is invalid: "
                                     f'propagationPolicy: Unsupported value: "{propagation}": '
                                     'supported values: "Foreground", "Background", "Orphan", '
                                     '"nil"')
        dry = dry_run(request) or body.get("dryRun") == ["All"]
        return {"grace_period": grace, "propagation": propagation,
                "preconditions": body.get("preconditions") or None, "dry_run": dry}

    async def delete(self, request: web.Request, target: Target) -> web.Response:
        options = await self._delete_options(request)
        before = self.store.get(target.res, target.namespace or "", target.name or "")
        result = self.api.delete(target.res, target.namespace or "", target.name or "",
                                 **options)
        self.server.kick()
        if result.get("kind") == "Status":
            if target.res.key in RETURN_DELETED and before is not None:
                # Upstream's pod and service registries set ReturnDeletedObject.
                return json_response(before, 200)
            result.setdefault("code", 200)
        return json_response(result, 200)

    async def delete_collection(self, request: web.Request, target: Target) -> web.Response:
        self.api.check_available()
        options = await self._delete_options(request)
        res = target.res
        labels, fields_ = _selectors(request, res)
        victims = self.store.list(res, target.namespace, labels, fields_)
        out = []
        for obj in victims:
            meta = obj["metadata"]
            try:
                result = self.api.delete(res, meta.get("namespace", ""), meta["name"], **options)
            except StatusError as exc:
                if exc.code == 404:
                    continue
                raise
            out.append(result if result.get("kind") != "Status" else obj)
        self.server.kick()
        return json_response({"kind": f"{res.kind}List", "apiVersion": res.api_version,
                              "metadata": {"resourceVersion": str(self.store.revision)},
                              "items": [conversion.from_storage(res, clone(o)) for o in out]})


def _header_safe(text: str) -> str:
    return "".join(" " if ord(ch) < 0x20 or ord(ch) == 0x7F else ch for ch in text)


def _check_name(body: Any, name: str, namespace: str) -> None:
    """handlers/rest.go checkName: a patch may not move an object to another name."""
    meta = body.get("metadata") if isinstance(body, dict) else None
    if not isinstance(meta, dict):
        return
    if "name" in meta and meta["name"] != name:
        raise errors.bad_request(f"the name of the object ({meta['name']}) does not match the "
                                 f"name on the URL ({name})")
    if namespace and meta.get("namespace") and meta["namespace"] != namespace:
        raise errors.bad_request(f"the namespace of the object ({meta['namespace']}) does not "
                                 f"match the namespace on the URL ({namespace})")



