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

from kclusterkit.kube.meta import Obj
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
DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL = re.compile("^" + DNS1035_LABEL_FMT + "$")
PERCENT_FMT = "[0-9]+%"

# Message bodies from staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go
# and pkg/api/validate/content/{dns,kube}.go.
_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character"
)
_DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character"
)
_QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character"
)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character"
)
_PERCENT_MSG = "a valid percent string must be a numeric string followed by an ending '%'"


class GoValue(str):
    """A bad value already rendered the way Go's ``%#v`` prints it (structs, typed maps)."""


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote`` / ``%q``: printable runes kept, the rest escaped."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif not ch.isprintable():
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_string_map(value: Mapping[str, Any] | None) -> GoValue:
    """``%#v`` of a ``map[string]string``: keys sorted, as Go's fmt prints maps."""
    if value is None:
        return GoValue("map[string]string(nil)")
    inner = ", ".join(f"{go_quote(str(k))}:{go_quote(str(value[k]))}" for k in sorted(value))
    return GoValue("map[string]string{" + inner + "}")


def go_label_selector(selector: Mapping[str, Any] | None) -> GoValue:
    """``%#v`` of a ``*metav1.LabelSelector`` after field.ErrorBody dereferences it."""
    if selector is None:
        return GoValue("null")
    match_labels = selector.get("matchLabels")
    exprs = selector.get("matchExpressions")
    if exprs is None:
        rendered_exprs = "[]v1.LabelSelectorRequirement(nil)"
    else:
        items = []
        for e in exprs:
            values = e.get("values")
            vals = (
                "[]string(nil)"
                if values is None
                else "[]string{" + ", ".join(go_quote(str(x)) for x in values) + "}"
            )
            items.append(
                f"v1.LabelSelectorRequirement{{Key:{go_quote(str(e.get('key', '')))}, "
                f"Operator:{go_quote(str(e.get('operator', '')))}, Values:{vals}}}"
            )
        rendered_exprs = "[]v1.LabelSelectorRequirement{" + ", ".join(items) + "}"
    return GoValue(
        f"v1.LabelSelector{{MatchLabels:{go_string_map(match_labels)}, "
        f"MatchExpressions:{rendered_exprs}}}"
    )


def render_value(value: Any) -> str:
    """How field.Error.ErrorBody prints a bad value (apimachinery field/errors.go).

    Strings use ``%q``, numbers and bools ``%v``, nil is ``null``; anything else is
    ``%#v`` — pass a :class:`GoValue` for those (e.g. :func:`go_string_map`).
    """
    if isinstance(value, GoValue):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, Mapping):
        return go_string_map(value)
    return json.dumps(value)


def required(path: str, detail: str = "") -> Cause:
    return ("FieldValueRequired", path, "Required value" + (f": {detail}" if detail else ""))


def invalid(path: str, value: Any, detail: str) -> Cause:
    return ("FieldValueInvalid", path, f"Invalid value: {render_value(value)}: {detail}")


def not_supported(path: str, value: Any, supported: list[str]) -> Cause:
    choices = ", ".join(go_quote(s) for s in supported)
    return (
        "FieldValueNotSupported",
        path,
        f"Unsupported value: {render_value(value)}: supported values: {choices}",
    )


def required_one_of(path: str, value: Any, supported: list[str]) -> list[Cause]:
    """A field that must be set to one of ``supported``: Required when empty, else NotSupported."""
    if not value:
        return [required(path)]
    if value not in supported:
        return [not_supported(path, value, supported)]
    return []


def duplicate(path: str, value: Any) -> Cause:
    return ("FieldValueDuplicate", path, f"Duplicate value: {render_value(value)}")


def forbidden(path: str, detail: str) -> Cause:
    return ("FieldValueForbidden", path, f"Forbidden: {detail}")


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """apimachinery's RegexError, double space before "or" included."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    msg += " (e.g. "
    for i, example in enumerate(examples):
        if i > 0:
            msg += " or "
        msg += f"'{example}', "
    return msg + f"regex used for validation is '{fmt}')"


def max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def dns1123_label_errors(value: str) -> list[str]:
    """IsDNS1123Label (api/validate/content/dns.go)."""
    errs = []
    if len(value) > 63:
        errs.append(max_len_error(63))
    if not _DNS1123_LABEL.match(value):
        if _DNS1123_SUBDOMAIN.match(value):
            # A valid subdomain but not a label: length was checked, so it has dots.
            errs.append("must not contain dots")
        else:
            errs.append(regex_error(_DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def _length_and_format_errors(value: str, limit: int, pattern: re.Pattern[str], msg: str,
                              fmt: str, *examples: str) -> list[str]:
    """The too-long error, then the regex error: the order upstream's Is* checks use."""
    errs = []
    if len(value) > limit:
        errs.append(max_len_error(limit))
    if not pattern.match(value):
        errs.append(regex_error(msg, fmt, *examples))
    return errs


def dns1123_subdomain_errors(value: str) -> list[str]:
    return _length_and_format_errors(value, 253, _DNS1123_SUBDOMAIN, _DNS1123_SUBDOMAIN_MSG,
                                     DNS1123_SUBDOMAIN_FMT, "example.com")


def dns1035_label_errors(value: str) -> list[str]:
    """IsDNS1035Label: Service names."""
    return _length_and_format_errors(value, 63, _DNS1035_LABEL, _DNS1035_LABEL_MSG,
                                     DNS1035_LABEL_FMT, "my-name", "abc-123")


def qualified_name_errors(value: str) -> list[str]:
    """IsQualifiedName: label and annotation keys (optional DNS subdomain prefix + name)."""
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
            "a qualified name "
            + regex_error(_QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part " + max_len_error(63))
    if not _QUALIFIED_NAME.match(name):
        errs.append(
            "name part "
            + regex_error(_QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def label_value_errors(value: str) -> list[str]:
    return _length_and_format_errors(value, 63, _LABEL_VALUE, _LABEL_VALUE_MSG, LABEL_VALUE_FMT,
                                     "MyValue", "my_value", "12345")


def percent_errors(value: str) -> list[str]:
    """IsValidPercent (util/validation/validation.go)."""
    if re.fullmatch(PERCENT_FMT, value):
        return []
    return [regex_error(_PERCENT_MSG, PERCENT_FMT, "1%", "93%")]


def labels(path: str, value: Any) -> list[Cause]:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [invalid(path, value, "must be a map of string keys to string values")]
    out: list[Cause] = []
    for key in sorted(value):
        val = value[key]
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
    for key in sorted(value):
        # ValidateAnnotations checks the lower-cased key but reports the original.
        out += [invalid(path, key, e) for e in qualified_name_errors(str(key).lower())]
    return out


def path_segment_errors(name: str) -> list[str]:
    """apimachinery's path.IsValidPathSegmentName (RBAC object names: ``system:node``)."""
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


def object_meta(res: Resource, obj: Obj) -> list[Cause]:
    meta = obj.get("metadata") or {}
    out: list[Cause] = []
    name = meta.get("name")
    if not name:
        out.append(required("metadata.name", "name or generateName is required"))
    else:
        # ValidateNamespaceName is a DNS-1123 label, ValidateServiceName a DNS-1035 label,
        # everything else here a DNS-1123 subdomain (pkg/apis/core/validation).
        check = {
            "namespaces": dns1123_label_errors,
            "services": dns1035_label_errors,
        }.get(res.plural, dns1123_subdomain_errors)
        if res.group in ("rbac.authorization.k8s.io", "apiregistration.k8s.io"):
            # ValidateRBACName and the APIService name check ("v1." names the core group):
            # path.IsValidPathSegmentName.
            check = path_segment_errors
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
