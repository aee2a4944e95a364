"""``pods/exec`` over a websocket, in the Kubernetes channel protocol.

kubectl (≥1.30, ``v5.channel.k8s.io``) and ``kubernetes.stream`` (``v4.channel.k8s.io``)
multiplex streams in binary frames whose first byte is the channel: 0 stdin, 1 stdout,
2 stderr, 3 the final Status carrying the exit code, 4 terminal resize, 255 (v5) close.
The simulated container answers the whole command at once, so the server writes stdout,
stderr and the Status, then closes.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from kclusterkit.sim import errors
from kclusterkit.sim.errors import StatusError
from kclusterkit.sim.resources import PODS
from kclusterkit.sim.server.params import container_of
from kclusterkit.sim.server.paths import Target, not_found_path

if TYPE_CHECKING:
    from kclusterkit.sim.server.app import SimServer

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io",
             "v2.channel.k8s.io", "channel.k8s.io")
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
# How long to wait for more stdin once some arrived, with no end-of-stdin signal (v4).
STDIN_IDLE = 0.3


def exit_status(code: int, argv: list[str]) -> dict[str, Any]:
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: command "
                       f"'{' '.join(argv)}' exited with {code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value or "").encode()


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("true", "1")


async def handle(server: SimServer, request: web.Request, target: Target) -> web.StreamResponse:
    if target.res is not PODS:
        raise not_found_path()
    cluster = server.cluster
    cluster.api.check_available()
    ns, name = target.namespace or "", target.name or ""
    pod = cluster.store.must_get(PODS, ns, name)
    container = container_of(pod, request.query.get("container"))
    argv = request.query.getall("command", [])
    if not argv:
        raise errors.bad_request("you must specify at least 1 command")
    nodes = cluster.nodes
    if request.headers.get("Upgrade", "").lower() != "websocket":
        raise errors.bad_request("Upgrade request required")
    ws = web.WebSocketResponse(protocols=PROTOCOLS)
    await ws.prepare(request)
    tty = _flag(request, "tty")
    stdin = await _read_stdin(ws) if _flag(request, "stdin") else None
    try:
        kwargs = {"stdin": stdin} if stdin is not None and _accepts_stdin(nodes.exec) else {}
        code, out, err = nodes.exec(ns, name, container, list(argv), **kwargs)
        status = exit_status(int(code), list(argv))
    except StatusError as exc:
        out, err, status = b"", b"", exc.status
    server.kick()
    out_b, err_b = _bytes(out), _bytes(err)
    if tty:
        out_b, err_b = out_b + err_b, b""
    if out_b and _flag(request, "stdout"):
        await ws.send_bytes(bytes([STDOUT]) + out_b)
    if err_b and _flag(request, "stderr"):
        await ws.send_bytes(bytes([STDERR]) + err_b)
    await ws.send_bytes(bytes([ERROR]) + json.dumps(status).encode())
    await ws.close()
    return ws


def _accepts_stdin(fn: Any) -> bool:
    try:
        return "stdin" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


async def _read_stdin(ws: web.WebSocketResponse) -> bytes:
    """Stdin until the v5 close signal, the socket closing, or a pause after some data."""
    data = b""
    timeout = 2.0
    while True:
        try:
            msg = await ws.receive(timeout=timeout)
        except TimeoutError:
            return data
        except asyncio.CancelledError:
            raise
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING, WSMsgType.ERROR):
            return data
        if msg.type not in (WSMsgType.BINARY, WSMsgType.TEXT):
            continue
        raw = msg.data if isinstance(msg.data, bytes) else msg.data.encode()
        if not raw:
            continue
        if raw[0] == STDIN:
            data += raw[1:]
            timeout = STDIN_IDLE
        elif raw[0] == CLOSE and raw[1:2] == bytes([STDIN]):
            return data
