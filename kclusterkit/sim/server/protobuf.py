"""Protobuf request bodies for the kinds kubectl's typed clients send as protobuf.

``kubectl auth can-i``, ``kubectl auth whoami``, ``kubectl create token``, ``kubectl create
serviceaccount|role|clusterrole|rolebinding|clusterrolebinding`` post
``application/vnd.kubernetes.protobuf``: the ``k8s\\0`` magic, then a runtime.Unknown
(typeMeta, raw) wrapping the object (k8s.io/apimachinery/pkg/runtime/serializer/protobuf).
This decodes the wire format for those kinds only, field numbers from the generated.proto
files of k8s.io/api (authorization/v1, authentication/v1, rbac/v1, core/v1) and
apimachinery's meta/v1, and ``kubectl autoscale``'s HorizontalPodAutoscaler
(autoscaling/v1; autoscaling/v2 as newer kubectl posts it first); any other kind keeps the
415 the caller raises. Responses stay JSON, which client-go accepts (it decodes by the
response's Content-Type).
"""

from __future__ import annotations

from typing import Any

MAGIC = b"k8s\x00"

# message -> field number -> (json name, type, repeated); a type is "string", "bool",
# "int", "map" (map<string,string>), "extra" (map<string,ExtraValue>) or a message name.
Schema = dict[int, tuple[str, str, bool]]
MESSAGES: dict[str, Schema] = {
    "Unknown": {1: ("typeMeta", "TypeMeta", False), 2: ("raw", "bytes", False)},
    "TypeMeta": {1: ("apiVersion", "string", False), 2: ("kind", "string", False)},
    "ObjectMeta": {1: ("name", "string", False), 2: ("generateName", "string", False),
                   3: ("namespace", "string", False), 11: ("labels", "map", False),
                   12: ("annotations", "map", False), 14: ("finalizers", "string", True)},
    "ResourceAttributes": {1: ("namespace", "string", False), 2: ("verb", "string", False),
                           3: ("group", "string", False), 4: ("version", "string", False),
                           5: ("resource", "string", False), 6: ("subresource", "string", False),
                           7: ("name", "string", False)},
    "NonResourceAttributes": {1: ("path", "string", False), 2: ("verb", "string", False)},
    "SelfSubjectAccessReviewSpec": {
        1: ("resourceAttributes", "ResourceAttributes", False),
        2: ("nonResourceAttributes", "NonResourceAttributes", False)},
    "SubjectAccessReviewSpec": {
        1: ("resourceAttributes", "ResourceAttributes", False),
        2: ("nonResourceAttributes", "NonResourceAttributes", False),
        3: ("user", "string", False), 4: ("groups", "string", True),
        5: ("extra", "extra", False), 6: ("uid", "string", False)},
    "SelfSubjectRulesReviewSpec": {1: ("namespace", "string", False)},
    "TokenRequestSpec": {1: ("audiences", "string", True),
                         3: ("boundObjectRef", "BoundObjectReference", False),
                         4: ("expirationSeconds", "int", False)},
    "BoundObjectReference": {1: ("kind", "string", False), 2: ("apiVersion", "string", False),
                             3: ("name", "string", False), 4: ("uid", "string", False)},
    "TokenReviewSpec": {1: ("token", "string", False), 2: ("audiences", "string", True)},
    "PolicyRule": {1: ("verbs", "string", True), 2: ("apiGroups", "string", True),
                   3: ("resources", "string", True), 4: ("resourceNames", "string", True),
                   5: ("nonResourceURLs", "string", True)},
    "AggregationRule": {1: ("clusterRoleSelectors", "LabelSelector", True)},
    "LabelSelector": {1: ("matchLabels", "map", False)},
    "Subject": {1: ("kind", "string", False), 2: ("apiGroup", "string", False),
                3: ("name", "string", False), 4: ("namespace", "string", False)},
    "RoleRef": {1: ("apiGroup", "string", False), 2: ("kind", "string", False),
                3: ("name", "string", False)},
    "LocalObjectReference": {1: ("name", "string", False)},
    "ObjectReference": {1: ("kind", "string", False), 2: ("namespace", "string", False),
                        3: ("name", "string", False)},
    # autoscaling/v1 and v2 (what kubectl autoscale posts; v2's Resource metrics only)
    "CrossVersionObjectReference": {1: ("kind", "string", False), 2: ("name", "string", False),
                                    3: ("apiVersion", "string", False)},
    "HorizontalPodAutoscalerSpecV1": {
        1: ("scaleTargetRef", "CrossVersionObjectReference", False),
        2: ("minReplicas", "int", False), 3: ("maxReplicas", "int", False),
        4: ("targetCPUUtilizationPercentage", "int", False)},
    "HorizontalPodAutoscalerSpecV2": {
        1: ("scaleTargetRef", "CrossVersionObjectReference", False),
        2: ("minReplicas", "int", False), 3: ("maxReplicas", "int", False),
        4: ("metrics", "MetricSpecV2", True)},
    "MetricSpecV2": {1: ("type", "string", False),
                     4: ("resource", "ResourceMetricSourceV2", False)},
    "ResourceMetricSourceV2": {1: ("name", "string", False),
                               2: ("target", "MetricTargetV2", False)},
    "MetricTargetV2": {1: ("type", "string", False), 2: ("value", "quantity", False),
                       3: ("averageValue", "quantity", False),
                       4: ("averageUtilization", "int", False)},
}
_META = (1, ("metadata", "ObjectMeta", False))
KINDS: dict[str, Schema] = {
    "SelfSubjectAccessReview": dict([_META, (2, ("spec", "SelfSubjectAccessReviewSpec", False))]),
    "SubjectAccessReview": dict([_META, (2, ("spec", "SubjectAccessReviewSpec", False))]),
    "LocalSubjectAccessReview": dict([_META, (2, ("spec", "SubjectAccessReviewSpec", False))]),
    "SelfSubjectRulesReview": dict([_META, (2, ("spec", "SelfSubjectRulesReviewSpec", False))]),
    "SelfSubjectReview": dict([_META]),
    "TokenRequest": dict([_META, (2, ("spec", "TokenRequestSpec", False))]),
    "TokenReview": dict([_META, (2, ("spec", "TokenReviewSpec", False))]),
    "Role": dict([_META, (2, ("rules", "PolicyRule", True))]),
    "ClusterRole": dict([_META, (2, ("rules", "PolicyRule", True)),
                         (3, ("aggregationRule", "AggregationRule", False))]),
    "RoleBinding": dict([_META, (2, ("subjects", "Subject", True)),
                         (3, ("roleRef", "RoleRef", False))]),
    "ClusterRoleBinding": dict([_META, (2, ("subjects", "Subject", True)),
                                (3, ("roleRef", "RoleRef", False))]),
    "ServiceAccount": dict([_META, (2, ("secrets", "ObjectReference", True)),
                            (3, ("imagePullSecrets", "LocalObjectReference", True)),
                            (4, ("automountServiceAccountToken", "bool", False))]),
}
# Kinds whose message differs between versions, by apiVersion/kind (looked up first).
VERSIONED_KINDS: dict[str, Schema] = {
    "autoscaling/v1/HorizontalPodAutoscaler": dict(
        [_META, (2, ("spec", "HorizontalPodAutoscalerSpecV1", False))]),
    "autoscaling/v2/HorizontalPodAutoscaler": dict(
        [_META, (2, ("spec", "HorizontalPodAutoscalerSpecV2", False))]),
}


class ProtobufError(ValueError):
    pass


def _varint(data: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        if i >= len(data) or shift > 63:
            raise ProtobufError("truncated varint")
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) in order; value is int or bytes."""
    out: list[tuple[int, int, Any]] = []
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 2:
            size, i = _varint(data, i)
            if i + size > len(data):
                raise ProtobufError("truncated field")
            value, i = data[i:i + size], i + size
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        out.append((number, wire, value))
    return out


def _map_entry(raw: bytes) -> tuple[str, Any]:
    key, value = "", b""
    for number, _wire, v in _fields(raw):
        if number == 1:
            key = v.decode()
        elif number == 2:
            value = v
    return key, value


def _decode(schema: Schema, data: bytes, depth: int = 0) -> dict[str, Any]:
    if depth > 20:
        raise ProtobufError("nested too deeply")
    out: dict[str, Any] = {}
    for number, _wire, value in _fields(data):
        if number not in schema:
            continue  # fields this simulator ignores
        name, kind, repeated = schema[number]
        if kind == "string":
            item: Any = value.decode() if isinstance(value, bytes) else str(value)
            if not item and schema is MESSAGES["ObjectMeta"]:
                continue  # Go's zero value: ObjectMeta's strings are all omitempty
        elif kind == "bytes":
            item = value
        elif kind == "bool":
            item = bool(value)
        elif kind == "int":
            item = value - (1 << 64) if isinstance(value, int) and value >= 1 << 63 else value
        elif kind == "map":
            key, val = _map_entry(value)
            out.setdefault(name, {})[key] = val.decode() if isinstance(val, bytes) else val
            continue
        elif kind == "quantity":  # resource.Quantity: message { string string = 1; }
            item = next((v.decode() for n, _w, v in _fields(value) if n == 1), "")
        elif kind == "extra":
            key, val = _map_entry(value)
            items = [v.decode() for n, _w, v in _fields(val) if n == 1] if val else []
            out.setdefault(name, {})[key] = items
            continue
        else:
            item = _decode(MESSAGES[kind], value, depth + 1)
        if repeated:
            out.setdefault(name, []).append(item)
        else:
            out[name] = item
    return out


def decode(raw: bytes) -> dict[str, Any] | None:
    """The object in a protobuf body, None when its kind is not one decoded here."""
    if not raw.startswith(MAGIC):
        raise ProtobufError("missing the k8s protobuf magic")
    unknown = _decode(MESSAGES["Unknown"], raw[len(MAGIC):])
    type_meta = unknown.get("typeMeta") or {}
    kind = type_meta.get("kind", "")
    schema = VERSIONED_KINDS.get(f'{type_meta.get("apiVersion", "")}/{kind}', KINDS.get(kind))
    if schema is None:
        return None
    obj = _decode(schema, unknown.get("raw") or b"")
    obj["apiVersion"] = type_meta.get("apiVersion", "")
    obj["kind"] = kind
    return obj
