"""field.Error rendering and name checks, word for word as apimachinery prints them."""

from __future__ import annotations

from kclusterkit.sim import validation as v
from kclusterkit.sim.resources import NAMESPACES, PODS, SERVICES

LABEL_REGEX = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"


def test_field_error_rendering() -> None:
    # staging/src/k8s.io/apimachinery/pkg/util/validation/field/errors.go ErrorBody/NotSupported
    assert v.required("spec.selector")[2] == "Required value"
    assert v.required("metadata.name", "name or generateName is required")[2] == (
        "Required value: name or generateName is required"
    )
    assert v.invalid("spec.replicas", -1, "must be greater than or equal to 0")[2] == (
        "Invalid value: -1: must be greater than or equal to 0"
    )
    assert v.invalid("x", "a\"b", "d")[2] == 'Invalid value: "a\\"b": d'
    assert v.invalid("x", None, "d")[2] == "Invalid value: null: d"
    assert v.not_supported("spec.restartPolicy", "Sometimes", ["Always", "OnFailure"])[2] == (
        'Unsupported value: "Sometimes": supported values: "Always", "OnFailure"'
    )
    assert v.duplicate("spec.containers[1].name", "web")[2] == 'Duplicate value: "web"'
    assert v.forbidden("spec", "nope") == ("FieldValueForbidden", "spec", "Forbidden: nope")


def test_maps_and_selectors_print_like_go_percent_hash_v() -> None:
    # %#v of map[string]string sorts keys; *metav1.LabelSelector is dereferenced.
    assert v.render_value({"b": "2", "a": "1"}) == 'map[string]string{"a":"1", "b":"2"}'
    assert v.go_string_map(None) == "map[string]string(nil)"
    assert v.go_label_selector({"matchLabels": {"app": "web"}}) == (
        'v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, '
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
    )


def test_rfc1123_label_subdomain_and_dns1035_texts() -> None:
    # util/validation/validation.go (and api/validate/content/dns.go)
    assert v.dns1123_label_errors("My_Name") == [
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-',"
        " and must start and end with an alphanumeric character (e.g. 'my-name',  or "
        f"'123-abc', regex used for validation is '{LABEL_REGEX}')"
    ]
    assert v.dns1123_label_errors("a.b") == ["must not contain dots"]
    assert v.dns1123_label_errors("a" * 64) == ["must be no more than 63 characters"]
    assert v.dns1123_subdomain_errors("Web") == [
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-'"
        " or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
        f"regex used for validation is '{LABEL_REGEX}(\\.{LABEL_REGEX})*')"
    ]
    assert v.dns1035_label_errors("1web") == [
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with"
        " an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or"
        " 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
    ]


def test_qualified_name_and_label_value_texts() -> None:
    name_part = (
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and"
        " end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
        "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    )
    assert v.qualified_name_errors("-bad") == [name_part]
    # IsQualifiedName checks the regex even after "must be non-empty".
    assert v.qualified_name_errors("example.com/") == ["name part must be non-empty", name_part]
    assert v.qualified_name_errors("/x") == ["prefix part must be non-empty"]
    assert v.qualified_name_errors("a/b/c")[0].startswith("a qualified name must consist of")
    assert v.qualified_name_errors("a/b/c")[0].endswith(
        "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
    )
    assert v.label_value_errors("bad value!") == [
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_'"
        " or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
        "'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    ]
    assert v.percent_errors("20Percent") == [
        "a valid percent string must be a numeric string followed by an ending '%' (e.g. "
        "'1%',  or '93%', regex used for validation is '[0-9]+%')"
    ]


def test_object_names_use_the_kind_specific_rule() -> None:
    # ValidateNamespaceName: DNS-1123 label; ValidateServiceName: DNS-1035; pods: subdomain.
    def causes(res, name):  # type: ignore[no-untyped-def]
        return v.object_meta(res, {"metadata": {"name": name, "namespace": "default"}})

    assert causes(PODS, "a.b") == []
    assert causes(NAMESPACES, "a.b") == [
        ("FieldValueInvalid", "metadata.name", 'Invalid value: "a.b": must not contain dots')
    ]
    assert causes(SERVICES, "1web")[0][2].startswith('Invalid value: "1web": a DNS-1035 label')


def test_annotation_keys_are_checked_lower_cased() -> None:
    # ValidateAnnotations runs IsQualifiedName on strings.ToLower(k).
    assert v.annotations("metadata.annotations", {"Example.COM/Key": "x"}) == []
    assert v.labels("metadata.labels", {"Example.COM/Key": "x"})[0][1] == "metadata.labels"
