"""KubeDriver end to end through the kubernetes client against the served simulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kclusterkit.config import load_environment
from kclusterkit.driver.base import Observation
from kclusterkit.driver.errors import ApiError, ClusterError
from kclusterkit.driver.kube import KubeDriver
from kclusterkit.driver.simapi import from_environment
from tests.driver.served import scenario_driver, served_cluster
from tests.sim.server.fakes import FakeCluster

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    yield from served_cluster(tmp_path_factory, FakeCluster)


@pytest.fixture
def driver(served, request):
    yield from scenario_driver(served, request, "integration")


def _pod(name: str, **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
            "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]}}


def test_a_wait_sees_a_change_by_another_client_at_once_with_two_requests(driver, served):
    driver.create(_pod("p1", app="web"))
    other = KubeDriver.from_config({"kubeconfig": str(served.kubeconfig_path)}, run_id="x")
    other._mine.add(driver.namespace)  # a second writer in the scenario's namespace
    changed = {}

    def change():
        time.sleep(0.2)
        changed["at"] = time.monotonic()
        other.patch("pods", "p1", {"metadata": {"labels": {"ready": "yes"}}},
                    namespace=driver.namespace)

    def check():
        pods = driver.list("pods", labels="app=web")
        ok = bool(pods) and pods[0]["metadata"]["labels"].get("ready") == "yes"
        return Observation(ok, f"{len(pods)} pod(s)", pods)

    before = driver.rest.requests
    threading.Thread(target=change, daemon=True).start()
    result = driver.wait_until(check, 10, kinds=("pods",))
    seen = time.monotonic()
    other.close()
    assert result.ok and result.last.objects[0]["kind"] == "Pod"
    assert seen - changed["at"] < 0.5
    assert driver.rest.requests - before == 2  # one LIST, one WATCH; no GET per evaluation


def test_a_failed_wait_reports_the_last_observation(driver):
    result = driver.wait_until(lambda: Observation(driver.get("pods", "nope") is not None,
                                                   "no pod nope"), 0.3, kinds=("pods",))
    assert not result.ok and result.last.seen == "no pod nope"
    assert 0.3 <= result.waited < 1.5 and result.failed_at is not None


def test_a_hold_breaks_when_the_pod_is_deleted(driver):
    driver.create(_pod("p2"))
    threading.Timer(0.2, lambda: driver.delete("pods", "p2", grace_period=0)).start()
    started = driver.now()
    result = driver.hold(lambda: Observation(driver.get("pods", "p2") is not None, "p2"), 10,
                         kinds=("pods",))
    assert not result.ok and 0.15 < result.failed_at - started < 2


def test_exec_returns_output_and_the_exit_code(driver):
    driver.create(_pod("p3"))
    assert driver.exec("p3", ["hostname"]).stdout == "p3\n"
    failed = driver.exec("p3", ["sh", "-c", "exit 3"])
    assert (failed.exit_code, failed.stderr) == (3, "bye\n")
    with pytest.raises(ApiError) as info:
        driver.exec("missing", ["hostname"])
    assert info.value.code == 404


def test_logs_and_events(driver):
    driver.create(_pod("p4"))
    assert driver.logs("p4").startswith("main line 1\n")
    assert driver.events() == sorted(driver.events(), key=lambda e: e.get("lastTimestamp") or "")


def test_the_cluster_shape_is_checked_not_built(driver):
    driver.configure_cluster(1, 1)
    from kclusterkit.driver.errors import NotSupported

    with pytest.raises(NotSupported, match="1 Ready worker node"):
        driver.configure_cluster(1, 2)


def test_sim_api_serves_its_own_cluster_in_a_process_and_faults_it_through_hooks():
    env = load_environment("sim-api", ROOT)
    driver = from_environment(env, 7, run_id="own")
    served = driver._on_close.__self__  # the ServedCluster whose stop() closes the run
    try:
        assert driver.target == "sim-api" and driver.seed == 7
        assert {"node-failure", "readiness-fault"} <= driver.capabilities
        assert served.process.poll() is None and served.kubeconfig.is_file()
        driver.fail_node("worker-1")  # a process: kclusterkit sim fault fail-node …

        def not_ready() -> Observation:
            node = driver.get("nodes", "worker-1") or {}
            ready = [c for c in node.get("status", {}).get("conditions", [])
                     if c["type"] == "Ready"]
            return Observation(bool(ready) and ready[0]["status"] != "True", str(ready))

        assert driver.wait_until(not_ready, 120, kinds=("nodes",)).ok
        with pytest.raises(ClusterError, match="exited 1: .*nodes \"nope\" not found"):
            driver.fail_node("nope")
    finally:
        driver.close()
    assert served.process.poll() is not None  # the server process is gone
    assert not served.folder.exists()  # and its kubeconfig (a token) with it


_INTERRUPTED = """
import sys, time
from kclusterkit.driver.kube import KubeDriver
driver = KubeDriver.from_config({"kubeconfig": sys.argv[1]}, run_id="sigint")
driver.open_scenario("interrupted")
print(driver.namespace, flush=True)
time.sleep(60)
"""


def test_sigint_mid_scenario_deletes_the_namespace_on_the_served_cluster(driver, served):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", _INTERRUPTED, str(served.kubeconfig_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        ns = proc.stdout.readline().strip()
        assert driver.get("namespaces", ns) is not None
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    finally:
        proc.kill()
    gone = driver.get("namespaces", ns)
    assert gone is None or gone["status"].get("phase") == "Terminating"
