"""Field validation with upstream's field paths and wording (apimachinery's validation).

Messages are rendered the way ``field.Error.Error()`` renders them, e.g.
``spec.replicas: Invalid value: -1: must be greater than or equal to 0``, so a step that
fails on an invalid manifest shows what kubectl would show.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from kclusterkit.sim.meta import Obj
from kclusterkit.sim.resources import Resource

Cause = tuple[str, str, str]

DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + r"(\." + DNS1123_LABEL_FMT + ")*"
_DNS1123_LABEL = re.compile("^" + DNS1123_LABEL_FMT + "$")
_DNS1123_SUBDOMAIN = re.compile("^" + DNS1123_SUBDOMAIN_FMT + "$")
QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_NAME = re.compile("^" + QUALIFIED_NAME_FMT + "$")
LABEL_VALUE_FMT = "(" + QUALIFIED_NAME_FMT + ")?"
_LABEL_VALUE = re.compile("^" + LABEL_VALUE_FMT + "$")


def render_value(value: Any) -> str:
    """How field.Invalid prints a bad value: strings quoted, numbers bare."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, Mapping):
        inner = ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in value.items())
        return "map[string]string{" + inner + "}"
    return json.dumps(value)


def required(path: str, detail: str = "") -> Cause:
    return ("FieldValueRequired", path, "Required value" + (f": {detail}" if detail else ""))


def invalid(path: str, value: Any, detail: str) -> Cause:
    return ("FieldValueInvalid", path, f"Invalid value: {render_value(value)}: {detail}")


def not_supported(path: str, value: Any, supported: list[str]) -> Cause:
    choices = ", ".join(json.dumps(s) for s in supported)
    return (
        "FieldValueNotSupported",
        path,
        f"Unsupported value: {render_value(value)}: supported values: {choices}",
    )


def duplicate(path: str, value: Any) -> Cause:
    return ("FieldValueDuplicate", path, f"Duplicate value: {render_value(value)}")


def forbidden(path: str, detail: str) -> Cause:
    return ("FieldValueForbidden", path, f"Forbidden: {detail}")


def dns1123_label_errors(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _DNS1123_LABEL.match(value):
        errs.append(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
            "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
            f"'123-abc', regex used for validation is '{DNS1123_LABEL_FMT}')"
        )
    return errs


def dns1123_subdomain_errors(value: str) -> list[str]:
    errs = []
    if len(value) > 253:
        errs.append("must be no more than 253 characters")
    if not _DNS1123_SUBDOMAIN.match(value):
        errs.append(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
            "'-' or '.', and must start and end with an alphanumeric character (e.g. "
            f"'example.com', regex used for validation is '{DNS1123_SUBDOMAIN_FMT}')"
        )
    return errs


def qualified_name_errors(value: str) -> list[str]:
    """Label and annotation keys: optional DNS subdomain prefix, then a name part."""
    errs = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs += ["prefix part " + e for e in dns1123_subdomain_errors(prefix)]
    else:
        return [
            "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must "
            "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
            f"'123-abc', regex used for validation is '{QUALIFIED_NAME_FMT}') with an optional "
            "DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    elif not _QUALIFIED_NAME.match(name):
        errs.append(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
            "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
            f"'123-abc', regex used for validation is '{QUALIFIED_NAME_FMT}')"
        )
    return errs


def label_value_errors(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _LABEL_VALUE.match(value):
        errs.append(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', "
            "'_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  "
            f"or 'my_value',  or '12345', regex used for validation is '{LABEL_VALUE_FMT}')"
        )
    return errs


def labels(path: str, value: Any) -> list[Cause]:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [invalid(path, value, "must be a map of string keys to string values")]
    out: list[Cause] = []
    for key, val in value.items():
        out += [invalid(path, key, e) for e in qualified_name_errors(str(key))]
        if not isinstance(val, str):
            out.append(invalid(f"{path}[{key}]", val, "must be a string"))
        else:
            out += [invalid(path, val, e) for e in label_value_errors(val)]
    return out


def annotations(path: str, value: Any) -> list[Cause]:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [invalid(path, value, "must be a map of string keys to string values")]
    out: list[Cause] = []
    for key in value:
        out += [invalid(path, key, e) for e in qualified_name_errors(str(key))]
    return out


def object_meta(res: Resource, obj: Obj) -> list[Cause]:
    meta = obj.get("metadata") or {}
    out: list[Cause] = []
    name = meta.get("name")
    if not name:
        out.append(required("metadata.name", "name or generateName is required"))
    else:
        check = (
            dns1123_label_errors
            if res.plural in ("namespaces", "services")
            else dns1123_subdomain_errors
        )
        out += [invalid("metadata.name", name, e) for e in check(str(name))]
    if res.namespaced and not meta.get("namespace"):
        out.append(required("metadata.namespace"))
    out += labels("metadata.labels", meta.get("labels"))
    out += annotations("metadata.annotations", meta.get("annotations"))
    return out


def non_negative(path: str, value: Any) -> list[Cause]:
    if value is None:
        return []
    if not isinstance(value, int) or isinstance(value, bool):
        return [invalid(path, value, "must be an integer")]
    if value < 0:
        return [invalid(path, value, "must be greater than or equal to 0")]
    return []
