"""The TTL-after-finished controller (pkg/controller/ttlafterfinished).

A finished Job with ``ttlSecondsAfterFinished`` is deleted (foreground, so its pods go
first) that many seconds after its Complete or Failed condition's transition time.
"""

from __future__ import annotations

from kclusterkit.kube.meta import Obj
from kclusterkit.sim import errors
from kclusterkit.sim.api import Api
from kclusterkit.sim.controllers.job import job_condition
from kclusterkit.sim.controllers.util import RetryingQueue
from kclusterkit.sim.resources import JOBS


def finish_time(job: Obj) -> str | None:
    cond = job_condition(job, "Complete") or job_condition(job, "Failed")
    return None if cond is None else cond.get("lastTransitionTime")


class TTLAfterFinishedController:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store
        self.clock = api.clock
        self.queue = RetryingQueue(self.clock, self.sync)
        for job in self.store.iter(JOBS):
            self._on_job("ADDED", job, None)
        self.store.subscribe(JOBS, self._on_job)

    def _on_job(self, etype: str, job: Obj, old: Obj | None) -> None:
        if etype == "DELETED" or job["metadata"].get("deletionTimestamp"):
            return
        if (job.get("spec") or {}).get("ttlSecondsAfterFinished") is not None and \
                finish_time(job):
            self.queue.add((job["metadata"].get("namespace", ""), job["metadata"]["name"]))

    def sync(self, key: tuple[str, str]) -> None:
        job = self.store.get(JOBS, *key)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return
        ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
        finished = finish_time(job)
        if ttl is None or not finished:
            return
        expires = self.clock.seconds_of(finished) + ttl
        if expires > self.clock.now:
            self.queue.add_after(key, expires - self.clock.now)
            return
        try:
            self.api.delete(JOBS, key[0], key[1], propagation="Foreground",
                            preconditions={"uid": job["metadata"]["uid"]})
        except errors.StatusError as exc:
            if exc.code not in (404, 409):
                raise
