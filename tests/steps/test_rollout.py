"""kubectl rollout undo and restart, done through the driver only: which revision, refusals,
one patch."""

from __future__ import annotations

from typing import Any

import pytest

from kclusterkit.driver import Observation
from kclusterkit.driver.sim import SimDriver
from kclusterkit.steps._support import ExpectationNotMet, StepUsageError
from kclusterkit.steps.rollout import (
    RESTARTED_AT,
    REVISION,
    RestartError,
    RollbackError,
    every_pod_replaced,
    history,
    restart,
    restart_deployment,
    rollback,
    set_image,
)
from kclusterkit.steps.workloads import workload


class CountingDriver(SimDriver):
    def __init__(self) -> None:
        super().__init__(seed=1)
        self.patches: list[tuple[str, Any, str]] = []

    def patch(self, kind: str, name: str, body: Any, patch_type: str = "merge",
              namespace: str | None = None) -> dict:
        self.patches.append((name, body, patch_type))
        return super().patch(kind, name, body, patch_type, namespace)


def settled(driver: SimDriver) -> None:
    def done() -> Observation:
        d = driver.get("deployments", "web")
        status = d.get("status") or {}
        return Observation(status.get("updatedReplicas") == 2 == status.get("availableReplicas")
                           and status.get("replicas") == 2
                           and status.get("observedGeneration") == d["metadata"]["generation"],
                           "")

    assert driver.wait_until(done, 300).ok


def web(images: list[str]) -> CountingDriver:
    driver = CountingDriver()
    driver.open_scenario("rollout")
    driver.create(workload("Deployment", "web", images[0], 2))
    settled(driver)
    for image in images[1:]:
        set_image(driver, "web", image)
        settled(driver)
    driver.patches.clear()
    return driver


def image_of(driver: SimDriver) -> str:
    return driver.get("deployments", "web")["spec"]["template"]["spec"]["containers"][0]["image"]


def test_undo_goes_to_the_previous_revision_in_one_json_patch() -> None:
    driver = web(["nginx:1.24", "nginx:1.25", "nginx:1.26"])
    assert rollback(driver, "web") == "rolled back"
    assert image_of(driver) == "nginx:1.25"
    [(name, body, patch_type)] = driver.patches
    assert patch_type == "json"
    assert [op["path"] for op in body] == ["/spec/template", "/metadata/annotations"]
    assert "pod-template-hash" not in body[0]["value"]["metadata"]["labels"]
    # the deployment keeps its own revision annotation; the RS's are never copied
    assert body[1]["value"].get(REVISION) == "3"
    settled(driver)
    assert driver.get("deployments", "web")["metadata"]["annotations"][REVISION] == "4"
    assert history(driver, "web") == [1, 3, 4]


def test_undo_to_a_named_revision() -> None:
    driver = web(["nginx:1.24", "nginx:1.25", "nginx:1.26"])
    rollback(driver, "web", 1)
    assert image_of(driver) == "nginx:1.24"


def test_unknown_revision_and_no_history_are_refused_with_kubectls_words() -> None:
    driver = web(["nginx:1.24", "nginx:1.25"])
    with pytest.raises(RollbackError, match="unable to find specified revision 7 in history"):
        rollback(driver, "web", 7)
    lone = web(["nginx:1.24"])
    with pytest.raises(RollbackError, match='no rollout history found for deployment "web"'):
        rollback(lone, "web")
    assert driver.patches == lone.patches == []


def test_a_paused_deployment_is_not_rolled_back() -> None:
    driver = web(["nginx:1.24", "nginx:1.25"])
    driver.patch("deployments", "web", {"spec": {"paused": True}})
    with pytest.raises(RollbackError, match="you cannot rollback a paused deployment"):
        rollback(driver, "web")
    assert image_of(driver) == "nginx:1.25"


def test_a_template_that_already_matches_is_skipped() -> None:
    driver = web(["nginx:1.24", "nginx:1.25"])
    assert rollback(driver, "web", 2).startswith(
        "skipped rollback (current template already matches revision 2)")
    assert driver.patches == []


def test_an_update_takes_an_image_not_arguments() -> None:
    driver = web(["nginx:1.24"])
    with pytest.raises(StepUsageError, match="not an image reference"):
        set_image(driver, "web", "agnhost:2.53 netexec")


# -- kubectl rollout restart -----------------------------------------------------------------
def context_of(driver: SimDriver) -> Any:
    from types import SimpleNamespace

    from kclusterkit.steps._support import ScenarioState

    return SimpleNamespace(kk=ScenarioState(driver=driver, seed=1))


def pods_of(driver: SimDriver) -> set[str]:
    return {p["metadata"]["name"] for p in driver.list("pods", labels="app=web")
            if not p["metadata"].get("deletionTimestamp")}


def test_restart_stamps_the_template_with_the_cluster_clock_in_one_strategic_patch() -> None:
    driver = web(["nginx:1.24"])
    assert restart(driver, "web") == "restarted"
    stamp = driver.cluster.clock.timestamp()
    assert stamp.endswith("Z") and driver.timestamp() == stamp
    [(name, body, patch_type)] = driver.patches
    assert (name, patch_type) == ("web", "strategic")
    assert body == {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
    template = driver.get("deployments", "web")["spec"]["template"]
    assert template["metadata"]["annotations"] == {RESTARTED_AT: stamp}
    assert template["spec"]["containers"][0]["image"] == "nginx:1.24"  # nothing else changes


def test_a_restart_replaces_every_pod_through_a_new_revision() -> None:
    driver = web(["nginx:1.24"])
    context = context_of(driver)
    before = pods_of(driver)
    with pytest.raises(StepUsageError, match="must come first"):
        every_pod_replaced(context, name="web", d=60)
    restart_deployment(context, name="web")
    with pytest.raises(ExpectationNotMet) as failed:  # 1 s is too short for a rolling update
        every_pod_replaced(context, name="web", d=1)
    assert "BEFORE RESTART" in str(failed.value)
    assert "pods from before the restart left" in str(failed.value)
    every_pod_replaced(context, name="web", d=120)
    after = pods_of(driver)
    assert len(after) == 2 and not after & before
    assert history(driver, "web") == [1, 2]
    assert driver.get("deployments", "web")["metadata"]["annotations"][REVISION] == "2"


def test_a_paused_deployment_is_not_restarted_with_kubectls_words() -> None:
    driver = web(["nginx:1.24"])
    driver.patch("deployments", "web", {"spec": {"paused": True}})
    driver.patches.clear()
    with pytest.raises(RestartError) as refused:
        restart(driver, "web")
    assert str(refused.value) == ('error: deployments.apps "web" can\'t restart paused '
                                  "deployment (run rollout resume first)")
    assert driver.patches == []


def test_a_second_restart_in_the_same_second_is_an_empty_patch() -> None:
    driver = web(["nginx:1.24"])
    restart(driver, "web")
    with pytest.raises(RestartError, match="failed to create patch for web: empty patch"):
        restart(driver, "web")
    driver.sleep(1)
    assert restart(driver, "web") == "restarted"
    assert len(driver.patches) == 2
