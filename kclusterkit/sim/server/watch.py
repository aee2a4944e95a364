"""Watch streams: newline-delimited ``{"type","object"}`` JSON, as upstream's watch cache.

Every informer, ``kubectl rollout status`` and ``kubectl get -w`` sits on these streams.
The semantics follow the cacher: a selector-filtered watch turns an object that stops
matching into DELETED (carrying its previous state at the new resourceVersion), and a
BOOKMARK is sent only when the stream has caught up with the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kclusterkit.kube.meta import Obj, fields_match, labels_match
from kclusterkit.sim import conversion
from kclusterkit.sim.errors import StatusError
from kclusterkit.sim.server import tables
from kclusterkit.sim.server.encoding import dumps, wants_table
from kclusterkit.sim.server.params import flag, int_param, selectors
from kclusterkit.sim.server.paths import Target
from kclusterkit.sim.store import ADDED, DELETED, MODIFIED

if TYPE_CHECKING:
    from kclusterkit.sim.server.app import SimServer

# Upstream sends bookmarks about once a minute; informers only need them now and then.
BOOKMARK_SECONDS = 10.0
# Upstream picks a random timeout in [minRequestTimeout, 2×minRequestTimeout), 1800 s.
DEFAULT_TIMEOUT = 1800.0
Item = tuple[str, Obj, Obj | None] | None


class Watches:
    def __init__(self, server: SimServer) -> None:
        self.server = server
        self._queues: set[asyncio.Queue[Item]] = set()

    def close_all(self) -> None:
        for queue in list(self._queues):
            queue.put_nowait(None)

    @property
    def active(self) -> int:
        return len(self._queues)

    async def serve(self, request: web.Request, target: Target) -> web.StreamResponse:
        cluster = self.server.cluster
        cluster.api.check_available()
        store, res = cluster.store, target.res
        # Every parameter is checked before the 200 and the stream start (a 400 Status).
        labels, fields = selectors(request, res)
        int_param(request, "timeoutSeconds")
        if target.name is not None:
            fields = [*fields, ("metadata.name", True, target.name)]
        namespace = target.namespace if res.namespaced else None

        def matches(obj: Obj) -> bool:
            meta = obj["metadata"]
            if namespace is not None and meta.get("namespace") != namespace:
                return False
            if labels and not labels_match(meta.get("labels"), labels):
                return False
            return not fields or fields_match(obj, fields)

        rv = request.query.get("resourceVersion", "")
        initial: list[Item] = []
        error: StatusError | None = None
        send_initial = request.query.get("sendInitialEvents", "").lower() == "true"
        floor = 0
        if rv not in ("", "0"):
            if not rv.isdigit():
                raise StatusError(400, "BadRequest", f'invalid resource version "{rv}"')
            floor = int(rv)
        if send_initial or rv in ("", "0"):
            initial = [(ADDED, o, None) for o in store.list(res, namespace, labels, fields)]
        else:
            try:
                initial = [(etype, obj, None) for _, etype, _, obj in
                           store.events_since(floor, res)]
            except StatusError as exc:
                error = exc
        queue: asyncio.Queue[Item] = asyncio.Queue()

        def enqueue(etype: str, obj: Obj, old: Obj | None) -> None:
            # A watch from a resourceVersion the store has not reached yet waits for it, as
            # the cacher's watchers do: never an event at or before the requested version.
            if floor and int(obj["metadata"]["resourceVersion"]) <= floor:
                return
            queue.put_nowait((etype, obj, old))

        unsubscribe: Callable[[], None] = store.subscribe(res, enqueue)
        self._queues.add(queue)
        try:
            return await self._stream(request, target, queue, initial, error, matches,
                                      send_initial)
        finally:
            unsubscribe()
            self._queues.discard(queue)

    async def _stream(self, request: web.Request, target: Target, queue: asyncio.Queue[Item],
                      initial: list[Item], error: StatusError | None,
                      matches: Callable[[Obj], bool], send_initial: bool) -> web.StreamResponse:
        cluster, res = self.server.cluster, target.res
        as_table = wants_table(request.headers.get("Accept", ""))
        include = request.query.get("includeObject", "Metadata")

        def encode(etype: str, obj: Obj, cached: bool) -> bytes:
            if as_table:
                body = dumps(tables.table(cluster, res, [obj], include))
            else:
                body = self.server.encode(res, obj) if cached else \
                    dumps(conversion.from_storage(res, obj))
            return b'{"type":"' + etype.encode() + b'","object":' + body + b"}\n"

        def convert(item: tuple[str, Obj, Obj | None]) -> bytes | None:
            etype, obj, old = item
            if etype == DELETED:
                return encode(DELETED, obj, False) if matches(obj) else None
            now = matches(obj)
            before = old is not None and matches(old)
            if etype == ADDED or old is None:
                return encode(etype, obj, True) if now else None
            if now:
                return encode(MODIFIED if before else ADDED, obj, True)
            if before:
                assert old is not None
                gone = dict(old, metadata=dict(old["metadata"],
                                               resourceVersion=obj["metadata"]["resourceVersion"]))
                return encode(DELETED, gone, False)
            return None

        def bookmark(extra: dict[str, Any] | None = None) -> bytes:
            meta: dict[str, Any] = {"resourceVersion": str(cluster.store.revision)}
            if extra:
                meta["annotations"] = extra
            return dumps({"type": "BOOKMARK", "object": {
                "kind": res.kind, "apiVersion": res.api_version, "metadata": meta}}) + b"\n"

        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        if error is not None:
            await response.write(dumps({"type": "ERROR", "object": error.status}) + b"\n")
            return response
        bookmarks = flag(request, "allowWatchBookmarks")
        timeout = int_param(request, "timeoutSeconds")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout if timeout is not None and timeout >= 0
                                  else DEFAULT_TIMEOUT)
        try:
            chunk = b"".join(filter(None, (convert(i) for i in initial if i is not None)))
            if send_initial:
                chunk += bookmark({"k8s.io/initial-events-end": "true"})
            if chunk:
                await response.write(chunk)
            next_bookmark = loop.time() + BOOKMARK_SECONDS
            while not self.server.stopping:
                now = loop.time()
                if now >= deadline:
                    break
                if bookmarks and now >= next_bookmark and queue.empty():
                    await response.write(bookmark())
                    next_bookmark = now + BOOKMARK_SECONDS
                wait = min(deadline, next_bookmark if bookmarks else deadline) - now
                try:
                    item = await asyncio.wait_for(queue.get(), max(wait, 0.001))
                except TimeoutError:
                    continue
                items = [item]
                while not queue.empty():
                    items.append(queue.get_nowait())
                if None in items or cluster.api.unavailable_reason:
                    break
                chunk = b"".join(filter(None, (convert(i) for i in items if i is not None)))
                if chunk:
                    await response.write(chunk)
        except ConnectionError:
            pass
        return response
