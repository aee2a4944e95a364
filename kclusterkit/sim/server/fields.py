"""Unknown-field detection for ``fieldValidation`` (Strict / Warn / Ignore).

Upstream decodes request bodies strictly against the Go types and reports each field the
type does not have (``unknown field "spec.template.spec.containers[0].imagePullPolcy"``).
We walk the body against the field names of the upstream types (``_schema``). Strategic
merge patch directives (``$patch``, ``$setElementOrder/…``) are not fields.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.sim.resources import Resource
from kclusterkit.sim.server._schema import ROOTS, TYPES


def unknown_fields(res: Resource, body: Any) -> list[str]:
    root = ROOTS.get(f"{res.api_version}/{res.kind}")
    if root is None or not isinstance(body, dict):
        return []
    out: list[str] = []
    _walk(body, root, "", out)
    return out


def _walk(value: Any, type_name: str, path: str, out: list[str]) -> None:
    known = TYPES.get(type_name)
    if known is None or not isinstance(value, dict):
        return
    for key, child in value.items():
        if key.startswith("$"):
            continue
        here = f"{path}.{key}" if path else key
        if key not in known:
            out.append(here)
            continue
        ftype = known[key]
        if not ftype or child is None:
            continue
        if ftype.startswith("[]"):
            if isinstance(child, list):
                for i, item in enumerate(child):
                    _walk(item, ftype[2:], f"{here}[{i}]", out)
        elif ftype.startswith("{}"):
            if isinstance(child, dict):
                for k, item in child.items():
                    _walk(item, ftype[2:], f"{here}[{k}]", out)
        else:
            _walk(child, ftype, here, out)
