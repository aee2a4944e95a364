"""Access control over HTTP: tokens, impersonation, escalation, reviews, the admin path."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.server import ServerHandle, serve_in_thread

RBAC = "/apis/rbac.authorization.k8s.io/v1"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    path = tmp_path_factory.mktemp("kube") / "config"
    handle = serve_in_thread(cluster_factory=lambda: Cluster(ClusterSpec(worker_nodes=1), 5),
                             speed=1.0, kubeconfig_path=path)
    admin = _session(handle, handle.token)
    admin.post(handle.url + "/api/v1/namespaces/default/serviceaccounts",
               json={"metadata": {"name": "reader"}}).raise_for_status()
    admin.post(handle.url + RBAC + "/namespaces/default/rolebindings", json={
        "metadata": {"name": "reader-view"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": "default"}],
    }).raise_for_status()
    yield handle
    handle.stop()


def _session(handle: ServerHandle, token: str | None) -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # REQUESTS_CA_BUNDLE would win over the session's own CA
    s.verify = str(handle.ca_path)
    if token:
        s.headers["Authorization"] = f"Bearer {token}"
    return s


def _token(handle: ServerHandle, sa: str = "reader") -> str:
    answer = _session(handle, handle.token).post(
        handle.url + f"/api/v1/namespaces/default/serviceaccounts/{sa}/token",
        json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}})
    assert answer.status_code == 201
    return str(answer.json()["status"]["token"])


def test_a_service_account_token_gets_rbacs_answer(served: ServerHandle) -> None:
    reader = _session(served, _token(served))
    assert reader.get(served.url + "/api/v1/namespaces/default/pods").status_code == 200
    refused = reader.delete(served.url + "/api/v1/namespaces/default/pods/web")
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        'pods "web" is forbidden: User "system:serviceaccount:default:reader" cannot delete '
        'resource "pods" in API group "" in the namespace "default"')
    assert refused.json()["details"] == {"name": "web", "kind": "pods"}


def test_the_admin_path_is_for_the_admin_token_only(served: ServerHandle) -> None:
    assert _session(served, served.token).get(served.url + "/kclusterkit/v1/clock").ok
    other = _session(served, _token(served)).get(served.url + "/kclusterkit/v1/clock")
    assert other.status_code == 403
    assert _session(served, None).get(served.url + "/kclusterkit/v1/clock").status_code == 403


def test_impersonation_is_checked_and_acts_as_the_subject(served: ServerHandle) -> None:
    admin = _session(served, served.token)
    as_reader = {"Impersonate-User": "system:serviceaccount:default:reader"}
    assert admin.get(served.url + "/api/v1/namespaces/default/pods",
                     headers=as_reader).status_code == 200
    assert admin.get(served.url + "/api/v1/namespaces/default/secrets",
                     headers=as_reader).status_code == 403
    reader = _session(served, _token(served))
    refused = reader.get(served.url + "/api/v1/namespaces/default/pods",
                         headers={"Impersonate-User": "kubernetes-admin"})
    assert refused.status_code == 403
    assert "cannot impersonate resource" in refused.json()["message"]


def test_escalation_is_refused_and_binding_what_you_hold_is_not(served: ServerHandle) -> None:
    admin = _session(served, served.token)
    admin.post(served.url + RBAC + "/namespaces/default/rolebindings", json={
        "metadata": {"name": "reader-rb-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "rb"},
        "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": "default"}],
    }).raise_for_status()
    admin.post(served.url + RBAC + "/namespaces/default/roles", json={
        "metadata": {"name": "rb"},
        "rules": [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"],
                   "verbs": ["create"]}]}).raise_for_status()
    reader = _session(served, _token(served))
    grab = reader.post(served.url + RBAC + "/namespaces/default/roles", json={
        "metadata": {"name": "more"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]})
    assert grab.status_code == 403
    assert grab.json()["message"].startswith(
        'roles.rbac.authorization.k8s.io "more" is forbidden: user '
        '"system:serviceaccount:default:reader" (groups=["system:serviceaccounts" '
        '"system:serviceaccounts:default" "system:authenticated"]) is attempting to grant '
        "RBAC permissions not currently held:\n"
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}')
    held = reader.post(served.url + RBAC + "/namespaces/default/roles", json={
        "metadata": {"name": "less"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]})
    assert held.status_code == 201


def test_self_subject_access_review_in_protobuf(served: ServerHandle) -> None:
    """kubectl auth can-i posts protobuf: the k8s magic, runtime.Unknown, the review."""
    def field(number: int, payload: bytes) -> bytes:
        return bytes([number << 3 | 2, len(payload)]) + payload

    attrs = field(2, b"delete") + field(5, b"pods") + field(1, b"default")
    review = field(2, field(1, attrs))
    type_meta = field(1, b"authorization.k8s.io/v1") + field(2, b"SelfSubjectAccessReview")
    body = b"k8s\x00" + field(1, type_meta) + field(2, review)
    reader = _session(served, _token(served))
    answer = reader.post(served.url + "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                         data=body,
                         headers={"Content-Type": "application/vnd.kubernetes.protobuf"})
    assert answer.status_code == 201
    assert answer.json()["status"]["allowed"] is False
    assert answer.json()["spec"]["resourceAttributes"] == {
        "verb": "delete", "resource": "pods", "namespace": "default"}
    rules = reader.post(served.url + "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
                        json={"spec": {"namespace": "default"}}).json()["status"]
    assert any("pods" in r["resources"] and "list" in r["verbs"]
               for r in rules["resourceRules"])
