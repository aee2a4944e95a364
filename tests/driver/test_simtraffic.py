"""SimDriver traffic: requests leave a real probe pod, cross Services, and loads follow the
virtual clock."""

from __future__ import annotations

from collections import Counter

import pytest

from kclusterkit.driver import Observation
from kclusterkit.driver.sim import SimDriver
from kclusterkit.driver.simtraffic import PROBE_POD
from kclusterkit.steps.services import service_manifest
from kclusterkit.steps.workloads import workload


def echo_cluster(seed: int = 1, replicas: int = 3) -> SimDriver:
    driver = SimDriver(seed=seed)
    driver.open_scenario("traffic")
    driver.create(workload("Deployment", "echo", "agnhost:2.53 netexec", replicas))
    driver.create(service_manifest("echo", {"app": "echo"}, 80, 8080))
    driver.sleep(30)
    return driver


URL = "http://echo:80/hostname"


def test_requests_come_from_a_running_probe_pod_and_name_who_answered() -> None:
    driver = echo_cluster()
    requests = driver.send_requests(URL, 60)
    probe = driver.get("pods", PROBE_POD)
    assert probe is not None and probe["status"]["phase"] == "Running"
    assert probe["metadata"]["namespace"] == driver.namespace
    assert all(r.ok and r.status == 200 for r in requests)
    echo_pods = {p["metadata"]["name"] for p in driver.list("pods", labels="app=echo")}
    answered = Counter(r.pod for r in requests)
    assert set(answered) == echo_pods  # every ready pod got some, nobody else did
    assert all(r.body == r.pod for r in requests)  # agnhost /hostname names the pod


def test_failures_say_why() -> None:
    driver = echo_cluster()
    driver.create(service_manifest("empty", {"app": "nobody"}, 80, 8080))
    refused = driver.send_requests("http://empty", 2)
    unknown = driver.send_requests("http://nope", 1)
    assert [(r.ok, r.error, r.pod) for r in refused] == [(False, "connection refused", None)] * 2
    assert unknown[0].error == "could not resolve host"


def test_a_load_sends_each_request_at_its_time_and_stops() -> None:
    driver = echo_cluster()
    load = driver.start_load(URL, 20)
    start = load.started
    driver.sleep(2)
    assert [round(r.at - start, 3) for r in load.records[:3]] == [0.0, 0.05, 0.1]
    assert len(load.records) == 41  # t = 0 … 2 s inclusive
    records = load.stop()
    driver.sleep(5)
    assert len(load.records) == len(records) == 41
    assert not load.running


def test_a_load_keeps_running_during_waits_and_sees_endpoints_change() -> None:
    driver = echo_cluster()
    load = driver.start_load(URL, 10)
    driver.scale("deployments", "echo", 0)

    def gone() -> Observation:
        return Observation(not driver.list("pods", labels="app=echo"), "")

    assert driver.wait_until(gone, 120).ok
    driver.sleep(3)
    late = [r for r in load.records if r.at > driver.now() - 2]
    assert late and all(r.error == "connection refused" for r in late)


def test_the_same_seed_answers_with_the_same_pods() -> None:
    first = echo_cluster(seed=4).send_requests(URL, 30)
    second = echo_cluster(seed=4).send_requests(URL, 30)
    # equal only counts if they were answered: two runs that both failed are equal too
    assert all(r.ok and r.pod for r in first + second)
    assert [r.pod for r in first] == [r.pod for r in second]
    assert len({r.pod for r in first}) > 1  # and spread, so the order says something


def test_closing_the_scenario_stops_its_loads() -> None:
    driver = echo_cluster()
    load = driver.start_load(URL, 5)
    driver.close_scenario(passed=True)
    assert not load.running


def test_a_node_port_answers_from_outside_on_every_node() -> None:
    driver = SimDriver(seed=1)
    driver.open_scenario("nodeport")
    driver.create(workload("Deployment", "hello", "nginx:1.25", 2))
    driver.create(service_manifest("hello", {"app": "hello"}, 80, 80, "NodePort"))
    driver.sleep(30)
    port = driver.get("services", "hello")["spec"]["ports"][0]["nodePort"]
    for node in driver.list("nodes"):
        ip = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
        answer = driver.request_from_outside(f"http://{ip}:{port}/")
        assert answer.status == 200 and "Welcome to nginx!" in answer.body
    assert driver.get("pods", PROBE_POD) is None  # outside means no probe pod


def test_an_unready_pod_leaves_the_service() -> None:
    driver = echo_cluster()
    victim = sorted(p["metadata"]["name"] for p in driver.list("pods", labels="app=echo"))[0]
    driver.make_unready(victim)
    driver.sleep(15)
    answered = {r.pod for r in driver.send_requests(URL, 60)}
    assert victim not in answered and len(answered) == 2


def test_a_load_needs_a_positive_rate() -> None:
    from kclusterkit.driver import ClusterError

    with pytest.raises(ClusterError, match="positive rate"):
        echo_cluster().start_load(URL, 0)


def test_a_load_meets_each_change_of_the_cluster_at_its_instant() -> None:
    """Requests are made in batches between the cluster's events, yet each one meets the
    state at its own time: after the deployment is scaled to zero, the last answered
    request and the first refused one have a change of the cluster between them, and
    no request is answered after one was refused."""
    driver = echo_cluster()
    changes: list[float] = []
    clock = driver.cluster.clock
    driver.cluster.store.subscribe_all(lambda event: changes.append(clock.now))
    load = driver.start_load(URL, 50)
    driver.sleep(3.01)
    driver.scale("deployments", "echo", 0)
    driver.sleep(40)  # the pods terminate, the endpoints go
    records = load.stop()
    assert len(records) == int((driver.now() - load.started) * 50 + 1e-9) + 1
    assert [round(r.at - load.started, 2) for r in records[:3]] == [0.0, 0.02, 0.04]
    failed = [r for r in records if not r.ok]
    assert failed and failed[0].error == "connection refused"
    last_ok = max(r.at for r in records if r.ok)
    assert last_ok < failed[0].at and all(not r.ok for r in records if r.at > last_ok)
    assert any(last_ok < when <= failed[0].at for when in changes)
