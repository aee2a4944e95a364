"""Field sets as server-side apply sees them: which fields an object sets, and FieldsV1.

sigs.k8s.io/structured-merge-diff (fieldpath/, typed/tofieldset.go, typed/compare.go)
names every field of an object by a path of elements: ``f:<field>`` for a map key,
``k:{"name":"nginx"}`` for an item of an associative list (keyed by its list-map keys),
``v:"x"`` for an item of a set of scalars, ``i:3`` for an item of a plain granular list.
A field set is a set of such paths; ``metadata.managedFields[].fieldsV1`` is that set
encoded as nested JSON objects, with ``".": {}`` marking a member that also has members
below it (fieldpath/serialize.go).

The schema is upstream's list and map types for the served kinds: lists with a merge key
(``patch.merge_key``, the strategic-merge-patch tags — the same fields carry
``+listType=map`` with that key) are associative; container and service ports are keyed
by their port *and* ``protocol`` (``+listMapKey=containerPort +listMapKey=protocol``),
a missing protocol defaulting to TCP as structured-merge-diff fills key defaults from the
schema; ``finalizers`` is a set; every other list is atomic (owned whole). Label
selectors and ``nodeSelector`` are atomic (``+structType=atomic`` / ``+mapType=atomic``);
every other object is a granular map. A path is a tuple of FieldsV1 keys, already in
their encoded form, so encoding costs no formatting.
"""

from __future__ import annotations

import json
from typing import Any

from kclusterkit.kube.fieldsv1 import FieldsError, decode, encode, path_string
from kclusterkit.sim import patch as patching

__all__ = ["FieldsError", "decode", "encode", "path_string"]  # FieldsV1, shared with steps

Path = tuple[str, ...]
FieldSet = set[Path]

# stripmeta.go: what no manager ever owns.
STRIPPED_TOP = frozenset({"apiVersion", "kind"})
STRIPPED_META = frozenset({"name", "namespace", "creationTimestamp", "selfLink", "uid",
                           "clusterName", "generation", "managedFields", "resourceVersion",
                           # set by the server alone, never by a writer's request
                           "deletionTimestamp", "deletionGracePeriodSeconds"})
# Objects owned whole: upstream's +structType=atomic / +mapType=atomic fields.
ATOMIC_MAPS = frozenset({"labelSelector", "namespaceSelector", "nodeSelector",
                         "podAffinityTerm"})
# Top-level Go maps (absent from a zero object, so adding one adds the map itself), unlike
# the structs spec and status every typed object has.
TOP_LEVEL_MAPS = frozenset({"data", "binaryData", "stringData"})
SELECTOR_FIELDS = frozenset({"matchLabels", "matchExpressions"})
# Lists keyed by more than one field, with the schema's default for a missing key field.
PORT_KEY_DEFAULTS = {"protocol": "TCP"}


def atomic_map(field: str, value: dict[str, Any]) -> bool:
    """Whether the object ``value`` at ``field`` is owned whole."""
    if field in ATOMIC_MAPS:
        return True
    # A LabelSelector is atomic; a Service's selector is a plain granular map.
    return field == "selector" and bool(value) and value.keys() <= SELECTOR_FIELDS


def list_keys(field: str, parent: str, items: list[Any]) -> tuple[str, ...] | None:
    """The list-map keys of ``items`` (a list held at ``field`` under ``parent``), or None
    when the list is atomic or a set. A list whose items lack their key is owned whole."""
    key = patching.merge_key(field, parent)
    if key is None:
        return None
    keys = (key, "protocol") if field == "ports" else (key,)
    for item in items:
        if not isinstance(item, dict) or key not in item:
            return None
    return keys


def item_element(item: dict[str, Any], keys: tuple[str, ...]) -> str:
    """``k:{"containerPort":80,"protocol":"TCP"}``: the key fields sorted, compact JSON."""
    fields = {k: item.get(k, PORT_KEY_DEFAULTS.get(k)) for k in sorted(keys)}
    return "k:" + json.dumps({k: v for k, v in fields.items() if v is not None},
                             separators=(",", ":"), sort_keys=True)


def value_element(value: Any) -> str:
    return "v:" + json.dumps(value, separators=(",", ":"), sort_keys=True)


# -- the fields an object sets (typed.ToFieldSet) ----------------------------------------
def object_fields(obj: dict[str, Any]) -> FieldSet:
    """The leaves and list items ``obj`` sets: what an applied configuration owns."""
    out: FieldSet = set()
    for key, value in obj.items():
        if key in STRIPPED_TOP:
            continue
        if key == "metadata" and isinstance(value, dict):
            for mkey, mvalue in value.items():
                if mkey not in STRIPPED_META:
                    _leaves(mvalue, ("f:metadata", f"f:{mkey}"), mkey, "metadata", out)
            continue
        _leaves(value, (f"f:{key}",), key, "", out)
    return out


def _leaves(value: Any, path: Path, field: str, parent: str, out: FieldSet,
            maps: bool = False) -> None:
    """Walk ``value``; ``maps`` also records granular maps themselves (Compare's Added)."""
    if isinstance(value, dict):
        if atomic_map(field, value):
            out.add(path)
            return
        if maps:
            out.add(path)
        for key, child in value.items():
            _leaves(child, (*path, f"f:{key}"), key, field, out, maps)
        return
    if isinstance(value, list):
        if field in patching.MERGED_SCALAR_LISTS:
            if maps:
                out.add(path)
            for item in value:
                out.add((*path, value_element(item)))
            return
        keys = list_keys(field, parent, value)
        if keys is None:
            out.add(path)
            return
        if maps:
            out.add(path)
        for item in value:
            ipath = (*path, item_element(item, keys))
            out.add(ipath)
            for key, child in item.items():
                _leaves(child, (*ipath, f"f:{key}"), key, field, out, maps)
        return
    out.add(path)


# -- what changed between two objects (typed.Compare) ------------------------------------
class Comparison:
    __slots__ = ("added", "modified", "removed")

    def __init__(self) -> None:
        self.added: FieldSet = set()
        self.modified: FieldSet = set()
        self.removed: FieldSet = set()

    def changed(self) -> FieldSet:
        return self.added | self.modified

    def empty(self) -> bool:
        return not (self.added or self.modified or self.removed)


def compare(old: dict[str, Any], new: dict[str, Any]) -> Comparison:
    """Fields ``new`` adds, changes and drops relative to ``old`` (the stripped fields and
    the top-level objects, present in every typed object, are not compared as members)."""
    out = Comparison()
    for key in old.keys() | new.keys():
        if key in STRIPPED_TOP:
            continue
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if (a is None or isinstance(a, dict)) and (b is None or isinstance(b, dict)) and \
                key not in TOP_LEVEL_MAPS:
            ma, mb = a or {}, b or {}
            strip = STRIPPED_META if key == "metadata" else ()
            for sub in ma.keys() | mb.keys():
                if sub not in strip:
                    _compare(ma, mb, sub, (f"f:{key}",), key, out)
            continue
        _compare(old, new, key, (), "", out)
    return out


def _compare(a: dict[str, Any], b: dict[str, Any], key: str, prefix: Path, parent: str,
             out: Comparison) -> None:
    path = (*prefix, f"f:{key}")
    if key not in b:
        _leaves(a[key], path, key, parent, out.removed, maps=True)
    elif key not in a:
        _leaves(b[key], path, key, parent, out.added, maps=True)
    else:
        _compare_values(a[key], b[key], path, key, parent, out)


def _compare_values(a: Any, b: Any, path: Path, field: str, parent: str,
                    out: Comparison) -> None:
    if a == b:
        return
    if isinstance(a, dict) and isinstance(b, dict) and not atomic_map(field, b) \
            and not atomic_map(field, a):
        for key in a.keys() | b.keys():
            _compare(a, b, key, path, field, out)
        return
    if isinstance(a, list) and isinstance(b, list):
        if field in patching.MERGED_SCALAR_LISTS:
            va = {value_element(x) for x in a}
            vb = {value_element(x) for x in b}
            out.added.update((*path, v) for v in vb - va)
            out.removed.update((*path, v) for v in va - vb)
            return
        ka, kb = list_keys(field, parent, a), list_keys(field, parent, b)
        if ka is not None and ka == kb:
            ia = {item_element(i, ka): i for i in a}
            ib = {item_element(i, kb): i for i in b}
            for pe in ia.keys() | ib.keys():
                ipath = (*path, pe)
                if pe not in ib:
                    _leaves(ia[pe], ipath, field, parent, out.removed, maps=True)
                    out.removed.add(ipath)
                elif pe not in ia:
                    out.added.add(ipath)
                    for key, child in ib[pe].items():
                        _leaves(child, (*ipath, f"f:{key}"), key, field, out.added, maps=True)
                elif ia[pe] != ib[pe]:
                    for key in ia[pe].keys() | ib[pe].keys():
                        _compare(ia[pe], ib[pe], key, ipath, field, out)
            return
    out.modified.add(path)


def with_prefixes(fields: FieldSet) -> set[Path]:
    """Every path of ``fields`` and every path above one."""
    out: set[Path] = set()
    for path in fields:
        for n in range(1, len(path) + 1):
            out.add(path[:n])
    return out


def remove_path(obj: Any, path: Path) -> None:
    """Remove the field or list item at ``path`` from ``obj`` (in place), if present; maps
    it leaves empty go too (below the top level), as Go's omitempty drops them."""
    node = obj
    field = parent = ""
    trail: list[tuple[Any, Any]] = []  # (container, key or index) down to ``node``
    for pe in path:
        kind, text = pe[:2], pe[2:]
        if kind == "f:":
            if not isinstance(node, dict) or text not in node:
                return
            trail.append((node, text))
            parent, field, node = field, text, node[text]
            continue
        if not isinstance(node, list):
            return
        index = _find_item(node, kind, text, field, parent)
        if index is None:
            return
        trail.append((node, index))
        node = node[index]
    if not trail:
        return
    container, key = trail.pop()
    del container[key]
    while len(trail) > 1 and isinstance(container, dict) and not container:
        container, key = trail.pop()
        del container[key]


def _find_item(items: list[Any], kind: str, text: str, field: str, parent: str) -> int | None:
    if kind == "v:":
        for i, item in enumerate(items):
            if value_element(item) == "v:" + text:
                return i
        return None
    if kind == "i:":
        try:
            i = int(text)
        except ValueError:
            return None
        return i if 0 <= i < len(items) else None
    keys = list_keys(field, parent, items)
    if keys is None:
        return None
    wanted = "k:" + text
    for i, item in enumerate(items):
        if item_element(item, keys) == wanted:
            return i
    return None
