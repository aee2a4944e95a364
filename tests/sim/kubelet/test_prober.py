"""The kubelet's prober: readiness, liveness and startup probes (pkg/kubelet/prober)."""

from __future__ import annotations

from typing import Any

from kclusterkit.kube.meta import condition
from kclusterkit.sim.cluster import Cluster
from tests.sim.kubelet.support import events, get, make_pod, state


def probe_pod(name: str, **container: Any) -> dict:
    return make_pod(name, **container)


def ready_status(cluster: Cluster, name: str) -> str:
    return condition(get(cluster, name), "Ready")["status"]


def test_a_readiness_probe_gates_the_ready_condition(cluster: Cluster) -> None:
    cluster.api.create(probe_pod("good", readinessProbe={
        "httpGet": {"path": "/", "port": 80}, "initialDelaySeconds": 5, "periodSeconds": 5}))
    cluster.api.create(probe_pod("bad", readinessProbe={
        "httpGet": {"path": "/healthz", "port": 80}, "periodSeconds": 5}))
    cluster.advance(4)
    assert get(cluster, "good")["status"]["phase"] == "Running"
    assert ready_status(cluster, "good") == "False"  # not probed yet
    cluster.advance(5)
    assert ready_status(cluster, "good") == "True"
    assert ready_status(cluster, "bad") == "False"
    [unhealthy] = events(cluster, "bad", "Unhealthy")
    assert unhealthy["type"] == "Warning"
    assert unhealthy["message"] == "Readiness probe failed: HTTP probe failed with statuscode: 404"
    assert state(cluster, "bad")["restartCount"] == 0  # readiness never restarts


def test_set_ready_false_fails_the_readiness_probe_after_the_threshold(cluster: Cluster
                                                                       ) -> None:
    nodes = cluster.nodes
    cluster.api.create(probe_pod("web", readinessProbe={
        "httpGet": {"path": "/", "port": 80}, "periodSeconds": 10, "failureThreshold": 3}))
    cluster.advance(10)
    assert ready_status(cluster, "web") == "True"
    nodes.set_ready("default", "web", False)
    cluster.advance(21)
    assert ready_status(cluster, "web") == "True"  # two failures so far
    cluster.advance(10)
    assert ready_status(cluster, "web") == "False"
    assert events(cluster, "web", "Unhealthy")[0]["message"] == \
        "Readiness probe failed: HTTP probe failed with statuscode: 503"
    nodes.set_ready("default", "web", True)
    cluster.advance(10)
    assert ready_status(cluster, "web") == "True"


def test_set_ready_without_a_probe_is_immediate(cluster: Cluster) -> None:
    nodes = cluster.nodes
    cluster.api.create(make_pod())
    cluster.advance(5)
    nodes.set_ready("default", "web", False)
    cluster.advance(0.1)
    assert ready_status(cluster, "web") == "False"
    assert get(cluster)["status"]["phase"] == "Running"


def test_a_failing_liveness_probe_restarts_the_container(cluster: Cluster) -> None:
    cluster.api.create(probe_pod("web", livenessProbe={
        "httpGet": {"path": "/healthz", "port": 80}, "periodSeconds": 5,
        "failureThreshold": 3}))
    cluster.advance(14)
    assert state(cluster)["restartCount"] == 1
    assert state(cluster)["lastState"]["terminated"]["reason"] == "Completed"  # nginx exits 0
    [killing] = events(cluster, "web", "Killing")
    assert killing["message"] == "Container app failed liveness probe, will be restarted"
    unhealthy = events(cluster, "web", "Unhealthy")[0]
    assert unhealthy["message"] == "Liveness probe failed: HTTP probe failed with statuscode: 404"


def test_exec_and_tcp_probes(cluster: Cluster) -> None:
    nodes = cluster.nodes
    cluster.api.create(probe_pod(
        "ex", image="busybox:1.36", command=["sh", "-c", "touch /tmp/healthy; sleep 3600"],
        livenessProbe={"exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": 5,
                       "failureThreshold": 1},
        spec={"terminationGracePeriodSeconds": 2}))
    cluster.api.create(probe_pod("tcp", image="redis:7", readinessProbe={
        "tcpSocket": {"port": 6379}, "periodSeconds": 5}))
    cluster.api.create(probe_pod("tcp-wrong", image="redis:7", readinessProbe={
        "tcpSocket": {"port": 6380}, "periodSeconds": 5}))
    cluster.advance(8)
    assert ready_status(cluster, "tcp") == "True"
    assert ready_status(cluster, "tcp-wrong") == "False"
    assert events(cluster, "tcp-wrong", "Unhealthy")[0]["message"].startswith(
        "Readiness probe failed: dial tcp 10.244.1.")
    assert nodes.exec("default", "ex", ["rm", "/tmp/healthy"])[0] == 0
    cluster.advance(5)
    assert events(cluster, "ex", "Unhealthy")[0]["message"] == (
        "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory")
    cluster.advance(3)  # sh ignores SIGTERM: killed when the 2 s grace period ends
    cs = state(cluster, "ex")
    assert cs["restartCount"] == 1
    assert cs["lastState"]["terminated"]["exitCode"] == 137


def test_a_startup_probe_holds_back_readiness(cluster: Cluster) -> None:
    cluster.api.create(probe_pod("web", startupProbe={
        "httpGet": {"path": "/", "port": 80}, "initialDelaySeconds": 10, "periodSeconds": 5}))
    cluster.advance(5)
    cs = state(cluster)
    assert "running" in cs["state"] and cs["started"] is False and cs["ready"] is False
    cluster.advance(10)
    cs = state(cluster)
    assert cs["started"] is True and cs["ready"] is True


def test_a_failing_startup_probe_restarts_the_container(cluster: Cluster) -> None:
    cluster.api.create(probe_pod("web", startupProbe={
        "httpGet": {"path": "/ready", "port": 80}, "periodSeconds": 5, "failureThreshold": 2}))
    cluster.advance(10)
    [killing] = events(cluster, "web", "Killing")
    assert killing["message"] == "Container app failed startup probe, will be restarted"
    assert state(cluster)["restartCount"] == 1
