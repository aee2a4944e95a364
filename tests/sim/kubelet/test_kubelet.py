"""The kubelet: pod start-up, restarts and their back-off, image pulls, graceful stop."""

from __future__ import annotations

import pytest

from kclusterkit.kube.meta import condition
from kclusterkit.sim import errors
from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.kubelet.kubelet import go_duration
from kclusterkit.sim.resources import PODS
from tests.sim.kubelet.support import events, get, make_pod, run_until, state


def test_a_pod_goes_from_container_creating_to_running(cluster: Cluster) -> None:
    cluster.api.create(make_pod())
    cluster.advance(0.1)
    status = get(cluster)["status"]
    assert status["phase"] == "Pending"
    assert status["hostIP"] == "172.18.0.3"
    assert "podIP" not in status
    assert state(cluster)["state"] == {"waiting": {"reason": "ContainerCreating"}}
    ready = condition(get(cluster), "Ready")
    assert ready["reason"] == "ContainersNotReady"
    assert ready["message"] == "containers with unready status: [app]"
    cluster.advance(5)
    status = get(cluster)["status"]
    assert status["phase"] == "Running"
    assert status["podIP"].startswith("10.244.1.")
    cs = state(cluster)
    assert cs["ready"] is True and cs["started"] is True and cs["restartCount"] == 0
    assert cs["image"] == "docker.io/library/nginx:1.25"
    assert cs["imageID"].startswith("docker.io/library/nginx@sha256:")
    assert cs["containerID"].startswith("containerd://") and len(cs["containerID"]) == 77
    assert [c["type"] for c in status["conditions"]] == [
        "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
    assert all(c["status"] == "True" for c in status["conditions"])
    messages = [(e["reason"], e["message"]) for e in events(cluster)]
    assert messages == [
        ("Pulling", 'Pulling image "nginx:1.25"'),
        ("Pulled", 'Successfully pulled image "nginx:1.25" in 2s (2s including waiting). '
                   "Image size: 72223946 bytes."),
        ("Created", "Created container: app"),
        ("Started", "Started container app"),
    ]
    assert events(cluster)[0]["involvedObject"]["fieldPath"] == "spec.containers{app}"


def test_a_cached_image_is_already_present(cluster: Cluster) -> None:
    cluster.api.create(make_pod("a"))
    cluster.advance(5)
    cluster.api.create(make_pod("b"))
    cluster.advance(2)
    assert [e["message"] for e in events(cluster, "b", "Pulled")] == [
        'Container image "nginx:1.25" already present on machine']
    assert get(cluster, "b")["status"]["phase"] == "Running"


def test_crash_loop_back_off_doubles_from_ten_seconds(cluster: Cluster) -> None:
    cluster.api.create(make_pod(image="busybox:1.36", command=["sh", "-c", "exit 1"]))
    restarts: list[float] = []
    last = 0
    end = cluster.now + 400
    while cluster.now < end:
        cluster.advance(0.25)
        count = state(cluster)["restartCount"]
        if count != last:
            restarts.append(cluster.now)
            last = count
    first = restarts[0]
    gaps = [b - a for a, b in zip(restarts, restarts[1:], strict=False)]
    # Restart 1 at once, then waits of 10 s, 20 s, 40 s, 80 s (plus 0.5 s to start).
    assert gaps[:4] == pytest.approx([10.5, 20.5, 40.5, 80.5], abs=0.3)
    assert first < 5
    cs = state(cluster)
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    uid = get(cluster)["metadata"]["uid"]
    assert cs["state"]["waiting"]["message"] == (
        f"back-off 5m0s restarting failed container=app pod=web_default({uid})")
    term = cs["lastState"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (1, "Error")
    [backoff] = events(cluster, reason="BackOff")
    assert backoff["type"] == "Warning"
    assert backoff["message"] == \
        f"Back-off restarting failed container app in pod web_default({uid})"
    # One BackOff per pod worker resync ([10 s, 15 s) apart) while in back-off, over
    # back-offs of 10, 20, 40, 80, 160 s and 86 s of the 300 s one.
    assert 29 <= backoff["count"] <= 40
    assert get(cluster)["status"]["phase"] == "Running"


def _increments(cluster: Cluster, reason: str, until: float) -> list[float]:
    """When the kubelet's ``reason`` event for pod web was (re)recorded, sampled every 0.25 s."""
    times: list[float] = []
    last = 0
    while cluster.now < until:
        cluster.advance(0.25)
        found = events(cluster, reason=reason)
        count = found[0]["count"] if found else 0
        if count != last:
            times.append(cluster.now)
            last = count
    return times


def test_crash_loop_back_off_is_reported_on_every_pod_worker_resync(cluster: Cluster) -> None:
    cluster.api.create(make_pod(image="busybox:1.36", command=["sh", "-c", "exit 1"]))
    times = _increments(cluster, "BackOff", 330)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # doBackOff records the event on each sync in back-off; the pod worker retries a failed
    # sync after wait.Jitter(10 s, 0.5), so no two BackOff events are 15 s or more apart.
    assert gaps and max(gaps) < 15.3
    assert min(gaps) >= 1.0
    assert len(times) >= 20


def test_image_pull_back_off_is_reported_on_every_pod_worker_resync(cluster: Cluster) -> None:
    cluster.api.create(make_pod(image="nginx:0.0-missing"))
    backoffs = _increments(cluster, "BackOff", 200)
    gaps = [b - a for a, b in zip(backoffs, backoffs[1:], strict=False)]
    assert gaps and max(gaps) < 15.3
    failed = {e["message"]: e["count"] for e in events(cluster, reason="Failed")}
    # Each BackOff comes with its "Error: ImagePullBackOff".
    assert failed["Error: ImagePullBackOff"] == len(backoffs)


def test_back_off_is_capped_at_five_minutes(cluster: Cluster) -> None:
    cluster.api.create(make_pod(image="busybox:1.36", command=["false"]))
    cluster.advance(1300)
    message = state(cluster)["state"].get("waiting", {}).get("message", "")
    assert "back-off 5m0s restarting failed container=app" in message


def test_crash_container_restarts_in_place(cluster: Cluster) -> None:
    cluster.api.create(make_pod())
    cluster.advance(5)
    old_id = state(cluster)["containerID"]
    cluster.nodes.crash_container("default", "web")
    cluster.advance(0.1)
    assert state(cluster)["state"]["terminated"]["exitCode"] == 1
    cluster.advance(1)
    cs = state(cluster)
    assert cs["restartCount"] == 1 and "running" in cs["state"]
    assert cs["containerID"] != old_id
    assert cs["lastState"]["terminated"]["containerID"] == old_id
    assert cs["lastState"]["terminated"]["reason"] == "Error"
    # A second crash right after: 10 s of back-off before it runs again.
    cluster.nodes.crash_container("default", "web", exit_code=2)
    cluster.advance(0.1)
    assert state(cluster)["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    cluster.advance(9.5)
    assert state(cluster)["restartCount"] == 1
    cluster.advance(1)
    assert state(cluster)["restartCount"] == 2
    assert state(cluster)["lastState"]["terminated"]["exitCode"] == 2


def test_back_off_resets_after_ten_minutes_of_running(cluster: Cluster) -> None:
    nodes = cluster.nodes
    cluster.api.create(make_pod())
    cluster.advance(5)
    nodes.crash_container("default", "web")
    cluster.advance(1)
    nodes.crash_container("default", "web")
    cluster.advance(12)
    assert state(cluster)["restartCount"] == 2
    cluster.advance(700)
    nodes.crash_container("default", "web")
    cluster.advance(1)
    assert state(cluster)["restartCount"] == 3  # restarted at once, no back-off


def test_crashing_a_container_that_is_not_running_is_refused(cluster: Cluster) -> None:
    cluster.api.create(make_pod())
    cluster.advance(0.1)
    with pytest.raises(errors.StatusError):
        cluster.nodes.crash_container("default", "web")


def test_a_missing_image_backs_off_pulling(cluster: Cluster) -> None:
    cluster.api.create(make_pod(image="nginx:0.0-missing"))
    cluster.advance(1.5)
    waiting = state(cluster)["state"]["waiting"]
    assert waiting["reason"] == "ErrImagePull"
    assert waiting["message"] == (
        'rpc error: code = NotFound desc = failed to pull and unpack image '
        '"docker.io/library/nginx:0.0-missing": failed to resolve reference '
        '"docker.io/library/nginx:0.0-missing": docker.io/library/nginx:0.0-missing: not found')
    failed = [e["message"] for e in events(cluster, reason="Failed")]
    assert failed[0].startswith('Failed to pull image "nginx:0.0-missing": rpc error:')
    assert failed[1] == "Error: ErrImagePull"
    cluster.advance(1)
    waiting = state(cluster)["state"]["waiting"]
    assert waiting == {"reason": "ImagePullBackOff",
                       "message": 'Back-off pulling image "nginx:0.0-missing": ErrImagePull: '
                                  'rpc error: code = NotFound desc = failed to pull and unpack '
                                  'image "docker.io/library/nginx:0.0-missing": failed to resolve '
                                  'reference "docker.io/library/nginx:0.0-missing": '
                                  'docker.io/library/nginx:0.0-missing: not found'}
    [backoff] = events(cluster, reason="BackOff")
    assert backoff["type"] == "Normal"
    assert backoff["message"] == 'Back-off pulling image "nginx:0.0-missing"'
    # Pull attempts at 0.5 s (after the sandbox), then 10, 20, 40 s after each failure.
    pulls = [0.5]
    last = 1
    while cluster.now < 120:
        cluster.advance(0.25)
        [pulling] = events(cluster, reason="Pulling")
        if pulling["count"] != last:
            pulls.append(cluster.now)
            last = pulling["count"]
    gaps = [b - a for a, b in zip(pulls, pulls[1:], strict=False)]
    assert gaps == pytest.approx([11, 21, 41], abs=0.3)
    assert get(cluster)["status"]["phase"] == "Pending"


def test_images_listed_as_missing_by_the_cluster_do_not_pull() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1, missing_images=("myorg/app:1.0",)), seed=1)
    cluster.api.create(make_pod(image="myorg/app:1.0"))
    cluster.advance(3)
    assert state(cluster)["state"]["waiting"]["reason"] in ("ErrImagePull", "ImagePullBackOff")


def test_graceful_deletion_nginx_stops_at_once(cluster: Cluster) -> None:
    cluster.api.create(make_pod())
    cluster.advance(5)
    cluster.api.delete(PODS, "default", "web")
    cluster.advance(0.1)
    assert cluster.store.get(PODS, "default", "web") is None
    [killing] = events(cluster, reason="Killing")
    assert killing["message"] == "Stopping container app"


def test_graceful_deletion_sleep_takes_the_whole_grace_period(cluster: Cluster) -> None:
    cluster.api.create(make_pod(image="busybox:1.36", command=["sleep", "3600"]))
    cluster.advance(5)
    cluster.api.delete(PODS, "default", "web")
    deleted_at = cluster.now
    gone = run_until(cluster, lambda: cluster.store.get(PODS, "default", "web") is None,
                     step=0.25)
    assert gone - deleted_at == pytest.approx(30, abs=0.5)
    cluster.api.create(make_pod("short", image="busybox:1.36", command=["sleep", "3600"],
                                spec={"terminationGracePeriodSeconds": 5}))
    cluster.advance(5)
    cluster.api.delete(PODS, "default", "short")
    start = cluster.now
    gone = run_until(cluster, lambda: cluster.store.get(PODS, "default", "short") is None,
                     step=0.25)
    assert gone - start == pytest.approx(5, abs=0.5)


def test_restart_policy_never_ends_in_failed_or_succeeded(cluster: Cluster) -> None:
    cluster.api.create(make_pod("ok", image="busybox:1.36", command=["sh", "-c", "echo hi"],
                                spec={"restartPolicy": "Never"}))
    cluster.api.create(make_pod("bad", image="busybox:1.36", command=["sh", "-c", "exit 3"],
                                spec={"restartPolicy": "Never"}))
    cluster.advance(10)
    ok, bad = get(cluster, "ok"), get(cluster, "bad")
    assert ok["status"]["phase"] == "Succeeded"
    assert condition(ok, "Ready")["reason"] == "PodCompleted"
    initialized = condition(ok, "Initialized")
    assert (initialized["status"], initialized["reason"]) == ("True", "PodCompleted")
    assert "reason" not in condition(bad, "Initialized")
    assert state(cluster, "ok")["state"]["terminated"]["reason"] == "Completed"
    assert bad["status"]["phase"] == "Failed"
    assert state(cluster, "bad")["state"]["terminated"]["exitCode"] == 3
    assert state(cluster, "bad")["restartCount"] == 0
    for ctype in ("Ready", "ContainersReady"):
        cond = condition(bad, ctype)
        assert (cond["status"], cond["reason"]) == ("False", "PodFailed")
        assert "message" not in cond


def test_on_failure_restarts_until_success(cluster: Cluster) -> None:
    cluster.api.create(make_pod(image="busybox:1.36", command=["sh", "-c", "sleep 2; exit 0"],
                                spec={"restartPolicy": "OnFailure"}))
    cluster.advance(10)
    assert get(cluster)["status"]["phase"] == "Succeeded"
    assert state(cluster)["restartCount"] == 0


def test_a_sleeping_container_completes_and_restarts_under_always(cluster: Cluster) -> None:
    cluster.api.create(make_pod(image="busybox:1.36", args=["sleep", "10"]))
    cluster.advance(14)
    cs = state(cluster)
    assert cs["restartCount"] == 1
    assert cs["lastState"]["terminated"]["reason"] == "Completed"


def test_an_unknown_executable_fails_to_start(cluster: Cluster) -> None:
    cluster.api.create(make_pod(image="busybox:1.36", command=["exit", "1"]))
    cluster.advance(4)
    cs = state(cluster)
    last = cs["lastState"].get("terminated") or cs["state"].get("terminated")
    assert last["reason"] == "StartError" and last["exitCode"] == 128
    assert 'exec: "exit": executable file not found in $PATH' in last["message"]


def test_init_containers_run_first(cluster: Cluster) -> None:
    pod = make_pod()
    pod["spec"]["initContainers"] = [{"name": "setup", "image": "busybox:1.36",
                                      "command": ["sh", "-c", "sleep 5"]}]
    cluster.api.create(pod)
    cluster.advance(4)
    status = get(cluster)["status"]
    assert status["phase"] == "Pending"
    assert condition(get(cluster), "Initialized")["message"] == \
        "containers with incomplete status: [setup]"
    assert status["containerStatuses"][0]["state"]["waiting"]["reason"] == "PodInitializing"
    assert status["initContainerStatuses"][0]["ready"] is False
    cluster.advance(10)
    status = get(cluster)["status"]
    assert status["phase"] == "Running"
    assert status["initContainerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
    assert status["initContainerStatuses"][0]["ready"] is True


def test_go_duration_formatting() -> None:
    assert go_duration(10) == "10s"
    assert go_duration(80) == "1m20s"
    assert go_duration(300) == "5m0s"
    assert go_duration(0.5) == "500ms"
    assert go_duration(2.0034) == "2.0034s"
    assert go_duration(3725) == "1h2m5s"


# -- probes ---------------------------------------------------------------------------


def test_fixing_the_image_of_a_pod_restarts_it_with_the_new_image(cluster: Cluster) -> None:
    cluster.api.create(make_pod(image="nginx:0.0-missing"))
    cluster.advance(5)
    assert state(cluster)["state"]["waiting"]["reason"] == "ImagePullBackOff"
    pod = cluster.api.get(PODS, "default", "web")
    pod["spec"]["containers"][0]["image"] = "nginx:1.25"
    cluster.api.update(pod)
    cluster.advance(3)
    cs = state(cluster)
    assert "running" in cs["state"] and cs["image"] == "docker.io/library/nginx:1.25"
    pod = cluster.api.get(PODS, "default", "web")
    pod["spec"]["containers"][0]["image"] = "nginx:1.26"
    cluster.api.update(pod)
    cluster.advance(4)
    cs = state(cluster)
    assert cs["image"] == "docker.io/library/nginx:1.26" and cs["restartCount"] == 1
    assert events(cluster, reason="Killing")[0]["message"] == \
        "Container app definition changed, will be restarted"


def test_pod_generation_is_tracked_and_observed_by_the_kubelet(cluster: Cluster) -> None:
    created = cluster.api.create(make_pod())
    assert created["metadata"]["generation"] == 1
    cluster.advance(5)
    status = get(cluster)["status"]
    assert status["observedGeneration"] == 1
    assert [c.get("observedGeneration") for c in status["conditions"]] == [1] * 5
    pod = cluster.api.get(PODS, "default", "web")
    pod["metadata"]["labels"] = {"tier": "web"}
    assert cluster.api.update(pod)["metadata"]["generation"] == 1  # metadata only
    pod = cluster.api.get(PODS, "default", "web")
    pod["spec"]["activeDeadlineSeconds"] = 600
    assert cluster.api.update(pod)["metadata"]["generation"] == 2
    cluster.advance(1)
    status = get(cluster)["status"]
    assert status["observedGeneration"] == 2
    assert {c["type"]: c.get("observedGeneration") for c in status["conditions"]} == {
        "PodReadyToStartContainers": 2, "Initialized": 2, "Ready": 2, "ContainersReady": 2,
        "PodScheduled": 2}


def test_readiness_gates_hold_ready_until_their_conditions_are_true(cluster: Cluster) -> None:
    cluster.api.create(make_pod(spec={"readinessGates": [{"conditionType": "example.com/lb"}]}))
    cluster.advance(5)
    ready = condition(get(cluster), "Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "False", "ReadinessGatesNotReady",
        'corresponding condition of pod readiness gate "example.com/lb" does not exist.')
    assert condition(get(cluster), "ContainersReady")["status"] == "True"

    def set_gate(status: str) -> None:
        pod = cluster.api.get(PODS, "default", "web")
        conds = [c for c in pod["status"]["conditions"] if c["type"] != "example.com/lb"]
        pod["status"]["conditions"] = conds + [{"type": "example.com/lb", "status": status}]
        cluster.api.update(pod, subresource="status")
        cluster.advance(0.5)

    set_gate("False")
    assert condition(get(cluster), "Ready")["message"] == \
        'the status of pod readiness gate "example.com/lb" is not "True", but False'
    set_gate("True")
    ready = condition(get(cluster), "Ready")
    assert ready["status"] == "True" and "reason" not in ready
    # mergePodStatus keeps conditions the kubelet does not own ahead of its own.
    assert [c["type"] for c in get(cluster)["status"]["conditions"]] == [
        "example.com/lb", "PodReadyToStartContainers", "Initialized", "Ready",
        "ContainersReady", "PodScheduled"]
