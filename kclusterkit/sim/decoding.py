"""Objects checked against the Go types the API server decodes them into.

Upstream decodes every request body into typed Go structs; a value of the wrong JSON type
(a numeric name, a string where a list of containers belongs, a replica count beyond
int32) fails there, before admission, with a 400 such as::

    ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal
    number into Go struct field ObjectMeta.metadata.name of type string

(handlers/create.go transformDecodeError around encoding/json's UnmarshalTypeError). The
simulator stores plain dicts, so this module walks an object against the generated table
of Go types (``api_types``) and raises that 400, for the served API and the in-process
driver alike: a wrongly typed value must never reach the store, where a numeric name
once made every list of its kind fail.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from kclusterkit.sim import errors
from kclusterkit.sim.api_types import ROOTS, STRUCTS
from kclusterkit.sim.resources import Resource

_INT_RANGE = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


class DecodeError(Exception):
    pass


def check(res: Resource, obj: Any) -> None:
    """Raise upstream's 400 when ``obj`` would not decode into ``res``'s Go type."""
    root = ROOTS.get(f"{res.api_version}/{res.kind}")
    if root is None or not isinstance(obj, dict):
        return
    try:
        _struct(obj, root, [])
    except DecodeError as exc:
        raise errors.bad_request(f'{res.kind} in version "{res.version}" cannot be handled as '
                                 f"a {res.kind}: {exc}") from None


def check_scale(obj: Any) -> None:
    """The same for an autoscaling/v1 Scale body (the scale subresource)."""
    if not isinstance(obj, dict):
        return
    try:
        _struct(obj, "V1Scale", [])
    except DecodeError as exc:
        raise errors.bad_request(f'Scale in version "v1" cannot be handled as a Scale: {exc}'
                                 ) from None


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _go_type(ftype: str) -> str:
    if ftype == "[]byte":
        return "[]uint8"
    if ftype.startswith("[]"):
        return "[]" + _go_type(ftype[2:])
    if ftype.startswith("map[string]"):
        return "map[string]" + _go_type(ftype[len("map[string]"):])
    if ftype.startswith("@"):
        return STRUCTS[ftype[1:]][0]
    return {"Time": "string", "Quantity": "resource.Quantity"}.get(ftype, ftype)


def _fail(value: Any, struct: str, stack: list[str], ftype: str, literal: bool = False) -> None:
    shown = _json_kind(value) + (f" {value!r}" if literal else "")
    raise DecodeError(f"json: cannot unmarshal {shown} into Go struct field "
                      f"{struct.split('.', 1)[-1]}.{'.'.join(stack)} of type {_go_type(ftype)}")


def _key_error(key: Any, stack: list[str]) -> DecodeError:
    return DecodeError(f"json: cannot unmarshal {_json_kind(key)} into Go value of type string "
                       f"(the key {key!r} of {'.'.join(stack) or 'the object'})")


def _struct(value: dict[str, Any], model: str, stack: list[str]) -> None:
    struct, fields = STRUCTS[model]
    for key, child in value.items():
        if not isinstance(key, str):
            raise _key_error(key, stack)
        ftype = fields.get(key)
        if ftype is not None and child is not None:
            _value(child, ftype, struct, [*stack, key])


def _value(value: Any, ftype: str, struct: str, stack: list[str]) -> None:
    if value is None or ftype == "any":
        return
    if ftype == "[]byte":
        if not isinstance(value, str):
            _fail(value, struct, stack, ftype)
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise DecodeError(f"illegal base64 data at input byte {_bad_base64_at(value)}"
                              ) from None
        return
    if ftype.startswith("[]"):
        if not isinstance(value, list):
            _fail(value, struct, stack, ftype)
        for item in value:
            _value(item, ftype[2:], struct, stack)
        return
    if ftype.startswith("map[string]"):
        if not isinstance(value, dict):
            _fail(value, struct, stack, ftype)
        inner = ftype[len("map[string]"):]
        for key, item in value.items():
            if not isinstance(key, str):
                raise _key_error(key, stack)
            _value(item, inner, struct, stack)
        return
    if ftype.startswith("@"):
        if not isinstance(value, dict):
            _fail(value, struct, stack, ftype)
        _struct(value, ftype[1:], stack)
        return
    if ftype in _INT_RANGE:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(value, struct, stack, ftype)
        low, high = _INT_RANGE[ftype]
        if isinstance(value, float) or not low <= value <= high:
            _fail(value, struct, stack, ftype, literal=True)
        return
    if ftype == "float64":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(value, struct, stack, ftype)
        return
    if ftype == "bool":
        if not isinstance(value, bool):
            _fail(value, struct, stack, ftype)
        return
    if ftype == "Quantity":
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            _fail(value, struct, stack, ftype)
        return
    if not isinstance(value, str):  # string, Time
        _fail(value, struct, stack, ftype)


def _bad_base64_at(text: str) -> int:
    """The offset Go's base64.CorruptInputError reports (first byte outside the alphabet)."""
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    for i, ch in enumerate(text):
        if ch not in alphabet:
            if ch == "=" and len(text) % 4 == 0 and i >= len(text) - 2:
                continue
            return i
    return len(text) - len(text) % 4
