"""Shared step helpers: which pods belong to a workload, and what the catalog shows."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from kclusterkit.driver.sim import SimDriver
from kclusterkit.steps._support import CATALOG, ScenarioState, owner_pods, pod_table
from kclusterkit.steps.workloads import a_deployment, a_replica_set


def test_a_canary_with_the_stable_labels_is_not_counted_as_the_stable_deployment() -> None:
    driver = SimDriver(seed=1)
    driver.open_scenario("t")
    context = SimpleNamespace(kk=ScenarioState(driver=driver, seed=1))
    a_deployment(context, name="web", image="nginx:1.24", n=2)
    canary = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web-canary"},
        "spec": {"replicas": 1,
                 "selector": {"matchLabels": {"app": "web", "track": "canary"}},
                 "template": {"metadata": {"labels": {"app": "web", "track": "canary"}},
                              "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}},
    }
    driver.create(canary)
    a_replica_set(context, name="cache", image="nginx:1.25", n=1)
    driver.sleep(30)
    labelled = driver.list("pods", labels="app=web")
    assert len(labelled) == 3, "the canary's pods carry the stable selector's labels"
    _, web = owner_pods(driver, "deployment", "web")
    _, cache = owner_pods(driver, "replica set", "cache")
    assert len(web) == 2 and all(p["metadata"]["name"].startswith("web-") for p in web)
    assert not any("canary" in p["metadata"]["name"] for p in web)
    assert [p["metadata"]["name"].startswith("cache-") for p in cache] == [True]
    assert owner_pods(driver, "deployment", "nope") == (None, [])


def test_catalog_descriptions_are_whole_first_paragraphs() -> None:
    for doc in CATALOG:
        assert doc.description.endswith((".", ")")), f"cut short: {doc.pattern}: {doc.description}"


def test_pod_table_says_why_pods_are_stuck_in_the_clusters_words() -> None:
    pending = {"metadata": {"name": "web-1"}, "spec": {"containers": [{"name": "c"}]},
               "status": {"phase": "Pending", "conditions": [
                   {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                    "message": "0/3 nodes are available: 2 Insufficient cpu."}]}}
    pulling = {"metadata": {"name": "web-2"}, "spec": {"containers": [{"name": "c"}]},
               "status": {"phase": "Pending", "containerStatuses": [
                   {"name": "c", "ready": False, "restartCount": 0, "state": {"waiting": {
                       "reason": "ImagePullBackOff",
                       "message": 'Back-off pulling image "nginx:0.0-missing"'}}}]}}
    table = pod_table([pending, pulling])
    assert "web-1: 0/3 nodes are available: 2 Insufficient cpu." in table
    assert 'web-2: Back-off pulling image "nginx:0.0-missing"' in table
    assert "ImagePullBackOff" in table.splitlines()[2]


def test_a_crash_looping_pod_is_not_running_though_its_phase_is() -> None:
    from kclusterkit.steps.pods_exec import is_running

    def pod(state: dict) -> dict:
        return {"metadata": {"name": "client"}, "spec": {"containers": [{"name": "busybox"}]},
                "status": {"phase": "Running", "containerStatuses": [
                    {"name": "busybox", "restartCount": 3, "state": state}]}}

    assert is_running(pod({"running": {"startedAt": "2026-01-01T00:00:00Z"}}))
    assert not is_running(pod({"waiting": {"reason": "CrashLoopBackOff"}}))
    assert not is_running(pod({"terminated": {"reason": "Completed", "exitCode": 0}}))


def test_short_test_image_names_expand_to_their_registry() -> None:
    from kclusterkit.steps.workloads import container_for

    agnhost = container_for("agnhost:2.53 netexec --http-port=8080")
    assert agnhost["image"] == "registry.k8s.io/e2e-test-images/agnhost:2.53"
    assert agnhost["name"] == "agnhost" and agnhost["args"] == ["netexec", "--http-port=8080"]
    assert container_for("nginx:1.25")["image"] == "nginx:1.25"
    mirrored = "mirror.example/e2e/agnhost:2.53"
    assert container_for(mirrored)["image"] == mirrored


@pytest.mark.parametrize("cpu", ["4", "16"])
def test_most_of_a_worker_fits_one_pod_per_worker_whatever_the_node_size(cpu: str) -> None:
    from kclusterkit.sim.cluster import ClusterSpec, NodeShape
    from kclusterkit.steps.workloads import a_deployment_requesting_most_of_a_worker

    driver = SimDriver(spec=ClusterSpec(worker_nodes=3, node=NodeShape(cpu=cpu)), seed=1)
    driver.open_scenario("t")
    context = SimpleNamespace(kk=ScenarioState(driver=driver, seed=1))
    a_deployment_requesting_most_of_a_worker(context, name="big", image="nginx:1.25", n=5)
    driver.sleep(60)
    _, pods = owner_pods(driver, "deployment", "big")
    nodes = sorted(p["spec"].get("nodeName") or "-" for p in pods)
    assert nodes == ["-", "-", "worker-1", "worker-2", "worker-3"]


def test_steps_read_right_in_the_singular_too() -> None:
    from kclusterkit.steps._support import expand_plurals

    variants = expand_plurals('{n:N} pod(s) of "{x:Q}" [is|are] Pending')
    assert '{n:N} pod of "{x:Q}" is Pending' in variants
    assert '{n:N} pods of "{x:Q}" are Pending' in variants
    assert len(variants) == 4


def test_extra_columns_line_up_whatever_the_reason_column_holds() -> None:
    def pod(name: str, reason: str | None, image: str) -> dict:
        state = {"waiting": {"reason": reason}} if reason else {"running": {}}
        return {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": image}]},
                "status": {"phase": "Pending" if reason else "Running",
                           "containerStatuses": [{"name": "c", "state": state}]}}

    table = pod_table([pod("web-1", "ImagePullBackOff", "nginx:0.0-missing"),
                       pod("web-2", None, "nginx:1.24")],
                      extra=[("IMAGE", lambda p: p["spec"]["containers"][0]["image"])])
    header, first, second = table.splitlines()[:3]
    column = header.index("IMAGE")
    assert first[column:] == "nginx:0.0-missing" and second[column:] == "nginx:1.24"
