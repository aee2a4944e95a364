"""Field management: ``metadata.managedFields``, server-side apply, ownership and conflicts.

Upstream's API server runs every create, update and patch of a client through the field
manager (k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager, over
k8s.io/apimachinery/pkg/util/managedfields/internal and sigs.k8s.io/structured-merge-diff
merge/update.go). What it does, and this module does alike:

- **Update** (create, update, non-apply patch): the fields the request adds or changes
  become the writer's (``operation: Update``, merged into its earlier Update entry); every
  other manager loses the fields that changed or went (a plain write always wins).
- **Apply**: the applied configuration is merged into the live object; the applier owns
  exactly the fields it sent (``operation: Apply``). A field it changes that another
  manager owns is a conflict — 409 listing each field and manager — unless ``force``,
  which takes the field from them; fields at equal values are shared. Fields the applier
  sent last time and no longer sends are removed when no other manager owns them
  (``prune``). Applying to an object with no managedFields first records its fields as
  ``before-first-apply``'s (skipnonapplied.go).
- Entries (managedfields.go): one per manager, operation and subresource, Apply entries
  first, then by time; ``time`` changes when the entry's write changed the object.
- A request's own ``managedFields`` (decodeLiveOrNew): ``[]`` or ``[{}]`` resets them, a
  valid list replaces them, anything else (absent, undecodable) keeps the live ones; a
  subresource write always keeps the live ones.

Only requests that name a manager are tracked (``manager=None`` leaves an object's
managedFields as they are): the simulator's own controllers and kubelets write without
one, which keeps their hot paths free of the comparison.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kclusterkit.kube.meta import clone
from kclusterkit.sim import fieldpath
from kclusterkit.sim import patch as patching
from kclusterkit.sim.errors import StatusError
from kclusterkit.sim.fieldpath import FieldSet

APPLY = "Apply"
UPDATE = "Update"
BEFORE_FIRST_APPLY = "before-first-apply"
# capmanagers.go: at most this many Update entries; the oldest merge into ANCIENT_CHANGES.
MAX_UPDATE_MANAGERS = 10
ANCIENT_CHANGES = "ancient-changes"
MAX_MANAGER_LENGTH = 128  # validation.FieldManagerMaxLength

Obj = dict[str, Any]


class Entry:
    """One managedFields entry. Its field set is decoded when first read, and an entry
    nobody changed is stored again as it came (encoding is most of a write's cost)."""

    __slots__ = ("_fields", "_raw", "api_version", "manager", "operation", "subresource",
                 "time")

    def __init__(self, manager: str, operation: str, api_version: str, time: str | None,
                 fields: FieldSet | None, subresource: str = "",
                 raw: Obj | None = None) -> None:
        self.manager = manager
        self.operation = operation
        self.api_version = api_version
        self.time = time
        self._fields = fields
        self.subresource = subresource
        self._raw = raw

    @property
    def fields(self) -> FieldSet:
        if self._fields is None:
            self._fields = fieldpath.decode((self._raw or {}).get("fieldsV1", {}))
        return self._fields

    @fields.setter
    def fields(self, value: FieldSet) -> None:
        if value != self._fields:
            self._raw = None
        self._fields = value

    def owns_any(self, paths: FieldSet) -> bool:
        """Whether the entry owns one of ``paths`` (looked up in its FieldsV1 while it is
        still undecoded: a write usually changes a few fields of a large entry)."""
        if self._fields is not None or self._raw is None:
            return not self.fields.isdisjoint(paths)
        root = self._raw.get("fieldsV1") or {}
        for path in paths:
            node: Any = root
            for pe in path:
                node = node.get(pe) if isinstance(node, dict) else None
                if node is None:
                    break
            else:
                if isinstance(node, dict) and (not node or "." in node):
                    return True
        return False

    def empty(self) -> bool:
        if self._fields is None and self._raw is not None:
            return not self._raw.get("fieldsV1")
        return not self.fields

    def ident(self) -> tuple[str, str, str]:
        return (self.manager, self.operation, self.subresource)

    def encode(self) -> Obj:
        if self._raw is not None and self._raw.get("time") == self.time and \
                self._raw.get("apiVersion") == self.api_version:
            return self._raw
        out: Obj = {"manager": self.manager, "operation": self.operation,
                    "apiVersion": self.api_version}
        if self.time:
            out["time"] = self.time
        out["fieldsType"] = "FieldsV1"
        out["fieldsV1"] = fieldpath.encode(self.fields)
        if self.subresource:
            out["subresource"] = self.subresource
        return out

    def described(self) -> str:
        """printManager (conflict.go): how a conflict names the manager."""
        text = f'"{self.manager}"'
        if self.subresource:
            text += f' with subresource "{self.subresource}"'
        if self.operation == UPDATE:
            text += f" using {self.api_version}"
        return text


# -- decoding ---------------------------------------------------------------------------
def decode(entries: Any, *, eager: bool = False) -> list[Entry]:
    """Entries from a managedFields list; FieldsError when it is not a valid one. The field
    sets are decoded when first read, or at once (``eager``) for a client's entries."""
    if not isinstance(entries, list):
        raise fieldpath.FieldsError("managedFields must be a list")
    out = []
    for raw in entries:
        if not isinstance(raw, dict):
            raise fieldpath.FieldsError("a managedFields entry must be an object")
        op = raw.get("operation")
        if op not in (APPLY, UPDATE) or raw.get("fieldsType", "FieldsV1") != "FieldsV1":
            raise fieldpath.FieldsError(f"unsupported managedFields entry {raw!r}")
        manager, version = raw.get("manager", ""), raw.get("apiVersion", "")
        time, sub = raw.get("time"), raw.get("subresource", "")
        if not all(isinstance(v, str) for v in (manager, version, sub)) or \
                not isinstance(time, str | None):
            raise fieldpath.FieldsError("managedFields entry fields must be strings")
        fields_v1 = raw.get("fieldsV1", {})
        if not isinstance(fields_v1, dict):
            raise fieldpath.FieldsError("FieldsV1 must be a JSON object")
        entry = Entry(manager, op, version, time, None, sub, raw)
        if eager:
            entry.fields  # noqa: B018  (decodes, raising FieldsError on a bad field set)
        out.append(entry)
    return out


def _live_entries(live: Obj | None) -> list[Entry]:
    if live is None:
        return []
    try:
        return decode(live["metadata"].get("managedFields") or [])
    except fieldpath.FieldsError:
        return []


def _request_entries(live: Obj | None, new: Obj, subresource: str) -> list[Entry]:
    """decodeLiveOrNew: which managedFields the operation starts from."""
    sent = new.get("metadata", {}).get("managedFields")
    if subresource or sent is None:
        return _live_entries(live)
    if sent == [] or sent == [{}]:  # isResetManagedFields
        return []
    try:
        entries = decode(sent, eager=True)
    except fieldpath.FieldsError:
        return _live_entries(live)
    return entries or _live_entries(live)


def _store(obj: Obj, entries: Iterable[Entry]) -> None:
    kept = [e for e in entries if not e.empty()]
    kept.sort(key=lambda e: (e.operation, e.time or "", e.manager, e.api_version,
                             e.subresource))
    meta = obj.setdefault("metadata", {})
    if kept:
        meta["managedFields"] = [e.encode() for e in kept]
    else:
        meta.pop("managedFields", None)


# -- Update -----------------------------------------------------------------------------
def _take(entries: list[Entry], cmp: fieldpath.Comparison, manager: str, operation: str,
          subresource: str, version: str, now: str) -> list[Entry]:
    """Updater.update + managedFieldsUpdater.Update: the writer takes what it changed."""
    changed = cmp.changed()
    lost = changed | cmp.removed
    if lost:
        for e in entries:
            if e.owns_any(lost):
                e.fields = e.fields - lost
    if not changed:
        return entries
    ident = (manager, operation, subresource)
    own = next((e for e in entries if e.ident() == ident), None)
    if own is None:
        entries.append(Entry(manager, operation, version, now, changed, subresource))
    else:
        own.fields = own.fields | changed
        own.api_version, own.time = version, now
    return entries


def update(live: Obj | None, new: Obj, manager: str, version: str, now: str,
           subresource: str = "") -> None:
    """Record ``manager``'s write of ``new`` (over ``live``; None for a create) in
    ``new``'s managedFields."""
    entries = _request_entries(live, new, subresource)
    cmp = fieldpath.compare(live or {}, new)
    _store(new, _cap_updaters(_take(entries, cmp, manager, UPDATE, subresource, version,
                                    now)))


def _cap_updaters(entries: list[Entry]) -> list[Entry]:
    """capUpdateManagers: the oldest Update entries beyond the cap become one
    ``ancient-changes`` entry holding their fields, with the newest of their times."""
    updaters = [e for e in entries if e.operation == UPDATE and not e.empty()]
    if len(updaters) <= MAX_UPDATE_MANAGERS:
        return entries
    updaters.sort(key=lambda e: (e.time or "", e.ident()))
    merged = updaters[:len(updaters) - MAX_UPDATE_MANAGERS + 1]
    bucket = Entry(ANCIENT_CHANGES, UPDATE, merged[-1].api_version, merged[-1].time,
                   set().union(*(e.fields for e in merged)))
    return [e for e in entries if e not in merged] + [bucket]


# -- Apply ------------------------------------------------------------------------------
def apply(live: Obj | None, config: Obj, manager: str, version: str, now: str, *,
          force: bool = False, subresource: str = "", reset: Iterable[str] = ()) -> Obj:
    """The object ``manager``'s applied ``config`` makes of ``live`` (None: it is created
    from it), with its managedFields; a 409 Conflict Status when another manager owns a
    field it changes and ``force`` is not given. ``reset``: top-level fields the write
    cannot change (the strategy's GetResetFields: ``status`` for the main resource,
    ``spec`` for the status subresource), left out of the configuration."""
    if (config.get("metadata") or {}).get("managedFields") is not None:
        # structuredmerge.go Apply: the applied configuration says nothing of ownership.
        raise StatusError(400, "BadRequest", "metadata.managedFields must be nil")
    reset = set(reset)
    if reset & config.keys():
        config = {k: v for k, v in config.items() if k not in reset}
    entries = _live_entries(live)
    base: Obj = clone(live) if live is not None else {}
    if live is not None and not entries:
        cmp = fieldpath.compare({}, base)
        entries = _take([], cmp, BEFORE_FIRST_APPLY, UPDATE, "", version, now)
    merged = _merge(base, config, "", "")
    if not isinstance(merged, dict):
        merged = {}
    applied = fieldpath.object_fields(config)
    ident = (manager, APPLY, subresource)
    own = next((e for e in entries if e.ident() == ident), None)
    last = own.fields if own is not None else set()
    cmp = fieldpath.compare(base, merged)
    changed = cmp.changed()
    conflicts = [(e, p) for e in entries if e is not own and e.owns_any(changed)
                 for p in e.fields & changed]
    if conflicts and not force:
        raise conflict_error(conflicts)
    taken = changed | cmp.removed
    for e in entries:
        if e is not own and e.owns_any(taken):
            e.fields = e.fields - taken
    if own is None:
        own = Entry(manager, APPLY, version, now, applied, subresource)
        entries.append(own)
    own.fields, own.api_version = applied, version
    # prune: what this applier sent last time, no longer sends, and nobody else owns.
    gone = last - applied
    if gone:
        owned = fieldpath.with_prefixes(set().union(*(e.fields for e in entries)))
        for path in sorted(gone, key=len):
            if path not in owned:
                fieldpath.remove_path(merged, path)
    if live is None or _without_meta(merged) != _without_meta(live):
        own.time = now
    _store(merged, entries)
    return merged


def _without_meta(obj: Obj) -> Obj:
    meta = {k: v for k, v in obj.get("metadata", {}).items() if k != "managedFields"}
    return {**obj, "metadata": meta}


def _merge(live: Any, config: Any, field: str, parent: str) -> Any:
    """live.Merge(config): the applied values over the live object, maps and keyed lists
    merged granularly, everything else replaced."""
    if isinstance(config, dict):
        if not isinstance(live, dict) or fieldpath.atomic_map(field, config):
            return clone(config)
        out = dict(live)
        for key, value in config.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = _merge(live.get(key), value, key, field)
        return out
    if isinstance(config, list) and isinstance(live, list):
        if field in patching.MERGED_SCALAR_LISTS:
            return list(live) + [x for x in config if x not in live]
        keys = fieldpath.list_keys(field, parent, config)
        if keys is not None and fieldpath.list_keys(field, parent, live) == keys:
            incoming = {fieldpath.item_element(i, keys): i for i in config}
            out_list = []
            for item in live:
                pe = fieldpath.item_element(item, keys)
                if pe in incoming:
                    out_list.append(_merge(item, incoming.pop(pe), field, parent))
                else:
                    out_list.append(item)
            out_list.extend(clone(i) for i in config
                            if fieldpath.item_element(i, keys) in incoming)
            return out_list
    return clone(config)


def conflict_error(conflicts: list[tuple[Entry, fieldpath.Path]]) -> StatusError:
    """NewConflictError / getConflictMessage (internal/conflict.go)."""
    conflicts = sorted(conflicts, key=lambda c: (c[0].described(), c[1]))
    causes = [{"type": "FieldManagerConflict", "message": f"conflict with {e.described()}",
               "field": fieldpath.path_string(p)} for e, p in conflicts]
    if len(conflicts) == 1:
        e, p = conflicts[0]
        message = (f"Apply failed with 1 conflict: conflict with {e.described()}: "
                   f"{fieldpath.path_string(p)}")
    else:
        lines: list[str] = []
        by_manager: dict[str, list[str]] = {}
        for e, p in conflicts:
            by_manager.setdefault(e.described(), []).append(f"- {fieldpath.path_string(p)}")
        for name in sorted(by_manager):
            lines.append(f"conflicts with {name}:")
            lines.extend(by_manager[name])
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return StatusError(409, "Conflict", message, {"causes": causes})


def manager_from_user_agent(user_agent: str) -> str:
    """prefixFromUserAgent (handlers/create.go): the User-Agent up to its first ``/``."""
    return user_agent.split("/", 1)[0][:MAX_MANAGER_LENGTH]
