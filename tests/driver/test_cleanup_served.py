"""``kclusterkit cleanup`` after a run that could not clean up (SIGKILL, power loss): the
scenario's other namespaces and its cluster-scoped objects go with its namespace, and
only what a run of the prefix made goes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kclusterkit.driver import cleanup
from kclusterkit.driver.kube import RUN_LABEL, KubeDriver
from kclusterkit.driver.kubeaccess import SCENARIO_LABEL
from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.server import ServerHandle
from tests.driver.served import served_cluster

RBAC = "rbac.authorization.k8s.io/v1"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    yield from served_cluster(tmp_path_factory, lambda: Cluster(ClusterSpec(worker_nodes=1), 3))


def _role(name: str, labels: dict[str, str]) -> dict:
    return {"apiVersion": RBAC, "kind": "ClusterRole",
            "metadata": {"name": name, "labels": labels},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}


def test_cleanup_takes_a_dead_runs_other_namespaces_and_cluster_objects(
        served: ServerHandle, capsys: pytest.CaptureFixture[str]) -> None:
    kubeconfig = str(served.kubeconfig_path)
    dead = KubeDriver.from_config({"kubeconfig": kubeconfig}, run_id="dead", target="sim-api")
    dead.open_scenario("killed mid-way")
    other = dead.create_namespace("other")
    dead.create(_role("kk-dead-reader", {}))
    # the run is killed here: nothing of it closes its scenario
    survivor = KubeDriver.from_config({"kubeconfig": kubeconfig}, run_id="alive",
                                      target="sim-api")
    # somebody's role with a run label but no scenario a run of the prefix named
    survivor.rest.call("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                       body=_role("imposter", {RUN_LABEL: "dead", SCENARIO_LABEL: "prod"}))
    try:
        assert cleanup.main(["--kubeconfig", kubeconfig, "--run", "dead"]) == 0
        out = capsys.readouterr().out
        assert f"deleted namespace {dead.namespace} (run dead" in out
        assert f"deleted namespace {other} (run dead" in out
        assert "deleted clusterroles kk-dead-reader (run dead)" in out
        assert "2 namespace(s) deleted, 1 cluster-scoped object(s) deleted" in out
        roles = survivor.rest.call("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles")
        names = {r["metadata"]["name"] for r in roles["items"]}
        assert "kk-dead-reader" not in names and "imposter" in names
        assert cleanup.main(["--kubeconfig", kubeconfig, "--run", "dead"]) == 0
        assert "nothing to clean up" in capsys.readouterr().out
    finally:
        survivor.rest.call("DELETE", "/apis/rbac.authorization.k8s.io/v1/clusterroles/imposter")
        survivor.close()
