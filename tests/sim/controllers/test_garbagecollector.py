"""Garbage collector: background, foreground and orphan propagation; dangling owners."""

from __future__ import annotations

from conftest import Sim, deployment, replicaset

from kclusterkit.sim.resources import DEPLOYMENTS, PODS, REPLICASETS


def _running_deployment(sim: Sim, replicas: int = 2) -> None:
    sim.api.create(deployment(replicas=replicas))
    sim.run(10)
    assert len(sim.pods()) == replicas


def test_background_deletion_removes_owner_first_then_dependents(sim: Sim) -> None:
    _running_deployment(sim)
    sim.api.delete(DEPLOYMENTS, "default", "web")
    assert sim.store.get(DEPLOYMENTS, "default", "web") is None
    sim.settle()
    assert sim.store.list(REPLICASETS, "default") == []
    pods = sim.pods(active=False)
    assert len(pods) == 2 and all(p["metadata"].get("deletionTimestamp") for p in pods)
    sim.run(31)  # graceful termination by the kubelet
    assert sim.pods(active=False) == []


def test_foreground_deletion_keeps_owner_until_blocking_dependents_are_gone(sim: Sim) -> None:
    _running_deployment(sim)
    sim.api.delete(DEPLOYMENTS, "default", "web", propagation="Foreground")
    sim.settle()
    d = sim.store.get(DEPLOYMENTS, "default", "web")
    assert d["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert d["metadata"]["deletionTimestamp"]
    [rs] = sim.store.list(REPLICASETS, "default")
    assert rs["metadata"]["deletionTimestamp"]  # deleted in foreground too: it has pods
    assert rs["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert all(p["metadata"].get("deletionTimestamp") for p in sim.pods(active=False))
    # No replacement pods while the ReplicaSet is being deleted.
    assert len(sim.pods(active=False)) == 2
    sim.run(29)
    assert sim.store.get(DEPLOYMENTS, "default", "web") is not None
    sim.run(2)
    assert sim.pods(active=False) == []
    assert sim.store.list(REPLICASETS, "default") == []
    assert sim.store.get(DEPLOYMENTS, "default", "web") is None


def test_orphan_deletion_leaves_dependents_without_the_owner_reference(sim: Sim) -> None:
    sim.api.create(replicaset(replicas=2))
    sim.run(5)
    names = {p["metadata"]["name"] for p in sim.pods()}
    sim.api.delete(REPLICASETS, "default", "web", propagation="Orphan")
    sim.settle()
    assert sim.store.get(REPLICASETS, "default", "web") is None
    pods = sim.pods()
    assert {p["metadata"]["name"] for p in pods} == names
    assert all("ownerReferences" not in p["metadata"] for p in pods)
    sim.run(60)
    assert len(sim.pods()) == 2


def test_dependent_of_a_missing_owner_is_collected(sim: Sim) -> None:
    ghost = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "ghost",
             "uid": "00000000-0000-4000-8000-000000000000", "controller": True,
             "blockOwnerDeletion": True}
    sim.api.create({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": "lost", "namespace": "default",
                                 "ownerReferences": [ghost]},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    sim.settle()
    assert sim.store.get(PODS, "default", "lost") is None  # unscheduled: gone at once


def test_dangling_reference_is_removed_when_another_owner_remains(sim: Sim) -> None:
    sim.kubelet.enabled = False
    sim.api.create(replicaset(name="keeper", replicas=0, app="other"))
    keeper = sim.store.get(REPLICASETS, "default", "keeper")
    refs = [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "keeper",
         "uid": keeper["metadata"]["uid"]},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "ghost",
         "uid": "00000000-0000-4000-8000-000000000001"},
    ]
    sim.api.create({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": "shared", "namespace": "default",
                                 "ownerReferences": refs},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    sim.settle()
    pod = sim.store.get(PODS, "default", "shared")
    assert pod is not None
    assert [r["name"] for r in pod["metadata"]["ownerReferences"]] == ["keeper"]
