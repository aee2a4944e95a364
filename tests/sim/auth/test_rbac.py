"""RBAC as upstream decides it: bindings, aggregation, subresources, names, URLs, 403s."""

from __future__ import annotations

import pytest

from kclusterkit.sim.auth import ANONYMOUS, UserInfo, service_account_user
from kclusterkit.sim.auth.access import request_attributes
from kclusterkit.sim.auth.rbac import CLUSTER_ROLES, Attributes, forbidden_status_message
from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.errors import StatusError

RBAC = "rbac.authorization.k8s.io/v1"


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    c = Cluster(ClusterSpec(worker_nodes=1), seed=2)
    api = c.api
    api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    for name in ("reader", "ops", "auditor"):
        api.create({"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": name, "namespace": "team"}})
    api.create({"apiVersion": RBAC, "kind": "Role",
                "metadata": {"name": "one-config", "namespace": "team"},
                "rules": [{"apiGroups": [""], "resources": ["configmaps", "pods/log"],
                           "verbs": ["get"], "resourceNames": ["settings"]}]})
    for sa, kind, role in (("reader", "ClusterRole", "view"), ("ops", "ClusterRole", "admin"),
                           ("auditor", "Role", "one-config")):
        api.create({"apiVersion": RBAC, "kind": "RoleBinding",
                    "metadata": {"name": f"{sa}-{role}", "namespace": "team"},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind,
                                "name": role},
                    "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": "team"}]})
    return c


def allowed(c: Cluster, user: UserInfo, verb: str, resource: str, ns: str = "team",
            group: str = "", name: str = "", sub: str = "") -> bool:
    return c.access.authorize(Attributes(user, verb, True, ns, group, "", resource, sub,
                                         name)).allowed


def test_view_reads_but_does_not_write_and_stops_at_its_namespace(cluster: Cluster) -> None:
    reader = service_account_user("team", "reader")
    assert allowed(cluster, reader, "list", "pods")
    assert allowed(cluster, reader, "get", "deployments", group="apps")
    assert not allowed(cluster, reader, "delete", "pods")
    assert not allowed(cluster, reader, "get", "secrets")  # view never shows secrets
    assert not allowed(cluster, reader, "list", "pods", ns="default")


def test_admin_is_aggregated_from_edit_and_view(cluster: Cluster) -> None:
    admin = cluster.store.get(CLUSTER_ROLES, "", "admin")
    view = cluster.store.get(CLUSTER_ROLES, "", "view")
    assert all(rule in admin["rules"] for rule in view["rules"])
    ops = service_account_user("team", "ops")
    assert allowed(cluster, ops, "create", "rolebindings", group="rbac.authorization.k8s.io")
    assert allowed(cluster, ops, "create", "pods", sub="exec")
    assert not allowed(cluster, ops, "delete", "pods", ns="kube-system")


def test_a_labelled_cluster_role_extends_view(cluster: Cluster) -> None:
    reader = service_account_user("team", "reader")
    assert not allowed(cluster, reader, "list", "widgets", group="example.com")
    cluster.api.create({"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {
        "name": "widgets-view", "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
        "rules": [{"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["list"]}]})
    cluster.advance(1)
    assert allowed(cluster, reader, "list", "widgets", group="example.com")


def test_resource_names_and_subresources(cluster: Cluster) -> None:
    auditor = service_account_user("team", "auditor")
    assert allowed(cluster, auditor, "get", "configmaps", name="settings")
    assert not allowed(cluster, auditor, "get", "configmaps", name="other")
    assert not allowed(cluster, auditor, "list", "configmaps")  # a list names nothing
    assert allowed(cluster, auditor, "get", "pods", name="settings", sub="log")
    assert not allowed(cluster, auditor, "get", "pods", name="settings")


def test_non_resource_urls_and_anonymous(cluster: Cluster) -> None:
    version = Attributes(ANONYMOUS, "get", False, path="/version")
    api = Attributes(ANONYMOUS, "get", False, path="/api")
    assert cluster.access.authorize(version).allowed
    assert not cluster.access.authorize(api).allowed
    reader = service_account_user("team", "reader")
    assert cluster.access.authorize(Attributes(reader, "get", False, path="/apis/apps")).allowed


def test_forbidden_messages_are_upstreams() -> None:
    reader = service_account_user("ns", "reader")
    delete = request_attributes(reader, "DELETE", "/api/v1/namespaces/ns/pods/web", {})
    assert forbidden_status_message(delete, "") == (
        'pods "web" is forbidden: User "system:serviceaccount:ns:reader" cannot delete '
        'resource "pods" in API group "" in the namespace "ns"')
    listing = request_attributes(ANONYMOUS, "GET", "/apis/apps/v1/deployments", {})
    assert forbidden_status_message(listing, "") == (
        'deployments.apps is forbidden: User "system:anonymous" cannot list resource '
        '"deployments" in API group "apps" at the cluster scope')
    path = request_attributes(ANONYMOUS, "GET", "/metrics", {})
    assert forbidden_status_message(path, "") == (
        'forbidden: User "system:anonymous" cannot get path "/metrics"')
    logs = request_attributes(reader, "GET", "/api/v1/namespaces/ns/pods/web/log", {})
    assert (logs.verb, logs.resource, logs.subresource, logs.name) == ("get", "pods", "log", "web")
    watch = request_attributes(reader, "GET", "/api/v1/namespaces/ns/pods", {"watch": "true"})
    assert watch.verb == "watch"
    namespace = request_attributes(reader, "GET", "/api/v1/namespaces/ns", {})
    assert (namespace.resource, namespace.namespace, namespace.name) == ("namespaces", "ns", "ns")


def test_a_binding_to_a_missing_role_says_so(cluster: Cluster) -> None:
    cluster.api.create({"apiVersion": RBAC, "kind": "RoleBinding",
                        "metadata": {"name": "dangling", "namespace": "team"},
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                    "name": "gone"},
                        "subjects": [{"kind": "User", "name": "dana"}]})
    decision = cluster.access.authorize(Attributes(UserInfo("dana"), "get", True, "team", "",
                                                   "", "pods"))
    assert not decision.allowed
    assert decision.reason == 'RBAC: role.rbac.authorization.k8s.io "gone" not found'


def test_impersonation_needs_the_impersonate_verb(cluster: Cluster) -> None:
    ops = service_account_user("team", "ops")
    # admin (via edit) may impersonate service accounts of its namespace, not users
    acting = cluster.access.impersonate(ops, {"Impersonate-User":
                                              "system:serviceaccount:team:reader"})
    assert acting.name == "system:serviceaccount:team:reader"
    assert "system:serviceaccounts:team" in acting.groups
    with pytest.raises(StatusError) as refused:
        cluster.access.impersonate(ops, {"Impersonate-User": "alice"})
    assert refused.value.code == 403
    assert str(refused.value.message) == (
        'users "alice" is forbidden: User "system:serviceaccount:team:ops" cannot impersonate '
        'resource "users" in API group "" at the cluster scope')
