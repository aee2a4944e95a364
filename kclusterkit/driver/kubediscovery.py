"""Which URL serves a kind: the API server's discovery documents, read lazily and cached.

Steps name resources as people type them to kubectl (``pods``, ``deployment``, ``rs``,
``hpa``) and create objects by ``apiVersion``/``kind``. Only the server knows the plural and
whether the resource is namespaced, so we ask it — the core group first, then the other
groups in the order ``/apis`` lists them (kubectl's order), loading a group's resource list
only when an earlier one did not have the name. A name or kind the cached documents do not
have is looked up once more after forgetting them: a CustomResourceDefinition created
since adds its kind to discovery (kubectl invalidates its cache the same way on a miss).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from kclusterkit.driver.errors import ApiError, ClusterError


@dataclass(frozen=True)
class ApiResource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def names(self) -> tuple[str, ...]:
        return (self.plural, self.singular or self.kind.lower(), self.kind.lower(),
                *self.short_names)

    def path(self, namespace: str | None = None, name: str | None = None,
             subresource: str | None = None) -> str:
        """The URL path; ``namespace`` None or "" on a namespaced kind means all namespaces."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{self.plural}"
        if name is not None:
            base += f"/{quote(name, safe='')}"
            if subresource:
                base += f"/{subresource}"
        return base


class UnknownKind(ClusterError):
    pass


class Discovery:
    """Resolve kubectl-style names and apiVersion/kind pairs to ``ApiResource`` rows."""

    def __init__(self, get: Any) -> None:
        self._get = get  # callable(path) -> parsed JSON
        self._lock = threading.RLock()
        self._versions: dict[str, list[ApiResource]] = {}  # "group/version" -> rows
        self._groups: list[tuple[str, str]] | None = None  # (group, preferred version)
        self._by_name: dict[str, ApiResource] = {}

    def _load(self, group: str, version: str) -> list[ApiResource]:
        gv = f"{group}/{version}" if group else version
        with self._lock:
            if gv in self._versions:
                return self._versions[gv]
            path = f"/apis/{group}/{version}" if group else f"/api/{version}"
            try:
                doc = self._get(path)
            except ApiError as exc:
                if exc.code in (404, 503):  # a group that went away, or an aggregated API down
                    doc = {"resources": []}
                else:
                    raise
            rows = [
                ApiResource(group, version, r["kind"], r["name"], bool(r.get("namespaced")),
                            r.get("singularName") or "", tuple(r.get("shortNames") or ()))
                for r in doc.get("resources") or [] if "/" not in r.get("name", "/")
            ]
            self._versions[gv] = rows
            return rows

    def _group_list(self) -> list[tuple[str, str]]:
        with self._lock:
            if self._groups is None:
                doc = self._get("/apis")
                groups = []
                for g in doc.get("groups") or []:
                    preferred = (g.get("preferredVersion") or {}).get("version")
                    if not preferred and g.get("versions"):
                        preferred = g["versions"][0]["version"]
                    if preferred:
                        groups.append((g["name"], preferred))
                self._groups = groups
            return self._groups

    def forget(self) -> None:
        """Drop every cached document: the next lookups read discovery afresh."""
        with self._lock:
            self._versions.clear()
            self._groups = None
            self._by_name.clear()

    def resolve(self, name: str) -> ApiResource:
        """A resource by any name kubectl accepts, optionally ``name.group``."""
        key = name.lower()
        with self._lock:
            if key in self._by_name:
                return self._by_name[key]
            want, group = (key.split(".", 1) + [""])[:2] if "." in key else (key, None)
            for attempt in range(2):
                if attempt:
                    self.forget()  # a miss: the server may serve new kinds since (CRDs)
                for g, v in self._candidates(group):
                    for row in self._load(g, v):
                        if want in row.names():
                            self._by_name[key] = row
                            return row
        raise UnknownKind(f'the server doesn\'t have a resource type "{name}"')

    def _candidates(self, group: str | None) -> Iterator[tuple[str, str]]:
        """Core first; the other groups (one request for their list) only if needed."""
        if group in (None, ""):
            yield ("", "v1")
        if group == "":
            return
        for g, v in self._group_list():
            if group is None or g == group:
                yield (g, v)

    def for_kind(self, api_version: str, kind: str) -> ApiResource:
        group, _, version = api_version.rpartition("/")
        for attempt in range(2):
            if attempt:
                self.forget()  # a miss: a CRD may have added the kind since
            for row in self._load(group, version):
                if row.kind == kind:
                    return row
        raise UnknownKind(f'no matches for kind "{kind}" in version "{api_version}"')
