"""What the API server answers a pod that calls https://kubernetes.default.svc itself.

A pod's process (busybox ``wget --header "Authorization: Bearer $TOKEN"``) reaches the API
server through the ``kubernetes`` Service; the request goes through the same
authentication and RBAC as any client, and an allowed read gets the object or list as JSON.
Only reads: the shell's HTTP clients send GETs.
"""

from __future__ import annotations

import json
from typing import Any

from kclusterkit.sim import errors
from kclusterkit.sim.auth.access import request_attributes
from kclusterkit.sim.resources import UnknownResource, for_plural


def _status(err: errors.StatusError) -> tuple[int, str]:
    return err.code, json.dumps(err.status, indent=2)


def answer(cluster: Any, path: str, headers: dict[str, str] | None) -> tuple[int, str] | None:
    """(status, body) for a GET of ``path``; None leaves it to the anonymous defaults."""
    access = getattr(cluster, "access", None)
    if access is None:
        return None
    bare, _, query_text = path.partition("?")
    query = dict(p.partition("=")[::2] for p in query_text.split("&") if p)
    try:
        user = access.authenticate((headers or {}).get("Authorization"))
        attrs = request_attributes(user, "GET", bare, query)
        access.check(attrs)
    except errors.StatusError as exc:
        return _status(exc)
    if not attrs.resource_request:
        return None  # health, version, discovery: the defaults below
    try:
        res = for_plural(attrs.api_group, attrs.resource)
    except UnknownResource:
        return _status(errors.StatusError(404, "NotFound",
                                          "the server could not find the requested resource"))
    try:
        if attrs.name and attrs.verb == "get":
            found = cluster.api.get(res, attrs.namespace if res.namespaced else "", attrs.name)
        else:
            found = cluster.api.list(res, attrs.namespace or None if res.namespaced else None)
    except errors.StatusError as exc:
        return _status(exc)
    return 200, json.dumps(found)
