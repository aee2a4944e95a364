"""SimDriver: verbs map to the simulated API, and waits cost cluster time, not wall time.

Most tests use a bare cluster (namespaces only, no kubelets or controllers) and drive
changes with timers, so what is measured is the wait itself.
"""

from __future__ import annotations

import pytest

from kclusterkit.driver import ApiError, ClusterError, Observation
from kclusterkit.driver.sim import SimDriver
from kclusterkit.sim.cluster import Cluster, ClusterSpec


class BareCluster(Cluster):
    def _bootstrap(self) -> None:
        for ns in ("default", "kube-system"):
            self.api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})


def bare_driver(seed: int = 1) -> SimDriver:
    driver = SimDriver(ClusterSpec(), seed=seed, cluster_factory=lambda s, n: BareCluster(s, n))
    driver.open_scenario("test")
    return driver


def configmap(name: str, data: dict[str, str] | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
            "data": data or {}}


def exists(driver: SimDriver, name: str):
    def check() -> Observation:
        found = driver.get("configmaps", name) is not None
        return Observation(found, f"configmap {name} {'exists' if found else 'missing'}")
    return check


def test_verbs_round_trip() -> None:
    driver = bare_driver()
    created = driver.create(configmap("a", {"k": "1"}))
    assert created["metadata"]["namespace"] == "default"
    assert driver.get("cm", "a")["data"] == {"k": "1"}
    driver.patch("configmap", "a", {"data": {"k": "2"}})
    assert driver.get("configmaps", "a")["data"] == {"k": "2"}
    assert [o["metadata"]["name"] for o in driver.list("configmaps")] == ["a"]
    driver.delete("configmaps", "a")
    assert driver.get("configmaps", "a") is None


def test_api_errors_are_the_packages_own_typed_by_reason() -> None:
    from kclusterkit.errors import AlreadyExists, Invalid

    driver = bare_driver()
    driver.create(configmap("a"))
    with pytest.raises(AlreadyExists) as info:  # the simulator's refusal is the ApiError
        driver.create(configmap("a"))
    assert (info.value.code, info.value.reason) == (409, "AlreadyExists")
    assert info.value.status["details"]["name"] == "a"
    with pytest.raises(Invalid):
        driver.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "B_"}})
    with pytest.raises(ApiError) as info:
        driver.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}})
    assert info.value.code == 422
    assert [c["field"] for c in info.value.causes] == ["metadata.name"]
    with pytest.raises(ApiError, match='resource type "widgets"'):
        driver.get("widgets", "x")


def test_wait_until_costs_cluster_time_up_to_the_change() -> None:
    driver = bare_driver()
    clock = driver.cluster.clock
    start = clock.now
    clock.call_later(100, lambda: driver.cluster.api.create(configmap("late")))
    result = driver.wait_until(exists(driver, "late"), 6 * 60)
    assert result.ok
    assert result.waited == pytest.approx(100)
    assert clock.now == pytest.approx(start + 100)


def test_wait_until_times_out_at_the_deadline_with_the_last_observation() -> None:
    driver = bare_driver()
    clock = driver.cluster.clock
    clock.call_later(400, lambda: driver.cluster.api.create(configmap("too-late")))
    result = driver.wait_until(exists(driver, "too-late"), 30)
    assert not result.ok
    assert result.waited == pytest.approx(30)
    assert result.last.seen == "configmap too-late missing"
    # the event after the deadline has not run yet
    assert driver.get("configmaps", "too-late") is None


def test_checks_run_only_when_the_store_changed() -> None:
    driver = bare_driver()
    clock = driver.cluster.clock
    for i in range(50):  # events that change nothing
        clock.call_later(i + 1, lambda: None)
    clock.call_later(10, lambda: driver.cluster.api.create(configmap("x")))
    calls = []

    def check() -> Observation:
        calls.append(clock.now)
        return Observation(False, "never")

    result = driver.wait_until(check, 60)
    assert not result.ok
    assert calls == [0.0, 10.0, 60.0]  # first look, after the change, at the deadline


def test_hold_fails_at_the_first_violation() -> None:
    driver = bare_driver()
    driver.create(configmap("keep"))
    clock = driver.cluster.clock
    start = clock.now
    clock.call_later(42, lambda: driver.cluster.api.delete(
        driver.cluster.api.resource_of(configmap("keep")), "default", "keep"))
    result = driver.hold(exists(driver, "keep"), 120)
    assert not result.ok
    assert result.failed_at == pytest.approx(start + 42)
    assert result.waited == pytest.approx(42)


def test_hold_that_holds_costs_the_whole_duration() -> None:
    driver = bare_driver()
    driver.create(configmap("keep"))
    result = driver.hold(exists(driver, "keep"), 120)
    assert result.ok and result.failed_at is None
    assert result.waited == pytest.approx(120)


def test_every_scenario_gets_a_fresh_cluster() -> None:
    driver = bare_driver()
    driver.create(configmap("a"))
    driver.sleep(10)
    driver.open_scenario("next")
    assert driver.get("configmaps", "a") is None
    assert driver.now() == 0.0


def test_cluster_shape_can_change_only_before_objects_exist() -> None:
    seen: list[ClusterSpec] = []

    def factory(spec: ClusterSpec, seed: int) -> Cluster:
        seen.append(spec)
        return BareCluster(spec, seed)

    driver = SimDriver(ClusterSpec(), seed=3, cluster_factory=factory)
    driver.open_scenario("s")
    driver.now()  # builds the default cluster
    driver.configure_cluster(1, 3)
    driver.create(configmap("a"))
    assert [(s.control_plane_nodes, s.worker_nodes) for s in seen] == [(1, 2), (1, 3)]
    with pytest.raises(ClusterError, match="put the 'Given a cluster with …' step first"):
        driver.configure_cluster(3, 3)
    driver.open_scenario("t")  # the next scenario starts from the environment's shape again
    driver.now()
    assert (seen[-1].control_plane_nodes, seen[-1].worker_nodes) == (1, 2)


def test_faults_on_what_does_not_exist_are_api_errors() -> None:
    # Every cluster has its nodes now; a fault names a pod or node that must exist.
    driver = SimDriver(ClusterSpec(worker_nodes=1), seed=1)
    driver.open_scenario("test")
    with pytest.raises(ApiError, match="not found"):
        driver.crash_container("web-1")
    with pytest.raises(ApiError, match="not found"):
        driver.fail_node("worker-9")


def test_events_oldest_first() -> None:
    driver = bare_driver()
    cm = driver.create(configmap("a"))
    api = driver.cluster.api
    api.record_event(cm, "Normal", "First", "one", "test")
    driver.sleep(5)
    api.record_event(cm, "Warning", "Second", "two", "test")
    assert [e["reason"] for e in driver.events()] == ["First", "Second"]


def test_a_hold_sees_what_the_last_action_set_off_at_this_instant() -> None:
    driver = bare_driver()
    cluster = driver.cluster
    # A controller reacting to a create at the same instant, as a work queue does.
    cluster.clock.call_soon(lambda: cluster.api.create(configmap("made-by-a-controller")))
    result = driver.hold(exists(driver, "made-by-a-controller"), 60)
    assert result.ok and result.waited == 60


def test_a_cluster_without_a_network_plugin_starts_without_its_daemonset() -> None:
    d = SimDriver(ClusterSpec(worker_nodes=1), seed=1)
    d.open_scenario("no plugin")
    d.set_network_plugin(False)
    assert d.get("daemonsets", "kindnet", "kube-system") is None
    ready = {n["metadata"]["name"]: [c for c in n["status"]["conditions"]
                                     if c["type"] == "Ready"][0]["status"]
             for n in d.list("nodes")}
    assert set(ready.values()) == {"False"}
    assert not [e for e in d.events("kube-system") if e["reason"] == "SuccessfulDelete"]
    d.set_network_plugin(True)
    assert d.get("daemonsets", "kindnet", "kube-system") is not None
    d.close_scenario(passed=True)
    d.open_scenario("next")  # the next scenario has its plugin again
    assert d.get("daemonsets", "kindnet", "kube-system") is not None
    d.close_scenario(passed=True)
