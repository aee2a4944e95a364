"""JSON in and out of the HTTP server, with serialized objects cached per resourceVersion.

Stored objects never change once stored (the store's contract), so an object's JSON is a
pure function of its identity and resourceVersion. Lists of a thousand pods are the hot
path of every informer and ``kubectl get``; joining cached bytes keeps them cheap.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from kclusterkit.kube.meta import Obj
from kclusterkit.safe_yaml import MAX_DEPTH
from kclusterkit.sim.errors import StatusError

JSON = "application/json"
# apiserver's MaxRequestBodyBytes (server/config.go): a write body beyond it is refused.
MAX_BODY_BYTES = 3 * 1024 * 1024
PROTOBUF = "application/vnd.kubernetes.protobuf"


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class ObjectCache:
    """Serialized stored objects keyed by (resource key, namespace, name) and revision."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, str], tuple[str, int, bytes]] = {}

    def encode(self, key: str, obj: Obj) -> bytes:
        meta = obj["metadata"]
        ident = (key, meta.get("namespace", ""), meta["name"])
        rv = meta.get("resourceVersion", "")
        hit = self._cache.get(ident)
        # The id check guards against a DELETED event's copy sharing the last revision.
        if hit is not None and hit[0] == rv and hit[1] == id(obj):
            return hit[2]
        data = dumps(obj)
        self._cache[ident] = (rv, id(obj), data)
        return data

    def forget(self, key: str, namespace: str, name: str) -> None:
        self._cache.pop((key, namespace, name), None)

    def __len__(self) -> int:
        return len(self._cache)


def json_response(body: Any, status: int = 200,
                  headers: dict[str, str] | None = None) -> web.Response:
    data = body if isinstance(body, bytes) else dumps(body)
    return web.Response(body=data, status=status, content_type=JSON, headers=headers)


def status_response(err: StatusError, headers: dict[str, str] | None = None) -> web.Response:
    return json_response(err.status, err.code, headers)


def parse_body(raw: bytes, content_type: str) -> Any:
    """Decode a request body: JSON, or YAML for apply patches and YAML-speaking clients."""
    if not raw.strip():
        return None
    ctype = content_type.split(";", 1)[0].strip().lower()
    if ctype == PROTOBUF or raw.startswith(b"k8s\x00"):
        from kclusterkit.sim.server import protobuf

        try:
            decoded = protobuf.decode(raw)
        except (protobuf.ProtobufError, UnicodeDecodeError) as exc:
            raise StatusError(400, "BadRequest", f"error decoding protobuf: {exc}") from None
        if decoded is not None:
            return decoded
        # Knowingly unsupported: other protobuf bodies (client-go typed clients, e.g. `kubectl
        # create deployment`) get the 415 upstream gives for a media type it does not serve.
        raise StatusError(415, "UnsupportedMediaType",
                          'the body of the request was in an unknown format - accepted media '
                          'types include: application/json, application/yaml (the kclusterkit '
                          'simulator does not decode protobuf, which kubectl create '
                          '<generator> sends: write the object to a file and kubectl apply -f '
                          'it)')
    if ctype.endswith("yaml"):
        from kclusterkit import safe_yaml

        try:
            return safe_yaml.load(raw)
        except safe_yaml.Error as exc:
            raise StatusError(400, "BadRequest", f"error decoding YAML: {exc}") from None
    try:
        value = json.loads(raw)
    except RecursionError:
        value = None
        too_deep = True
    except ValueError as exc:
        raise StatusError(400, "BadRequest",
                          f"couldn't get version/kind; json parse error: {exc}") from None
    else:
        too_deep = _deeper_than(value, MAX_DEPTH)
    if too_deep:
        # Go's decoder stops at 10,000 levels ("exceeded max depth"); every walker here is
        # recursive, so the bound is the YAML loader's (knowingly lower than upstream's).
        raise StatusError(400, "BadRequest", "couldn't get version/kind; json parse error: "
                          f"exceeded max depth of {MAX_DEPTH}")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than ``limit`` levels (iteratively)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children
                         if isinstance(child, (dict, list)))
    return False


def too_large() -> StatusError:
    """errors.NewRequestEntityTooLargeError as handlers/rest.go limitedReadBody words it."""
    return StatusError(413, "RequestEntityTooLarge",
                       f"Request entity too large: limit is {MAX_BODY_BYTES}")


def wants_table(accept: str) -> bool:
    """True when the client asks for a meta.k8s.io Table (``kubectl get``'s human output)."""
    for part in accept.split(","):
        params = {p.split("=", 1)[0].strip(): p.split("=", 1)[1].strip()
                  for p in part.split(";")[1:] if "=" in p}
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io":
            return True
    return False
