"""Unknown-field detection and the generated field table it relies on."""

from __future__ import annotations

from kclusterkit.sim.resources import DEPLOYMENTS, PODS
from kclusterkit.sim.server import ServerHandle, _schema
from kclusterkit.sim.server.fields import unknown_fields
from tests.sim.server import gen_schema


def test_generated_schema_is_current() -> None:
    # Fails when RESOURCES gains a kind: regenerate with tests/sim/server/gen_schema.py.
    assert gen_schema.generate() == open(_schema.__file__).read()


def test_unknown_fields_paths() -> None:
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
              "spec": {"replicas": 1, "replica": 2, "template": {"spec": {"containers": [
                  {"name": "a", "image": "x", "imagePullPolcy": "Always",
                   "env": [{"name": "A", "valu": "1"}]}]}}}}
    assert unknown_fields(DEPLOYMENTS, deploy) == [
        "spec.replica", "spec.template.spec.containers[0].imagePullPolcy",
        "spec.template.spec.containers[0].env[0].valu"]
    patch = {"spec": {"$setElementOrder/containers": [{"name": "a"}],
                      "containers": [{"name": "a", "$patch": "delete"}]},
             "metadata": {"labels": {"any": "thing"}, "annotations": None}}
    assert unknown_fields(PODS, patch) == []


def test_the_fuzzing_document_has_a_body_schema_for_every_write(served: ServerHandle) -> None:
    import requests

    from kclusterkit.sim.resources import RESOURCES

    get = lambda path: requests.get(served.url + path, verify=str(served.ca_path), timeout=10,  # noqa: E731
                                    headers={"Authorization": f"Bearer {served.token}"})
    index = get("/openapi/v3").json()["paths"]
    assert "kclusterkit-all" not in index  # kubectl reads only what the index lists
    doc = get("/openapi/v3/kclusterkit-all").json()
    schemas = doc["components"]["schemas"]
    deployments = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]
    body = deployments["post"]["requestBody"]["content"]["application/json"]["schema"]
    deployment = schemas[body["$ref"].rsplit("/", 1)[1]]
    spec = schemas[deployment["properties"]["spec"]["$ref"].rsplit("/", 1)[1]]
    assert spec["properties"]["replicas"] == {"type": "integer", "format": "int32",
                                              "minimum": -(2**31), "maximum": 2**31 - 1}
    writes = [(path, verb) for path, item in doc["paths"].items()
              for verb in ("post", "put", "patch") if verb in item]
    assert len(writes) == 3 * len(RESOURCES)
    for path, verb in writes:
        for media in doc["paths"][path][verb]["requestBody"]["content"].values():
            ref = media["schema"]["$ref"].rsplit("/", 1)[1]
            assert ref in schemas, (path, verb)
    # The kubectl-facing documents stay without schemas (see openapi.py).
    assert get("/openapi/v3/apis/apps/v1").json()["components"]["schemas"] == {}
