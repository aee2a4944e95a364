"""Steps about batch work: Jobs that run to completion and CronJobs that start them.

A Job is done when it has the Complete condition and failed when it has Failed (the
reason, e.g. BackoffLimitExceeded or DeadlineExceeded, is shown); a CronJob has run as
many times as it has created Jobs that still exist (its history limits delete older ones).
Times are cluster time: a CronJob "every minute" on the simulator costs no wall time.
"""

# ruff: noqa: E501  (a step's Example must stay on one line: the catalog prints it as is)
from __future__ import annotations

from typing import Any

from kclusterkit.driver import Observation
from kclusterkit.steps._support import (
    Obj,
    StepUsageError,
    check_now,
    kk,
    pod_table,
    step,
    wait_for,
)
from kclusterkit.steps.workloads import container_for


def job_manifest(name: str, image: str, completions: int = 1, parallelism: int = 1,
                 backoff_limit: int | None = None) -> Obj:
    spec: Obj = {"completions": completions, "parallelism": parallelism,
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"restartPolicy": "Never",
                                       "containers": [container_for(image)]}}}
    if backoff_limit is not None:
        spec["backoffLimit"] = backoff_limit
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": spec}


def _condition(job: Obj, ctype: str) -> Obj | None:
    for cond in (job.get("status") or {}).get("conditions") or ():
        if cond.get("type") == ctype and cond.get("status") == "True":
            return cond
    return None


def _job_pods(driver: Any, job: Obj) -> list[Obj]:
    uid = job["metadata"].get("uid")
    return sorted((p for p in driver.list("pods", labels=f"batch.kubernetes.io/controller-uid={uid}")),
                  key=lambda p: p["metadata"]["name"])


def _job_seen(driver: Any, name: str) -> tuple[Obj | None, str, list[Obj]]:
    job = driver.get("jobs", name)
    if job is None:
        return None, f'job "{name}" does not exist', []
    status = job.get("status") or {}
    conditions = [f'{c.get("type")} ({c.get("reason", "")})'
                  for c in status.get("conditions") or () if c.get("status") == "True"]
    pods = _job_pods(driver, job)
    seen = (f'job "{name}": active {status.get("active", 0)}, succeeded '
            f'{status.get("succeeded", 0)}, failed {status.get("failed", 0)}; conditions: '
            f'{", ".join(conditions) or "none"}\n{pod_table(pods)}')
    return job, seen, pods


# -- Given ---------------------------------------------------------------------------------
@step("given", 'a job "{name:Q}" running "{image:Q}"')
def a_job(context: Any, name: str, image: str) -> None:
    """A Job that runs one pod to completion (restartPolicy Never; words after the image
    are its arguments).

    Example: Given a job "migrate" running "busybox:1.36 sh -c 'sleep 5'"
    """
    kk(context).driver.create(job_manifest(name, image))


@step("given", 'a job "{name:Q}" running "{image:Q}" with {n:N} completion(s), {p:N} at a time')
def a_parallel_job(context: Any, name: str, image: str, n: int, p: int) -> None:
    """A Job that needs n successful pods, running at most p at once.

    Example: Given a job "work" running "busybox:1.36 sh -c 'sleep 5'" with 6 completions, 2 at a time
    """
    if n < 1 or p < 1:
        raise StepUsageError("completions and parallelism must be at least 1")
    kk(context).driver.create(job_manifest(name, image, n, p))


@step("given", 'a job "{name:Q}" running "{image:Q}" with a back-off limit of {n:d}')
def a_job_with_backoff(context: Any, name: str, image: str, n: int) -> None:
    """A Job that gives up after n retries (n + 1 failed pods).

    Example: Given a job "flaky" running "busybox:1.36 sh -c 'exit 1'" with a back-off limit of 2
    """
    kk(context).driver.create(job_manifest(name, image, backoff_limit=n))


@step("given", 'a cron job "{name:Q}" running "{image:Q}" on schedule "{schedule:Q}"')
def a_cron_job(context: Any, name: str, image: str, schedule: str) -> None:
    """A CronJob starting a Job of the image on a standard cron schedule (cluster time).

    Example: Given a cron job "tick" running "busybox:1.36 sh -c 'date'" on schedule "*/1 * * * *"
    """
    job = job_manifest(name, image)
    kk(context).driver.create({
        "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
        "spec": {"schedule": schedule,
                 "jobTemplate": {"metadata": {"labels": {"app": name}}, "spec": job["spec"]}}})


# -- Then ----------------------------------------------------------------------------------
@step("then", 'job "{name:Q}" completes within {d:Duration}', any_keyword=True)
def job_completes(context: Any, name: str, d: float) -> None:
    """The Job gets its Complete condition.

    Example: Then job "migrate" completes within 1 minute
    """
    driver = kk(context).driver

    def check() -> Observation:
        job, seen, pods = _job_seen(driver, name)
        return Observation(job is not None and _condition(job, "Complete") is not None,
                           seen, [o for o in (job, *pods) if o])

    wait_for(context, f'job "{name}" to complete', check, d, kinds=("jobs", "pods"))


@step("then", 'job "{name:Q}" has run {n:N} pod(s) to completion, at most {p:N} at a time')
def job_ran_pods(context: Any, name: str, n: int, p: int) -> None:
    """The finished Job's succeeded pods, and no more than p of them overlapped in time.

    Example: Then job "work" has run 6 pods to completion, at most 2 at a time
    """
    driver = kk(context).driver

    def check() -> Observation:
        job, seen, pods = _job_seen(driver, name)
        spans = []
        for pod in pods:
            started = (pod.get("status") or {}).get("startTime")
            ends = [((cs.get("state") or {}).get("terminated") or {}).get("finishedAt")
                    for cs in (pod.get("status") or {}).get("containerStatuses") or ()]
            if started and all(ends):
                spans.append((started, max(ends)))
        overlap = max((sum(1 for s, e in spans if s <= t < e) for t, _ in spans), default=0)
        succeeded = ((job or {}).get("status") or {}).get("succeeded", 0)
        return Observation(succeeded == n and overlap <= p,
                           f"{seen}\nmost pods running at once: {overlap}",
                           [o for o in (job, *pods) if o])

    check_now(context, f'job "{name}" to have {n} succeeded pods, at most {p} at a time',
              check)


@step("then", 'job "{name:Q}" fails after {n:N} attempt(s) within {d:Duration}', any_keyword=True)
def job_fails(context: Any, name: str, n: int, d: float) -> None:
    """The Job gets its Failed condition (BackoffLimitExceeded) with exactly n failed pods.

    Example: Then job "flaky" fails after 3 attempts within 5 minutes
    """
    driver = kk(context).driver

    def check() -> Observation:
        job, seen, pods = _job_seen(driver, name)
        failed = _condition(job, "Failed") if job else None
        count = ((job or {}).get("status") or {}).get("failed", 0)
        return Observation(failed is not None and failed.get("reason") == "BackoffLimitExceeded"
                           and count == n, seen, [o for o in (job, *pods) if o])

    wait_for(context, f'job "{name}" to fail after {n} attempts', check, d,
             kinds=("jobs", "pods"))


@step("then", 'cron job "{name:Q}" has run {n:N} time(s) within {d:Duration}', any_keyword=True)
def cron_job_ran(context: Any, name: str, n: int, d: float) -> None:
    """At least n Jobs of the CronJob exist (older ones beyond the history limits of 3
    successful and 1 failed are deleted, so ask for at most 3).

    Example: Then cron job "tick" has run 2 times within 3 minutes
    """
    driver = kk(context).driver

    def check() -> Observation:
        cron = driver.get("cronjobs", name)
        if cron is None:
            return Observation(False, f'cron job "{name}" does not exist')
        uid = cron["metadata"].get("uid")
        jobs = [j for j in driver.list("jobs")
                if any(r.get("uid") == uid for r in j["metadata"].get("ownerReferences") or ())]
        names = sorted(j["metadata"]["name"] for j in jobs)
        last = (cron.get("status") or {}).get("lastScheduleTime")
        return Observation(len(jobs) >= n,
                           f"jobs: {', '.join(names) or 'none'}; last scheduled {last}",
                           [cron, *jobs])

    wait_for(context, f'cron job "{name}" to have run {n} times', check, d,
             kinds=("cronjobs", "jobs"))


# -- Indexed jobs and pod failure policy ---------------------------------------------------
@step("given", 'an indexed job "{name:Q}" running "{image:Q}" with {n:N} completion(s), {p:N} at a time')
def an_indexed_job(context: Any, name: str, image: str, n: int, p: int) -> None:
    """An Indexed Job: each pod gets a completion index 0…n-1 (``JOB_COMPLETION_INDEX``
    in its environment) and the Job is done when every index has succeeded once.

    Example: Given an indexed job "shard" running "busybox:1.36 sh -c 'echo $JOB_COMPLETION_INDEX'" with 5 completions, 2 at a time
    """
    if n < 1 or p < 1:
        raise StepUsageError("completions and parallelism must be at least 1")
    obj = job_manifest(name, image, n, p)
    obj["spec"]["completionMode"] = "Indexed"
    kk(context).driver.create(obj)


@step("given", 'a job "{name:Q}" running "{image:Q}" that fails as a whole on exit code {code:d}')
def a_job_failing_on_exit_code(context: Any, name: str, image: str, code: int) -> None:
    """A Job whose pod failure policy ends it at once when a container exits with the code
    (rule ``FailJob`` on ``onExitCodes``), while disruptions (the ``DisruptionTarget``
    condition) are ignored and other failures count towards the back-off limit.

    Example: Given a job "fatal" running "busybox:1.36 sh -c 'exit 42'" that fails as a whole on exit code 42
    """
    obj = job_manifest(name, image)
    obj["spec"]["podFailurePolicy"] = {"rules": [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
        {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [code]}}]}
    kk(context).driver.create(obj)


@step("then", 'job "{name:Q}" completed indexes "{indexes:Q}" within {d:Duration}', any_keyword=True)
def job_completed_indexes(context: Any, name: str, indexes: str, d: float) -> None:
    """The Indexed Job completes and its ``status.completedIndexes`` reads as given
    (upstream's compressed form: "0-4", "0,1", "1,3-5").

    Example: Then job "shard" completed indexes "0-4" within 2 minutes
    """
    driver = kk(context).driver

    def check() -> Observation:
        job, seen, pods = _job_seen(driver, name)
        got = ((job or {}).get("status") or {}).get("completedIndexes", "")
        done = job is not None and _condition(job, "Complete") is not None
        return Observation(done and got == indexes, f"{seen}\ncompletedIndexes: {got!r}",
                           [o for o in (job, *pods) if o])

    wait_for(context, f'job "{name}" to complete indexes "{indexes}"', check, d,
             kinds=("jobs", "pods"))


@step("then", 'job "{name:Q}" fails with reason "{reason:Q}" within {d:Duration}', any_keyword=True)
def job_fails_with_reason(context: Any, name: str, reason: str, d: float) -> None:
    """The Job gets its Failed condition with the reason (PodFailurePolicy,
    BackoffLimitExceeded, DeadlineExceeded …); its message is shown.

    Example: Then job "fatal" fails with reason "PodFailurePolicy" within 1 minute
    """
    driver = kk(context).driver

    def check() -> Observation:
        job, seen, pods = _job_seen(driver, name)
        failed = _condition(job, "Failed") if job else None
        message = f'\nFailed: {failed.get("message")}' if failed else ""
        return Observation(failed is not None and failed.get("reason") == reason,
                           seen + message, [o for o in (job, *pods) if o])

    wait_for(context, f'job "{name}" to fail with reason {reason}', check, d,
             kinds=("jobs", "pods"))
