"""``kubectl apply --server-side`` against a served simulator: idempotent applies, the
conflict kubectl prints when another manager changed a field, ``--force-conflicts``,
``--show-managed-fields``, and the Python client's apply patch."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml
from kubernetes import client, config

from tests.sim.server.kubectl import Kube, kubectl, served_for_kubectl

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.24
"""


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kube]:
    yield from served_for_kubectl(tmp_path_factory, "kubectl-apply", speed=20.0,
                                  files={"deploy.yaml": DEPLOY})


def entries(kube: Kube) -> dict[tuple[str, str, str], dict]:
    shown = yaml.safe_load(kubectl(kube, "get", "deploy", "web", "-o", "yaml",
                                   "--show-managed-fields"))
    return {(e["manager"], e["operation"], e.get("subresource", "")): e["fieldsV1"]
            for e in shown["metadata"]["managedFields"]}


def test_server_side_apply_twice_then_a_conflict_then_force(
        kube: Kube) -> None:
    assert "deployment.apps/web serverside-applied" in kubectl(
        kube, "apply", "--server-side", "-f", "deploy.yaml")
    # the second apply changes nothing: the spec's generation and the entry's time stay
    # (the controllers' status writes may move resourceVersion meanwhile)
    seen = "jsonpath={.metadata.generation} {.metadata.managedFields[0].time}"
    first = kubectl(kube, "get", "deploy", "web", "-o", seen, "--show-managed-fields")
    kubectl(kube, "apply", "--server-side", "-f", "deploy.yaml")
    assert kubectl(kube, "get", "deploy", "web", "-o", seen, "--show-managed-fields") == first
    assert first.startswith("1 ")
    assert "f:replicas" in entries(kube)[("kubectl", "Apply", "")]["f:spec"]
    # without --show-managed-fields kubectl hides them, as on a cluster
    assert "managedFields" not in kubectl(kube, "get", "deploy", "web", "-o", "yaml")

    kubectl(kube, "scale", "deploy", "web", "--replicas=5")
    assert ("kubectl", "Update", "scale") in entries(kube)
    refused = kubectl(kube, "apply", "--server-side", "-f", "deploy.yaml", ok=False)
    assert 'Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" ' \
        "using apps/v1: .spec.replicas" in refused
    assert "--force-conflicts" in refused

    kubectl(kube, "apply", "--server-side", "--force-conflicts", "-f", "deploy.yaml")
    assert kubectl(kube, "get", "deploy", "web", "-o", "jsonpath={.spec.replicas}") == "2"
    assert ("kubectl", "Update", "scale") not in entries(kube)

    kubectl(kube, "apply", "--server-side", "--field-manager=team-b", "-f", "deploy.yaml")
    owners = entries(kube)  # equal values: both own them
    assert "f:replicas" in owners[("team-b", "Apply", "")]["f:spec"]
    assert "f:replicas" in owners[("kubectl", "Apply", "")]["f:spec"]


def test_the_python_clients_apply_patch(kube: Kube) -> None:
    handle, _ = kube
    api = client.AppsV1Api(config.new_client_from_config(str(handle.kubeconfig_path)))
    body = yaml.safe_load(DEPLOY)
    body["metadata"]["name"] = "py"
    made = api.patch_namespaced_deployment("py", "default", body, field_manager="py-apply",
                                           _content_type="application/apply-patch+yaml")
    assert [(e.manager, e.operation) for e in made.metadata.managed_fields] == [
        ("py-apply", "Apply")]
    body["spec"]["replicas"] = 4
    with pytest.raises(client.ApiException) as caught:
        api.patch_namespaced_deployment("py", "default", body, field_manager="other",
                                        _content_type="application/apply-patch+yaml")
    assert caught.value.status == 409
    assert '"code":409' in caught.value.body.replace(" ", "")
    forced = api.patch_namespaced_deployment("py", "default", body, field_manager="other",
                                             force=True,
                                             _content_type="application/apply-patch+yaml")
    assert forced.spec.replicas == 4
