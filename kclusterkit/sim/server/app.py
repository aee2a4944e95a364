"""The aiohttp application serving one simulated cluster as a Kubernetes API server.

The simulator is single-threaded and driven by its clock; this module owns both: a
background task advances virtual time with wall time × ``speed`` between requests, and
every request handler runs on the same event loop, so the simulation never sees two
callers at once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Any

from aiohttp import web

from kclusterkit.sim import conversion
from kclusterkit.sim.auth import ADMIN, Access, UserInfo
from kclusterkit.sim.auth.access import request_attributes
from kclusterkit.sim.auth.bootstrap import reconcile
from kclusterkit.sim.auth.rbac import Attributes
from kclusterkit.sim.errors import StatusError
from kclusterkit.sim.server import admin, discovery, metrics_api, openapi, paths
from kclusterkit.sim.server.encoding import (
    MAX_BODY_BYTES,
    ObjectCache,
    dumps,
    json_response,
    status_response,
    too_large,
)
from kclusterkit.sim.server.rest import USER, Rest
from kclusterkit.sim.server.watch import Watches
from kclusterkit.sim.store import DELETED

log = logging.getLogger(__name__)

HEALTH = ("/healthz", "/livez", "/readyz")

PUBLIC = (*HEALTH, "/version")
# Longest stretch of simulation work before requests get a turn.
SLICE_SECONDS = 0.05
# Longest sleep between clock steps when nothing is due sooner.
TICK_SECONDS = 0.02
# Wall seconds the clock may fall behind wall time × speed (a loaded machine) before cluster
# time slows down instead: catching up in a burst would race ahead of every watcher.
MAX_LAG_SECONDS = 0.25


class SimServer:
    """One cluster (anything with ``.api .store .clock .nodes .spec``) behind HTTP."""

    def __init__(self, cluster: Any, token: str, speed: float = 1.0, *,
                 require_auth: bool = True) -> None:
        self.cluster = cluster
        self.token = token
        # Over plain HTTP kubectl never sends credentials (clientcmd applies them only with
        # TLS), so a server without certificates has to let anonymous requests in.
        self.require_auth = require_auth
        if getattr(cluster, "access", None) is None:  # a cluster built without one
            cluster.access = Access(cluster, getattr(cluster, "seed", 0))
            cluster.api.access = cluster.access
            reconcile(cluster.api)
            # Nothing creates service accounts in it: run as an API server started with
            # --disable-admission-plugins=ServiceAccount.
            cluster.access.service_account_admission = False
        self.access = cluster.access
        # The admin token authenticates as kubeadm's admin user; service account tokens are
        # signed with a key nobody outside this process knows.
        self.access.admin_token = token
        self.access.signing_key = secrets.token_bytes(32)
        self.speed = speed
        self.address = "127.0.0.1:0"
        self.cache = ObjectCache()
        self.watches = Watches(self)
        self.rest = Rest(self)
        self.stopping = False
        self._kick = asyncio.Event()
        self._ticker: asyncio.Task[None] | None = None
        cluster.store.subscribe_all(self._forget_deleted)
        self.app = web.Application(middlewares=[self._middleware], client_max_size=MAX_BODY_BYTES)
        self.app.router.add_route("*", "/{tail:.*}", self.dispatch)
        self.app.on_startup.append(self._start)
        self.app.on_shutdown.append(self._shutdown)
        self.app.on_cleanup.append(self._cleanup)

    def encode(self, res: Any, obj: Any) -> bytes:
        """A stored object's JSON as ``res``'s version shows it (cached for the version the
        store keeps; another served version is converted on each read)."""
        if conversion.is_storage(res) and obj.get("apiVersion") == res.api_version:
            return self.cache.encode(res.key, obj)
        return dumps(conversion.from_storage(res, obj))

    # -- virtual time -------------------------------------------------------------------
    def kick(self) -> None:
        """Let the clock run now: a write may have scheduled work due immediately."""
        self._kick.set()

    def step(self, target: float) -> None:
        """Run due events up to ``target`` for at most one slice of wall time.

        One event at a time, so requests get their turn between any two events; each event
        is bounded by its component (a ReplicaSet sync creates at most burstReplicas pods, a
        scheduling cycle schedules at most Scheduler.CYCLE_PODS), never by the cluster's size.
        """
        clock = self.cluster.clock
        budget = time.perf_counter() + SLICE_SECONDS
        while True:
            when = clock.next_time()
            if when is None or when > target:
                clock.now = max(clock.now, target)
                return
            clock.run_one()
            if time.perf_counter() > budget:
                return

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        clock = self.cluster.clock
        wall0, virtual0 = loop.time(), clock.now
        while not self.stopping:
            self._kick.clear()
            wall = loop.time()
            target = virtual0 + (wall - wall0) * self.speed
            limit = clock.now + MAX_LAG_SECONDS * self.speed
            if target > limit:  # stalled, or behind on work: slow down, don't race ahead
                wall0, virtual0, target = wall, limit, limit
            try:
                self.step(target)
            except Exception:  # a component bug must not stop the clock for everyone
                log.exception("simulation step failed")
            when = clock.next_time()
            delay = TICK_SECONDS
            if when is not None:
                delay = min(delay, max(0.0, (when - target) / self.speed))
            try:
                await asyncio.wait_for(self._kick.wait(), delay)
            except TimeoutError:
                pass

    async def _start(self, app: web.Application) -> None:
        self._ticker = asyncio.get_running_loop().create_task(self._tick())

    async def _shutdown(self, app: web.Application) -> None:
        self.stopping = True
        self.watches.close_all()

    async def _cleanup(self, app: web.Application) -> None:
        self.stopping = True
        if self._ticker is not None:
            self._ticker.cancel()
            try:
                await self._ticker
            except asyncio.CancelledError:
                pass

    def _forget_deleted(self, event: tuple[int, str, str, Any]) -> None:
        _, etype, key, obj = event
        if etype == DELETED:
            meta = obj["metadata"]
            self.cache.forget(key, meta.get("namespace", ""), meta["name"])

    # -- HTTP ---------------------------------------------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            if request.path not in PUBLIC and not request.path.startswith(HEALTH):
                request[USER] = self.authorize(request)
            return await handler(request)
        except StatusError as exc:
            return status_response(exc, getattr(exc, "headers", None))
        except web.HTTPRequestEntityTooLarge:
            return status_response(too_large())
        except web.HTTPException:
            raise
        except (ConnectionError, asyncio.CancelledError):
            raise
        except Exception as exc:  # upstream answers 500 InternalError with the message
            log.exception("request %s %s failed", request.method, request.path_qs)
            return status_response(StatusError(500, "InternalError",
                                               f"Internal error occurred: {exc}"))

    def authorize(self, request: web.Request) -> UserInfo:
        """Authentication, impersonation and authorization, in the filter chain's order."""
        header = request.headers.get("Authorization", "")
        if not header and not self.require_auth:
            user = ADMIN  # plain HTTP: kubectl sends no credentials, the caller is the admin
        else:
            user = self.access.authenticate(header)
        user = self.access.impersonate(user, request.headers)
        path = request.path
        if admin.handles(path):
            if not self.access.is_admin(user):
                attrs = Attributes(user, request.method.lower(), False, path=path)
                raise self.access.forbidden(attrs, self.access.authorize(attrs))
            return user
        self.access.check(request_attributes(user, request.method, path, request.query))
        return user

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        unavailable = self.cluster.api.unavailable_reason
        if path.startswith(HEALTH):
            if unavailable:
                return web.Response(status=503, text=f"[-]etcd failed: {unavailable}\n")
            return web.Response(text="ok")
        if admin.handles(path):
            return await admin.handle(self, request, path)
        if unavailable:
            self.cluster.api.check_available()
        if path == "/version":
            return json_response(self.version())
        if metrics_api.handles(path):  # the aggregated resource metrics API (metrics-server)
            return json_response(metrics_api.answer(self.cluster, request.method, path,
                                                    request.query))
        if path == "/api":
            return json_response(discovery.api_versions(self.address))
        if path == "/apis":
            return json_response(discovery.api_group_list(self.cluster.api.custom.resources()))
        if path == "/openapi/v3":
            return json_response(openapi.index())
        if path.startswith("/openapi/v3/"):
            doc = openapi.document_for(path)
            if doc is None:
                raise paths.not_found_path()
            return json_response(doc)
        parts = path.strip("/").split("/")
        custom = self.cluster.api.custom.resources()  # served by Established CRDs
        if parts[0] == "api" and len(parts) == 2:
            found = discovery.resource_list("", parts[1], custom)
            if found is None:
                raise paths.not_found_path()
            return json_response(found)
        if parts[0] == "apis" and len(parts) in (2, 3):
            found = (discovery.api_group(parts[1], custom) if len(parts) == 2
                     else discovery.resource_list(parts[1], parts[2], custom))
            if found is None:
                raise paths.not_found_path()
            return json_response(found)
        target = paths.parse(path, self.cluster.api.custom.for_path)
        if target is None:
            raise paths.not_found_path()
        return await self.rest.handle(request, target)

    def version(self) -> dict[str, Any]:
        git_version = self.cluster.spec.kubernetes_version
        major, _, rest = git_version.lstrip("v").partition(".")
        minor = rest.split(".", 1)[0]
        return {"major": major, "minor": minor, "emulationMajor": major, "emulationMinor": minor,
                "minCompatibilityMajor": major, "minCompatibilityMinor": minor,
                "gitVersion": git_version, "gitCommit": "0" * 40, "gitTreeState": "clean",
                "buildDate": "2025-09-09T00:00:00Z", "goVersion": "go1.24.6",
                "compiler": "gc", "platform": "linux/amd64"}
