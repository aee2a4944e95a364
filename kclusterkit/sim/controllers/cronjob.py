"""The CronJob controller, following pkg/controller/cronjob/cronjob_controllerv2.go.

On cluster time, at each scheduled minute it creates the Job ``<cronjob>-<minutes since the
epoch>`` from the job template, honouring ``concurrencyPolicy`` (Allow, Forbid: skip while
one runs, Replace: delete the running one first), ``startingDeadlineSeconds`` (a schedule
started later than that is missed: MissSchedule; the deadline also bounds how far back
missed schedules are counted), ``suspend``, a TooManyMissedTimes warning when more than 100
schedules were missed, and the history limits (3 successful, 1 failed by default), with
upstream's events. The schedule is parsed by croniter (standard five-field cron syntax
and the ``@hourly``-style descriptors that robfig/cron, used upstream, accepts), in
``spec.timeZone`` or UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from kclusterkit.kube.meta import Obj, clone, controller_of, owner_reference
from kclusterkit.sim import errors
from kclusterkit.sim.api import Api
from kclusterkit.sim.controllers.job import job_condition
from kclusterkit.sim.controllers.util import RetryingQueue
from kclusterkit.sim.resources import CRONJOBS, JOBS

COMPONENT = "cronjob-controller"
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
NEXT_SCHEDULE_DELTA = 0.1  # nextScheduleTimeDuration adds 100 ms
TOO_MANY_MISSED = 100  # more missed schedules than this gives TooManyMissedTimes

Key = tuple[str, str]


def _zone(cj: Obj) -> Any:
    name = (cj.get("spec") or {}).get("timeZone")
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def most_recent_schedule(schedule: str, earliest: datetime, now: datetime
                         ) -> tuple[datetime | None, int]:
    """mostRecentScheduleTime (utils.go): the latest scheduled time t with
    earliest < t <= now, found from now backwards so a long-suspended CronJob costs one step,
    and how many were missed, estimated as upstream does from the first two schedules after
    ``earliest``: (now - t1) / (t2 - t1) + 1."""
    t1 = croniter(schedule, earliest).get_next(datetime)
    if now < t1:
        return None, 0
    t2 = croniter(schedule, t1).get_next(datetime)
    if now < t2:
        return t1, 1
    between = round((t2 - t1).total_seconds())
    missed = int((now - t1).total_seconds()) // max(between, 1) + 1
    latest = croniter(schedule, now + timedelta(microseconds=1)).get_prev(datetime)
    return (latest if latest > earliest else None), missed


def next_schedule(schedule: str, now: datetime) -> datetime:
    return croniter(schedule, now).get_next(datetime)


class CronJobController:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store
        self.clock = api.clock
        self.queue = RetryingQueue(self.clock, self.sync)
        for cj in self.store.iter(CRONJOBS):
            self.queue.add(_key(cj))
        self.store.subscribe(CRONJOBS, lambda e, o, old: self.queue.add(_key(o)))
        self.store.subscribe(JOBS, self._on_job)

    def _on_job(self, etype: str, job: Obj, old: Obj | None) -> None:
        ref = controller_of(job)
        if ref is not None and ref.get("kind") == "CronJob":
            self.queue.add((job["metadata"].get("namespace", ""), ref.get("name", "")))

    def _jobs(self, cj: Obj) -> list[Obj]:
        uid = cj["metadata"]["uid"]
        return [j for j in self.store.owned_by(uid, JOBS)
                if (controller_of(j) or {}).get("uid") == uid]

    def sync(self, key: Key) -> None:
        cj = self.store.get(CRONJOBS, *key)
        if cj is None:
            return
        jobs = self._jobs(cj)
        status = clone(cj.get("status") or {})
        self._reconcile_active(cj, jobs, status)
        if cj["metadata"].get("deletionTimestamp"):
            self._write_status(cj, status)
            return
        self._cleanup_history(cj, jobs)
        spec = cj["spec"]
        zone = _zone(cj)
        if zone is None:
            self.api.record_event(cj, "Warning", "UnknownTimeZone",
                                  f"invalid timeZone: {spec.get('timeZone')!r}", COMPONENT)
            self._write_status(cj, status)
            return
        if spec.get("suspend"):
            self._write_status(cj, status)
            return
        now = self.clock.datetime().astimezone(zone)
        schedule = spec.get("schedule", "")
        last = status.get("lastScheduleTime") or cj["metadata"].get("creationTimestamp")
        earliest = self.clock.datetime(self.clock.seconds_of(last)).astimezone(zone)
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None:
            earliest = max(earliest, now - timedelta(seconds=deadline))
        scheduled, missed = most_recent_schedule(schedule, earliest, now)
        if scheduled is not None and missed > TOO_MANY_MISSED:
            # nextScheduleTime: a warning, then the most recent schedule still starts.
            self.api.record_event(cj, "Warning", "TooManyMissedTimes",
                                  "too many missed start times. Set or decrease "
                                  ".spec.startingDeadlineSeconds or check clock skew",
                                  COMPONENT)
        if scheduled is not None:
            if deadline is not None and scheduled + timedelta(seconds=deadline) < now:
                self.api.record_event(cj, "Warning", "MissSchedule",
                                      f"Missed scheduled time to start a job: "
                                      f"{_rfc1123z(scheduled)}",
                                      COMPONENT)
            else:
                self._start(cj, status, scheduled)
        self._write_status(cj, status)
        nxt = next_schedule(schedule, now)
        self.queue.add_after(key, (nxt - now).total_seconds() + NEXT_SCHEDULE_DELTA)

    def _start(self, cj: Obj, status: dict[str, Any], scheduled: datetime) -> None:
        spec = cj["spec"]
        policy = spec.get("concurrencyPolicy", "Allow")
        active = status.get("active") or []
        if active and policy == "Forbid":
            self.api.record_event(cj, "Normal", "JobAlreadyActive",
                                  "Not starting job because prior execution is running and "
                                  "concurrency policy is Forbid", COMPONENT)
            return
        if active and policy == "Replace":
            for ref in list(active):
                try:
                    self.api.delete(JOBS, ref.get("namespace", ""), ref.get("name", ""),
                                    propagation="Background")
                except errors.StatusError as exc:
                    if exc.code != 404:
                        raise
                self.api.record_event(cj, "Normal", "SuccessfulDelete",
                                      f"Deleted job {ref.get('name', '')}", COMPONENT)
            status["active"] = []
        meta = cj["metadata"]
        name = f"{meta['name']}-{int(scheduled.timestamp()) // 60}"
        template = spec.get("jobTemplate") or {}
        tmeta = template.get("metadata") or {}
        job_meta: dict[str, Any] = {
            "name": name, "namespace": meta.get("namespace", ""),
            "labels": dict(tmeta.get("labels") or {}),
            "annotations": {**(tmeta.get("annotations") or {}),
                            SCHEDULED_ANNOTATION: scheduled.isoformat()},
            "ownerReferences": [owner_reference(cj)],
        }
        job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": job_meta,
               "spec": clone(template.get("spec") or {})}
        try:
            created = self.api.create(job)
        except errors.StatusError as exc:
            if exc.code == 409:
                status["lastScheduleTime"] = _stamp(scheduled)
                return
            self.api.record_event(cj, "Warning", "FailedCreate",
                                  f"Error creating job: {exc.message}", COMPONENT)
            raise
        self.api.record_event(cj, "Normal", "SuccessfulCreate", f"Created job {name}", COMPONENT)
        cmeta = created["metadata"]
        status.setdefault("active", []).append({
            "kind": "Job", "namespace": cmeta.get("namespace", ""), "name": cmeta["name"],
            "uid": cmeta["uid"], "apiVersion": "batch/v1",
            "resourceVersion": cmeta.get("resourceVersion", "")})
        status["lastScheduleTime"] = _stamp(scheduled)

    def _reconcile_active(self, cj: Obj, jobs: list[Obj], status: dict[str, Any]) -> None:
        by_uid = {j["metadata"]["uid"]: j for j in jobs}
        active = []
        for ref in status.get("active") or ():
            job = by_uid.get(ref.get("uid"))
            if job is None:
                continue
            finished = job_condition(job, "Complete") or job_condition(job, "Failed")
            if finished is None:
                active.append(ref)
                continue
            self.api.record_event(cj, "Normal", "SawCompletedJob",
                                  f"Saw completed job: {job['metadata']['name']}, condition: "
                                  f"{finished['type']}", COMPONENT)
            if finished["type"] == "Complete":
                done = (job.get("status") or {}).get("completionTime")
                if done and done > (status.get("lastSuccessfulTime") or ""):
                    status["lastSuccessfulTime"] = done
        if active:
            status["active"] = active
        else:
            status.pop("active", None)

    def _cleanup_history(self, cj: Obj, jobs: list[Obj]) -> None:
        spec = cj["spec"]
        for ctype, limit in (("Complete", spec.get("successfulJobsHistoryLimit", 3)),
                             ("Failed", spec.get("failedJobsHistoryLimit", 1))):
            if limit is None:
                continue
            done = [j for j in jobs if job_condition(j, ctype)
                    and not j["metadata"].get("deletionTimestamp")]
            done.sort(key=lambda j: ((j.get("status") or {}).get("startTime") or "",
                                     j["metadata"]["name"]))
            for job in done[:max(len(done) - limit, 0)]:
                try:
                    self.api.delete(JOBS, job["metadata"].get("namespace", ""),
                                    job["metadata"]["name"], propagation="Background")
                except errors.StatusError as exc:
                    if exc.code != 404:
                        raise
                    continue
                self.api.record_event(cj, "Normal", "SuccessfulDelete",
                                      f"Deleted job {job['metadata']['name']}", COMPONENT)

    def _write_status(self, cj: Obj, status: dict[str, Any]) -> None:
        if status == (cj.get("status") or {}):
            return
        fresh = self.store.get(CRONJOBS, *_key(cj))
        if fresh is None:
            return
        fresh = clone(fresh)
        fresh["status"] = status
        self.api.update(fresh, subresource="status")


def _rfc1123z(when: datetime) -> str:
    """Go's time.RFC1123Z of the UTC time, as the MissSchedule event prints it."""
    return when.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _key(obj: Obj) -> Key:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
