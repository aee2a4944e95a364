"""Objects of a kind served in more than one version: into the stored version and back.

Upstream the API server decodes a request in the version of its URL, converts it to the
internal version and stores it in the kind's storage version; reads convert the stored
object to the version asked for. The simulator stores every object in its kind's first
row of ``sim.resources`` (the storage version) and converts at the API's edge (``Api`` for
in-process callers, the HTTP server for the rest) with the functions registered here.
A kind with one version converts nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from kclusterkit.kube.meta import Obj
from kclusterkit.sim.resources import Resource, storage_of

Converter = Callable[[Obj], Obj]
# (resource key, served version) -> (to the storage version, from the storage version)
_CONVERTERS: dict[tuple[str, str], tuple[Converter, Converter]] = {}


def register(res: Resource, to_storage: Converter, from_storage: Converter) -> None:
    _CONVERTERS[(res.key, res.version)] = (to_storage, from_storage)


def is_storage(res: Resource) -> bool:
    return storage_of(res) is res


def to_storage(res: Resource, obj: Obj) -> Obj:
    """``obj``, written in ``res``'s version, as the store keeps it (a new dict)."""
    if is_storage(res):
        return obj
    stored = _CONVERTERS[(res.key, res.version)][0](obj)
    stored["apiVersion"] = storage_of(res).api_version
    return stored


def from_storage(res: Resource, obj: Obj) -> Obj:
    """A stored object as ``res``'s version shows it (``obj`` itself for the storage
    version; a Status or other non-object answer passes through)."""
    if obj.get("kind") != res.kind:
        return obj
    if is_storage(res):
        if obj.get("apiVersion") in (None, res.api_version):
            return obj
        # A custom resource kept in its CRD's storage version, read in another served
        # version: the "None" conversion strategy (apiextensions converter.go) changes
        # apiVersion and nothing else.
        return {**obj, "apiVersion": res.api_version}
    shown = _CONVERTERS[(res.key, res.version)][1](obj)
    shown["apiVersion"] = res.api_version
    return shown
