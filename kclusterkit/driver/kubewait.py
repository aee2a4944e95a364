"""Waits on a real API server that follow watches instead of polling.

A step's check reads the cluster through ``driver.get``/``driver.list``. Re-running it on a
timer would cost one or more GETs per look and still react late; instead, for the length of
one wait, each kind the check reads is mirrored locally (an informer in miniature: LIST,
then WATCH from that resourceVersion with bookmarks, reconnecting when the stream ends and
re-listing on 410 Gone). The check reads the mirror, and is re-run when a watch event
changes it — several events that arrive while it runs cost one more evaluation, not several.

Checks that look at things no watch can see (``exec`` into a pod, an HTTP request to a
NodePort) are noticed — they make calls the mirror cannot serve — and only those are
re-evaluated on a short backoff as well.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from kclusterkit.driver.base import Check, Observation, WaitResult
from kclusterkit.driver.errors import ApiError, ClusterError
from kclusterkit.driver.kubediscovery import ApiResource
from kclusterkit.kube.meta import clone, labels_match, parse_label_selector

Obj = dict[str, Any]


class WatchStream(Protocol):
    def __iter__(self) -> Iterator[Obj]: ...  # raw events: {"type": …, "object": …}

    def close(self) -> None: ...


class WatchSource(Protocol):
    def list_for_watch(self, res: ApiResource, namespace: str) -> tuple[list[Obj], str]: ...

    def open_watch(self, res: ApiResource, namespace: str, resource_version: str) -> WatchStream:
        ...


def _key(obj: Obj) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return meta.get("namespace") or "", meta.get("name") or ""


class Reflector:
    """One kind in one namespace ("" = cluster-scoped or all namespaces), kept current."""

    #: consecutive failed (re)connections before the wait gives up on this watch
    MAX_FAILURES = 6

    def __init__(self, source: WatchSource, res: ApiResource, namespace: str,
                 cache: WaitCache, backoff: Callable[[int], float] | None = None) -> None:
        self.source = source
        self.res = res
        self.namespace = namespace
        self.cache = cache
        self.items: dict[tuple[str, str], Obj] = {}
        self.resource_version = ""
        self.error: BaseException | None = None
        self.events = 0
        self._stopped = threading.Event()
        self._stream: WatchStream | None = None
        self._thread: threading.Thread | None = None
        self._backoff = backoff or (lambda n: min(0.1 * 2 ** n, 2.0))

    def _relist(self) -> None:
        items, rv = self.source.list_for_watch(self.res, self.namespace)
        with self.cache.cond:
            self.items = {_key(o): o for o in items}
            self.resource_version = rv
        self.cache.notify()

    def start(self) -> None:
        self._relist()  # synchronous: the first evaluation sees a fresh, complete list
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"kk-watch-{self.res.key}-{self.namespace}")
        self._thread.start()

    def _run(self) -> None:
        failures = 0
        while not self._stopped.is_set():
            try:
                stream = self.source.open_watch(self.res, self.namespace, self.resource_version)
                self._stream = stream
                if self._stopped.is_set():
                    stream.close()
                    return
                seen = 0
                for event in stream:
                    failures, seen = 0, seen + 1
                    if self._apply(event) == "relist":
                        break
                    if self._stopped.is_set():
                        break
                else:
                    # The server ended the stream: watch again from where we are (after a
                    # breath if it ended empty, so a server that closes at once is no storm).
                    if not seen:
                        self._stopped.wait(0.05)
                    continue
                stream.close()
                if not self._stopped.is_set():
                    self._relist()
            except ApiError as exc:
                if self._stopped.is_set():
                    return
                if exc.code == 410:
                    self._guard(self._relist)
                    continue
                failures = self._failed(exc, failures)
            except ClusterError as exc:
                if self._stopped.is_set():
                    return
                failures = self._failed(exc, failures)
            except Exception as exc:  # noqa: BLE001 — surfaced to the waiting step
                if self._stopped.is_set():
                    return
                failures = self._failed(exc, failures)

    def _guard(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001
            self._failed(exc, self.MAX_FAILURES)

    def _failed(self, exc: BaseException, failures: int) -> int:
        failures += 1
        if failures >= self.MAX_FAILURES:
            self.error = exc
            self._stopped.set()
            self.cache.notify()
            return failures
        self._stopped.wait(self._backoff(failures))
        return failures

    def _apply(self, event: Obj) -> str | None:
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "ERROR":
            code = obj.get("code")
            if code == 410:
                return "relist"
            raise ApiError(int(code or 500), obj.get("reason") or "InternalError",
                           obj.get("message") or "watch failed", status=obj)
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        with self.cache.cond:
            if rv:
                self.resource_version = rv
            if kind == "BOOKMARK":
                return None
            self.events += 1
            if kind == "DELETED":
                self.items.pop(_key(obj), None)
            elif kind in ("ADDED", "MODIFIED"):
                self.items[_key(obj)] = obj
        self.cache.notify()
        return None

    def stop(self) -> None:
        self._stopped.set()
        stream = self._stream
        if stream is not None:
            try:
                stream.close()
            except Exception:  # noqa: BLE001 — best effort on the way out
                pass

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)


class WaitCache:
    """The mirrors of one wait, and the change counter the waiting thread sleeps on."""

    def __init__(self, source: WatchSource, max_watches: int = 8,
                 backoff: Callable[[int], float] | None = None) -> None:
        self.source = source
        self.backoff = backoff
        self.max_watches = max_watches
        self.cond = threading.Condition(threading.RLock())
        self.generation = 0
        self.uncached = 0  # calls the check made that no mirror could serve
        self.reflectors: dict[tuple[str, str], Reflector] = {}
        #: set from outside (the driver's heartbeat) when the cluster stopped answering:
        #: a silent watch cannot tell a quiet cluster from a stopped one
        self.failure: BaseException | None = None

    def fail(self, exc: BaseException) -> None:
        """End the wait with ``exc`` (raised by the waiting thread at its next look)."""
        self.failure = exc
        self.notify()

    def notify(self) -> None:
        with self.cond:
            self.generation += 1
            self.cond.notify_all()

    def ensure(self, res: ApiResource, namespace: str) -> Reflector | None:
        scope = namespace if res.namespaced else ""
        found = self.reflectors.get((res.key, scope))
        if found is None and res.namespaced and scope:
            found = self.reflectors.get((res.key, ""))  # an all-namespaces mirror serves too
        if found is not None:
            return found
        if len(self.reflectors) >= self.max_watches:
            return None
        ref = Reflector(self.source, res, scope, self, self.backoff)
        self.reflectors[(res.key, scope)] = ref
        try:
            ref.start()
        except Exception:
            del self.reflectors[(res.key, scope)]
            raise
        return ref

    def get(self, ref: Reflector, namespace: str, name: str) -> Obj | None:
        with self.cond:
            obj = ref.items.get((namespace if ref.res.namespaced else "", name))
            return clone(obj) if obj is not None else None

    def list(self, ref: Reflector, namespace: str, labels: str | None) -> list[Obj]:
        reqs = parse_label_selector(labels) if labels else None
        with self.cond:
            rows = [o for (ns, _), o in sorted(ref.items.items())
                    if (not namespace or not ref.res.namespaced or ns == namespace)
                    and (reqs is None or labels_match((o.get("metadata") or {}).get("labels"),
                                                      reqs))]
            return [clone(o) for o in rows]

    def wait_change(self, generation: int, timeout: float) -> None:
        with self.cond:
            if self.generation == generation and timeout > 0:
                self.cond.wait_for(lambda: self.generation != generation, timeout)

    def raise_errors(self) -> None:
        if self.failure is not None:
            raise self.failure
        for ref in self.reflectors.values():
            if ref.error is not None:
                err = ref.error
                raise ClusterError(f"lost the watch on {ref.res.key}"
                                   f"{' in ' + ref.namespace if ref.namespace else ''}: {err}"
                                   ) from err

    def close(self) -> None:
        for ref in self.reflectors.values():
            ref.stop()
        for ref in self.reflectors.values():
            ref.join(0.5)


# -- the two kinds of wait -------------------------------------------------------------

#: re-evaluation backoff for checks that read what no watch covers (exec, HTTP): seconds
UNWATCHED_BACKOFF = (0.1, 1.0)


def _evaluate(cache: WaitCache, check: Check) -> tuple[Observation, int, bool]:
    """Run the check; return what it saw, the generation it saw, and whether it read
    anything no mirror serves (then only time can tell us when to look again)."""
    with cache.cond:
        generation = cache.generation
    before = cache.uncached
    obs = check()
    return obs, generation, cache.uncached != before or not cache.reflectors


def _identity(seconds: float) -> float:
    return seconds


#: shortest wall-clock sleep between looks when cluster time runs faster than wall time
MIN_WALL_PAUSE = 0.01


def _sleep_for(cache: WaitCache, generation: int, remaining: float, unwatched: bool,
               pause: float, to_wall: Callable[[float], float]) -> None:
    """Sleep until a watch event, or until ``remaining`` cluster seconds have passed (as
    ``to_wall`` converts them; a lagging server clock just means one more look), or for the
    unwatched back-off ``pause`` (wall seconds, shortened by the same ratio)."""
    wall = max(to_wall(remaining), MIN_WALL_PAUSE)
    if unwatched:
        wall = min(wall, max(min(pause, to_wall(pause)), MIN_WALL_PAUSE * 2))
    cache.wait_change(generation, wall)


def wait_until(cache: WaitCache, check: Check, timeout: float,
               now: Callable[[], float],
               to_wall: Callable[[float], float] = _identity) -> WaitResult:
    """Re-run ``check`` on every watch event until it holds or ``timeout`` cluster seconds
    (measured by ``now``) have passed; ``to_wall`` turns cluster seconds into wall seconds
    (a served simulator runs its clock ``speed`` times faster than the wall)."""
    start = now()
    deadline = start + timeout
    pause = UNWATCHED_BACKOFF[0]
    while True:
        obs, generation, unwatched = _evaluate(cache, check)
        if obs.ok:
            return WaitResult(True, now() - start, obs)
        remaining = deadline - now()
        if remaining <= 0:
            return WaitResult(False, now() - start, obs)
        _sleep_for(cache, generation, remaining, unwatched, pause, to_wall)
        if unwatched:
            pause = min(pause * 2, UNWATCHED_BACKOFF[1])
        cache.raise_errors()


def hold(cache: WaitCache, check: Check, duration: float,
         now: Callable[[], float],
         to_wall: Callable[[float], float] = _identity) -> WaitResult:
    start = now()
    end = start + duration
    pause = UNWATCHED_BACKOFF[0]
    while True:
        obs, generation, unwatched = _evaluate(cache, check)
        t = now()
        if not obs.ok:
            return WaitResult(False, t - start, obs, failed_at=t)
        if t >= end:
            return WaitResult(True, t - start, obs)
        _sleep_for(cache, generation, end - t, unwatched, pause, to_wall)
        if unwatched:
            pause = min(pause * 2, UNWATCHED_BACKOFF[1])
        cache.raise_errors()


def start_mirrors(cache: WaitCache, rows: Iterable[tuple[ApiResource, str]]) -> None:
    for res, namespace in rows:
        cache.ensure(res, namespace)
