"""A CRD version's structural schema applied to custom objects: prune, default, validate.

What upstream does to a custom object between decoding and storage, in its order:

1. pruning (apiextensions-apiserver pkg/apiserver/schema/pruning/algorithm.go): fields the
   schema does not specify are dropped, unless ``x-kubernetes-preserve-unknown-fields``;
   at the object's root (and in ``x-kubernetes-embedded-resource`` values) ``apiVersion``,
   ``kind`` and ``metadata`` are always kept;
2. defaulting (schema/defaulting/algorithm.go): a property with a ``default`` that is
   absent (or null while not nullable) gets a copy of it, top-down, so defaults inside
   defaults apply too;
3. validation with kube-openapi's validators (pkg/validation/validate), whose errors
   apiserver/validation/validation.go kubeOpenAPIResultToFieldErrors turns into field
   errors: Required → ``Required value``, enum → ``Unsupported value``, maxLength →
   ``Too long``, maxItems → ``Too many``, a wrong type → TypeInvalid, everything else
   Invalid carrying kube-openapi's message (pkg/validation/errors/schema.go), e.g.
   ``spec.replicas: Invalid value: "string": spec.replicas in body must be of type
   integer: "string"``.
"""

from __future__ import annotations

import copy
import json
import math
import re
from typing import Any

from kclusterkit.sim.strategy import Cause
from kclusterkit.sim.validation import go_quote, render_value

Schema = dict[str, Any]
_ROOT_FIELDS = ("apiVersion", "kind", "metadata")
_IN = "body"


# -- pruning ------------------------------------------------------------------------------
def prune(obj: Any, schema: Schema | None, *, root: bool = True) -> list[str]:
    """Drop what ``schema`` does not specify, in place; returns the dropped field paths."""
    dropped: list[str] = []
    if schema is not None:
        _prune(obj, schema, "", root, dropped)
    return dropped


def _prune(value: Any, schema: Schema, path: str, root: bool, dropped: list[str]) -> None:
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
        keep_meta = root or bool(schema.get("x-kubernetes-embedded-resource"))
        for key in list(value):
            here = f"{path}.{key}" if path else key
            if keep_meta and key in _ROOT_FIELDS and key not in props:
                continue
            if key in props:
                _prune(value[key], props[key] or {}, here, False, dropped)
            elif isinstance(additional, dict):
                _prune(value[key], additional, here, False, dropped)
            elif additional is True or preserve:
                continue
            else:
                del value[key]
                dropped.append(here)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                _prune(item, items, f"{path}[{i}]", False, dropped)


# -- defaulting ---------------------------------------------------------------------------
def default(value: Any, schema: Schema | None) -> None:
    """Apply ``default``s in place (structural defaulting, then null pruning)."""
    if schema is None:
        return
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for key, prop in props.items():
            if not isinstance(prop, dict):
                continue
            if key in value and value[key] is None and not prop.get("nullable"):
                # PruneNonNullableNullsWithoutDefaults: a null a non-nullable field may not hold.
                if "default" in prop:
                    value[key] = copy.deepcopy(prop["default"])
                else:
                    del value[key]
            elif key not in value and "default" in prop:
                value[key] = copy.deepcopy(prop["default"])
        additional = schema.get("additionalProperties")
        for key, child in value.items():
            if key in props:
                default(child, props[key])
            elif isinstance(additional, dict):
                default(child, additional)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for item in value:
                default(item, items)


# -- validation ---------------------------------------------------------------------------
def validate(obj: Any, schema: Schema | None) -> list[Cause]:
    """kube-openapi's SchemaValidator over the whole object, as field errors."""
    if schema is None:
        return []
    out: list[Cause] = []
    _validate(obj, schema, "", out)
    return out


def _json_type(value: Any) -> str:
    """schemaInfoForType: the JSON type kube-openapi infers for a decoded value."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _types(schema: Schema) -> list[str]:
    if schema.get("x-kubernetes-int-or-string"):
        return ["integer", "string"]
    t = schema.get("type")
    return [t] if isinstance(t, str) and t else []


def go_number(value: Any) -> str:
    """Go's %v of an int64 or float64 (floats in the shortest form, 1.0 as "1")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    return str(value)


def _name(path: str) -> str:
    return path.lstrip(".") if path else ""


def _field(path: str) -> str:
    # kubeOpenAPIResultToFieldErrors: errPath.Child(strings.TrimPrefix(err.Name, "."))
    return _name(path)


def _invalid(path: str, value: Any, message: str, reason: str = "FieldValueInvalid") -> Cause:
    return (reason, _field(path), f"Invalid value: {_render(value)}: {message}")


def _render(value: Any) -> str:
    if isinstance(value, float):
        return go_number(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return render_value(value)


def _validate(value: Any, schema: Schema, path: str, out: list[Cause]) -> None:
    name = _name(path) or "."
    types = _types(schema)
    # typeValidator (validate/type.go): nil passes unless the type excludes null.
    if value is None:
        if types and "null" not in types and not schema.get("nullable"):
            out.append(_invalid(path, "null", f"{name} in {_IN} must be of type "
                                f"{','.join(types)}: \"null\"", "FieldValueTypeInvalid"))
            return
    else:
        kind = _json_type(value)
        float_int = kind == "number" and float(value).is_integer() and "integer" in types
        int_float = kind == "integer" and "number" in types
        if types and kind not in types and not float_int and not int_float:
            out.append(_invalid(path, kind, f"{name} in {_IN} must be of type "
                                f"{','.join(types)}: {go_quote(kind)}", "FieldValueTypeInvalid"))
            return
    if value is None:
        return
    if isinstance(value, str) and not isinstance(value, bool):
        _string(value, schema, path, name, out)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        _number(value, schema, path, name, out)
    if isinstance(value, list):
        _array(value, schema, path, name, out)
    enum = schema.get("enum")
    if enum and not any(_json_equal(value, choice) for choice in enum):
        choices = [c if isinstance(c, str) else json.dumps(c) for c in enum]
        out.append(("FieldValueNotSupported", _field(path),
                    f"Unsupported value: {_render(value)}: supported values: "
                    + ", ".join(go_quote(c) for c in choices)))
    if isinstance(value, dict):
        _object(value, schema, path, name, out)


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


def _string(value: str, schema: Schema, path: str, name: str, out: list[Cause]) -> None:
    max_len, min_len = schema.get("maxLength"), schema.get("minLength")
    if isinstance(max_len, int) and len(value) > max_len:
        # field.TooLongMaxLength: the value is left out of the message.
        out.append(("FieldValueTooLong", _field(path),
                    f"Too long: may not be more than {max_len} bytes"))
    if isinstance(min_len, int) and len(value) < min_len:
        out.append(_invalid(path, value, f"{name} in {_IN} should be at least {min_len} "
                            "chars long"))
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        try:
            matched = re.search(pattern, value) is not None
        except re.error:
            matched = True
        if not matched:
            out.append(_invalid(path, value, f"{name} in {_IN} should match '{pattern}'"))


def _number(value: float, schema: Schema, path: str, name: str, out: list[Cause]) -> None:
    maximum, minimum = schema.get("maximum"), schema.get("minimum")
    if isinstance(maximum, (int, float)):
        exclusive = bool(schema.get("exclusiveMaximum"))
        if value > maximum or (exclusive and value == maximum):
            word = "less than" if exclusive else "less than or equal to"
            out.append(_invalid(path, value, f"{name} in {_IN} should be {word} "
                                f"{go_number(maximum)}"))
    if isinstance(minimum, (int, float)):
        exclusive = bool(schema.get("exclusiveMinimum"))
        if value < minimum or (exclusive and value == minimum):
            word = "greater than" if exclusive else "greater than or equal to"
            out.append(_invalid(path, value, f"{name} in {_IN} should be {word} "
                                f"{go_number(minimum)}"))
    multiple = schema.get("multipleOf")
    if isinstance(multiple, (int, float)) and multiple > 0:
        ratio = value / multiple
        if not math.isclose(ratio, round(ratio), abs_tol=1e-9):
            out.append(_invalid(path, value, f"{name} in {_IN} should be a multiple of "
                                f"{go_number(multiple)}"))


def _array(value: list[Any], schema: Schema, path: str, name: str, out: list[Cause]) -> None:
    items = schema.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            _validate(item, items, f"{path}[{i}]", out)
    min_items, max_items = schema.get("minItems"), schema.get("maxItems")
    if isinstance(min_items, int) and len(value) < min_items:
        out.append(_invalid(path, len(value), f"{name} in {_IN} should have at least "
                            f"{min_items} items"))
    if isinstance(max_items, int) and len(value) > max_items:
        out.append(("FieldValueTooMany", _field(path),
                    f"Too many: {len(value)}: must have at most {max_items} items"))
    if schema.get("uniqueItems"):
        seen: list[Any] = []
        for item in value:
            if item in seen:
                out.append(_invalid(path, "", f"{name} in {_IN} shouldn't contain duplicates"))
                break
            seen.append(item)


def _object(value: dict[str, Any], schema: Schema, path: str, name: str,
            out: list[Cause]) -> None:
    props = schema.get("properties") or {}
    for key in schema.get("required") or []:
        if key not in value:
            out.append(("FieldValueRequired", _field(f"{path}.{key}"), "Required value"))
    additional = schema.get("additionalProperties")
    for key, child in value.items():
        here = f"{path}.{key}"
        if key in props and isinstance(props[key], dict):
            _validate(child, props[key], here, out)
        elif isinstance(additional, dict):
            _validate(child, additional, here, out)
    for bound, word in (("minProperties", "at least"), ("maxProperties", "at most")):
        limit = schema.get(bound)
        if not isinstance(limit, int):
            continue
        if (bound == "minProperties" and len(value) < limit) or \
                (bound == "maxProperties" and len(value) > limit):
            if bound == "maxProperties":
                out.append(("FieldValueTooMany", _field(path),
                            f"Too many: {len(value)}: must have at most {limit} items"))
            else:
                out.append(_invalid(path, len(value), f"{name} in {_IN} should have {word} "
                                    f"{limit} properties"))


# Perl syntax Go's RE2 does not have: lookarounds and backreferences.
_NOT_RE2 = re.compile(r"\(\?<?[=!]|\\[1-9]")


def pattern_error(pattern: str) -> str:
    """Why a schema's pattern is not a regular expression the API server accepts, or ""."""
    unsupported = _NOT_RE2.search(pattern)
    if unsupported:
        return f"invalid or unsupported Perl syntax: `{unsupported.group(0)}`"
    try:
        re.compile(pattern)
    except re.error as exc:
        return str(exc)
    return ""


# -- structural schema checks for the CRD itself -----------------------------------------
def structural_errors(schema: Any, path: str) -> list[Cause]:
    """The structural-schema rules a v1 CRD's schema must meet (a small, common subset of
    apiextensions validation's validateStructuralInvariants/validateStructuralCompleteness):
    every specified node has a type, unless it is int-or-string or preserves unknown
    fields."""
    out: list[Cause] = []
    _structural(schema, path, out, root=True)
    return out


def _structural(schema: Any, path: str, out: list[Cause], *, root: bool = False) -> None:
    if not isinstance(schema, dict):
        return
    if not schema.get("type") and not schema.get("x-kubernetes-int-or-string") and \
            not schema.get("x-kubernetes-preserve-unknown-fields"):
        detail = ("must not be empty at the root" if root
                  else "must not be empty for specified object fields")
        out.append(("FieldValueRequired", f"{path}.type", f"Required value: {detail}"))
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        problem = pattern_error(pattern)
        if problem:
            # validation.go: regexp.Compile's error (Go's wording of the detail differs).
            out.append(("FieldValueInvalid", f"{path}.pattern",
                        f"Invalid value: {go_quote(pattern)}: must be a valid regular "
                        f"expression, but isn't: error parsing regexp: {problem}"))
    for key, prop in (schema.get("properties") or {}).items():
        _structural(prop, f"{path}.properties[{key}]", out)
    items = schema.get("items")
    if isinstance(items, dict):
        _structural(items, f"{path}.items", out)
    additional = schema.get("additionalProperties")
    if isinstance(additional, dict):
        _structural(additional, f"{path}.additionalProperties", out)
