"""The served simulator's own admin path, ``/kclusterkit/v1/…``, beside the Kubernetes API.

A real cluster's operator stops a node with ``docker stop`` and reads the time off the
wall; neither goes through the API. The simulator's equivalents go through this path so
that a client which only holds the kubeconfig — the real-cluster driver and the
``kclusterkit sim fault`` command it runs as a hook — can use them without reaching into
the server's process:

- ``GET  /kclusterkit/v1/clock``: the cluster's own time (virtual, ``speed`` × the wall
  clock) and seed. A client that finds this path knows its waits run on cluster time; a
  real cluster answers 404 and the wall clock is the cluster's clock.
- ``GET  /kclusterkit/v1/faults``: the faults the simulator offers and their arguments.
- ``POST /kclusterkit/v1/faults/{action}`` with a JSON object of arguments: run one.

The path takes the same bearer token as the API and answers with ``Status`` objects.
It keeps answering while the simulated API server is down, as an operator's shell would.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kclusterkit.sim import faults
from kclusterkit.sim.errors import StatusError
from kclusterkit.sim.server.encoding import json_response

if TYPE_CHECKING:
    from kclusterkit.sim.server.app import SimServer

PREFIX = "/kclusterkit/v1"
MAX_BODY = 64 * 1024


def handles(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def clock(server: SimServer) -> dict[str, Any]:
    cluster_clock = server.cluster.clock
    now = cluster_clock.now
    return {
        "kind": "ClusterClock",
        "apiVersion": "kclusterkit.io/v1",
        "time": cluster_clock.micro_timestamp(now),
        # Seconds since the Unix epoch on the cluster's clock, as a client compares them
        # with the timestamps the cluster writes into objects and logs.
        "unixSeconds": cluster_clock.datetime(now).timestamp(),
        "speed": server.speed,
        "seed": getattr(server.cluster, "seed", None),
    }


def fault_list() -> dict[str, Any]:
    return {
        "kind": "FaultList",
        "apiVersion": "kclusterkit.io/v1",
        "items": [{"name": name, "required": list(f.required), "optional": list(f.optional),
                   "help": f.help} for name, f in sorted(faults.FAULTS.items())],
    }


def _not_found(path: str) -> StatusError:
    return StatusError(404, "NotFound", f"the server could not find the requested resource "
                                        f"({path})")


def _not_allowed(method: str, path: str, allowed: str) -> StatusError:
    err = StatusError(405, "MethodNotAllowed",
                      f"the server does not allow this method on the requested resource "
                      f"({method} {path}; allowed: {allowed})")
    return err


async def handle(server: SimServer, request: web.Request, path: str) -> web.StreamResponse:
    rest = path[len(PREFIX):].strip("/")
    method = request.method
    if rest == "clock":
        if method != "GET":
            raise _not_allowed(method, path, "GET")
        return json_response(clock(server))
    if rest == "faults":
        if method != "GET":
            raise _not_allowed(method, path, "GET")
        return json_response(fault_list())
    if rest.startswith("faults/") and rest.count("/") == 1:
        if method != "POST":
            raise _not_allowed(method, path, "POST")
        action = rest.partition("/")[2]
        args = await _arguments(request)
        faults.apply(server.cluster, action, args)
        server.kick()
        return json_response({"kind": "Status", "apiVersion": "v1", "metadata": {},
                              "status": "Success", "code": 200,
                              "message": f"fault {action} applied"})
    raise _not_found(path)


async def _arguments(request: web.Request) -> dict[str, Any]:
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise StatusError(413, "RequestEntityTooLarge",
                          f"the fault's arguments are larger than {MAX_BODY} bytes")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise StatusError(400, "BadRequest", f"fault arguments: invalid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise StatusError(400, "BadRequest",
                          "fault arguments: expected a JSON object of name: value")
    return body
