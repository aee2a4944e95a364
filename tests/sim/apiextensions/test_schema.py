"""Structural schemas on custom objects: kube-openapi's messages, defaulting, pruning."""

from __future__ import annotations

from typing import Any

from kclusterkit.sim.apiextensions import schema

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["cronSpec"],
            "properties": {
                "cronSpec": {"type": "string", "pattern": "^[0-9*/ ]+$", "minLength": 3,
                             "maxLength": 20},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
                "ratio": {"type": "number", "exclusiveMinimum": True, "minimum": 0.5},
                "mode": {"type": "string", "enum": ["fast", "slow"]},
                "port": {"x-kubernetes-int-or-string": True},
                "tags": {"type": "array", "minItems": 1, "maxItems": 2,
                         "items": {"type": "string"}},
                "ports": {"type": "array", "items": {
                    "type": "object", "required": ["port"],
                    "properties": {"port": {"type": "integer"},
                                   "protocol": {"type": "string", "default": "TCP"}}}},
                "template": {"type": "object", "default": {},
                             "properties": {"image": {"type": "string", "default": "busybox"}}},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                          "properties": {"known": {"type": "object",
                                                   "properties": {"a": {"type": "string"}}}}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}},
    },
}


def causes(spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    return schema.validate({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a"},
                            "spec": {"cronSpec": "* * *", **spec}}, SCHEMA)


def test_a_valid_object_has_no_errors() -> None:
    assert causes({"replicas": 3, "ratio": 1.5, "mode": "fast", "port": "http",
                   "tags": ["a"], "ports": [{"port": 80}]}) == []
    assert causes({"port": 8080}) == []


def test_wrong_types_name_the_field_and_the_type_seen() -> None:
    assert causes({"replicas": "string"}) == [
        ("FieldValueTypeInvalid", "spec.replicas",
         'Invalid value: "string": spec.replicas in body must be of type integer: "string"')]
    assert causes({"port": True}) == [
        ("FieldValueTypeInvalid", "spec.port",
         'Invalid value: "boolean": spec.port in body must be of type integer,string: '
         '"boolean"')]
    # An integral float is an integer to kube-openapi; a fraction is not.
    assert causes({"replicas": 2.0}) == []
    assert causes({"replicas": 2.5})[0][2] == (
        'Invalid value: "number": spec.replicas in body must be of type integer: "number"')


def test_required_enum_and_bounds() -> None:
    got = schema.validate({"spec": {}}, SCHEMA)
    assert got == [("FieldValueRequired", "spec.cronSpec", "Required value")]
    assert causes({"mode": "medium"}) == [
        ("FieldValueNotSupported", "spec.mode",
         'Unsupported value: "medium": supported values: "fast", "slow"')]
    assert causes({"replicas": 11}) == [
        ("FieldValueInvalid", "spec.replicas",
         "Invalid value: 11: spec.replicas in body should be less than or equal to 10")]
    assert causes({"replicas": 0})[0][2] == (
        "Invalid value: 0: spec.replicas in body should be greater than or equal to 1")
    assert causes({"ratio": 0.5})[0][2] == (
        "Invalid value: 0.5: spec.ratio in body should be greater than 0.5")


def test_strings_and_arrays() -> None:
    # stringValidator's order: maxLength, minLength, pattern.
    assert causes({"cronSpec": "ab"}) == [
        ("FieldValueInvalid", "spec.cronSpec",
         'Invalid value: "ab": spec.cronSpec in body should be at least 3 chars long'),
        ("FieldValueInvalid", "spec.cronSpec",
         "Invalid value: \"ab\": spec.cronSpec in body should match '^[0-9*/ ]+$'")]
    assert causes({"cronSpec": "*" * 21}) == [
        ("FieldValueTooLong", "spec.cronSpec", "Too long: may not be more than 20 bytes")]
    assert causes({"cronSpec": "abc"}) == [
        ("FieldValueInvalid", "spec.cronSpec",
         "Invalid value: \"abc\": spec.cronSpec in body should match '^[0-9*/ ]+$'")]
    assert causes({"tags": []}) == [
        ("FieldValueInvalid", "spec.tags",
         "Invalid value: 0: spec.tags in body should have at least 1 items")]
    assert causes({"tags": ["a", "b", "c"]}) == [
        ("FieldValueTooMany", "spec.tags", "Too many: 3: must have at most 2 items")]
    assert causes({"ports": [{"port": 80}, {"port": "http"}, {}]}) == [
        ("FieldValueTypeInvalid", "spec.ports[1].port",
         'Invalid value: "string": spec.ports[1].port in body must be of type integer: '
         '"string"'),
        ("FieldValueRequired", "spec.ports[2].port", "Required value")]
    assert causes({"labels": {"a": 1}})[0][1] == "spec.labels.a"


def test_null_is_a_type_of_its_own() -> None:
    # typeValidator: nil fails as "null" unless the schema is nullable; "" and 0 are values.
    assert causes({"replicas": None}) == [
        ("FieldValueTypeInvalid", "spec.replicas",
         'Invalid value: "null": spec.replicas in body must be of type integer: "null"')]
    assert causes({"replicas": ""})[0][2].endswith('must be of type integer: "string"')
    assert causes({"mode": ""})[0][0] == "FieldValueNotSupported"


def test_defaults_fill_absent_fields_top_down() -> None:
    obj: dict[str, Any] = {"spec": {"cronSpec": "*", "ports": [{"port": 80}]}}
    schema.default(obj, SCHEMA)
    assert obj["spec"]["template"] == {"image": "busybox"}  # a default's own defaults apply
    assert obj["spec"]["ports"] == [{"port": 80, "protocol": "TCP"}]
    kept: dict[str, Any] = {"spec": {"template": {"image": "nginx"}, "replicas": None}}
    schema.default(kept, SCHEMA)
    assert kept["spec"]["template"] == {"image": "nginx"}
    assert "replicas" not in kept["spec"]  # a null a non-nullable field may not hold


def test_pruning_drops_unknown_fields_but_keeps_the_objects_envelope() -> None:
    obj: dict[str, Any] = {
        "apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a", "labels": {"k": "v"}},
        "spec": {"cronSpec": "*", "colour": "blue", "ports": [{"port": 1, "name": "p"}],
                 "extra": {"anything": [1], "known": {"a": "x", "b": "dropped"}},
                 "labels": {"free": "form"}},
        "other": 1,
    }
    dropped = schema.prune(obj, SCHEMA)
    assert dropped == ["spec.colour", "spec.ports[0].name", "spec.extra.known.b", "other"]
    assert obj["metadata"] == {"name": "a", "labels": {"k": "v"}}
    assert obj["spec"]["extra"] == {"anything": [1], "known": {"a": "x"}}
    assert obj["spec"]["labels"] == {"free": "form"}


def test_structural_schema_needs_types() -> None:
    assert schema.structural_errors({"type": "object", "properties": {"spec": {}}},
                                    "spec.versions[0].schema.openAPIV3Schema") == [
        ("FieldValueRequired", "spec.versions[0].schema.openAPIV3Schema.properties[spec].type",
         "Required value: must not be empty for specified object fields")]
    assert schema.structural_errors({"properties": {}}, "s") == [
        ("FieldValueRequired", "s.type", "Required value: must not be empty at the root")]
    assert schema.structural_errors({"type": "object", "properties": {
        "x": {"x-kubernetes-int-or-string": True},
        "y": {"x-kubernetes-preserve-unknown-fields": True}}}, "s") == []


def test_a_schema_pattern_must_be_a_regular_expression_re2_accepts() -> None:
    errors = schema.structural_errors({"type": "object", "properties": {
        "a": {"type": "string", "pattern": "("},
        "b": {"type": "string", "pattern": "^(?=x)"},
        "c": {"type": "string", "pattern": "^[a-z]+$"}}}, "s")
    assert [(c[1], c[2].split(": must be")[0]) for c in errors] == [
        ("s.properties[a].pattern", 'Invalid value: "("'),
        ("s.properties[b].pattern", 'Invalid value: "^(?=x)"')]
    assert errors[1][2].endswith("error parsing regexp: invalid or unsupported Perl syntax: "
                                 "`(?=`")
