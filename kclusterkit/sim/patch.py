"""The three PATCH flavours clients send: JSON patch, JSON merge patch, strategic merge.

Strategic merge patch merges lists of objects by their upstream merge keys (containers by
``name``, ports by ``containerPort`` …) instead of replacing them, which is what
``kubectl apply`` and the Python client's dict patches rely on.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.kube.meta import clone

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


class PatchError(ValueError):
    def __init__(self, message: str, code: int = 422, reason: str = "Invalid") -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


# Upstream patchMergeKey tags for the list fields of the kinds served here, by field name.
# (Field names alone are enough: no two served kinds use one name with two merge keys.)
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "conditions": "type",
    "ownerReferences": "uid",
    "containerStatuses": "name",
    "initContainerStatuses": "name",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "addresses": "type",  # node addresses
    "images": "names",
}
# Lists whose merge key depends on the parent: container ports vs service ports.
PORT_KEYS = {"containers": "containerPort", "spec": "port"}
# Primitive lists merged as sets (patchStrategy:"merge" on a []string).
MERGED_SCALAR_LISTS = {"finalizers"}


def apply(obj: Any, body: Any, patch_type: str) -> Any:
    ctype = patch_type.split(";", 1)[0].strip()
    if ctype == JSON_PATCH:
        if not isinstance(body, list):
            raise PatchError("json patch must be a list of operations", 400, "BadRequest")
        return json_patch(obj, body)
    if ctype == MERGE_PATCH:
        return merge_patch(obj, body)
    if ctype in (STRATEGIC_MERGE_PATCH, APPLY_PATCH):
        if not isinstance(body, dict):
            raise PatchError("strategic merge patch must be an object", 400, "BadRequest")
        return strategic_merge(obj, body, parent="")
    raise PatchError(
        f"the server does not support the patch type {ctype}", 415, "UnsupportedMediaType"
    )


# -- RFC 7386 ---------------------------------------------------------------------------
def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return clone(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# -- RFC 6902 ---------------------------------------------------------------------------
def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f'invalid JSON pointer "{path}"', 400, "BadRequest")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str], path: str) -> Any:
    for part in parts:
        if isinstance(doc, dict):
            if part not in doc:
                raise PatchError(f'doc is missing path: "{path}": missing value')
            doc = doc[part]
        elif isinstance(doc, list):
            try:
                doc = doc[int(part)]
            except (ValueError, IndexError):
                raise PatchError(f'doc is missing path: "{path}": missing value') from None
        else:
            raise PatchError(f'doc is missing path: "{path}": missing value')
    return doc


def json_patch(doc: Any, ops: list[Any]) -> Any:
    doc = clone(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError("json patch operation must have 'op' and 'path'", 400, "BadRequest")
        kind, path = op["op"], op["path"]
        parts = _pointer(path)
        if kind == "test":
            if _walk(doc, parts, path) != op.get("value"):
                raise PatchError(f"testing value {path} failed")
            continue
        if kind in ("move", "copy"):
            src = _pointer(op["from"])
            value = clone(_walk(doc, src, op["from"]))
            if kind == "move":
                doc = _remove(doc, src, op["from"])
            doc = _add(doc, parts, path, value)
            continue
        if kind == "add":
            doc = _add(doc, parts, path, clone(op.get("value")))
        elif kind == "remove":
            doc = _remove(doc, parts, path)
        elif kind == "replace":
            if not parts:
                doc = clone(op.get("value"))
                continue
            parent = _walk(doc, parts[:-1], path)
            last = parts[-1]
            if isinstance(parent, dict):
                if last not in parent:
                    raise PatchError(
                        f"replace operation does not apply: doc is missing key: {path}: "
                        "missing value"
                    )
                parent[last] = clone(op.get("value"))
            elif isinstance(parent, list):
                try:
                    parent[int(last)] = clone(op.get("value"))
                except (ValueError, IndexError):
                    raise PatchError(
                        f"replace operation does not apply: doc is missing key: {path}: "
                        "missing value"
                    ) from None
            else:
                raise PatchError(
                    f"replace operation does not apply: doc is missing key: {path}: missing value"
                )
        else:
            raise PatchError(f"Unexpected kind: {kind}", 400, "BadRequest")
    return doc


def _add(doc: Any, parts: list[str], path: str, value: Any) -> Any:
    if not parts:
        return value
    parent = _walk(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            try:
                index = int(last)
            except ValueError:
                raise PatchError(
                    f'add operation does not apply: doc is missing path: "{path}": missing value'
                ) from None
            if not 0 <= index <= len(parent):
                raise PatchError(
                    f'add operation does not apply: doc is missing path: "{path}": missing value'
                )
            parent.insert(index, value)
    else:
        raise PatchError(
            f'add operation does not apply: doc is missing path: "{path}": missing value'
        )
    return doc


def _remove(doc: Any, parts: list[str], path: str) -> Any:
    if not parts:
        raise PatchError("cannot remove the whole document")
    parent = _walk(doc, parts[:-1], path)
    last = parts[-1]
    try:
        if isinstance(parent, dict):
            del parent[last]
        elif isinstance(parent, list):
            del parent[int(last)]
        else:
            raise KeyError(last)
    except (KeyError, ValueError, IndexError):
        raise PatchError(
            f'remove operation does not apply: doc is missing path: "{path}": missing value'
        ) from None
    return doc


# -- strategic merge patch --------------------------------------------------------------
def merge_key(field: str, parent: str) -> str | None:
    """The merge key of the list at ``field`` under ``parent`` (None: not keyed); server-side
    apply's field sets (``fieldpath``) key the same lists by it."""
    if field == "ports":
        return PORT_KEYS.get(parent, "containerPort")
    return MERGE_KEYS.get(field)


def strategic_merge(target: Any, patch: dict[str, Any], parent: str) -> Any:
    if patch.get("$patch") == "replace":
        return {k: clone(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = dict(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if key.startswith("$setElementOrder/"):
            continue
        if value is None:
            result.pop(key, None)
            continue
        current = result.get(key)
        if isinstance(value, dict):
            merged = strategic_merge(current if isinstance(current, dict) else {}, value, key)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _merge_list(
                current if isinstance(current, list) else [], value, key, parent
            )
        else:
            result[key] = value
    for key in list(patch):
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            drop = set(map(str, patch[key]))
            result[field] = [x for x in result.get(field, []) if str(x) not in drop]
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(current: list[Any], patch: list[Any], field: str, parent: str) -> list[Any]:
    key = merge_key(field, parent)
    if key is None:
        if field in MERGED_SCALAR_LISTS:
            out = list(current)
            for item in patch:
                if item not in out:
                    out.append(item)
            return out
        return clone(patch)
    if all(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch[:1]) and patch:
        return [clone({k: v for k, v in i.items() if k != "$patch"}) for i in patch[1:]]
    out = [clone(i) for i in current]
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            out.append(clone(item))
            continue
        index = next(
            (n for n, c in enumerate(out) if isinstance(c, dict) and c.get(key) == item[key]), None
        )
        if item.get("$patch") == "delete":
            if index is not None:
                out.pop(index)
            continue
        if index is None:
            out.append(strategic_merge({}, item, field))
        else:
            out[index] = strategic_merge(out[index], item, field)
    return out
