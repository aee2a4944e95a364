"""Deployment controller: ReplicaSets, revisions, rolling/recreate pace, conditions."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Sim, deployment, status

from kclusterkit.kube.meta import Obj, clone, controller_of
from kclusterkit.sim.controllers import deployment_util as du
from kclusterkit.sim.controllers.util import is_pod_ready
from kclusterkit.sim.resources import DEPLOYMENTS, PODS, REPLICASETS


def deploy_of(sim: Sim, name: str = "web") -> Obj:
    return sim.store.must_get(DEPLOYMENTS, "default", name)


def rss(sim: Sim) -> list[Obj]:
    return sorted(sim.store.list(REPLICASETS, "default"), key=du.revision)


def update(sim: Sim, name: str = "web", **changes: Any) -> None:
    d = clone(deploy_of(sim, name))
    if "image" in changes:
        d["spec"]["template"]["spec"]["containers"][0]["image"] = changes.pop("image")
    d["spec"].update(changes)
    sim.api.update(d)


def condition(obj: Obj, ctype: str) -> dict[str, Any]:
    return next(c for c in obj["status"]["conditions"] if c["type"] == ctype)


def test_new_replicaset_carries_hash_revision_and_replica_annotations(sim: Sim) -> None:
    sim.api.create(deployment(replicas=3))
    sim.settle()
    [rs] = rss(sim)
    pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{pod_hash}"
    assert set(pod_hash) <= set("bcdfghjklmnpqrstvwxz2456789")
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": pod_hash}
    assert rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == pod_hash
    assert rs["metadata"]["annotations"] == {
        "deployment.kubernetes.io/revision": "1",
        "deployment.kubernetes.io/desired-replicas": "3",
        "deployment.kubernetes.io/max-replicas": "4"}
    assert controller_of(rs)["uid"] == deploy_of(sim)["metadata"]["uid"]
    assert [e["message"] for e in sim.events("ScalingReplicaSet", "web")] == [
        f"Scaled up replica set web-{pod_hash} from 0 to 3"]
    assert deploy_of(sim)["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert du.compute_hash(deploy_of(sim)["spec"]["template"], None) == pod_hash


def test_status_and_conditions_after_a_complete_rollout(sim: Sim) -> None:
    sim.api.create(deployment(replicas=3))
    sim.settle()
    d = deploy_of(sim)
    assert condition(d, "Available")["reason"] == "MinimumReplicasUnavailable"
    assert condition(d, "Available")["message"] == "Deployment does not have minimum availability."
    assert condition(d, "Progressing")["reason"] == "ReplicaSetUpdated"
    sim.run(10)
    d = deploy_of(sim)
    name = rss(sim)[0]["metadata"]["name"]
    assert {k: v for k, v in d["status"].items() if k != "conditions"} == {
        "observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3,
        "availableReplicas": 3}
    available, progressing = condition(d, "Available"), condition(d, "Progressing")
    assert (available["status"], available["reason"], available["message"]) == (
        "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "True", "NewReplicaSetAvailable", f'ReplicaSet "{name}" has successfully progressed.')
    assert progressing["lastTransitionTime"] == "2026-01-01T00:00:00Z"


@pytest.mark.parametrize(("replicas", "surge", "unavailable", "expected"), [
    (10, "25%", "25%", (3, 2)),
    (4, "25%", "25%", (1, 1)),
    (1, "25%", "25%", (1, 0)),
    (10, 3, "0%", (3, 0)),
    (3, "0%", "10%", (0, 1)),  # both resolve to zero: one may be unavailable
    (5, "50%", 7, (3, 5)),     # maxUnavailable is capped at replicas
])
def test_fenceposts_round_surge_up_and_unavailable_down(replicas: int, surge: Any,
                                                        unavailable: Any, expected: tuple) -> None:
    d = deployment(replicas=replicas)
    d["spec"]["strategy"] = {"type": "RollingUpdate",
                             "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}
    assert (du.max_surge(d), du.max_unavailable(d)) == expected


def _watch_bounds(sim: Sim, replicas: int, surge: int, unavailable: int) -> list[str]:
    """Check surge/unavailability bounds at every store event; return violations."""
    violations: list[str] = []

    def check(event: tuple) -> None:
        _, _, key, _ = event
        if key not in ("pods", "replicasets.apps"):
            return
        spec_total = sum(rs["spec"]["replicas"] for rs in sim.store.iter(REPLICASETS, "default"))
        live = [p for p in sim.store.iter(PODS, "default")
                if not p["metadata"].get("deletionTimestamp")]
        ready = sum(1 for p in live if is_pod_ready(p))
        if spec_total > replicas + surge:
            violations.append(f"t={sim.now}: {spec_total} pods wanted")
        if len(live) > replicas + surge:
            violations.append(f"t={sim.now}: {len(live)} pods live")
        if ready < replicas - unavailable:
            violations.append(f"t={sim.now}: only {ready} ready")

    sim.store.subscribe_all(check)
    return violations


def test_rolling_update_never_exceeds_surge_or_unavailability(sim: Sim) -> None:
    spec = deployment(replicas=10)
    spec["spec"]["strategy"] = {"type": "RollingUpdate",
                                "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}}
    sim.api.create(spec)
    sim.run(10)
    violations = _watch_bounds(sim, 10, 3, 2)
    update(sim, image="nginx:1.26")
    sim.run(60)
    assert violations == []
    old, new = rss(sim)
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (0, 10)
    assert all(p["spec"]["containers"][0]["image"] == "nginx:1.26" for p in sim.pods())
    assert len(sim.pods()) == 10
    d = deploy_of(sim)
    assert status(d, "updatedReplicas") == 10 and status(d, "availableReplicas") == 10
    messages = [e["message"] for e in sim.events("ScalingReplicaSet", "web")]
    new_name, old_name = new["metadata"]["name"], old["metadata"]["name"]
    # Surge first (3 up), then down within maxUnavailable, as rolling.go orders it.
    assert messages[1] == f"Scaled up replica set {new_name} from 0 to 3"
    assert messages[2] == f"Scaled down replica set {old_name} from 10 to 8"
    assert messages[-1].startswith(f"Scaled down replica set {old_name} from ")
    assert messages[-1].endswith(" to 0")


def test_rollback_by_template_reuses_the_old_replicaset_with_next_revision(sim: Sim) -> None:
    sim.api.create(deployment(replicas=2, image="nginx:1.25"))
    sim.run(10)
    update(sim, image="nginx:1.26")
    sim.run(30)
    update(sim, image="nginx:1.25")  # what kubectl rollout undo sends
    sim.run(30)
    sets = rss(sim)
    assert len(sets) == 2
    first, second = sorted(sets, key=lambda rs: rs["metadata"]["creationTimestamp"])
    annotations = first["metadata"]["annotations"]
    assert annotations["deployment.kubernetes.io/revision"] == "3"
    assert annotations["deployment.kubernetes.io/revision-history"] == "1"
    assert second["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert first["spec"]["replicas"] == 2 and second["spec"]["replicas"] == 0
    assert deploy_of(sim)["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    # Back and forth once more: the history grows.
    update(sim, image="nginx:1.26")
    sim.run(30)
    update(sim, image="nginx:1.25")
    sim.run(30)
    first = sim.store.must_get(REPLICASETS, "default", first["metadata"]["name"])
    assert first["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "5"
    assert first["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1,3"


def test_stuck_rollout_reports_progress_deadline_exceeded(sim: Sim) -> None:
    sim.api.create(deployment(replicas=2))
    sim.run(10)
    sim.kubelet.missing_images.add("nginx:broken")
    update(sim, image="nginx:broken")
    sim.run(5)
    progressing = condition(deploy_of(sim), "Progressing")
    assert progressing["reason"] == "ReplicaSetUpdated"
    last = sim.clock.seconds_of(progressing["lastUpdateTime"])
    sim.clock.run_until(last + 599)
    assert condition(deploy_of(sim), "Progressing")["status"] == "True"
    sim.clock.run_until(last + 602)
    progressing = condition(deploy_of(sim), "Progressing")
    new = rss(sim)[-1]["metadata"]["name"]
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "False", "ProgressDeadlineExceeded", f'ReplicaSet "{new}" has timed out progressing.')
    # The old pods keep serving: at most maxUnavailable (25% of 2 -> 0) ... stays 2 ready.
    assert sum(is_pod_ready(p) for p in sim.pods()) == 2


def test_paused_deployment_scales_but_does_not_roll_out(sim: Sim) -> None:
    sim.api.create(deployment(replicas=2))
    sim.run(10)
    update(sim, paused=True)
    sim.settle()
    progressing = condition(deploy_of(sim), "Progressing")
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "Unknown", "DeploymentPaused", "Deployment is paused")
    update(sim, image="nginx:1.26")
    sim.run(10)
    assert len(rss(sim)) == 1
    update(sim, replicas=4)
    sim.run(10)
    assert rss(sim)[0]["spec"]["replicas"] == 4 and len(sim.pods()) == 4
    update(sim, paused=False)
    sim.settle()
    assert condition(deploy_of(sim), "Progressing")["reason"] in ("DeploymentResumed",
                                                                  "ReplicaSetUpdated")
    sim.run(60)
    assert len(rss(sim)) == 2
    assert all(p["spec"]["containers"][0]["image"] == "nginx:1.26" for p in sim.pods())
    assert condition(deploy_of(sim), "Progressing")["reason"] == "NewReplicaSetAvailable"


def test_revision_history_limit_prunes_oldest_revisions(sim: Sim) -> None:
    sim.api.create(deployment(replicas=1, revisionHistoryLimit=2))
    sim.run(10)
    for version in range(26, 31):
        update(sim, image=f"nginx:1.{version}")
        sim.run(30)
    revisions = sorted(du.revision(rs) for rs in rss(sim))
    assert revisions == [4, 5, 6]


def test_scaling_mid_rollout_is_proportional(sim: Sim) -> None:
    spec = deployment(replicas=10)
    spec["spec"]["strategy"] = {"type": "RollingUpdate",
                                "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}}
    sim.api.create(spec)
    sim.run(10)
    sim.kubelet.missing_images.add("nginx:broken")
    update(sim, image="nginx:broken")
    sim.run(10)
    old, new = rss(sim)
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (8, 5)
    update(sim, replicas=20)
    sim.settle()
    old, new = rss(sim)
    # 10 more allowed (20 + 3 - 13): old 8*23/13 -> 14, new 5*23/13 -> 9.
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (14, 9)
    assert new["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "20"
    assert old["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] == "23"


def test_recreate_removes_every_old_pod_before_creating_new_ones(sim: Sim) -> None:
    sim.api.create(deployment(replicas=3, strategy={"type": "Recreate"}))
    sim.run(10)
    overlaps: list[float] = []

    def check(event: tuple) -> None:
        pods = list(sim.store.iter(PODS, "default"))
        images = {p["spec"]["containers"][0]["image"] for p in pods}
        if len(images) > 1:
            overlaps.append(sim.now)

    sim.store.subscribe_all(check)
    started = sim.now
    update(sim, image="nginx:1.26")
    sim.run(60)
    assert overlaps == []
    assert len(sim.pods()) == 3
    assert {p["spec"]["containers"][0]["image"] for p in sim.pods()} == {"nginx:1.26"}
    new_pod_created = min(sim.clock.seconds_of(p["metadata"]["creationTimestamp"])
                          for p in sim.pods())
    assert new_pod_created >= started + 30  # waited for the 30 s graceful termination


def test_through_a_real_cluster_a_stuck_image_times_out_after_the_deadline() -> None:
    from kclusterkit.sim.cluster import Cluster

    cluster = Cluster(seed=3)
    cluster.api.create(deployment(replicas=3))
    cluster.advance(60)
    d = cluster.store.must_get(DEPLOYMENTS, "default", "web")
    assert status(d, "availableReplicas") == 3
    changed = clone(d)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:doesnotexist"
    cluster.api.update(changed)
    cluster.advance(5)
    last = cluster.clock.seconds_of(
        condition(cluster.store.must_get(DEPLOYMENTS, "default", "web"),
                  "Progressing")["lastUpdateTime"])
    cluster.run_until(last + 598)
    d = cluster.store.must_get(DEPLOYMENTS, "default", "web")
    assert condition(d, "Progressing")["reason"] == "ReplicaSetUpdated"
    cluster.run_until(last + 605)
    d = cluster.store.must_get(DEPLOYMENTS, "default", "web")
    assert condition(d, "Progressing")["reason"] == "ProgressDeadlineExceeded"
    # maxUnavailable 25% of 3 rounds down to 0: every old pod still serves.
    assert status(d, "availableReplicas") == 3
