"""CRUD, discovery, errors and subresources through the real kubernetes client."""

from __future__ import annotations

import json

import pytest
import requests
from kubernetes import client
from kubernetes.client import ApiException

from kclusterkit.sim.server import ServerHandle


def _raw(served: ServerHandle, method: str, path: str, **kwargs: object) -> requests.Response:
    headers = {"Authorization": f"Bearer {served.token}",
               **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    return requests.request(method, served.url + path, headers=headers,
                            verify=str(served.ca_path), timeout=10, **kwargs)  # type: ignore[arg-type]


def test_version_and_discovery(api_client: client.ApiClient) -> None:
    assert client.VersionApi(api_client).get_code().git_version == "v1.34.1"
    core = client.CoreV1Api(api_client).get_api_resources()
    by_name = {r.name: r for r in core.resources}
    assert by_name["pods"].short_names == ["po"] and by_name["pods"].namespaced
    assert by_name["pods/exec"].kind == "PodExecOptions"
    assert not by_name["nodes"].namespaced
    apps = client.AppsV1Api(api_client).get_api_resources()
    scale = next(r for r in apps.resources if r.name == "deployments/scale")
    assert (scale.group, scale.version, scale.kind) == ("autoscaling", "v1", "Scale")
    groups = {g.name for g in client.ApisApi(api_client).get_api_versions().groups}
    assert {"apps", "coordination.k8s.io", "discovery.k8s.io"} <= groups


def test_token_required(served: ServerHandle) -> None:
    # Anonymous auth is on, as upstream: no token is system:anonymous, whom RBAC refuses.
    response = requests.get(served.url + "/api/v1/pods", verify=str(served.ca_path), timeout=10)
    assert response.status_code == 403
    assert response.json()["message"] == (
        'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group '
        '"" at the cluster scope')
    wrong = requests.get(served.url + "/api/v1/pods", verify=str(served.ca_path), timeout=10,
                         headers={"Authorization": "Bearer " + "0" * len(served.token)})
    assert wrong.status_code == 401
    assert wrong.json()["reason"] == "Unauthorized"
    health = requests.get(served.url + "/healthz", verify=str(served.ca_path), timeout=10)
    assert health.text == "ok"


def test_create_get_conflict_and_errors(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    made = core.create_namespaced_config_map(
        "default", {"metadata": {"generateName": "gen-"}, "data": {"a": "1"}})
    assert made.metadata.name.startswith("gen-") and len(made.metadata.name) == 9
    with pytest.raises(ApiException) as exists:
        core.create_namespaced_config_map("default", {"metadata": {"name": made.metadata.name}})
    assert exists.value.status == 409 and json.loads(exists.value.body)["reason"] == "AlreadyExists"
    stale = made.to_dict()
    core.patch_namespaced_config_map(made.metadata.name, "default", {"data": {"b": "2"}})
    body = {"metadata": {"name": made.metadata.name,
                         "resourceVersion": stale["metadata"]["resource_version"]}}
    with pytest.raises(ApiException) as conflict:
        core.replace_namespaced_config_map(made.metadata.name, "default", body)
    assert conflict.value.status == 409 and json.loads(conflict.value.body)["reason"] == "Conflict"
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("absent", "default")
    assert missing.value.status == 404
    with pytest.raises(ApiException) as invalid:
        core.create_namespaced_pod("default", {"metadata": {"name": "Bad_Name"},
                                               "spec": {"containers": []}})
    status = json.loads(invalid.value.body)
    assert invalid.value.status == 422 and status["reason"] == "Invalid"
    assert status["details"]["causes"]


def test_list_selectors_and_pagination(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespace({"metadata": {"name": "paging"}})
    for i in range(7):
        core.create_namespaced_config_map("paging", {"metadata": {
            "name": f"cm-{i}", "labels": {"tier": "odd" if i % 2 else "even"}}})
    assert [c.metadata.name for c in core.list_namespaced_config_map(
        "paging", label_selector="tier=odd").items] == ["cm-1", "cm-3", "cm-5"]
    assert [c.metadata.name for c in core.list_namespaced_config_map(
        "paging", field_selector="metadata.name=cm-4").items] == ["cm-4"]
    names, token, pages = [], None, 0
    while True:
        page = core.list_namespaced_config_map("paging", limit=3, _continue=token)
        names += [c.metadata.name for c in page.items]
        pages += 1
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count == 7 - len(names)
    assert names == [f"cm-{i}" for i in range(7)] and pages == 3
    everywhere = core.list_config_map_for_all_namespaces(label_selector="tier")
    assert {c.metadata.namespace for c in everywhere.items} == {"paging"}


def test_patch_flavours_and_dry_run(api_client: client.ApiClient) -> None:
    apps = client.AppsV1Api(api_client)
    apps.create_namespaced_deployment("default", {
        "metadata": {"name": "patchme"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "p"}},
                 "template": {"metadata": {"labels": {"app": "p"}}, "spec": {"containers": [
                     {"name": "a", "image": "nginx"}, {"name": "b", "image": "busybox"}]}}}})
    # A dict body is a strategic merge patch: containers merge by name.
    patched = apps.patch_namespaced_deployment("patchme", "default", {"spec": {"template": {
        "spec": {"containers": [{"name": "b", "image": "busybox:1.36"}]}}}})
    assert [c.image for c in patched.spec.template.spec.containers] == ["nginx", "busybox:1.36"]
    assert patched.metadata.generation == 2
    patched = apps.patch_namespaced_deployment("patchme", "default", [
        {"op": "replace", "path": "/spec/replicas", "value": 4}])
    assert patched.spec.replicas == 4
    dry = apps.patch_namespaced_deployment("patchme", "default", {"spec": {"replicas": 9}},
                                           dry_run="All")
    assert dry.spec.replicas == 9
    assert apps.read_namespaced_deployment("patchme", "default").spec.replicas == 4
    scale = apps.patch_namespaced_deployment_scale("patchme", "default",
                                                   {"spec": {"replicas": 2}})
    assert scale.spec.replicas == 2 and scale.status.selector == "app=p"
    assert apps.read_namespaced_deployment("patchme", "default").spec.replicas == 2


def test_status_subresource_keeps_spec(api_client: client.ApiClient) -> None:
    apps = client.AppsV1Api(api_client)
    apps.create_namespaced_deployment("default", {
        "metadata": {"name": "statusy"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "s"}},
                 "template": {"metadata": {"labels": {"app": "s"}},
                              "spec": {"containers": [{"name": "a", "image": "nginx"}]}}}})
    updated = apps.patch_namespaced_deployment_status(
        "statusy", "default", {"spec": {"replicas": 5}, "status": {"readyReplicas": 1}})
    assert updated.status.ready_replicas == 1 and updated.spec.replicas == 1


def test_field_validation(served: ServerHandle) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "typo"},
            "dta": {"a": "b"}}
    strict = _raw(served, "POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
                  json=body)
    assert strict.status_code == 400
    assert strict.json()["message"] == 'strict decoding error: unknown field "dta"'
    warned = _raw(served, "POST", "/api/v1/namespaces/default/configmaps", json=body)
    assert warned.status_code == 201
    assert warned.headers["Warning"] == '299 - "unknown field \\"dta\\""'


def test_delete_semantics(api_client: client.ApiClient, served: ServerHandle) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map("default", {"metadata": {"name": "keep",
                                                               "finalizers": ["x/y"]}})
    kept = _raw(served, "DELETE", "/api/v1/namespaces/default/configmaps/keep").json()
    assert kept["kind"] == "ConfigMap" and kept["metadata"]["deletionTimestamp"]
    for i in range(3):
        core.create_namespaced_config_map("default", {"metadata": {"name": f"sweep-{i}",
                                                                   "labels": {"sweep": "y"}}})
    core.delete_collection_namespaced_config_map("default", label_selector="sweep=y")
    assert not core.list_namespaced_config_map("default", label_selector="sweep=y").items
    core.create_namespaced_pod("default", {"metadata": {"name": "gone"}, "spec": {
        "containers": [{"name": "c", "image": "busybox"}]}})
    # Pods answer a finished delete with the pod itself, as upstream's registry does.
    assert core.delete_namespaced_pod("gone", "default").metadata.name == "gone"
    with pytest.raises(ApiException) as precondition:
        core.delete_namespaced_config_map("keep", "default", body=client.V1DeleteOptions(
            preconditions=client.V1Preconditions(uid="not-it")))
    assert precondition.value.status == 409


def test_table_for_kubectl_get(served: ServerHandle) -> None:
    table = _raw(served, "GET", "/api/v1/nodes?includeObject=Object",
                 headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}).json()
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]][:5] == [
        "Name", "Status", "Roles", "Age", "Version"]
    rows = {r["cells"][0]: r for r in table["rows"]}
    assert rows["cp-1"]["cells"][1:3] == ["Ready", "control-plane"]
    assert rows["worker-1"]["cells"][2] == "<none>"
    assert rows["cp-1"]["object"]["kind"] == "Node"


def test_unavailable_control_plane(served: ServerHandle) -> None:
    served.call(lambda cluster: setattr(cluster.api, "unavailable_reason", "etcd lost quorum"))
    try:
        down = _raw(served, "GET", "/api/v1/namespaces")
        assert down.status_code == 503 and down.json()["reason"] == "ServiceUnavailable"
        assert _raw(served, "GET", "/readyz").status_code == 503
    finally:
        served.call(lambda cluster: setattr(cluster.api, "unavailable_reason", None))
    assert _raw(served, "GET", "/api/v1/namespaces").status_code == 200


def test_binding_over_http_is_the_api_verb(served: ServerHandle) -> None:
    _raw(served, "POST", "/api/v1/namespaces/default/pods", json={
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "tobind"},
        "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}})
    path = "/api/v1/namespaces/default/pods/tobind/binding"
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "tobind"},
               "target": {"kind": "Node", "name": "worker-1"}}
    assert _raw(served, "POST", path, json=binding).status_code == 201
    again = _raw(served, "POST", path, json=binding)
    assert again.status_code == 409
    assert again.json()["message"] == ('Operation cannot be fulfilled on pods/binding "tobind": '
                                       'pod tobind is already assigned to node "worker-1"')


def test_scale_put_with_a_stale_resource_version_conflicts(served: ServerHandle) -> None:
    _raw(served, "POST", "/apis/apps/v1/namespaces/default/deployments", json={
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "stale"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "s"}},
                 "template": {"metadata": {"labels": {"app": "s"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    path = "/apis/apps/v1/namespaces/default/deployments/stale/scale"
    scale = _raw(served, "GET", path).json()
    scale["spec"]["replicas"] = 2
    assert _raw(served, "PUT", path, json=scale).status_code == 200
    scale["spec"]["replicas"] = 3  # still the old resourceVersion
    assert _raw(served, "PUT", path, json=scale).status_code == 409
