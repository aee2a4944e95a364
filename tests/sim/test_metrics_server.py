"""metrics-server in the simulator: scraped figures, windows and upstream quantity formats."""

from __future__ import annotations

from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.metrics_server import format_cpu, format_memory, go_duration


def test_quantities_are_formatted_as_go_prints_them() -> None:
    assert format_cpu(0.005) == "5m"
    assert format_cpu(0.0015) == "1500u"
    assert format_cpu(1.0) == "1"
    assert format_cpu(0.000001234) == "1234n"
    assert format_memory(9 * 2 ** 20) == "9Mi"
    assert format_memory(409600) == "400Ki"
    assert format_memory(1000) == "1000"
    assert go_duration(15.0) == "15s" and go_duration(14.5) == "14.5s"


def _pod(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"a": "b"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}


def test_a_pod_has_metrics_after_two_scrapes_with_a_window() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=1)
    cluster.api.create(_pod("web"))
    cluster.advance(16)
    assert cluster.metrics_server.pod_metrics("default") == []  # one reading: no rate yet
    cluster.advance(15)
    [metrics] = cluster.metrics_server.pod_metrics("default")
    assert metrics["kind"] == "PodMetrics" and metrics["window"] == "15s"
    assert metrics["metadata"]["labels"] == {"a": "b"}
    assert metrics["containers"][0]["name"] == "web"
    assert metrics["containers"][0]["usage"]["memory"] == "3Mi"
    nodes = cluster.metrics_server.node_metrics()
    assert {n["metadata"]["name"] for n in nodes} == {"control-plane", "worker-1"} or nodes


def test_requests_show_in_the_pods_cpu() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=1)
    pod = _pod("web")
    pod["metadata"]["annotations"] = {"kclusterkit.io/request-cpu": "10m"}
    cluster.api.create(pod)
    cluster.advance(31)
    idle = cluster.metrics_server.pod_points("default")[0].containers[0].cpu
    for i in range(300):  # 10 requests per second for 30 s
        cluster.clock.call_at(31 + i / 10, cluster.nodes.http_get, "default", "web", 80, "/")
    cluster.advance(30)
    busy = cluster.metrics_server.pod_points("default")[0].containers[0].cpu
    assert idle < 0.001 and 0.09 < busy < 0.11
