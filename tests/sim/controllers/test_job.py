"""The Job, CronJob and TTL-after-finished controllers on a whole simulated cluster."""

from __future__ import annotations

from typing import Any

from kclusterkit.sim.cluster import Cluster
from kclusterkit.sim.resources import CRONJOBS, EVENTS, JOBS, PODS


def job(name: str, command: str, restart: str = "Never", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {**spec, "template": {"spec": {
                "restartPolicy": restart,
                "containers": [{"name": "c", "image": "busybox:1.36",
                                "command": ["sh", "-c", command]}]}}}}


def conditions(cluster: Cluster, name: str) -> dict[str, str]:
    got = cluster.store.get(JOBS, "default", name)
    return {c["type"]: c["reason"] for c in got["status"].get("conditions") or ()}


def job_pods(cluster: Cluster, name: str) -> list[Any]:
    return [p for p in cluster.store.iter(PODS, "default")
            if p["metadata"]["labels"].get("batch.kubernetes.io/job-name") == name]


def test_defaults_and_generated_selector() -> None:
    cluster = Cluster(seed=2)
    created = cluster.api.create(job("j", "true"))
    spec = created["spec"]
    uid = created["metadata"]["uid"]
    assert (spec["completions"], spec["parallelism"], spec["backoffLimit"]) == (1, 1, 6)
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert spec["template"]["metadata"]["labels"]["job-name"] == "j"


def test_completions_with_parallelism() -> None:
    cluster = Cluster(seed=2)
    cluster.api.create(job("j", "sleep 5", completions=5, parallelism=2))
    cluster.advance(3)
    assert len(job_pods(cluster, "j")) == 2
    cluster.advance(60)
    status = cluster.store.get(JOBS, "default", "j")["status"]
    assert status["succeeded"] == 5 and "active" not in status
    assert conditions(cluster, "j") == {"SuccessCriteriaMet": "CompletionsReached",
                                        "Complete": "CompletionsReached"}
    assert all("finalizers" not in p["metadata"] for p in job_pods(cluster, "j"))


def test_backoff_limit_with_exponential_back_off() -> None:
    cluster = Cluster(seed=2)
    cluster.api.create(job("j", "exit 1", backoffLimit=3))
    cluster.advance(300)
    assert conditions(cluster, "j")["Failed"] == "BackoffLimitExceeded"
    runs = sorted(job_pods(cluster, "j"), key=lambda p: p["metadata"]["creationTimestamp"])
    assert len(runs) == 4
    created = [cluster.clock.seconds_of(p["metadata"]["creationTimestamp"]) for p in runs]
    finished = [cluster.clock.seconds_of(
        p["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"]) for p in runs]
    # Each replacement waits 10 s, 20 s, 40 s after the previous pod failed.
    waits = [c - f for f, c in zip(finished, created[1:], strict=False)]
    assert waits == [10.0, 20.0, 40.0], waits
    assert cluster.store.get(JOBS, "default", "j")["status"]["failed"] == 4


def test_restarts_count_under_on_failure() -> None:
    cluster = Cluster(seed=2)
    cluster.api.create(job("j", "exit 1", restart="OnFailure", backoffLimit=2))
    cluster.advance(300)
    assert conditions(cluster, "j")["Failed"] == "BackoffLimitExceeded"
    assert len(job_pods(cluster, "j")) <= 1


def test_active_deadline_and_ttl() -> None:
    cluster = Cluster(seed=2)
    cluster.api.create(job("j", "sleep 600", activeDeadlineSeconds=30,
                           ttlSecondsAfterFinished=60))
    cluster.advance(40)
    assert conditions(cluster, "j")["Failed"] == "DeadlineExceeded"
    assert ("DeadlineExceeded", "Job was active longer than specified deadline") in [
        (e["reason"], e["message"]) for e in cluster.store.iter(EVENTS, "default")]
    cluster.advance(70)
    assert cluster.store.get(JOBS, "default", "j") is None


def cronjob(schedule: str, command: str = "true", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "tick", "namespace": "default"},
            "spec": {"schedule": schedule, **spec, "jobTemplate": {"spec": {"template": {
                "spec": {"restartPolicy": "Never", "containers": [
                    {"name": "c", "image": "busybox:1.36",
                     "command": ["sh", "-c", command]}]}}}}}}


def test_cronjob_runs_each_minute_and_keeps_three() -> None:
    cluster = Cluster(seed=2)
    cluster.api.create(cronjob("* * * * *"))
    cluster.advance(5 * 60 + 30)
    jobs = sorted(j["metadata"]["name"] for j in cluster.store.iter(JOBS, "default"))
    assert len(jobs) == 3
    minutes = [int(n.rsplit("-", 1)[1]) for n in jobs]
    assert minutes == [minutes[0], minutes[0] + 1, minutes[0] + 2]
    status = cluster.store.get(CRONJOBS, "default", "tick")["status"]
    assert status["lastScheduleTime"].endswith(":05:00Z")


def test_forbid_skips_while_one_runs() -> None:
    cluster = Cluster(seed=2)
    cluster.api.create(cronjob("*/1 * * * *", "sleep 150", concurrencyPolicy="Forbid"))
    cluster.advance(4 * 60 + 30)
    reasons = [e["reason"] for e in cluster.store.iter(EVENTS, "default")
               if e["involvedObject"]["kind"] == "CronJob"]
    assert "JobAlreadyActive" in reasons
    assert len(list(cluster.store.iter(JOBS, "default"))) == 2


def test_invalid_schedule_is_refused() -> None:
    cluster = Cluster(seed=2)
    try:
        cluster.api.create(cronjob("every minute"))
    except Exception as exc:  # noqa: BLE001
        assert "spec.schedule" in str(exc)
    else:
        raise AssertionError("accepted")


def test_a_resumed_cron_job_starts_only_the_latest_missed_run() -> None:
    cluster = Cluster(seed=2)
    cluster.api.create(cronjob("* * * * *", suspend=True))
    cluster.advance(3 * 24 * 3600)  # three days of missed minutes
    cj = cluster.store.get(CRONJOBS, "default", "tick")
    cluster.api.update({**cj, "spec": {**cj["spec"], "suspend": False}})
    cluster.advance(1)
    jobs = [j["metadata"]["name"] for j in cluster.store.iter(JOBS, "default")]
    assert len(jobs) == 1
    minute = int(cluster.clock.datetime().timestamp()) // 60
    assert jobs == [f"tick-{minute}"]
    warnings = [e["message"] for e in cluster.store.iter(EVENTS, "default")
                if e["reason"] == "TooManyMissedTimes"]
    assert warnings == ["too many missed start times. Set or decrease "
                        ".spec.startingDeadlineSeconds or check clock skew"]


def test_a_starting_deadline_bounds_the_missed_count() -> None:
    cluster = Cluster(seed=2)
    cluster.api.create(cronjob("* * * * *", suspend=True, startingDeadlineSeconds=200))
    cluster.advance(3 * 3600)
    cj = cluster.store.get(CRONJOBS, "default", "tick")
    cluster.api.update({**cj, "spec": {**cj["spec"], "suspend": False}})
    cluster.advance(1)
    assert len(list(cluster.store.iter(JOBS, "default"))) == 1
    assert not [e for e in cluster.store.iter(EVENTS, "default")
                if e["reason"] == "TooManyMissedTimes"]


def test_a_schedule_past_its_starting_deadline_is_missed() -> None:
    """The controller manager is down over the hour. Back later than
    startingDeadlineSeconds, it does not start that hour's Job (upstream counts missed
    schedules only within the deadline); without a deadline the late Job starts."""
    for deadline, started in ((30, 0), (None, 1)):
        cluster = Cluster(seed=2)
        extra = {} if deadline is None else {"startingDeadlineSeconds": deadline}
        cluster.api.create(cronjob("0 * * * *", **extra))
        now = cluster.clock.datetime()
        to_hour = 3600 - (now.minute * 60 + now.second + now.microsecond / 1e6)
        cluster.advance(to_hour - 60)
        cluster.control_plane.stop("kube-controller-manager", None)
        cluster.advance(120)
        cluster.control_plane.start("kube-controller-manager", None)
        cluster.advance(60)
        assert len(list(cluster.store.iter(JOBS, "default"))) == started, deadline
        assert not [e for e in cluster.store.iter(EVENTS, "default")
                    if e["reason"] == "TooManyMissedTimes"]
        cluster.advance(3600)
        assert len(list(cluster.store.iter(JOBS, "default"))) == started + 1


def test_pod_failure_policy_ignores_an_evicted_pod() -> None:
    """An evicted pod carries DisruptionTarget: the Ignore rule keeps it out of the failed
    count, and the Job replaces it and completes."""
    cluster = Cluster(seed=2)
    cluster.api.create(job("pf", "sleep 120", backoffLimit=0, podFailurePolicy={"rules": [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}))
    cluster.advance(10)
    first = job_pods(cluster, "pf")[0]["metadata"]["name"]
    cluster.api.evict("default", first)  # sh ignores SIGTERM: killed after the grace period
    cluster.advance(300)
    got = cluster.store.get(JOBS, "default", "pf")
    assert conditions(cluster, "pf").get("Complete") == "CompletionsReached", got["status"]
    assert "failed" not in got["status"]
    assert [p["status"]["phase"] for p in job_pods(cluster, "pf")] == ["Succeeded"]


def test_indexed_job_gives_each_pod_its_index() -> None:
    cluster = Cluster(seed=2)
    cluster.api.create(job("ix", "echo $JOB_COMPLETION_INDEX; sleep 5", completions=5,
                           parallelism=2, completionMode="Indexed"))
    cluster.advance(3)
    first = sorted(job_pods(cluster, "ix"), key=lambda p: p["metadata"]["name"])
    assert [p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
            for p in first] == ["0", "1"]
    pod = first[1]
    assert pod["metadata"]["name"].startswith("ix-1-")
    assert pod["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] == "1"
    assert pod["spec"]["hostname"] == "ix-1"
    assert {"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
        "apiVersion": "v1", "fieldPath":
            "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}} in \
        pod["spec"]["containers"][0]["env"]
    cluster.advance(7)
    status = cluster.store.get(JOBS, "default", "ix")["status"]
    assert status["completedIndexes"] == "0,1" and status["succeeded"] == 2
    cluster.advance(60)
    status = cluster.store.get(JOBS, "default", "ix")["status"]
    assert status["completedIndexes"] == "0-4" and status["succeeded"] == 5
    assert conditions(cluster, "ix")["Complete"] == "CompletionsReached"
    logs = {line for p in job_pods(cluster, "ix")
            for _, line in cluster.nodes.log_lines("default", p["metadata"]["name"])}
    assert logs == {"0", "1", "2", "3", "4"}


def test_indexed_job_needs_completions() -> None:
    cluster = Cluster(seed=2)
    try:
        cluster.api.create(job("ix", "true", parallelism=2, completions=None,
                               completionMode="Indexed"))
    except Exception as exc:  # noqa: BLE001
        assert "spec.completions: Required value: when completion mode is Indexed" in str(exc)
    else:
        raise AssertionError("accepted")


def test_pod_failure_policy_fail_job_on_exit_code() -> None:
    cluster = Cluster(seed=2)
    cluster.api.create(job("pf", "exit 42", backoffLimit=6, podFailurePolicy={"rules": [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
        {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]}))
    cluster.advance(60)
    got = cluster.store.get(JOBS, "default", "pf")
    failed = [c for c in got["status"]["conditions"] if c["type"] == "Failed"]
    pod = job_pods(cluster, "pf")[0]["metadata"]["name"]
    assert failed and failed[0]["reason"] == "PodFailurePolicy"
    assert failed[0]["message"] == (f"Container c for pod default/{pod} failed with exit "
                                    "code 42 matching FailJob rule at index 1")
    assert len(job_pods(cluster, "pf")) == 1 and got["status"]["failed"] == 1


def test_pod_failure_policy_ignore_does_not_count() -> None:
    cluster = Cluster(seed=2)
    cluster.api.create(job("pf", "exit 3", backoffLimit=1, podFailurePolicy={"rules": [
        {"action": "Count", "onExitCodes": {"operator": "In", "values": [1]}},
        {"action": "Ignore", "onExitCodes": {"operator": "NotIn", "values": [1, 2]}}]}))
    cluster.advance(120)
    got = cluster.store.get(JOBS, "default", "pf")
    # Ignored failures are replaced at once, without back-off and without counting.
    assert "failed" not in got["status"] and not conditions(cluster, "pf")
    assert len(job_pods(cluster, "pf")) > 5
    assert all("finalizers" not in p["metadata"] for p in job_pods(cluster, "pf")
               if p["status"]["phase"] == "Failed")


def test_pod_failure_policy_needs_restart_policy_never() -> None:
    cluster = Cluster(seed=2)
    try:
        cluster.api.create(job("pf", "true", restart="OnFailure", podFailurePolicy={
            "rules": [{"action": "Ignore", "onExitCodes": {"operator": "In", "values": [1]}}]}))
    except Exception as exc:  # noqa: BLE001
        assert "spec.template.spec.restartPolicy" in str(exc)
    else:
        raise AssertionError("accepted")
