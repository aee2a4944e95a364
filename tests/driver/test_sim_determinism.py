"""Same seed, same scenario timeline: what makes a failed run replayable."""

from __future__ import annotations

from typing import Any

from kclusterkit.driver import Observation
from kclusterkit.driver.sim import SimDriver
from kclusterkit.sim.cluster import ClusterSpec
from kclusterkit.steps.workloads import workload


def scenario(seed: int) -> list[tuple[Any, ...]]:
    """A deployment, a deleted pod, a crashed container: the cluster's whole history."""
    driver = SimDriver(ClusterSpec(worker_nodes=3), seed=seed)
    driver.open_scenario("replay")
    driver.create(workload("Deployment", "web", "nginx:1.25", 4))

    def ready(n: int):
        def check() -> Observation:
            pods = driver.list("pods", labels="app=web")
            count = sum(1 for p in pods if not p["metadata"].get("deletionTimestamp") and any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in p.get("status", {}).get("conditions", [])))
            return Observation(count == n, f"{count} ready")
        return check

    assert driver.wait_until(ready(4), 120).ok
    victim = sorted(p["metadata"]["name"] for p in driver.list("pods", labels="app=web"))[0]
    driver.delete("pods", victim)
    driver.sleep(60)
    survivor = sorted(p["metadata"]["name"] for p in driver.list("pods", labels="app=web")
                      if not p["metadata"].get("deletionTimestamp"))[-1]
    driver.crash_container(survivor)
    driver.sleep(60)
    history = driver.cluster.store.events_since(0)
    return [(etype, key, obj) for _, etype, key, obj in history]


def test_the_same_seed_replays_the_same_history() -> None:
    first, second = scenario(11), scenario(11)
    assert len(first) > 50
    assert first == second


def test_another_seed_gives_another_history() -> None:
    names = {obj["metadata"]["name"] for _, key, obj in scenario(11) if key == "pods"}
    other = {obj["metadata"]["name"] for _, key, obj in scenario(12) if key == "pods"}
    assert names != other
