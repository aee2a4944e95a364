"""Objects are checked against upstream's Go types before admission (issue 14 item 3)."""

from __future__ import annotations

from typing import Any

import pytest

from kclusterkit.sim import api_types
from kclusterkit.sim.errors import StatusError
from tests.sim import gen_api_types
from tests.sim.server.fakes import FakeCluster


def test_generated_types_are_current() -> None:
    # Fails when RESOURCES gains a kind: regenerate with tests/sim/gen_api_types.py.
    assert gen_api_types.generate() == open(api_types.__file__).read()


def refused(obj: dict[str, Any], cluster: Any = None) -> StatusError:
    cluster = cluster or FakeCluster()
    with pytest.raises(StatusError) as info:
        cluster.api.create(obj, "default", decode=True)
    return info.value


def configmap(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", **fields}


@pytest.mark.parametrize(("obj", "message"), [
    (configmap(metadata={"name": 5}),
     'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number '
     "into Go struct field ObjectMeta.metadata.name of type string"),
    (configmap(metadata={"name": "a", "namespace": ["x"]}),
     'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal array '
     "into Go struct field ObjectMeta.metadata.namespace of type string"),
    (configmap(metadata={"name": "a", "labels": {"tier": 1}}),
     'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number '
     "into Go struct field ObjectMeta.metadata.labels of type string"),
    (configmap(metadata={"name": "a", "annotations": ["x"]}),
     'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal array '
     "into Go struct field ObjectMeta.metadata.annotations of type map[string]string"),
    (configmap(metadata={"name": "a"}, data={"port": 8080}),
     'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number '
     "into Go struct field ConfigMap.data of type string"),
    ({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "%%"}},
     'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0'),
    ({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
      "spec": {"containers": ["nginx"]}},
     'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go '
     "struct field PodSpec.spec.containers of type v1.Container"),
    ({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
      "spec": {"replicas": 10**12}},
     'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal '
     "number 1000000000000 into Go struct field DeploymentSpec.spec.replicas of type int32"),
    ({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "r"},
      "spec": {"replicas": 2**31}},
     'ReplicaSet in version "v1" cannot be handled as a ReplicaSet: json: cannot unmarshal '
     "number 2147483648 into Go struct field ReplicaSetSpec.spec.replicas of type int32"),
    ({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
      "metadata": {"name": "h"}, "spec": {"maxReplicas": 1.5}},
     'HorizontalPodAutoscaler in version "v2" cannot be handled as a HorizontalPodAutoscaler: '
     "json: cannot unmarshal number 1.5 into Go struct field "
     "HorizontalPodAutoscalerSpec.spec.maxReplicas of type int32"),
])
def test_wrongly_typed_fields_are_upstreams_400(obj: dict[str, Any], message: str) -> None:
    err = refused(obj)
    assert (err.code, err.status["reason"], err.status["message"]) == (400, "BadRequest", message)


def test_quantities_and_int_or_strings_may_be_numbers() -> None:
    cluster = FakeCluster()
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "nginx",
                                    "resources": {"limits": {"cpu": 1, "memory": "64Mi"}},
                                    "readinessProbe": {"httpGet": {"port": 80}}}]}}
    assert cluster.api.create(pod, "default", decode=True)["metadata"]["name"] == "p"


def test_configmap_keys_are_validated_as_upstream() -> None:
    err = refused(configmap(metadata={"name": "a"}, data={"a b": "x", "..": "y"}))
    assert err.code == 422
    text = err.status["message"]
    assert ('data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric '
            "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex "
            "used for validation is '[-._a-zA-Z0-9]+')") in text
    assert "data[..]: Invalid value: \"..\": must not be '..'" in text


def test_a_refused_numeric_name_leaves_the_namespace_listable() -> None:
    cluster = FakeCluster()
    refused(configmap(metadata={"name": 5}), cluster)
    cluster.api.create(configmap(metadata={"name": "ok"}), "default")
    names = [o["metadata"]["name"] for o in cluster.api.list(
        cluster.api.resource_of(configmap()), None)["items"]]
    assert "ok" in names


def test_scaling_beyond_int32_is_refused_in_process_too() -> None:
    cluster = FakeCluster()
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                  "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
                      "metadata": {"labels": {"a": "b"}},
                      "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    cluster.api.create(deployment, "default")
    res = cluster.api.resource_of(deployment)
    with pytest.raises(StatusError) as info:
        cluster.api.update_scale(res, "default", "d", 10**12)
    assert info.value.code == 400
    assert "ScaleSpec.spec.replicas of type int32" in info.value.message
