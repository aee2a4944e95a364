"""A container's script runs live on the cluster clock, through the real network."""

from __future__ import annotations

from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.resources import PODS

LOAD = ("while true; do wget -qO- -T 2 'http://web/hostname' 2>&1; s=$?; echo; "
        "echo \"@@kk-exit $s\"; sleep 0.05; done")


def pod(name: str, image: str, labels: dict | None = None, restart: str = "Always",
        **container: object) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"containers": [{"name": "c", "image": image, **container}],
                     "restartPolicy": restart, "terminationGracePeriodSeconds": 1}}


def web_cluster() -> Cluster:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=2)
    cluster.api.create(pod("web-1", "registry.k8s.io/e2e-test-images/agnhost:2.53",
                           {"app": "web"}, args=["netexec", "--http-port=8080"],
                           readinessProbe={"httpGet": {"path": "/readyz", "port": 8080},
                                           "periodSeconds": 1}))
    cluster.api.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                        "spec": {"selector": {"app": "web"},
                                 "ports": [{"port": 80, "targetPort": 8080}]}})
    cluster.advance(10)
    return cluster


def test_the_load_generator_makes_one_request_per_period_each_at_its_instant() -> None:
    cluster = web_cluster()
    cluster.api.create(pod("load", "busybox:1.36", command=["sh", "-c", LOAD]))
    cluster.advance(10)
    nodes = cluster.nodes
    lines = nodes.log_lines("default", "load")
    answers = [(t, line) for t, line in lines if line == "web-1"]
    exits = [line for _, line in lines if line.startswith("@@kk-exit")]
    assert len(answers) > 100 and set(exits) == {"@@kk-exit 0"}
    # One request every 0.05 cluster seconds, each logged at the instant it was made.
    gaps = {round(b[0] - a[0], 6) for a, b in zip(answers, answers[1:], strict=False)}
    assert gaps == {0.05}
    # The server saw each request at that same instant (netexec logs every GET).
    served = [t for t, line in nodes.log_lines("default", "web-1") if "GET /hostname" in line]
    assert served == [t for t, _ in answers]


def test_a_request_sees_the_network_as_it_is_at_its_instant() -> None:
    cluster = web_cluster()
    cluster.api.create(pod("load", "busybox:1.36", command=["sh", "-c", LOAD]))
    cluster.advance(5)
    cluster.api.delete(PODS, "default", "web-1", grace_period=0)
    cluster.advance(5)
    lines = [line for _, line in cluster.nodes.log_lines("default", "load")]
    # Requests succeeded while web-1 served, and failed once it was gone.
    assert "@@kk-exit 0" in lines and lines[-1] == "@@kk-exit 1"


def test_killing_the_container_stops_its_process() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=2)
    cluster.api.create(pod("ticker", "busybox:1.36",
                           command=["sh", "-c", "while true; do echo tick; sleep 1; done"]))
    cluster.advance(10)
    nodes = cluster.nodes
    before = len(nodes.log_lines("default", "ticker"))
    nodes.crash_container("default", "ticker")
    cluster.advance(0.5)  # in crash-loop back-off: no process runs
    stopped = nodes.log_lines("default", "ticker", previous=True)
    assert len(stopped) == before
    cluster.advance(30)
    assert len(nodes.log_lines("default", "ticker", previous=True)) == before


def test_exec_replaces_the_shell_and_keeps_the_container_running() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=2)
    cluster.api.create(pod("a", "busybox:1.36",
                           command=["sh", "-c", "echo start; exec sleep 3600"]))
    cluster.api.create(pod("b", "busybox:1.36", command=["sh", "-c", "exec false"],
                           restart="Never"))
    cluster.advance(60)
    a = cluster.store.must_get(PODS, "default", "a")["status"]["containerStatuses"][0]
    assert "running" in a["state"] and a["restartCount"] == 0
    b = cluster.store.must_get(PODS, "default", "b")["status"]["containerStatuses"][0]
    assert b["state"]["terminated"]["exitCode"] == 1
