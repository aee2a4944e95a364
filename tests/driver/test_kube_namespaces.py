"""A scenario's other namespaces on a real-cluster driver: named with the run's prefix,
labelled with the run, deleted with the scenario, and on an interrupt."""

from __future__ import annotations

import pytest

from kclusterkit.driver.errors import Refused
from kclusterkit.driver.kube import RUN_LABEL, KubeDriver
from kclusterkit.driver.sim import SimDriver
from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.server import serve_in_thread


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    handle = serve_in_thread(cluster_factory=lambda: Cluster(ClusterSpec(worker_nodes=1), 3),
                             kubeconfig_path=tmp_path_factory.mktemp("kube") / "config")
    yield handle
    handle.stop()


def _driver(served, run_id: str, **options) -> KubeDriver:
    return KubeDriver.from_config({"kubeconfig": str(served.kubeconfig_path), **options},
                                  run_id=run_id, target="sim-api")


def _phase(d: KubeDriver, ns: str) -> str | None:
    found = d.get("namespaces", ns, "")
    if found is None:
        return None
    return "Terminating" if found["metadata"].get("deletionTimestamp") else "Active"


def test_another_namespace_is_prefixed_labelled_writable_and_deleted_with_the_scenario(
        served) -> None:
    d = _driver(served, "ns-extra")
    d.open_scenario("two namespaces")
    real = d.create_namespace("other", {"team": "web"})
    assert real == f"{d.namespace}-other"
    labels = d.get("namespaces", real, "")["metadata"]["labels"]
    assert labels["team"] == "web" and labels[RUN_LABEL] == "ns-extra"
    assert labels["kubernetes.io/metadata.name"] == real
    # The run may write there (it would refuse a namespace it did not create).
    d.create({"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "c", "namespace": real}})
    with pytest.raises(Refused):
        d.create({"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "c", "namespace": "kube-public"}})
    d.close_scenario(passed=True)
    assert _phase(d, real) in (None, "Terminating")
    d.close()


def test_an_interrupt_deletes_the_scenarios_other_namespaces(served) -> None:
    d = _driver(served, "ns-abandon")
    d.open_scenario("interrupted")
    real = d.create_namespace("other")
    d.abandon("SIGTERM")
    assert _phase(d, real) in (None, "Terminating")
    d.close()


def test_kept_on_failure_when_the_policy_says_so(served) -> None:
    d = _driver(served, "ns-keep", cleanup="on-success")
    d.open_scenario("failing")
    real = d.create_namespace("other")
    d.close_scenario(passed=False)
    assert _phase(d, real) == "Active" and real in d.kept
    d.close()


def test_the_simulator_uses_the_name_as_is() -> None:
    d = SimDriver(ClusterSpec(worker_nodes=1), seed=1)
    d.open_scenario("sim")
    assert d.create_namespace("other", {"team": "web"}) == "other"
    assert d.get("namespaces", "other", "")["metadata"]["labels"]["team"] == "web"
    d.close_scenario(passed=True)
