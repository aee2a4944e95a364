"""kubectl against a served simulator with a CustomResourceDefinition: apply the CRD, then
use the new kind as kubectl users do (printer columns, -o yaml, refusals, apiservices)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sim.server.kubectl import Kube, kubectl, served_for_kubectl

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Spec, type: string, jsonPath: .spec.cronSpec}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              cronSpec: {type: string}
              image: {type: string, default: "my-awesome-cron-image"}
              replicas: {type: integer, minimum: 1}
"""
CRONTAB = """\
apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: my-new-cron-object
spec:
  cronSpec: "* * * * */5"
  replicas: 3
  unknownField: dropped
"""
BAD = CRONTAB.replace("replicas: 3", 'replicas: "three"').replace("my-new", "bad")


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kube]:
    yield from served_for_kubectl(tmp_path_factory, "kubectl-crd", speed=20.0, files={
        "crd.yaml": CRD, "crontab.yaml": CRONTAB, "bad.yaml": BAD})


def test_a_crd_applied_with_kubectl_serves_its_kind(kube: Kube) -> None:
    assert "customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com " \
        "created" in kubectl(kube, "apply", "-f", "crd.yaml")
    kubectl(kube, "wait", "--for=condition=Established", "crd/crontabs.stable.example.com",
            "--timeout=30s")
    # kubectl asks for strict field validation: a field the schema does not know is refused,
    # unless validation is off, and then the server prunes it.
    strict = kubectl(kube, "apply", "-f", "crontab.yaml", ok=False)
    assert 'unknown field "spec.unknownField"' in strict
    assert "crontab.stable.example.com/my-new-cron-object created" in \
        kubectl(kube, "apply", "--validate=false", "-f", "crontab.yaml")
    table = kubectl(kube, "get", "crontabs").splitlines()
    assert table[0].split() == ["NAME", "SPEC", "REPLICAS", "AGE"]
    assert table[1].split()[:6] == ["my-new-cron-object", "*", "*", "*", "*", "*/5"]
    assert table[1].split()[6] == "3"
    assert kubectl(kube, "get", "ct", "-o", "name") == \
        "crontab.stable.example.com/my-new-cron-object\n"
    shown = kubectl(kube, "get", "crontab", "my-new-cron-object", "-o", "yaml")
    assert "image: my-awesome-cron-image" in shown  # defaulted
    spec = kubectl(kube, "get", "crontab", "my-new-cron-object", "-o", "jsonpath={.spec}")
    assert "unknownField" not in spec and '"replicas":3' in spec  # pruned, the rest kept
    assert "kind: CronTab" in shown and "generation: 1" in shown
    refused = kubectl(kube, "apply", "--validate=false", "-f", "bad.yaml", ok=False)
    assert 'spec.replicas: Invalid value: "string": spec.replicas in body must be of type ' \
        'integer: "string"' in refused
    crd = kubectl(kube, "get", "crd", "crontabs.stable.example.com", "-o",
                  "jsonpath={.status.acceptedNames.kind} {.status.storedVersions}")
    assert crd == 'CronTab ["v1"]'


def test_kubectl_lists_the_apiservices(kube: Kube) -> None:
    rows = {line.split()[0]: line.split()[1:3]
            for line in kubectl(kube, "get", "apiservices").splitlines()[1:]}
    assert rows["v1."] == ["Local", "True"]
    assert rows["v1.apps"] == ["Local", "True"]
    assert rows["v1.apiextensions.k8s.io"] == ["Local", "True"]
    assert rows["v1beta1.metrics.k8s.io"] == ["kube-system/metrics-server", "True"]


def test_deleting_the_crd_removes_its_objects_and_api(kube: Kube) -> None:
    kubectl(kube, "apply", "-f", "crd.yaml")
    kubectl(kube, "wait", "--for=condition=Established", "crd/crontabs.stable.example.com",
            "--timeout=30s")
    kubectl(kube, "apply", "--validate=false", "-f", "crontab.yaml")
    kubectl(kube, "delete", "crd", "crontabs.stable.example.com", "--timeout=30s")
    gone = kubectl(kube, "get", "crontabs", ok=False)
    # kubectl's discovery cache may still know the kind: the server then answers 404.
    assert 'doesn\'t have a resource type "crontabs"' in gone or \
        "the server could not find the requested resource" in gone


def test_a_custom_object_is_applied_server_side_with_its_managers(kube: Kube) -> None:
    kubectl(kube, "apply", "-f", "crd.yaml")
    kubectl(kube, "wait", "--for=condition=Established", "crd/crontabs.stable.example.com",
            "--timeout=30s")
    (kube.root / "ssa.yaml").write_text(CRONTAB.replace("my-new-cron-object", "applied")
                                        .replace("  unknownField: dropped\n", ""))
    assert "serverside-applied" in kubectl(kube, "apply", "--server-side", "-f", "ssa.yaml")
    kubectl(kube, "apply", "--server-side", "-f", "ssa.yaml")  # again: nothing to change
    (kube.root / "other.yaml").write_text((kube.root / "ssa.yaml").read_text()
                                          .replace("replicas: 3", "replicas: 5"))
    conflict = kubectl(kube, "apply", "--server-side", "--field-manager=other", "-f",
                       "other.yaml", ok=False)
    # an Apply entry is named without "using …" (upstream prints that for Update entries)
    assert 'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas' in conflict
    kubectl(kube, "apply", "--server-side", "--field-manager=other", "--force-conflicts",
            "-f", "other.yaml")
    managed = kubectl(kube, "get", "crontab", "applied", "--show-managed-fields", "-o",
                      "jsonpath={.metadata.managedFields[*].manager} {.spec.replicas}")
    assert managed == "kubectl other 5"
