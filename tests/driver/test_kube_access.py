"""Access checks through KubeDriver against a served simulator: SubjectAccessReview plus the
impersonated request, cluster-scoped RBAC objects removed after the scenario or on abandon."""

from __future__ import annotations

import pytest

from kclusterkit.driver.base import Subject
from kclusterkit.driver.kube import KubeDriver
from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.server import serve_in_thread

RBAC = "rbac.authorization.k8s.io/v1"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    handle = serve_in_thread(cluster_factory=lambda: Cluster(ClusterSpec(worker_nodes=1), 3),
                             kubeconfig_path=tmp_path_factory.mktemp("kube") / "config")
    yield handle
    handle.stop()


@pytest.fixture
def driver(served, request):
    d = KubeDriver.from_config({"kubeconfig": str(served.kubeconfig_path)},
                               run_id=request.node.name[5:30], target="sim-api")
    d.open_scenario("access")
    yield d
    d.close_scenario(passed=True)
    d.close()


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
