"""FieldsV1, the encoding of ``metadata.managedFields[].fieldsV1``, and field paths.

sigs.k8s.io/structured-merge-diff fieldpath/serialize.go: a field set is nested JSON
objects keyed ``f:<field>``, ``k:{"name":"nginx"}`` (an associative list's item),
``v:"x"`` (a set's item), ``i:3`` (a list index); ``".": {}`` marks a member that also has
members below it. The simulator's field manager writes it and steps read it (who manages
``.spec.replicas``), so it lives here, below both.
"""

from __future__ import annotations

import json
from typing import Any

Path = tuple[str, ...]
FieldSet = set[Path]


def encode(fields: FieldSet) -> dict[str, Any]:
    """The FieldsV1 JSON object of a field set (fieldpath/serialize.go)."""
    root: dict[str, Any] = {}
    for path in sorted(fields):
        node = root
        for pe in path:
            node = node.setdefault(pe, {})
    for path in fields:
        node = root
        for pe in path:
            node = node[pe]
        if node and "." not in node:
            node["."] = {}
    return _ordered(root)


def _ordered(node: dict[str, Any]) -> dict[str, Any]:
    keys = sorted(node, key=lambda k: (k != ".", k))
    return {k: _ordered(node[k]) for k in keys}


class FieldsError(ValueError):
    pass


def decode(fields_v1: Any) -> FieldSet:
    """A field set from FieldsV1; FieldsError on anything that is not one."""
    out: FieldSet = set()
    if not isinstance(fields_v1, dict):
        raise FieldsError("FieldsV1 must be a JSON object")
    _decode(fields_v1, (), out, 0)
    return out


def _decode(node: dict[str, Any], path: Path, out: FieldSet, depth: int) -> None:
    if depth > 100:
        raise FieldsError("FieldsV1 nests too deeply")
    for key, child in node.items():
        if key == ".":
            if path:
                out.add(path)
            continue
        if not isinstance(child, dict) or key[:2] not in ("f:", "k:", "v:", "i:"):
            raise FieldsError(f"unexpected FieldsV1 key {key!r}")
        if not child:
            out.add((*path, key))
        else:
            _decode(child, (*path, key), out, depth + 1)


def path_string(path: Path) -> str:
    """fieldpath.Path.String(): ``.spec.template.spec.containers[name="nginx"].image``."""
    parts = []
    for pe in path:
        kind, text = pe[:2], pe[2:]
        if kind == "f:":
            parts.append("." + text)
        elif kind == "k:":
            try:
                keyed = json.loads(text)
                parts.append("[" + ",".join(f"{k}={json.dumps(v)}" for k, v in keyed.items())
                             + "]")
            except ValueError:
                parts.append(f"[{text}]")
        elif kind == "v:":
            parts.append(f"[={text}]")
        else:
            parts.append(f"[{text}]")
    return "".join(parts)
