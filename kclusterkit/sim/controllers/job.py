"""The Job controller, following pkg/controller/job/job_controller.go.

It keeps ``min(parallelism, completions - succeeded)`` pods active, counts finished pods
through the ``batch.kubernetes.io/job-tracking`` finalizer (removed once counted), waits
an exponential back-off after failures before creating replacements (10 s doubling, at
most 10 minutes: DefaultJobPodFailureBackOff / MaxJobPodFailureBackOff), and finishes the
Job with upstream's conditions: ``SuccessCriteriaMet`` then ``Complete`` (reason
CompletionsReached), or ``FailureTarget`` then ``Failed`` (BackoffLimitExceeded,
DeadlineExceeded) after terminating what is still running. With ``restartPolicy:
OnFailure`` container restarts count towards the back-off limit, as upstream's
pastBackoffLimitOnFailure does. Indexed jobs (``job_indexed``) give each pod a completion
index and finish when every index succeeded; a pod failure policy (``job_failure_policy``)
may ignore a failure, count it, or fail the whole Job.

Deliberate differences: no expectations and no uncountedTerminatedPods bookkeeping (the
store is never stale and a sync never dies half-way); backoffLimitPerIndex, successPolicy
and suspend's pod deletion are not modelled.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.kube.meta import Obj, clone, controller_of, owner_reference, selector_matches
from kclusterkit.sim.api import Api
from kclusterkit.sim.controllers import job_failure_policy, job_indexed
from kclusterkit.sim.controllers.util import (
    RetryingQueue,
    create_pod,
    delete_pod,
    drop_finalizer,
    is_pod_ready,
)
from kclusterkit.sim.resources import JOBS, PODS

COMPONENT = "job-controller"
TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
BACKOFF_BASE = 10.0
BACKOFF_MAX = 600.0
MSG_COMPLETED = "Reached expected number of succeeded pods"
MSG_BACKOFF = "Job has reached the specified backoff limit"
MSG_DEADLINE = "Job was active longer than specified deadline"

Key = tuple[str, str]


def job_condition(job: Obj, ctype: str) -> dict[str, Any] | None:
    for cond in (job.get("status") or {}).get("conditions") or ():
        if cond.get("type") == ctype and cond.get("status") == "True":
            return cond
    return None


def is_finished(job: Obj) -> bool:
    return job_condition(job, "Complete") is not None or job_condition(job, "Failed") is not None


def _phase(pod: Obj) -> str:
    return (pod.get("status") or {}).get("phase", "")


def _finished_at(clock: Any, pod: Obj) -> float:
    """When a pod ended: its containers' latest finishedAt, else its last transition."""
    best = None
    for cs in (pod.get("status") or {}).get("containerStatuses") or ():
        term = (cs.get("state") or {}).get("terminated") or {}
        if term.get("finishedAt"):
            t = clock.seconds_of(term["finishedAt"])
            best = t if best is None else max(best, t)
    if best is None:
        stamps = [c.get("lastTransitionTime") for c in (pod.get("status") or {}).get(
            "conditions") or () if c.get("lastTransitionTime")]
        best = max((clock.seconds_of(s) for s in stamps), default=clock.now)
    return best


class JobController:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store
        self.clock = api.clock
        self.queue = RetryingQueue(self.clock, self.sync)
        # When each job's last counted pod failure happened (upstream's backoffRecordStore).
        self._last_failure: dict[str, float] = {}
        for job in self.store.iter(JOBS):
            self.queue.add(_key(job))
        self.store.subscribe(JOBS, lambda e, o, old: self.queue.add(_key(o)))
        self.store.subscribe(PODS, self._on_pod)

    def _on_pod(self, etype: str, pod: Obj, old: Obj | None) -> None:
        ref = controller_of(pod) or (controller_of(old) if old is not None else None)
        if ref is None or ref.get("kind") != "Job":
            return
        self.queue.add((pod["metadata"].get("namespace", ""), ref.get("name", "")))

    def _pods(self, job: Obj) -> list[Obj]:
        uid = job["metadata"]["uid"]
        selector = job["spec"].get("selector")
        return [p for p in self.store.owned_by(uid, PODS)
                if (controller_of(p) or {}).get("uid") == uid
                and selector_matches(selector, p["metadata"].get("labels"))]

    # -- sync -----------------------------------------------------------------------------
    def sync(self, key: Key) -> None:
        job = self.store.get(JOBS, *key)
        if job is None:
            return
        pods = self._pods(job)
        if is_finished(job) or job["metadata"].get("deletionTimestamp"):
            self._count_and_release(job, pods, {})
            return
        indexed = job_indexed.is_indexed(job)
        spec = job["spec"]
        status = clone(job.get("status") or {})
        now = self.clock.now
        if not status.get("startTime") and not spec.get("suspend"):
            status["startTime"] = self.clock.timestamp()
        status, policy_failure = self._count_and_release(job, pods, status)
        active = [p for p in pods if _phase(p) not in ("Succeeded", "Failed")
                  and not p["metadata"].get("deletionTimestamp")]
        terminating = [p for p in pods if p["metadata"].get("deletionTimestamp")
                       and _phase(p) not in ("Succeeded", "Failed")]
        succeeded = status.get("succeeded", 0)
        failed = status.get("failed", 0)
        completions = spec.get("completions")
        parallelism = spec.get("parallelism", 1)
        backoff_limit = spec.get("backoffLimit", 6)
        restarts = 0
        if (spec.get("template") or {}).get("spec", {}).get("restartPolicy") == "OnFailure":
            for pod in active:
                for cs in (pod.get("status") or {}).get("containerStatuses") or ():
                    restarts += cs.get("restartCount", 0)
        failure: tuple[str, str] | None = None
        if policy_failure is not None:
            failure = (job_failure_policy.REASON, policy_failure)
        # exceedsBackoffLimit, or pastBackoffLimitOnFailure for restartPolicy OnFailure.
        on_failure_exceeded = restarts > 0 if backoff_limit == 0 else \
            restarts > 0 and restarts >= backoff_limit
        if failure is None and (failed > backoff_limit or on_failure_exceeded):
            failure = ("BackoffLimitExceeded", MSG_BACKOFF)
        deadline = spec.get("activeDeadlineSeconds")
        if failure is None and deadline is not None and status.get("startTime"):
            started = self.clock.seconds_of(status["startTime"])
            if now - started >= deadline:
                failure = ("DeadlineExceeded", MSG_DEADLINE)
            else:
                self.queue.add_after(key, started + deadline - now)
        complete = (completions is not None and succeeded >= completions) or (
            completions is None and succeeded > 0 and not active)
        conditions = list(status.get("conditions") or ())
        if failure is not None:
            if not any(c.get("type") == "FailureTarget" for c in conditions):
                conditions.append(self._condition("FailureTarget", *failure))
                self.api.record_event(job, "Warning", failure[0], failure[1], COMPONENT)
            for pod in active:
                self._delete_pod(job, pod)
            if not active and not terminating:
                conditions.append(self._condition("Failed", *failure))
        elif complete:
            if not any(c.get("type") == "SuccessCriteriaMet" for c in conditions):
                conditions.append(self._condition("SuccessCriteriaMet", "CompletionsReached",
                                                  MSG_COMPLETED))
            for pod in active:
                self._delete_pod(job, pod)
            if not active and not terminating:
                conditions.append(self._condition("Complete", "CompletionsReached",
                                                  MSG_COMPLETED))
                status["completionTime"] = self.clock.timestamp()
                self.api.record_event(job, "Normal", "Completed", "Job completed", COMPONENT)
        elif not spec.get("suspend"):
            want = parallelism if completions is None else min(parallelism,
                                                               completions - succeeded)
            if completions is None and succeeded > 0:
                want = 0
            missing = want - len(active)
            if spec.get("podReplacementPolicy") == "Failed":
                missing -= len(terminating)  # replace only once they are gone
            if missing > 0:
                wait = self._backoff_remaining(job, pods, failed)
                if wait > 0:
                    self.queue.add_after(key, wait)
                elif indexed:
                    completed = job_indexed.parse_indexes(status.get("completedIndexes"),
                                                          completions or 0)
                    running = {job_indexed.pod_index(p) for p in active}
                    if spec.get("podReplacementPolicy") == "Failed":
                        # onlyReplaceFailedPods: a terminating pod's index is not pending.
                        running |= {job_indexed.pod_index(p) for p in terminating}
                    for index in job_indexed.first_pending(missing, completions or 0,
                                                           completed, running):
                        self._create_pod(job, index)
                else:
                    for _ in range(missing):
                        self._create_pod(job)
            elif missing < 0:
                for pod in sorted(active, key=lambda p: is_pod_ready(p))[:-missing]:
                    self._delete_pod(job, pod)
        status["conditions"] = conditions
        pods = self._pods(job)
        now_active = [p for p in pods if _phase(p) not in ("Succeeded", "Failed")
                      and not p["metadata"].get("deletionTimestamp")]
        status["active"] = len(now_active)
        status["ready"] = sum(1 for p in now_active if is_pod_ready(p))
        status["terminating"] = sum(1 for p in pods if p["metadata"].get("deletionTimestamp")
                                    and _phase(p) not in ("Succeeded", "Failed"))
        status.setdefault("uncountedTerminatedPods", {})
        self._write_status(job, status)

    def _backoff_remaining(self, job: Obj, pods: list[Obj], failed: int) -> float:
        """getRemainingTimePerIndex / calculated back-off: 10 s · 2^(failures-1), capped,
        from the last failure."""
        if failed <= 0:
            return 0.0
        delay = min(BACKOFF_BASE * 2 ** (failed - 1), BACKOFF_MAX)
        times = [_finished_at(self.clock, p) for p in pods if _phase(p) == "Failed"]
        last = max(times) if times else self._last_failure.get(job["metadata"]["uid"])
        if last is None:
            return 0.0
        return max(last + delay - self.clock.now, 0.0)

    @staticmethod
    def _condition(ctype: str, reason: str, message: str) -> dict[str, Any]:
        return {"type": ctype, "status": "True", "reason": reason, "message": message}

    def _count_and_release(self, job: Obj, pods: list[Obj], status: dict[str, Any]
                           ) -> tuple[dict[str, Any], str | None]:
        """Count finished pods that still carry the tracking finalizer, then remove it.
        Also returns the message of a pod failure policy's FailJob rule a pod matched."""
        fail_job: str | None = None
        has_policy = bool((job.get("spec") or {}).get("podFailurePolicy"))
        completions = (job.get("spec") or {}).get("completions") or 0
        indexed = job_indexed.is_indexed(job)
        completed = job_indexed.parse_indexes(status.get("completedIndexes"), completions)
        for pod in pods:
            finalizers = pod["metadata"].get("finalizers") or []
            if TRACKING_FINALIZER not in finalizers:
                continue
            phase = _phase(pod)
            deleting = bool(pod["metadata"].get("deletionTimestamp"))
            if phase == "Succeeded":
                index = job_indexed.pod_index(pod) if indexed else None
                if index is not None and index < completions:
                    completed.add(index)
                elif not indexed:
                    status["succeeded"] = status.get("succeeded", 0) + 1
            elif phase == "Failed" or (deleting and not is_finished(job) and not has_policy):
                # With a pod failure policy a terminating pod counts once it has failed
                # (isPodFailed), so its exit codes and conditions can be matched.
                action, message = job_failure_policy.match(job, pod) if phase == "Failed" \
                    else ("Count", None)
                if action == "FailJob" and fail_job is None:
                    fail_job = message
                if action != "Ignore":
                    status["failed"] = status.get("failed", 0) + 1
                    self._last_failure[job["metadata"]["uid"]] = _finished_at(
                        self.clock, pod) if phase == "Failed" else self.clock.now
            elif not deleting or (has_policy and not is_finished(job)):
                continue
            drop_finalizer(self.api, pod, TRACKING_FINALIZER)
        if indexed:
            status["succeeded"] = len(completed)
            status["completedIndexes"] = job_indexed.format_indexes(completed)
        return status, fail_job

    def _write_status(self, job: Obj, status: dict[str, Any]) -> None:
        now_ts = self.clock.timestamp()
        old_conditions = {c.get("type"): c for c in (job.get("status") or {}).get(
            "conditions") or ()}
        conditions = []
        for cond in status.get("conditions") or ():
            prev = old_conditions.get(cond["type"])
            if prev is not None and prev.get("status") == cond.get("status"):
                conditions.append(prev)
            else:
                conditions.append({**cond, "lastProbeTime": now_ts,
                                   "lastTransitionTime": now_ts})
        out: dict[str, Any] = {}
        if conditions:
            out["conditions"] = conditions
        for field in ("startTime", "completionTime", "completedIndexes"):
            if status.get(field):
                out[field] = status[field]
        for field in ("active", "succeeded", "failed", "terminating"):
            if status.get(field):
                out[field] = status[field]
        out["uncountedTerminatedPods"] = {}
        out["ready"] = status.get("ready", 0)
        if out == (job.get("status") or {}):
            return
        fresh = self.store.get(JOBS, *_key(job))
        if fresh is None:
            return
        fresh = clone(fresh)
        fresh["status"] = out
        self.api.update(fresh, subresource="status")

    def _create_pod(self, job: Obj, index: int | None = None) -> None:
        meta = job["metadata"]
        template = job["spec"].get("template") or {}
        tmeta = template.get("metadata") or {}
        pod_meta: dict[str, Any] = {"generateName": f"{meta['name']}-",
                                    "namespace": meta.get("namespace", ""),
                                    "labels": dict(tmeta.get("labels") or {}),
                                    "ownerReferences": [owner_reference(job)],
                                    "finalizers": [TRACKING_FINALIZER]}
        if tmeta.get("annotations"):
            pod_meta["annotations"] = dict(tmeta["annotations"])
        spec = clone(template.get("spec") or {})
        if index is not None:
            job_indexed.index_pod(meta["name"], pod_meta, spec, index)
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": spec}
        create_pod(self.api, job, pod, COMPONENT)

    def _delete_pod(self, job: Obj, pod: Obj) -> None:
        delete_pod(self.api, job, pod, COMPONENT)


def _key(obj: Obj) -> Key:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
