"""Access checks through KubeDriver against a served simulator: SubjectAccessReview plus the
impersonated request, cluster-scoped RBAC objects removed after the scenario or on abandon."""

from __future__ import annotations

import pytest

from kclusterkit.driver.base import Subject
from kclusterkit.driver.kube import KubeDriver
from kclusterkit.sim.cluster import Cluster, ClusterSpec
from tests.driver.served import scenario_driver, served_cluster

RBAC = "rbac.authorization.k8s.io/v1"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    yield from served_cluster(tmp_path_factory, lambda: Cluster(ClusterSpec(worker_nodes=1), 3))


@pytest.fixture
def driver(served, request):
    yield from scenario_driver(served, request, "access")


def _binding(driver: KubeDriver, name: str) -> dict:
    return {"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "r",
                          "namespace": driver.namespace}]}


def test_reviews_and_impersonated_requests_agree(driver: KubeDriver) -> None:
    driver.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "r"}})
    reader = Subject.service_account(driver.namespace, "r")
    assert not driver.can(reader, "list", "pods").allowed
    driver.create(_binding(driver, f"{driver.namespace}-r"))
    assert driver.can(reader, "list", "pods").allowed
    assert driver.can(reader, "list", "pods", "kube-system").allowed
    assert not driver.can(reader, "delete", "pods").allowed
    assert not driver.can(reader, "create", "deployments.apps").allowed
    assert driver.anonymous_request("/api/v1/pods")[0] == 403


def test_a_scenarios_cluster_role_binding_is_removed_when_it_ends(served) -> None:
    d = KubeDriver.from_config({"kubeconfig": str(served.kubeconfig_path)}, run_id="crb-end",
                               target="sim-api")
    d.open_scenario("one")
    name = f"{d.namespace}-gone"
    made = d.create(_binding(d, name))
    assert made["metadata"]["labels"]["kclusterkit.io/run"] == "crb-end"
    d.close_scenario(passed=True)
    assert d.get("ClusterRoleBinding", name, "") is None
    d.open_scenario("two")
    kept_while_running = f"{d.namespace}-abandoned"
    d.create(_binding(d, kept_while_running))
    d.abandon("interrupted")
    assert d.get("ClusterRoleBinding", kept_while_running, "") is None
    d.close()


def test_a_kubeconfig_that_may_not_impersonate_skips_with_the_reason(served, tmp_path) -> None:
    """A runner that may create namespaces and reviews but not impersonate: the check
    about its own namespace skips (NotSupported) and says why."""
    from kclusterkit.driver.errors import NotSupported
    from kclusterkit.sim.server.kubeconfig import write_kubeconfig

    admin = KubeDriver.from_config({"kubeconfig": str(served.kubeconfig_path)},
                                   run_id="no-imp-admin", target="sim-api")
    call = admin.rest.call
    call("POST", "/api/v1/namespaces/default/serviceaccounts",
         body={"metadata": {"name": "runner"}})
    call("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", body={
        "metadata": {"name": "runner"},
        "rules": [{"apiGroups": [""], "resources": ["namespaces"],
                   "verbs": ["create", "get", "delete", "list"]},
                  {"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"],
                   "verbs": ["create"]}]})
    call("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", body={
        "metadata": {"name": "runner"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "runner"},
        "subjects": [{"kind": "ServiceAccount", "name": "runner", "namespace": "default"}]})
    token = call("POST", "/api/v1/namespaces/default/serviceaccounts/runner/token",
                 body={"spec": {}})["status"]["token"]
    path = write_kubeconfig(tmp_path / "runner", served.url, token,
                            ca_pem=served.ca_path.read_bytes())
    runner = KubeDriver.from_config({"kubeconfig": str(path)}, run_id="no-imp",
                                    target="kubeconfig")
    runner.open_scenario("may not impersonate")
    try:
        with pytest.raises(NotSupported) as skipped:
            runner.can(Subject.service_account(runner.namespace, "default"), "list", "pods")
        assert "may not impersonate serviceaccounts 'default'" in str(skipped.value)
    finally:
        runner.close_scenario(passed=True)
        runner.close()
        admin.close()


def test_a_scenarios_priority_class_is_removed_when_it_ends(served) -> None:
    d = KubeDriver.from_config({"kubeconfig": str(served.kubeconfig_path)}, run_id="pc-end",
                               target="sim-api")
    d.open_scenario("classes")
    made = d.create({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                     "metadata": {"name": "pc-end-high"}, "value": 1000})
    assert made["metadata"]["labels"]["kclusterkit.io/run"] == "pc-end"
    d.close_scenario(passed=True)
    assert d.get("PriorityClass", "pc-end-high", "") is None
    d.close()
