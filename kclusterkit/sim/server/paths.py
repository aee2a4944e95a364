"""Kubernetes REST paths parsed into (resource, namespace, name, subresource).

The API server's URL grammar is small but has one ambiguity worth a module of its own:
``/api/v1/namespaces/x/status`` is the Namespace ``x``'s status, while
``/api/v1/namespaces/x/pods`` is the pods in ``x``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kclusterkit.sim import errors
from kclusterkit.sim.resources import RESOURCES, Resource

_BY_GV_PLURAL: dict[tuple[str, str, str], Resource] = {
    (r.group, r.version, r.plural): r for r in RESOURCES
}


@dataclass(frozen=True)
class Target:
    res: Resource
    namespace: str | None  # None: every namespace (collections only); "" cluster-scoped
    name: str | None
    sub: str | None
    legacy_watch: bool = False


def not_found_path() -> errors.StatusError:
    return errors.StatusError(404, "NotFound", "the server could not find the requested resource",
                              {})


# (group, version, plural) → a custom resource the server serves now, or None.
CustomLookup = Callable[[str, str, str], Resource | None]


def parse(path: str, custom: CustomLookup | None = None) -> Target | None:
    """The resource a path names, None when it is not a resource path at all.

    ``custom`` finds the custom resources of Established CRDs (``Api.custom.for_path``)."""

    def find(key: tuple[str, str, str]) -> Resource | None:
        return _BY_GV_PLURAL.get(key) or (custom(*key) if custom is not None else None)

    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return None
    legacy_watch = False
    if rest[0] == "watch":
        legacy_watch, rest = True, rest[1:]
        if not rest:
            raise not_found_path()
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        nested = find((group, version, rest[2]))
        if nested is not None and nested.namespaced:
            namespace, rest = rest[1], rest[2:]
    res = find((group, version, rest[0]))
    if res is None or len(rest) > 3:
        raise not_found_path()
    if not res.namespaced:
        namespace = ""
    name = rest[1] if len(rest) >= 2 else None
    sub = rest[2] if len(rest) == 3 else None
    if sub is not None and sub not in res.subresources:
        raise not_found_path()
    return Target(res, namespace, name, sub, legacy_watch)
