"""kubectl drain's filters and loop, run through SimDriver on a whole simulated cluster."""

from __future__ import annotations

import pytest

from kclusterkit.driver.drain import DrainRefused, drain_node
from kclusterkit.driver.sim import SimDriver
from kclusterkit.errors import ClusterTimeout
from kclusterkit.sim.cluster import ClusterSpec


def _deployment(name: str, replicas: int, volumes: bool = False) -> dict:
    spec: dict = {"containers": [{"name": "c", "image": "nginx:1.25"}]}
    if volumes:
        spec["volumes"] = [{"name": "scratch", "emptyDir": {}}]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}}


def _daemonset() -> dict:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                     "template": {"metadata": {"labels": {"app": "agent"}},
                                  "spec": {"containers": [{"name": "a",
                                                           "image": "nginx:1.25"}]}}}}


@pytest.fixture
def driver() -> SimDriver:
    d = SimDriver(ClusterSpec(control_plane_nodes=1, worker_nodes=2), seed=1)
    d.open_scenario("drain")
    d.create(_deployment("web", 4))
    d.create(_daemonset())
    d.sleep(60)
    return d


def _on(driver: SimDriver, node: str, app: str) -> list[str]:
    return sorted(p["metadata"]["name"] for p in driver.list("pods")
                  if p["spec"].get("nodeName") == node
                  and p["metadata"]["labels"].get("app") == app
                  and not p["metadata"].get("deletionTimestamp"))


def test_daemonset_pods_need_ignore_daemonsets(driver: SimDriver) -> None:
    with pytest.raises(DrainRefused) as exc:
        drain_node(driver, "worker-1", ignore_daemonsets=False)
    assert str(exc.value).startswith("cannot delete DaemonSet-managed Pods (use "
                                     "--ignore-daemonsets to ignore): default/agent-")
    # nothing was evicted, but the node stays cordoned, as kubectl leaves it
    assert len(_on(driver, "worker-1", "web")) == 2
    assert driver.get("nodes", "worker-1")["spec"]["unschedulable"] is True


def test_local_storage_needs_delete_emptydir_data(driver: SimDriver) -> None:
    driver.create(_deployment("cache", 2, volumes=True))
    driver.sleep(30)
    node = driver.list("pods", labels="app=cache")[0]["spec"]["nodeName"]
    with pytest.raises(DrainRefused, match=r"cannot delete Pods with local storage \(use "
                                           r"--delete-emptydir-data to override\)"):
        drain_node(driver, node, delete_emptydir_data=False)


def test_drain_evicts_all_but_daemon_pods_and_observes_every_change(driver: SimDriver) -> None:
    seen = []
    result = drain_node(driver, "worker-1", observe=lambda: seen.append(driver.now()))
    assert _on(driver, "worker-1", "web") == []
    assert len(_on(driver, "worker-1", "agent")) == 1
    # the web pods, and whatever else (CoreDNS in kube-system) ran there without a DaemonSet
    assert sorted(e for e in result.evicted if e.startswith("default/")) == \
        sorted(e for e in result.evicted if e.startswith("default/web-"))
    assert len([e for e in result.evicted if e.startswith("default/")]) == 2
    assert result.refusals == 0
    assert not [p for p in driver.list("pods", namespace="kube-system")
                if p["spec"].get("nodeName") == "worker-1"
                and not p["metadata"].get("deletionTimestamp")
                and not any(o.get("kind") == "DaemonSet"
                            for o in p["metadata"].get("ownerReferences") or [])
                and not p["metadata"].get("annotations", {}).get("kubernetes.io/config.mirror")]
    assert result.log[0] == "node/worker-1 cordoned" and result.log[-1] == "node/worker-1 drained"
    assert any(line.startswith("Warning: ignoring DaemonSet-managed Pods: default/agent-")
               for line in result.log)
    assert len(seen) > 2  # the wait for deletion saw the pods go


def test_a_budget_makes_the_drain_retry_and_a_timeout_reports_the_log(driver: SimDriver) -> None:
    driver.create({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                   "metadata": {"name": "web"},
                   "spec": {"minAvailable": 4, "selector": {"matchLabels": {"app": "web"}}}})
    driver.sleep(1)
    started = driver.now()
    with pytest.raises(ClusterTimeout) as exc:
        drain_node(driver, "worker-1", timeout=30)
    text = str(exc.value)
    assert 'unable to drain node "worker-1": global timeout reached: 30s' in text
    assert text.count("(will retry after 5s): Cannot evict pod as it would violate the "
                      "pod's disruption budget.") >= 10
    assert 25 <= driver.now() - started <= 30
    assert len(_on(driver, "worker-1", "web")) == 2
