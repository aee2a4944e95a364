"""Traffic through the kubernetes-client driver, the way a real cluster needs it: busybox
wget loops in pods of the scenario's namespace (a batch through exec in the probe pod, a
steady load as a pod of its own read back through its timestamped log), here against a
served simulator started by the sim-api target."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kclusterkit.config import load_environment
from kclusterkit.driver.base import Observation
from kclusterkit.driver.errors import NotSupported
from kclusterkit.driver.probe import (
    MARKER,
    answerer,
    batch_script,
    load_script,
    log_time,
    parse_batch,
    parse_log,
)
from kclusterkit.driver.simapi import from_environment
from kclusterkit.sim import shell

ROOT = Path(__file__).resolve().parents[2]


def test_a_batch_is_one_shell_loop_whose_output_reads_back_request_by_request():
    answers = iter([(200, "echo-7d9-abcde"), (503, "busy"), (200, "echo-7d9-fghij")])

    def http(url: str) -> tuple[int, str]:
        assert url == "http://echo/hostname"
        return next(answers)

    def refused(url: str) -> tuple[int, str]:
        raise shell.NetworkError("can't connect to remote host (10.96.0.9): Connection refused")

    ran = shell.run(batch_script("http://echo/hostname", 3), shell.Context(http=http))
    got = parse_batch(ran.stdout, "http://echo/hostname", lambda i: 10.0 + i)
    assert [(r.at, r.ok, r.status, r.pod, r.error) for r in got] == [
        (10.0, True, 200, "echo-7d9-abcde", None),
        (11.0, False, 503, None, None),
        (12.0, True, 200, "echo-7d9-fghij", None)]
    ran = shell.run(batch_script("http://echo/", 2), shell.Context(http=refused))
    got = parse_batch(ran.stdout, "http://echo/", lambda i: 0.0)
    assert [(r.ok, r.status, r.error) for r in got] == [(False, None, "connection refused")] * 2


def test_only_an_answer_that_names_its_pod_says_who_answered():
    assert answerer("http://echo:80/hostname", "echo-7d9-abcde\n") == "echo-7d9-abcde"
    assert answerer("http://web/", "<h1>Welcome to nginx!</h1>") is None
    assert answerer("http://echo/hostname", "two words") is None
    # a body that looks like a marker line of its own is not mistaken for one
    assert parse_batch(f"x {MARKER} 0\n\n{MARKER} 0\n", "http://a/", lambda i: 0.0)[0].body \
        == f"x {MARKER} 0"


def test_a_load_pod_log_reads_back_as_requests_at_their_logged_times():
    log = (f"2026-01-01T00:00:05.000000000Z echo-1\n2026-01-01T00:00:05.000000000Z \n"
           f"2026-01-01T00:00:05.000000000Z {MARKER} 0\n"
           f"2026-01-01T00:00:05.050000000Z wget: can't connect to remote host: Connection "
           f"refused\n2026-01-01T00:00:05.050000000Z \n"
           f"2026-01-01T00:00:05.050000000Z {MARKER} 1\n"
           f"2026-01-01T00:00:05.1Z half a line, cut by a log rotation\n")
    got = parse_log(log, "http://echo/hostname")
    base = log_time("2026-01-01T00:00:05Z")
    assert [(round(r.at - base, 6), r.ok, r.pod, r.error) for r in got] == [
        (0.0, True, "echo-1", None), (0.05, False, None, "connection refused")]
    assert log_time("not a time") is None
    assert log_time("2026-01-01T00:00:05.123456789Z") - base == pytest.approx(0.123456789)


def test_a_load_script_sleeps_one_over_the_rate_between_requests():
    assert load_script("http://web/", 20).endswith("sleep 0.05; done")
    assert load_script("http://web/", 3).endswith("sleep 0.333333; done")


@pytest.fixture(scope="module")
def sim_api():
    env = load_environment("sim-api", ROOT)
    driver = from_environment(env, 3, run_id="traffic")
    served = driver._on_close.__self__
    driver.open_scenario("traffic")
    echo = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "echo"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "echo"}},
                     "template": {"metadata": {"labels": {"app": "echo"}},
                                  "spec": {"containers": [{
                                      "name": "echo", "image": "registry.k8s.io/e2e-test-"
                                      "images/agnhost:2.53", "args": ["netexec"]}]}}}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "echo"},
               "spec": {"selector": {"app": "echo"},
                        "ports": [{"port": 80, "targetPort": 8080}]}}
    driver.create(echo)
    driver.create(service)

    def two_endpoints() -> Observation:
        ep = driver.get("endpoints", "echo") or {}
        n = sum(len(s.get("addresses") or []) for s in ep.get("subsets") or [])
        return Observation(n == 2, f"{n} ready endpoints")

    assert driver.wait_until(two_endpoints, 120, ("endpoints",)).ok
    yield driver
    driver.close_scenario(passed=True)
    driver.close()
    assert served.process.poll() is not None


def test_the_cluster_clock_is_the_served_simulators_and_runs_at_its_speed(sim_api):
    wall, cluster = time.monotonic(), sim_api.now()
    result = sim_api.hold(lambda: Observation(True, "fine"), 30.0, ("pods",))
    took = time.monotonic() - wall
    assert result.ok and result.waited >= 30.0
    assert sim_api.now() - cluster >= 30.0
    assert took < 30.0 / sim_api.speed + 2.0, f"30 cluster seconds took {took:.2f}s of wall"


def test_requests_on_sim_api_come_from_the_probe_pod_through_the_service(sim_api):
    requests = sim_api.send_requests(f"http://echo.{sim_api.namespace}/hostname", 60)
    pods = {p["metadata"]["name"] for p in sim_api.list("pods", labels="app=echo")}
    assert all(r.ok and r.status == 200 for r in requests)
    assert {r.pod for r in requests} == pods
    probe = sim_api.get("pods", "kk-probe")
    assert probe is not None and probe["status"]["phase"] == "Running"


def test_a_steady_load_is_a_pod_whose_requests_run_on_the_cluster_clock(sim_api):
    load = sim_api.start_load("http://echo/hostname", 20.0)
    pod = sim_api.get("pods", "kk-load-1")
    assert pod is not None and pod["spec"]["containers"][0]["image"] == "busybox:1.36"
    sim_api.sleep(5.0)
    records = load.stop()
    assert not load.running
    window = [r for r in records if load.started <= r.at < load.started + 5.0]
    assert 99 <= len(window) <= 101  # 20 per cluster second
    assert all(r.ok for r in records)
    assert {r.pod for r in records} == {p["metadata"]["name"] for p in
                                       sim_api.list("pods", labels="app=echo")}
    gaps = {round(b.at - a.at, 6) for a, b in zip(records, records[1:], strict=False)}
    assert gaps == {0.05}
    assert len(load.stop()) == len(records)  # stopping twice changes nothing
    gone = sim_api.get("pods", "kk-load-1")
    assert gone is None or gone["metadata"].get("deletionTimestamp")


def test_a_pod_made_unready_leaves_the_service_on_sim_api(sim_api):
    pods = sorted(p["metadata"]["name"] for p in sim_api.list("pods", labels="app=echo"))
    sim_api.make_unready(pods[0])

    def one_ready() -> Observation:
        ep = sim_api.get("endpoints", "echo") or {}
        n = sum(len(s.get("addresses") or []) for s in ep.get("subsets") or [])
        return Observation(n == 1, f"{n} ready endpoints")

    assert sim_api.wait_until(one_ready, 60, ("endpoints",)).ok
    requests = sim_api.send_requests("http://echo/hostname", 20)
    assert {r.pod for r in requests} == {pods[1]}


def test_a_batch_is_one_exec_and_failures_say_why(sim_api):
    started = time.monotonic()
    requests = sim_api.send_requests("http://echo/hostname", 40)
    took = time.monotonic() - started
    assert len(requests) == 40 and all(r.ok for r in requests)
    assert all(r.pod and r.pod.startswith("echo-") for r in requests)
    assert took < 5.0, f"40 requests in one exec took {took:.2f}s"
    unanswered = sim_api.send_requests("http://echo:81/", 1)
    unanswered += sim_api.send_requests("http://nope/", 1)
    assert [(r.ok, r.error) for r in unanswered] == [(False, "connection timed out"),
                                                     (False, "could not resolve host")]


def test_making_a_pod_unready_needs_a_hook(sim_api):
    saved = dict(sim_api.hooks), sim_api.capabilities
    try:
        sim_api.hooks.pop("make_unready")
        sim_api.capabilities = sim_api.capabilities - {"readiness-fault"}
        with pytest.raises(NotSupported, match="no make_unready hook"):
            sim_api.make_unready("any")
    finally:
        sim_api.hooks, sim_api.capabilities = saved


def test_from_outside_is_a_request_from_the_probe_pod_to_a_node_address(sim_api):
    answer = sim_api.request_from_outside("http://10.255.255.1:30000/")
    assert not answer.ok and answer.error  # no such node address: no answer, and why


def test_execs_in_a_background_thread_do_not_hijack_the_steps_requests(sim_api):
    """kubernetes.stream swaps its client's request method while an exec runs; a step's
    PATCH made meanwhile from the main thread must still be a plain HTTP request."""
    import threading

    sim_api.traffic.probe()
    stop, failures = threading.Event(), []

    def exec_forever() -> None:
        while not stop.is_set():
            try:
                sim_api.exec("kk-probe", ["hostname"])
            except Exception as exc:  # noqa: BLE001 - collected for the assertion
                failures.append(exc)

    worker = threading.Thread(target=exec_forever, daemon=True)
    worker.start()
    try:
        for n in range(300):
            sim_api.patch("services", "echo", {"metadata": {"labels": {"round": str(n)}}})
    finally:
        stop.set()
        worker.join(timeout=10)
    assert failures == []
    assert sim_api.get("services", "echo")["metadata"]["labels"]["round"] == "299"
