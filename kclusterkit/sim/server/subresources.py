"""Subresources: status, scale, log, exec, binding, eviction.

Each is a different contract than its parent resource (``scale`` speaks autoscaling/v1
Scale, ``binding`` only sets a node, ``log`` answers text), which is why upstream routes
them separately and so do we.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiohttp import web

from kclusterkit.kube.meta import clone, dig
from kclusterkit.sim import decoding, errors
from kclusterkit.sim import patch as patching
from kclusterkit.sim.errors import StatusError
from kclusterkit.sim.kubelet.logs import LogOptions, render
from kclusterkit.sim.resources import PODS
from kclusterkit.sim.server.encoding import json_response
from kclusterkit.sim.server.params import (
    PATCH_TYPES,
    container_of,
    dry_run,
    flag,
    int_param,
    not_allowed,
)
from kclusterkit.sim.server.paths import Target, not_found_path

if TYPE_CHECKING:
    from kclusterkit.sim.server.rest import Rest


async def handle(rest: Rest, request: web.Request, target: Target) -> web.StreamResponse:
    sub, method = target.sub, request.method
    if sub == "status":
        if method == "GET":
            return rest.get(request, target)
        if method == "PUT":
            return await rest.update(request, target, "status")
        if method == "PATCH":
            return await rest.patch(request, target, "status")
        raise not_allowed()
    if sub == "scale":
        return await _scale(rest, request, target)
    if sub == "log" and method == "GET":
        return await _log(rest, request, target)
    if sub == "exec" and method in ("GET", "POST"):
        from kclusterkit.sim.server import exec as exec_

        return await exec_.handle(rest.server, request, target)
    if sub == "binding" and method == "POST":
        return await _binding(rest, request, target)
    if sub == "eviction" and method == "POST":
        return await _eviction(rest, request, target)
    if sub == "token" and method == "POST":
        from kclusterkit.sim.auth import reviews

        rest.api.check_available()
        answer = reviews.token_request(rest.server.access, target.namespace or "",
                                       target.name or "", await rest.body(request))
        return json_response(answer, 201)
    if sub == "finalize" and method == "PUT":
        return await rest.update(request, target, "status")
    if sub in ("log", "exec", "binding", "eviction", "finalize", "token"):
        raise not_allowed()
    raise not_found_path()


async def _scale(rest: Rest, request: web.Request, target: Target) -> web.Response:
    """autoscaling/v1 Scale: GET, PUT or PATCH, translated to ``Api.update_scale``."""
    api, res = rest.api, target.res
    ns, name = target.namespace or "", target.name or ""
    if request.method == "GET":
        return json_response(api.get_scale(res, ns, name))
    if request.method not in ("PUT", "PATCH"):
        raise not_allowed()
    body = await rest.body(request)
    if request.method == "PUT":
        if not isinstance(body, dict):
            raise errors.bad_request("Scale must be an object")
        scale = body
    else:
        ctype = request.headers.get("Content-Type", "").split(";", 1)[0].strip()
        if ctype not in PATCH_TYPES:
            raise StatusError(415, "UnsupportedMediaType", "the body of the request was in an "
                              "unknown format")
        try:
            scale = patching.apply(clone(api.get_scale(res, ns, name)), body, ctype)
        except patching.PatchError as exc:
            raise StatusError(exc.code, exc.reason, str(exc)) from None
    decoding.check_scale(scale)
    result = api.update_scale(res, ns, name, dig(scale, "spec", "replicas", default=0),
                              dig(scale, "metadata", "resourceVersion"),
                              dry_run=dry_run(request),
                              manager=rest.manager(request, "UpdateOptions"
                                                   if request.method == "PUT" else
                                                   "PatchOptions"))
    rest.server.kick()
    return json_response(result)


def _log_options(rest: Rest, request: web.Request, name: str) -> LogOptions:
    """PodLogOptions from the query, checked as ValidatePodLogOptions does."""
    tail, limit = int_param(request, "tailLines"), int_param(request, "limitBytes")
    since_seconds = int_param(request, "sinceSeconds")
    since_time = request.query.get("sinceTime") or None
    causes: list[tuple[str, str, str]] = []
    if since_seconds is not None and since_time is not None:
        causes.append(("FieldValueForbidden", "",
                       "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified"))
    elif since_seconds is not None and since_seconds < 1:
        causes.append(("FieldValueInvalid", "sinceSeconds",
                       f"Invalid value: {since_seconds}: must be greater than 0"))
    if causes:
        raise errors.invalid("PodLogOptions", "", name, causes)
    clock = rest.server.cluster.clock
    since: float | None = None
    if since_seconds is not None:
        since = clock.now - since_seconds
    elif since_time is not None:
        try:
            when = datetime.fromisoformat(since_time.replace("Z", "+00:00"))
        except ValueError:
            raise errors.bad_request(
                f'sinceTime: parsing time "{since_time}" as "2006-01-02T15:04:05Z07:00": '
                "cannot parse") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        since = (when - clock.epoch).total_seconds()
    return LogOptions(timestamps=flag(request, "timestamps"), since=since, tail=tail,
                      limit_bytes=limit)


async def _log(rest: Rest, request: web.Request, target: Target) -> web.StreamResponse:
    if target.res is not PODS:
        raise not_found_path()
    rest.api.check_available()
    ns, name = target.namespace or "", target.name or ""
    pod = rest.store.must_get(PODS, ns, name)
    container = container_of(pod, request.query.get("container"))
    previous = flag(request, "previous")
    options = _log_options(rest, request, name)
    nodes = rest.server.cluster.nodes
    epoch = rest.server.cluster.clock.epoch
    lines = nodes.log_lines(ns, name, container, previous)
    if not flag(request, "follow") or previous:
        return web.Response(text=render(lines, options, epoch), content_type="text/plain")
    response = web.StreamResponse(headers={"Content-Type": "text/plain"})
    await response.prepare(request)
    await response.write(render(lines, replace(options, limit_bytes=None), epoch).encode())
    sent = len(lines)
    following = replace(options, tail=None, limit_bytes=None)
    while not rest.server.stopping:
        await asyncio.sleep(0.2)
        if rest.store.get(PODS, ns, name) is None or rest.api.unavailable_reason:
            break
        try:
            lines = nodes.log_lines(ns, name, container, False)
        except StatusError:
            break
        if len(lines) > sent:
            await response.write(render(lines[sent:], following, epoch).encode())
            sent = len(lines)
    return response


async def _binding(rest: Rest, request: web.Request, target: Target) -> web.Response:
    """POST pods/NAME/binding, translated to ``Api.bind`` (what the scheduler calls too)."""
    body = await rest.body(request) or {}
    rest.api.bind(target.namespace or "", target.name or "", dig(body, "target", "name") or "")
    rest.server.kick()
    return json_response({"kind": "Status", "apiVersion": "v1", "metadata": {},
                          "status": "Success", "code": 201}, 201)


async def _eviction(rest: Rest, request: web.Request, target: Target) -> web.Response:
    """POST pods/NAME/eviction, translated to ``Api.evict``."""
    body = await rest.body(request) or {}
    rest.api.evict(target.namespace or "", target.name or "", body.get("deleteOptions"),
                   dry_run=dry_run(request))
    rest.server.kick()
    return json_response({"kind": "Status", "apiVersion": "v1", "metadata": {},
                          "status": "Success", "code": 201}, 201)
