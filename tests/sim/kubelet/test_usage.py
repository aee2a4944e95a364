"""A container's CPU and memory accounting (sim/kubelet/usage.py) and the OOM killer."""

from __future__ import annotations

from typing import Any

import pytest

from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.kubelet.usage import MIB, Cost, Usage, cost_from
from kclusterkit.sim.resources import PODS


def test_requests_cost_their_cpu_over_their_duration() -> None:
    use = Usage(0.0, (0.001, MIB), None, None)
    for i in range(100):  # 10 requests per second for 10 s, 5m for 1 s each
        use.charge(i * 0.1, 0.005, 1.0)
    assert use.cpu_seconds(15.0) == pytest.approx(100 * 0.005 + 15 * 0.001)
    # The rate over a window where the load ran is the load's: 10/s × 5m = 50m (+ idle 1m).
    before = use.cpu_seconds(20.0)
    for i in range(150):
        use.charge(20.0 + i * 0.1, 0.005, 1.0)
    assert (use.cpu_seconds(35.0) - before) / 15 == pytest.approx(0.051, abs=0.004)


def test_cpu_is_throttled_at_the_limit_and_the_backlog_is_served_later() -> None:
    use = Usage(0.0, (0.0, MIB), 0.02, None)
    for i in range(100):  # asks for 50m during 10 s; may use 20m
        use.charge(i * 0.1, 0.005, 1.0)
    assert use.cpu_seconds(10.0) == pytest.approx(0.2)
    assert use.backlog_seconds() > 10
    assert use.throttled_seconds(10.0) > 0
    assert use.cpu_seconds(40.0) == pytest.approx(0.5)  # the queue drains at the limit
    assert use.backlog_seconds() == pytest.approx(0.0, abs=1e-9)


def test_memory_grows_at_its_rate_until_the_limit() -> None:
    use = Usage(0.0, (0.0, 4 * MIB), None, 64 * MIB, Cost(growth=float(MIB)))
    assert use.memory(10.0) == 14 * MIB
    assert use.oom_at(10.0) == pytest.approx(60.0)
    use.set_growth(10.0, Cost(growth=2.0 * MIB))
    assert use.oom_at(10.0) == pytest.approx(35.0)


def test_bad_annotations_are_reported_and_ignored() -> None:
    cost, problems = cost_from({"kclusterkit.io/request-cpu": "5m",
                                "kclusterkit.io/request-duration": "soon"})
    assert cost.cpu == pytest.approx(0.005) and cost.duration == 1.0
    assert problems and "kclusterkit.io/request-duration" in problems[0]


def _pod(**annotations: Any) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "leaky", "annotations": annotations},
            "spec": {"containers": [{
                "name": "app", "image": "registry.k8s.io/e2e-test-images/agnhost:2.53",
                "args": ["netexec"],
                "resources": {"limits": {"memory": "64Mi"}, "requests": {"memory": "64Mi"}}}]}}


def test_a_container_over_its_memory_limit_is_oom_killed_and_restarted() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=3)
    cluster.api.create(_pod(**{"kclusterkit.io/memory-growth": "1Mi"}))
    cluster.advance(50)
    status = cluster.store.must_get(PODS, "default", "leaky")["status"]["containerStatuses"][0]
    assert status["restartCount"] == 0 and "running" in status["state"]
    cluster.advance(20)  # 9Mi idle + 1Mi/s reaches 64Mi 55 s after the start
    status = cluster.store.must_get(PODS, "default", "leaky")["status"]["containerStatuses"][0]
    last = status.get("lastState", {}).get("terminated") or \
        status["state"].get("terminated") or {}
    assert last.get("reason") == "OOMKilled" and last.get("exitCode") == 137
    cluster.advance(120)
    status = cluster.store.must_get(PODS, "default", "leaky")["status"]["containerStatuses"][0]
    assert status["restartCount"] >= 2  # killed again each time it grows back
    waiting = status["state"].get("waiting") or {}
    assert "running" in status["state"] or waiting.get("reason") == "CrashLoopBackOff"


def test_a_container_without_growth_is_never_oom_killed() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=3)
    cluster.api.create(_pod())
    cluster.advance(600)
    status = cluster.store.must_get(PODS, "default", "leaky")["status"]["containerStatuses"][0]
    assert status["restartCount"] == 0


def test_a_throttled_container_answers_late_and_wget_gives_up_at_its_timeout() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=1)
    cluster.api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": "web", "labels": {"app": "web"},
        "annotations": {"kclusterkit.io/request-cpu": "100m"}},
        "spec": {"containers": [{"name": "web", "image": "registry.k8s.io/e2e-test-images/"
                                 "agnhost:2.53", "args": ["netexec"],
                                 "resources": {"limits": {"cpu": "50m"}}}]}})
    cluster.api.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                        "spec": {"selector": {"app": "web"},
                                 "ports": [{"port": 80, "targetPort": 8080}]}})
    # each request needs 2 s of CPU at the 50m limit: work queues up behind the limit
    loop = "while true; do wget -qO- -T 5 http://web/hostname; echo; sleep 0.2; done"
    cluster.api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "load"},
                        "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
                                                 "command": ["sh", "-c", loop]}]}})
    cluster.advance(60)
    answers = [at for at, line in cluster.nodes.log_lines("default", "load") if line == "web"]
    gaps = [b - a for a, b in zip(answers[-5:], answers[-4:], strict=False)]
    assert all(gap > 1.5 for gap in gaps), gaps  # each answer waits in the CPU queue
    code, out, err = cluster.nodes.exec("default", "load",
                                        ["sh", "-c", "wget -qO- -T 1 http://web/hostname"])
    assert code == 1 and "download timed out" in err, (code, out, err)
    [point] = [p for p in cluster.metrics_server.pod_points("default") if p.name == "web"]
    assert point.containers[0].cpu == pytest.approx(0.05, abs=0.002)  # at the limit


@pytest.mark.parametrize("seconds", [1.0, 2.0, 0.25])
def test_a_batch_of_charges_is_the_sum_of_its_requests(seconds: float) -> None:
    one, many = (Usage(0.0, (0.0, MIB), None, None) for _ in range(2))
    times = [3.3 + k / 7 for k in range(40)]
    for at in times:
        one.charge(at, 0.005, seconds)
    many.charge_many(times, 0.005, seconds)
    for at in (4.0, 5.5, 7.0, 9.0, 20.0):  # the same counter, second by second
        assert many.cpu_seconds(at) == pytest.approx(one.cpu_seconds(at))


def test_charges_never_go_into_seconds_already_counted() -> None:
    use = Usage(0.0, (0.0, MIB), None, None)
    assert use.cpu_seconds(10.0) == 0.0
    use.charge_many([8.0, 9.0], 0.01, 1.0)  # started before the reading at 10 s
    assert use.cpu_seconds(10.0) == 0.0  # what was read stays read
    assert use.cpu_seconds(12.0) == pytest.approx(0.02)  # counted from the reading on
