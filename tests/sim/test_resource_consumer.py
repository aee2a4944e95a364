"""resource-consumer (test/images/resource-consumer), the image upstream's HPA e2e tests
scale: POST /ConsumeCPU burns what it is asked, GET is refused, wget --post-data POSTs."""

from __future__ import annotations

from datetime import UTC, datetime

from kclusterkit.driver.probe import load_script
from kclusterkit.sim import images
from kclusterkit.sim.cluster import Cluster, ClusterSpec

IMAGE = "registry.k8s.io/e2e-test-images/resource-consumer:1.13"


def answer(method: str, path: str) -> images.Response:
    container = {"name": "rc", "image": IMAGE}
    plan = images.plan_for(container)
    request = images.Request(path=path, hostname="rc", now=datetime(2026, 1, 1, tzinfo=UTC),
                             uptime=5.0, method=method)
    return images.serve(plan, container, request)


def test_it_listens_on_8080_and_wants_a_post() -> None:
    plan = images.plan_for({"name": "rc", "image": IMAGE})
    assert plan.serves == "resource-consumer" and plan.argv == ["/consumer"]
    assert images.listening_ports(plan, {"image": IMAGE}) == ({8080}, True)
    refused = answer("GET", "/ConsumeCPU?millicores=10&durationSec=1")
    assert (refused.status, refused.body) == (400, "Bad request. Not a POST request\n")
    assert refused.cpu is None


def test_consume_cpu_and_memory_say_what_they_burn() -> None:
    cpu = answer("POST", "/ConsumeCPU?millicores=250&durationSec=3")
    assert cpu.status == 200 and cpu.body == "ConsumeCPU\n250 millicores\n3 durationSec\n"
    assert cpu.cpu == (0.25, 3.0)
    memory = answer("POST", "/ConsumeMem?megabytes=64&durationSec=10")
    assert memory.memory == (64 * 2 ** 20, 10.0)
    assert answer("POST", "/ConsumeCPU?millicores=5").body == "not given function argument\n"
    assert answer("POST", "/ConsumeCPU?millicores=x&durationSec=1").body == \
        "incorrect function argument\n"
    assert answer("POST", "/Nothing").status == 404


def test_a_busybox_load_posting_to_it_shows_in_its_cpu() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=1)
    cluster.api.create({"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": "rc", "labels": {"app": "rc"}},
                        "spec": {"containers": [{"name": "rc", "image": IMAGE}]}})
    cluster.api.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "rc"},
                        "spec": {"selector": {"app": "rc"},
                                 "ports": [{"port": 80, "targetPort": 8080}]}})
    script = load_script("http://rc/ConsumeCPU?millicores=20&durationSec=1", 10, "POST")
    assert "--post-data=''" in script
    cluster.api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "load"},
                        "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
                                                 "command": ["sh", "-c", script]}]}})
    cluster.advance(60)
    [point] = [p for p in cluster.metrics_server.pod_points("default") if p.name == "rc"]
    assert 0.19 < point.containers[0].cpu < 0.21  # 10/s × 20m for 1 s, and 1m idle
    lines = [line for _, line in cluster.nodes.log_lines("default", "load")]
    assert "ConsumeCPU" in lines and "@@kk-exit 0" in lines
