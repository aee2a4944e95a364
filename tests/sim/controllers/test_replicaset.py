"""ReplicaSet controller: creation, slow start, victim choice, adoption, status."""

from __future__ import annotations

import time

from conftest import Sim, replicaset, status

from kclusterkit.kube.meta import clone
from kclusterkit.sim import errors
from kclusterkit.sim.controllers.replicaset import rank_pods, slow_start_batch
from kclusterkit.sim.resources import PODS, REPLICASETS


def rs_of(sim: Sim, name: str = "web") -> dict:
    return sim.store.must_get(REPLICASETS, "default", name)


def test_creates_owned_pods_with_events_and_status(sim: Sim) -> None:
    sim.api.create(replicaset(replicas=3))
    sim.settle()
    pods = sim.pods()
    rs = rs_of(sim)
    assert len(pods) == 3
    for pod in pods:
        meta = pod["metadata"]
        assert meta["generateName"] == "web-"
        assert meta["name"].startswith("web-") and len(meta["name"]) == len("web-") + 5
        assert meta["labels"] == {"app": "web"}
        assert meta["ownerReferences"] == [{
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
            "uid": rs["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
    created = [e["message"] for e in sim.events("SuccessfulCreate", "web")]
    assert sorted(created) == sorted(f"Created pod: {p['metadata']['name']}" for p in pods)
    assert rs["status"] == {"replicas": 3, "fullyLabeledReplicas": 3, "observedGeneration": 1}
    sim.run(5)
    assert rs_of(sim)["status"] == {"replicas": 3, "fullyLabeledReplicas": 3,
                                    "readyReplicas": 3, "availableReplicas": 3,
                                    "observedGeneration": 1}


def test_replaces_deleted_pod_and_terminating_pods_do_not_count(sim: Sim) -> None:
    sim.api.create(replicaset(replicas=2))
    sim.run(5)
    victim = sim.pods()[0]["metadata"]["name"]
    sim.api.delete(PODS, "default", victim)
    sim.settle()
    # The replacement exists while the victim is still terminating (30 s grace).
    assert sim.store.get(PODS, "default", victim)["metadata"]["deletionTimestamp"]
    assert len(sim.pods()) == 2
    assert status(rs_of(sim), "replicas") == 2
    sim.run(31)
    assert sim.store.get(PODS, "default", victim) is None
    assert len(sim.pods(active=False)) == 2


def test_slow_start_batches_stop_at_the_first_failing_batch(sim: Sim) -> None:
    calls: list[tuple[int, bool]] = []  # (sync number, admitted)
    real_create = sim.api.create
    queue = sim.controllers.replicaset.queue

    def quota_create(obj, namespace=None, **kw):
        if obj.get("kind") == "Pod":
            admitted = sum(ok for _, ok in calls) < 3
            calls.append((queue.syncs, admitted))
            if not admitted:
                raise errors.forbidden('pods "web-x" is forbidden: exceeded quota: q, '
                                       "requested: pods=1, used: pods=3, limited: pods=3")
        return real_create(obj, namespace, **kw)

    sim.api.create = quota_create  # type: ignore[method-assign]
    sim.api.create(replicaset(replicas=10))
    sim.settle()
    # First sync: batches of 1, 2, then 4 (all refused) -> 7 attempts, 3 pods, no more.
    first = [ok for n, ok in calls if n == 1]
    assert first == [True, True, True, False, False, False, False]
    assert len(sim.pods()) == 3
    failed = sim.events("FailedCreate", "web")
    assert failed[0]["type"] == "Warning"
    assert failed[0]["message"].startswith('Error creating: pods "web-x" is forbidden: exceeded')
    assert failed[0]["count"] >= 4
    cond = rs_of(sim)["status"]["conditions"][0]
    assert (cond["type"], cond["status"], cond["reason"]) == ("ReplicaFailure", "True",
                                                              "FailedCreate")
    # The sync is retried with backoff (5 ms, 10 ms, …), not in a tight loop.
    before = len(calls)
    sim.run(1)
    assert 0 < len(calls) - before <= 10


def test_slow_start_batch_counts() -> None:
    sizes: list[int] = []
    counter = {"n": 0}

    def ok() -> None:
        counter["n"] += 1

    assert slow_start_batch(10, 1, ok) == (10, None)
    counter["n"] = 0
    done = []

    def fail_after_5() -> None:
        done.append(1)
        if len(done) > 5:
            raise errors.bad_request("no")

    successes, err = slow_start_batch(20, 1, fail_after_5)
    sizes.append(len(done))
    # 1 + 2 + 4 (the 6th and 7th calls fail) -> 5 successes, 7 calls.
    assert (successes, sizes) == (5, [7]) and err is not None


def _pod(name: str, node: str = "n1", phase: str = "Running", ready_at: float | None = 0.0,
         created: float = 0.0, restarts: int = 0, uid: str = "") -> dict:
    pod = {"metadata": {"name": name, "uid": uid or name,
                        "creationTimestamp": f"2026-01-01T00:{int(created) // 60:02d}:"
                                             f"{int(created) % 60:02d}Z"},
           "spec": {"nodeName": node, "containers": [{"name": "c", "image": "x"}]},
           "status": {"phase": phase,
                      "containerStatuses": [{"name": "c", "restartCount": restarts}]}}
    if ready_at is not None:
        pod["status"]["conditions"] = [{
            "type": "Ready", "status": "True",
            "lastTransitionTime": f"2026-01-01T00:{int(ready_at) // 60:02d}:"
                                  f"{int(ready_at) % 60:02d}Z"}]
    return pod


def test_victim_ranking_follows_active_pods_with_ranks(sim: Sim) -> None:
    sim.clock.run_until(3000)
    pods = [
        _pod("ready-old", created=0, ready_at=10),
        _pod("unassigned", node="", phase="Pending", ready_at=None),
        _pod("ready-new", created=2000, ready_at=2900),
        _pod("pending", phase="Pending", ready_at=None),
        _pod("not-ready", ready_at=None),
        _pod("unknown", phase="Unknown", ready_at=None),
        _pod("restarts", created=0, ready_at=10, restarts=5),
        _pod("doubled", node="busy", created=0, ready_at=10),
    ]
    ranks = [1, 1, 1, 1, 1, 1, 1, 3]
    order = [p["metadata"]["name"] for p in rank_pods(sim.clock, pods, ranks)]
    assert order == ["unassigned", "pending", "unknown", "not-ready", "doubled", "ready-new",
                     "restarts", "ready-old"]


def test_deletion_cost_and_creation_time_order(sim: Sim) -> None:
    sim.clock.run_until(3000)
    young = _pod("young", created=2990, ready_at=None)
    old = _pod("old", created=10, ready_at=None)
    cheap = _pod("cheap", created=10, ready_at=None)
    cheap["metadata"]["annotations"] = {"controller.kubernetes.io/pod-deletion-cost": "-5"}
    order = [p["metadata"]["name"] for p in rank_pods(sim.clock, [old, young, cheap], [0, 0, 0])]
    assert order == ["cheap", "young", "old"]


def test_scale_down_deletes_the_least_valuable_pods(sim: Sim) -> None:
    sim.api.create(replicaset(replicas=3))
    sim.run(5)
    survivors = {p["metadata"]["name"] for p in sim.pods()}
    sim.kubelet.enabled = False  # new pods stay unscheduled
    rs = clone(rs_of(sim))
    rs["spec"]["replicas"] = 5
    sim.api.update(rs)
    sim.run(5)
    assert len(sim.pods()) == 5
    rs = clone(rs_of(sim))
    rs["spec"]["replicas"] = 3
    sim.api.update(rs)
    sim.settle()
    # The two unscheduled pods go first; the running ones stay.
    assert {p["metadata"]["name"] for p in sim.pods()} == survivors
    deleted = [e["message"] for e in sim.events("SuccessfulDelete", "web")]
    assert len(deleted) == 2 and all(m.startswith("Deleted pod: web-") for m in deleted)


def test_adopts_matching_orphans_and_releases_pods_that_stop_matching(sim: Sim) -> None:
    sim.api.create({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": "stray", "namespace": "default",
                                 "labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    sim.api.create(replicaset(replicas=2))
    sim.settle()
    stray = sim.store.get(PODS, "default", "stray")
    assert stray["metadata"]["ownerReferences"][0]["uid"] == rs_of(sim)["metadata"]["uid"]
    assert len(sim.pods()) == 2  # only one pod created
    relabelled = clone(stray)
    relabelled["metadata"]["labels"] = {"app": "debug"}
    sim.api.update(relabelled)
    sim.settle()
    assert "ownerReferences" not in sim.store.get(PODS, "default", "stray")["metadata"]
    assert len(sim.pods(app="web")) == 2  # a replacement was created


def test_available_replicas_wait_for_min_ready_seconds(sim: Sim) -> None:
    sim.api.create(replicaset(replicas=2, minReadySeconds=30))
    sim.run(3)  # bound at 0.5 s, Ready at 2.5 s (stamped 00:00:02)
    rs = rs_of(sim)
    assert status(rs, "readyReplicas") == 2 and status(rs, "availableReplicas") == 0
    sim.clock.run_until(31.9)
    assert status(rs_of(sim), "availableReplicas") == 0
    sim.clock.run_until(32.0)
    assert status(rs_of(sim), "availableReplicas") == 2


def test_thirty_thousand_pods_do_not_make_syncs_quadratic(sim: Sim) -> None:
    sim.kubelet.enabled = False
    controller = sim.controllers.replicaset
    started = time.perf_counter()
    for i in range(100):
        spec = replicaset(name=f"app{i}", replicas=300, app=f"app{i}")
        sim.api.create(spec)
    sim.settle()
    elapsed = time.perf_counter() - started
    assert sim.store.count(PODS) == 30_000
    # Each ReplicaSet is synced a handful of times, however many pods it creates.
    assert controller.queue.syncs <= 100 * 4
    print(f"30,000 pods in {elapsed:.1f} s")
