"""The fault table: each fault done by the kubelet that owns what it breaks."""

from __future__ import annotations

import pytest

from kclusterkit.sim import errors, faults
from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.resources import NODES, PODS


def running() -> Cluster:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=4)
    cluster.api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
                        "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}})
    cluster.advance(10)
    return cluster


def container(cluster: Cluster) -> dict:
    return cluster.store.must_get(PODS, "default", "web")["status"]["containerStatuses"][0]


def test_crash_container_restarts_it_with_the_exit_code() -> None:
    cluster = running()
    faults.apply(cluster, "crash-container", {"namespace": "default", "pod": "web",
                                              "exit_code": "3"})
    cluster.advance(1)
    status = container(cluster)
    assert status["restartCount"] == 1
    assert status["lastState"]["terminated"]["exitCode"] == 3


def test_readiness_faults_flip_the_pod_ready_condition() -> None:
    cluster = running()
    faults.apply(cluster, "make-unready", {"namespace": "default", "pod": "web"})
    cluster.advance(0)
    assert container(cluster)["ready"] is False
    faults.apply(cluster, "make-ready", {"namespace": "default", "pod": "web"})
    cluster.advance(0)
    assert container(cluster)["ready"] is True


def test_a_failed_node_goes_unknown_and_comes_back() -> None:
    cluster = running()
    faults.apply(cluster, "fail-node", {"node": "worker-1"})
    cluster.advance(60)

    def ready() -> str:
        node = cluster.store.must_get(NODES, "", "worker-1")
        return next(c["status"] for c in node["status"]["conditions"] if c["type"] == "Ready")

    assert ready() == "Unknown"
    faults.apply(cluster, "recover-node", {"node": "worker-1"})
    cluster.advance(1)
    assert ready() == "True"


def test_bad_fault_arguments_are_clear_errors() -> None:
    cluster = running()
    with pytest.raises(errors.StatusError, match="exit_code: expected 0 to 255, got 300"):
        faults.apply(cluster, "crash-container", {"namespace": "default", "pod": "web",
                                                  "exit_code": 300})
    with pytest.raises(errors.StatusError, match="missing node"):
        faults.apply(cluster, "fail-node", {})
    with pytest.raises(errors.StatusError, match='nodes "worker-9" not found'):
        faults.apply(cluster, "fail-node", {"node": "worker-9"})
