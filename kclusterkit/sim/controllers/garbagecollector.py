"""The garbage collector, after pkg/controller/garbagecollector.

Deleting a Deployment must take its ReplicaSets and pods with it, ``--cascade=orphan`` must
leave them running and ``--cascade=foreground`` must keep the owner until they are gone;
scenarios about cleanup and about "kubectl delete" timing depend on exactly that.

Instead of upstream's dependency graph the store's owner index answers "who depends on
this uid". Owners are looked up by the kind and name in each ownerReference and checked
by uid, as classifyReferences does with live GETs.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.kube.meta import Obj, clone
from kclusterkit.sim import errors
from kclusterkit.sim.api import Api
from kclusterkit.sim.controllers.util import RetryingQueue, set_or_drop
from kclusterkit.sim.resources import (
    EVENTS,
    RESOURCES,
    STORAGE,
    Resource,
    UnknownResource,
    for_kind,
)
from kclusterkit.sim.store import ADDED, DELETED

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"

Identity = tuple[str, str, str, str]  # (resource key, namespace, name, uid)

_BY_KEY = STORAGE  # one row per stored kind


class GarbageCollector:
    def __init__(self, api: Api, delay: float = 0.0) -> None:
        self.api = api
        self.store = api.store
        self.clock = api.clock
        self.attempts = RetryingQueue(self.clock, self._attempt_to_delete, delay)
        self.owners = RetryingQueue(self.clock, self._process_owner, delay)
        for res in RESOURCES:
            if res is EVENTS or res.key == "events.events.k8s.io" or STORAGE[res.key] is not res:
                continue  # events name no owners; skipping them keeps event bursts cheap
            for obj in list(self.store.iter(res)):
                self._observe(res, ADDED, obj, None)
            self.store.subscribe(res, self._listener(res))
        # Custom resources come and go with their CRDs: their events are found by key.
        self.store.subscribe_all(self._on_custom)

    def _on_custom(self, event: tuple[int, str, str, Obj]) -> None:
        _, etype, key, obj = event
        if key in _BY_KEY:
            return
        res = self._custom_resource(key)
        if res is not None:
            self._observe(res, etype, obj, None)

    def _custom_resource(self, key: str) -> Resource | None:
        for res in self.api.custom.one_per_definition():
            if res.key == key:
                return res
        return None

    def _res_of(self, obj: Obj) -> Resource:
        try:
            return _res_of(obj)
        except UnknownResource:
            custom = self.api.custom.for_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
            if custom is None:
                raise
            return custom

    def _listener(self, res: Resource) -> Any:
        return lambda etype, obj, old: self._observe(res, etype, obj, old)

    # -- graph events ---------------------------------------------------------------------
    def _observe(self, res: Resource, etype: str, obj: Obj, old: Obj | None) -> None:
        meta = obj["metadata"]
        refs = meta.get("ownerReferences") or []
        if etype == DELETED:
            for dependent in self.store.owned_by(meta["uid"]):
                self.attempts.add(_identity(self._res_of(dependent), dependent))
            self._wake_owners(res, obj, refs)
            return
        finalizers = meta.get("finalizers") or ()
        if meta.get("deletionTimestamp") and (ORPHAN in finalizers or FOREGROUND in finalizers):
            self.owners.add(_identity(res, obj))
        if not refs:
            if old is not None and old["metadata"].get("ownerReferences"):
                self._wake_owners(res, old, old["metadata"]["ownerReferences"])
            return
        old_refs = (old["metadata"].get("ownerReferences") or []) if old is not None else None
        if old_refs == refs and not meta.get("deletionTimestamp"):
            return
        if old_refs is not None and old_refs != refs:
            self._wake_owners(res, old, old_refs)
        # A dependent whose owner is absent or waiting for its dependents is work to do.
        for ref in refs:
            owner = self._owner(res, meta.get("namespace", ""), ref)
            if owner is None or _deleting_dependents(owner):
                self.attempts.add(_identity(res, obj))
                break

    def _wake_owners(self, res: Resource, obj: Obj | None, refs: list[dict[str, Any]]) -> None:
        if obj is None:
            return
        for ref in refs:
            owner = self._owner(res, obj["metadata"].get("namespace", ""), ref)
            if owner is not None and owner["metadata"].get("deletionTimestamp"):
                self.owners.add(_identity(self._res_of(owner), owner))

    def _owner(self, res: Resource, namespace: str, ref: dict[str, Any]) -> Obj | None:
        """The object an ownerReference names, if it exists with that uid."""
        try:
            owner_res = for_kind(ref.get("apiVersion", ""), ref.get("kind", ""))
        except UnknownResource:
            custom = self.api.custom.for_kind(ref.get("apiVersion", ""), ref.get("kind", ""))
            if custom is None:
                return {"metadata": {"uid": ref.get("uid")}}  # cannot tell: treat as present
            owner_res = custom
        if owner_res.namespaced and not res.namespaced:
            return None
        found = self.store.get(owner_res, namespace if owner_res.namespaced else "",
                               ref.get("name", ""))
        if found is None or found["metadata"].get("uid") != ref.get("uid"):
            return None
        return found

    def _current(self, identity: Identity) -> tuple[Resource, Obj | None]:
        """The identity's resource, and its object if that incarnation (same uid) still exists."""
        res_key, ns, name, uid = identity
        found = _BY_KEY.get(res_key) or self._custom_resource(res_key)
        if found is None:  # a custom resource no longer served: its objects are gone
            return _BY_KEY["pods"], None
        res = found
        obj = self.store.get(res, ns, name)
        return res, obj if obj is not None and obj["metadata"]["uid"] == uid else None

    # -- attemptToDeleteItem ------------------------------------------------------------
    def _attempt_to_delete(self, identity: Identity) -> None:
        _, ns, name, uid = identity
        res, obj = self._current(identity)
        if obj is None:
            return
        meta = obj["metadata"]
        if _deleting_dependents(obj):
            self._process_owner(identity)
            return
        if meta.get("deletionTimestamp"):
            return  # already going
        refs = meta.get("ownerReferences") or []
        if not refs:
            return
        solid, dangling, waiting = [], [], []
        for ref in refs:
            owner = self._owner(res, ns, ref)
            if owner is None:
                dangling.append(ref)
            elif _deleting_dependents(owner):
                waiting.append(ref)
            else:
                solid.append(ref)
        if solid:
            if not dangling and not waiting:
                return
            gone = {r.get("uid") for r in dangling + waiting}
            self._remove_refs(res, obj, gone)
            return
        if waiting and self.store.owned_by(uid):
            policy = "Foreground"
        elif ORPHAN in (meta.get("finalizers") or ()):
            policy = "Orphan"
        elif FOREGROUND in (meta.get("finalizers") or ()):
            policy = "Foreground"
        else:
            policy = "Background"
        try:
            self.api.delete(res, ns, name, propagation=policy, preconditions={"uid": uid})
        except errors.StatusError as exc:
            if exc.code not in (404, 409):
                raise

    def _remove_refs(self, res: Resource, obj: Obj, uids: set[Any]) -> None:
        copy = clone(obj)
        set_or_drop(copy["metadata"], "ownerReferences",
                    [r for r in copy["metadata"].get("ownerReferences") or ()
                     if r.get("uid") not in uids])
        try:
            self.api.update(copy)
        except errors.StatusError as exc:
            if exc.code == 409:
                self.attempts.add_rate_limited(_identity(res, obj))
            elif exc.code != 404:
                raise

    # -- owners being deleted with orphan or foreground propagation ---------------------
    def _process_owner(self, identity: Identity) -> None:
        _, ns, name, uid = identity
        res, owner = self._current(identity)
        if owner is None:
            return
        meta = owner["metadata"]
        if not meta.get("deletionTimestamp"):
            return
        finalizers = meta.get("finalizers") or []
        dependents = sorted(self.store.owned_by(uid), key=lambda o: (o.get("kind", ""),
                                                                       o["metadata"]["name"]))
        if ORPHAN in finalizers:
            # attemptToOrphan: drop our reference from every dependent, then the finalizer.
            for dependent in dependents:
                self._remove_refs(self._res_of(dependent), dependent, {uid})
            self._remove_finalizer(res, ns, name, ORPHAN)
            return
        if FOREGROUND in finalizers:
            blocking = [d for d in dependents if _blocks(d, uid)]
            if not blocking:
                self._remove_finalizer(res, ns, name, FOREGROUND)
                return
            for dependent in dependents:
                if not _deleting_dependents(dependent):
                    self.attempts.add(_identity(self._res_of(dependent), dependent))

    def _remove_finalizer(self, res: Resource, ns: str, name: str, finalizer: str) -> None:
        current = self.store.get(res, ns, name)
        if current is None:
            return
        copy = clone(current)
        set_or_drop(copy["metadata"], "finalizers",
                    [f for f in copy["metadata"].get("finalizers") or () if f != finalizer])
        self.api.update(copy)


def _res_of(obj: Obj) -> Resource:
    return for_kind(obj.get("apiVersion", ""), obj.get("kind", ""))


def _identity(res: Resource, obj: Obj) -> Identity:
    meta = obj["metadata"]
    return res.key, meta.get("namespace", "") if res.namespaced else "", meta["name"], meta["uid"]


def _deleting_dependents(obj: Obj) -> bool:
    meta = obj["metadata"]
    return bool(meta.get("deletionTimestamp")) and FOREGROUND in (meta.get("finalizers") or ())


def _blocks(dependent: Obj, owner_uid: str) -> bool:
    return any(r.get("uid") == owner_uid and r.get("blockOwnerDeletion")
               for r in dependent["metadata"].get("ownerReferences") or ())
