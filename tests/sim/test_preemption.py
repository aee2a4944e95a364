"""DefaultPreemption: victims, candidate choice, budgets, nomination and the wording."""

from __future__ import annotations

from typing import Any

from kclusterkit.kube.meta import condition
from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.preemption import Victims, pick_one_node, split_by_budget
from kclusterkit.sim.resources import EVENTS, PODS


def pod(name: str, cpu: str, cls: str | None = None, labels: dict[str, str] | None = None,
        **spec: Any) -> dict:
    if cls:
        spec["priorityClassName"] = cls
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {"app": name}},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
                                     "command": ["sleep", "3600"],
                                     "resources": {"requests": {"cpu": cpu}}}], **spec}}


def pc(name: str, value: int, **extra: Any) -> dict:
    return {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": name}, "value": value, **extra}


def events(cluster: Cluster, name: str, reason: str) -> list[dict]:
    return [e for e in cluster.store.iter(EVENTS, "default")
            if e["involvedObject"]["name"] == name and e["reason"] == reason]


def get(cluster: Cluster, name: str) -> dict | None:
    return cluster.store.get(PODS, "default", name)


def cluster_with_classes(workers: int = 2) -> Cluster:
    cluster = Cluster(ClusterSpec(worker_nodes=workers), seed=1)
    cluster.api.create(pc("low", 100))
    cluster.api.create(pc("high", 1000))
    cluster.api.create(pc("high-never", 1000, preemptionPolicy="Never"))
    return cluster


def fill(cluster: Cluster, per_node: list[tuple[str, str, str]]) -> None:
    """Pin pods (name, cpu, class) to nodes by nodeName, as already-placed workloads."""
    for name, cpu, node in per_node:
        cluster.api.create(pod(name, cpu, "low", nodeName=node))
    cluster.advance(5)


def test_a_higher_priority_pod_preempts_one_lower_priority_pod() -> None:
    cluster = cluster_with_classes()
    fill(cluster, [("a1", "2", "worker-1"), ("a2", "1500m", "worker-1"),
                   ("b1", "3500m", "worker-2")])
    made = cluster.api.create(pod("vip", "2", "high"))
    cluster.advance(0.5)
    # busybox's sleep as PID 1 ignores SIGTERM: victims stay terminating for 30 s.
    victims = [n for n in ("a1", "a2", "b1")
               if (get(cluster, n) or {}).get("metadata", {}).get("deletionTimestamp")]
    assert len(victims) == 1
    [victim] = victims
    stored = get(cluster, victim)
    assert stored is not None
    target = stored["spec"]["nodeName"]
    cond = condition(stored, "DisruptionTarget")
    assert cond is not None and (cond["status"], cond["reason"], cond["message"]) == (
        "True", "PreemptionByScheduler",
        "default-scheduler: preempting to accommodate a higher priority pod")
    [event] = events(cluster, victim, "Preempted")
    assert event["message"] == f"Preempted by pod {made['metadata']['uid']} on node {target}"
    assert event["type"] == "Normal"
    assert (event["action"], event["related"]["name"], event["related"]["uid"]) == (
        "Preempting", "vip", made["metadata"]["uid"])
    vip = get(cluster, "vip")
    assert vip is not None and vip["status"]["nominatedNodeName"] == target
    assert not vip["spec"].get("nodeName")
    [failed] = events(cluster, "vip", "FailedScheduling")
    assert "preemption" not in failed["message"]  # PostFilter succeeded: no message
    # After the victim's grace period the preemptor lands where room was made.
    cluster.advance(40)
    assert get(cluster, victim) is None
    vip = get(cluster, "vip")
    assert vip is not None and vip["spec"].get("nodeName") == target


def test_victims_are_the_fewest_and_least_important() -> None:
    cluster = cluster_with_classes(workers=1)
    # worker-1 has 4 CPUs; kube-system takes some. Two low pods of 1500m each.
    fill(cluster, [("old", "1500m", "worker-1")])
    fill(cluster, [("new", "1500m", "worker-1")])
    cluster.api.create(pod("vip", "1500m", "high"))
    cluster.advance(0.5)
    # Removing both fits, then the more important (older) one is put back first.
    assert not get(cluster, "old")["metadata"].get("deletionTimestamp")  # type: ignore[index]
    assert get(cluster, "new")["metadata"].get("deletionTimestamp")  # type: ignore[index]


def test_a_node_whose_victim_breaks_no_budget_is_preferred() -> None:
    cluster = cluster_with_classes()
    fill(cluster, [("guarded", "3500m", "worker-1"), ("free", "3500m", "worker-2")])
    cluster.api.create({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                        "metadata": {"name": "guard"},
                        "spec": {"minAvailable": 1,
                                 "selector": {"matchLabels": {"app": "guarded"}}}})
    cluster.advance(5)
    cluster.api.create(pod("vip", "2", "high"))
    cluster.advance(0.5)
    assert get(cluster, "free")["metadata"].get("deletionTimestamp")  # type: ignore[index]
    assert not get(cluster, "guarded")["metadata"].get("deletionTimestamp")  # type: ignore[index]
    assert get(cluster, "vip")["status"]["nominatedNodeName"] == "worker-2"  # type: ignore[index]


def test_never_preempting_and_equal_priority_pods_preempt_nothing() -> None:
    cluster = cluster_with_classes()
    fill(cluster, [("a", "3500m", "worker-1"), ("b", "3500m", "worker-2")])
    cluster.api.create(pod("polite", "2", "high-never"))
    cluster.api.create(pod("peer", "2", "low"))
    cluster.advance(0.5)
    assert all(not get(cluster, n)["metadata"].get("deletionTimestamp")  # type: ignore[index]
               for n in ("a", "b"))
    [never] = events(cluster, "polite", "FailedScheduling")
    assert never["message"].endswith(
        "2 Insufficient cpu. no new claims to deallocate, "
        "preemption: not eligible due to preemptionPolicy=Never.")
    [peer] = events(cluster, "peer", "FailedScheduling")
    assert peer["message"].endswith(
        "2 Insufficient cpu. no new claims to deallocate, preemption: 0/3 nodes are "
        "available: 1 Preemption is not helpful for scheduling, 2 No preemption victims "
        "found for incoming pod.")


def test_while_victims_terminate_the_preemptor_is_not_eligible_again() -> None:
    cluster = cluster_with_classes(workers=1)
    fill(cluster, [("a", "3500m", "worker-1")])
    cluster.api.create(pod("vip", "2", "high"))
    cluster.advance(0.5)
    # A replacement of the same low priority must not take the room made for vip.
    cluster.api.create(pod("late", "2", "low"))
    cluster.advance(0.5)
    sched = cluster.scheduler
    sched._move_all("test")  # noqa: SLF001 - force a retry of both during the grace period
    cluster.advance(0.5)
    vip_events = events(cluster, "vip", "FailedScheduling")
    assert any(e["message"].endswith("preemption: not eligible due to a terminating pod on "
                                     "the nominated node.") for e in vip_events)
    cluster.advance(40)
    assert get(cluster, "vip")["spec"].get("nodeName") == "worker-1"  # type: ignore[index]
    assert not get(cluster, "late")["spec"].get("nodeName")  # type: ignore[index]


def test_pick_one_node_follows_upstreams_order() -> None:
    def p(prio: int, start: str) -> dict:
        return {"metadata": {"name": "x"}, "spec": {"priority": prio},
                "status": {"startTime": start}}

    a = Victims(0, [p(10, "2026-01-01T00:00:00Z")], 1)
    b = Victims(1, [p(50, "2026-01-01T00:00:00Z")], 0)
    assert pick_one_node([a, b]) is b  # fewer budget violations first
    c = Victims(2, [p(10, "2026-01-01T00:00:00Z"), p(5, "2026-01-01T00:00:00Z")], 0)
    d = Victims(3, [p(10, "2026-01-01T00:00:00Z")], 0)
    assert pick_one_node([c, d]) is d  # smaller sum of priorities
    e = Victims(4, [p(10, "2026-01-01T00:00:00Z")], 0)
    f = Victims(5, [p(10, "2026-01-02T00:00:00Z")], 0)
    assert pick_one_node([e, f]) is f  # the victims that started last


def test_split_by_budget_counts_down_each_matching_budget() -> None:
    pods = [{"metadata": {"name": f"p{i}", "namespace": "default", "labels": {"app": "w"}}}
            for i in range(3)]
    pdb = {"metadata": {"name": "b", "namespace": "default"},
           "spec": {"selector": {"matchLabels": {"app": "w"}}},
           "status": {"disruptionsAllowed": 1, "disruptedPods": {"p2": "t"}}}
    violating, fine = split_by_budget(pods, [pdb])
    assert [x["metadata"]["name"] for x in fine] == ["p0", "p2"]
    assert [x["metadata"]["name"] for x in violating] == ["p1"]
    empty = {**pdb, "spec": {"selector": {}}}
    assert split_by_budget(pods, [empty]) == ([], pods)
