"""Unknown-field detection and the generated field table it relies on."""

from __future__ import annotations

from kclusterkit.sim.resources import DEPLOYMENTS, PODS
from kclusterkit.sim.server import _schema
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
