"""etcd as the API server sees it: one revision counter, optimistic concurrency, watches.

Objects handed to the store become the store's: callers must not mutate them afterwards,
and what ``get``/``list`` return must be treated as read-only (copy before changing). This
keeps a 30,000-pod simulation from copying every object on every read; the API layer
copies at its boundary for anything that leaves the simulator.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from kclusterkit.kube.meta import Obj, Requirement, fields_match, labels_match
from kclusterkit.sim import errors
from kclusterkit.sim.resources import Resource

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"

# (event type, resource key, object after, object before)
Listener = Callable[[str, Obj, Obj | None], None]
WatchEvent = tuple[int, str, str, Obj]  # (revision, type, resource key, object)
# Serialized bytes of past events the store keeps for watches from an older revision.
DEFAULT_HISTORY_BYTES = 64 * 2**20


class Store:
    def __init__(self, history_bytes: int = DEFAULT_HISTORY_BYTES) -> None:
        self.revision = 0
        self._objects: dict[str, dict[tuple[str, str], Obj]] = {}
        self._listeners: dict[str, list[Listener]] = {}
        self._any_listeners: list[Callable[[WatchEvent], None]] = []
        # Past events for watches, compacted as etcd is (and the API server's watch cache
        # bounded): by a memory budget, counted in JSON bytes, not by a number of
        # revisions, so ten 2 MiB updates cannot hold more than ten thousand small ones.
        self.history_bytes = history_bytes
        self.compacted = 0  # the newest revision no longer in the history
        self._history: deque[tuple[WatchEvent, int]] = deque()
        self._history_size = 0
        self._by_owner: dict[str, set[tuple[str, str, str]]] = {}

    # -- reads ------------------------------------------------------------------------
    def get(self, res: Resource, namespace: str, name: str) -> Obj | None:
        return self._objects.get(res.key, {}).get((namespace if res.namespaced else "", name))

    def must_get(self, res: Resource, namespace: str, name: str) -> Obj:
        obj = self.get(res, namespace, name)
        if obj is None:
            raise errors.not_found(res.plural, res.group, name)
        return obj

    def iter(self, res: Resource, namespace: str | None = None) -> Iterator[Obj]:
        table = self._objects.get(res.key, {})
        if namespace is None or not res.namespaced:
            yield from table.values()
        else:
            for (ns, _), obj in table.items():
                if ns == namespace:
                    yield obj

    def list(
        self,
        res: Resource,
        namespace: str | None = None,
        labels: list[Requirement] | None = None,
        fields: list[tuple[str, bool, str]] | None = None,
    ) -> list[Obj]:
        out = []
        for obj in self.iter(res, namespace):
            if labels and not labels_match(obj["metadata"].get("labels"), labels):
                continue
            if fields and not fields_match(obj, fields):
                continue
            out.append(obj)
        out.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        return out

    def count(self, res: Resource) -> int:
        return len(self._objects.get(res.key, {}))

    def owned_by(self, uid: str, res: Resource | None = None) -> list[Obj]:
        """Objects whose ownerReferences name ``uid`` (the garbage collector's graph)."""
        out = []
        for key, ns, name in self._by_owner.get(uid, ()):
            if res is not None and key != res.key:
                continue
            obj = self._objects.get(key, {}).get((ns, name))
            if obj is not None:
                out.append(obj)
        return out

    # -- writes -----------------------------------------------------------------------
    def create(self, res: Resource, obj: Obj) -> Obj:
        meta = obj["metadata"]
        key = (meta.get("namespace", "") if res.namespaced else "", meta["name"])
        table = self._objects.setdefault(res.key, {})
        if key in table:
            raise errors.already_exists(res.plural, res.group, key[1])
        self.revision += 1
        meta["resourceVersion"] = str(self.revision)
        table[key] = obj
        self._index_owners(res, obj, None)
        self._emit(ADDED, res, obj, None)
        return obj

    def update(self, res: Resource, obj: Obj, *, check_version: bool = True) -> Obj:
        meta = obj["metadata"]
        key = (meta.get("namespace", "") if res.namespaced else "", meta["name"])
        table = self._objects.setdefault(res.key, {})
        old = table.get(key)
        if old is None:
            raise errors.not_found(res.plural, res.group, key[1])
        wanted = meta.get("resourceVersion")
        if check_version and wanted and wanted != old["metadata"]["resourceVersion"]:
            raise errors.conflict(res.plural, res.group, key[1])
        self.revision += 1
        meta["resourceVersion"] = str(self.revision)
        table[key] = obj
        self._index_owners(res, obj, old)
        self._emit(MODIFIED, res, obj, old)
        return obj

    def delete(self, res: Resource, namespace: str, name: str) -> Obj:
        key = (namespace if res.namespaced else "", name)
        table = self._objects.get(res.key, {})
        old = table.pop(key, None)
        if old is None:
            raise errors.not_found(res.plural, res.group, name)
        self.revision += 1
        # The DELETED event carries the last state with the deletion's revision.
        gone = dict(old)
        gone["metadata"] = dict(old["metadata"], resourceVersion=str(self.revision))
        self._index_owners(res, None, old)
        self._emit(DELETED, res, gone, old)
        return gone

    # -- watching ---------------------------------------------------------------------
    def subscribe(self, res: Resource, listener: Listener) -> Callable[[], None]:
        """Call ``listener(type, obj, old)`` synchronously on every change of ``res``."""
        listeners = self._listeners.setdefault(res.key, [])
        listeners.append(listener)
        return lambda: listeners.remove(listener) if listener in listeners else None

    def subscribe_all(self, listener: Callable[[WatchEvent], None]) -> Callable[[], None]:
        self._any_listeners.append(listener)
        return lambda: (
            self._any_listeners.remove(listener) if listener in self._any_listeners else None
        )

    def events_since(self, revision: int, res: Resource | None = None) -> Iterable[WatchEvent]:
        """Changes after ``revision``; 410 Expired once history no longer reaches back."""
        if revision < self.compacted:
            raise errors.gone(f"too old resource version: {revision} ({self.compacted})")
        for event, _ in self._history:
            if event[0] > revision and (res is None or event[2] == res.key):
                yield event

    @property
    def history_size(self) -> int:
        """JSON bytes of the events kept for watches (at most ``history_bytes``)."""
        return self._history_size

    def _remember(self, event: WatchEvent) -> None:
        size = len(json.dumps(event[3], separators=(",", ":")))
        self._history.append((event, size))
        self._history_size += size
        while self._history_size > self.history_bytes and self._history:
            (old, old_size) = self._history.popleft()
            self._history_size -= old_size
            self.compacted = old[0]

    def _emit(self, etype: str, res: Resource, obj: Obj, old: Obj | None) -> None:
        event = (self.revision, etype, res.key, obj)
        self._remember(event)
        for listener in list(self._listeners.get(res.key, ())):
            listener(etype, obj, old)
        for any_listener in list(self._any_listeners):
            any_listener(event)

    def _index_owners(self, res: Resource, new: Obj | None, old: Obj | None) -> None:
        def refs(o: Obj | None) -> set[str]:
            if o is None:
                return set()
            return {r["uid"] for r in o["metadata"].get("ownerReferences") or () if "uid" in r}

        before, after = refs(old), refs(new)
        if before == after:
            return
        source = new if new is not None else old
        assert source is not None
        meta = source["metadata"]
        entry = (res.key, meta.get("namespace", "") if res.namespaced else "", meta["name"])
        for uid in before - after:
            owned = self._by_owner.get(uid)
            if owned is not None:
                owned.discard(entry)
                if not owned:
                    del self._by_owner[uid]
        for uid in after - before:
            self._by_owner.setdefault(uid, set()).add(entry)
