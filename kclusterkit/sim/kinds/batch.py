"""Jobs and CronJobs as the API server admits them (batch/v1).

Defaults follow pkg/apis/batch/v1/defaults.go (SetDefaults_Job, SetDefaults_CronJob); the
Job strategy's PrepareForCreate generates the selector and the template labels from the
Job's UID (pkg/registry/batch/job/strategy.go generateSelector), so the API server gives
the Job its UID before the strategy runs. Validation follows pkg/apis/batch/validation for
the fields scenarios set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from croniter import croniter

from kclusterkit.kube.meta import Obj
from kclusterkit.sim import validation as v
from kclusterkit.sim.kinds.pods import default_pod_template, validate_pod_spec
from kclusterkit.sim.resources import CRONJOBS, JOBS
from kclusterkit.sim.strategy import Cause, Strategy, register_strategy

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api

CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
JOB_NAME = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID = "controller-uid"
LEGACY_JOB_NAME = "job-name"


def default_job_spec(spec: dict[str, Any]) -> None:
    """SetDefaults_Job."""
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    spec.setdefault("parallelism", 1)
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = 6
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    if spec.get("podFailurePolicy") is None:
        spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    else:
        spec.setdefault("podReplacementPolicy", "Failed")
    spec.setdefault("manualSelector", None)
    if spec.get("manualSelector") is None:
        spec.pop("manualSelector")
    default_pod_template(spec)


def validate_job_spec(path: str, spec: dict[str, Any]) -> list[Cause]:
    out: list[Cause] = []
    for field in ("parallelism", "completions", "backoffLimit", "activeDeadlineSeconds",
                  "ttlSecondsAfterFinished"):
        if spec.get(field) is not None:
            out += v.non_negative(f"{path}.{field}", spec[field])
    if spec.get("activeDeadlineSeconds") == 0:
        out.append(v.invalid(f"{path}.activeDeadlineSeconds", 0,
                             "must be greater than or equal to 1"))
    template = spec.get("template")
    if not isinstance(template, dict):
        return [*out, v.required(f"{path}.template")]
    out += validate_pod_spec(f"{path}.template.spec", template.get("spec"))
    policy = (template.get("spec") or {}).get("restartPolicy")
    if spec.get("podFailurePolicy") is not None:
        # validatePodFailurePolicy: the rules need the pod's own failure, not restarts.
        if policy != "Never":
            out.append(v.not_supported(f"{path}.template.spec.restartPolicy", policy,
                                       ["Never"]))
    elif policy not in ("OnFailure", "Never"):
        out.append(v.not_supported(f"{path}.template.spec.restartPolicy", policy,
                                   ["OnFailure", "Never"]))
    mode = spec.get("completionMode", "NonIndexed")
    if mode not in ("NonIndexed", "Indexed"):
        out.append(v.not_supported(f"{path}.completionMode", mode, ["NonIndexed", "Indexed"]))
    elif mode == "Indexed" and spec.get("completions") is None:
        out.append(v.required(f"{path}.completions", "when completion mode is Indexed"))
    return out


class JobStrategy(Strategy):
    tracks_generation = True

    def prepare_create(self, api: Api, obj: Obj) -> None:
        obj["status"] = {}
        meta = obj["metadata"]
        meta["uid"] = api.new_uid()
        spec = obj.setdefault("spec", {})
        if not isinstance(spec, dict) or spec.get("manualSelector"):
            return
        # generateSelector: the UID and name as selector and template labels.
        uid, name = meta["uid"], meta.get("name") or ""
        template = spec.setdefault("template", {})
        if not isinstance(template, dict):
            return
        labels = template.setdefault("metadata", {}).setdefault("labels", {})
        labels.setdefault(CONTROLLER_UID, uid)
        labels.setdefault(JOB_NAME, name)
        labels.setdefault(LEGACY_CONTROLLER_UID, uid)
        labels.setdefault(LEGACY_JOB_NAME, name)
        spec["selector"] = {"matchLabels": {CONTROLLER_UID: uid}}

    def default(self, api: Api, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict):
            default_job_spec(spec)

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [v.required("spec")]
        out = validate_job_spec("spec", spec)
        if old is not None:
            old_spec = old.get("spec") or {}
            if spec.get("completions") != old_spec.get("completions") and \
                    spec.get("completionMode") != "Indexed":
                out.append(v.invalid("spec.completions", spec.get("completions"),
                                     "field is immutable"))
            if spec.get("selector") != old_spec.get("selector"):
                out.append(v.invalid("spec.selector", v.go_label_selector(spec.get("selector")),
                                     "field is immutable"))
        return out


def cron_errors(schedule: Any) -> list[str]:
    """validateScheduleFormat: a standard cron expression or a predefined one, no TZ."""
    if not isinstance(schedule, str) or not schedule.strip():
        return ["unparseable"]
    if "TZ=" in schedule:
        return ["cannot use TZ or CRON_TZ in schedule, use timeZone field instead"]
    text = schedule.strip()
    if not text.startswith("@") and len(text.split()) != 5:
        return [f"expected exactly 5 fields, found {len(text.split())}: {text}"]
    if not croniter.is_valid(text):
        return ["unparseable"]
    return []


class CronJobStrategy(Strategy):
    tracks_generation = True

    def prepare_create(self, api: Api, obj: Obj) -> None:
        obj["status"] = {}

    def default(self, api: Api, obj: Obj) -> None:
        # SetDefaults_CronJob.
        spec = obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            return
        spec.setdefault("concurrencyPolicy", "Allow")
        spec.setdefault("suspend", False)
        spec.setdefault("successfulJobsHistoryLimit", 3)
        spec.setdefault("failedJobsHistoryLimit", 1)
        job_template = spec.get("jobTemplate")
        if isinstance(job_template, dict):
            job_template.setdefault("metadata", {}).setdefault("creationTimestamp", None)
            if isinstance(job_template.get("spec"), dict):
                default_job_spec(job_template["spec"])

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [v.required("spec")]
        out: list[Cause] = []
        schedule = spec.get("schedule")
        if not schedule:
            out.append(v.required("spec.schedule"))
        else:
            out += [v.invalid("spec.schedule", schedule, e) for e in cron_errors(schedule)]
        out += v.required_one_of("spec.concurrencyPolicy", spec.get("concurrencyPolicy"),
                                 ["Allow", "Forbid", "Replace"])
        for field in ("startingDeadlineSeconds", "successfulJobsHistoryLimit",
                      "failedJobsHistoryLimit"):
            if spec.get(field) is not None:
                out += v.non_negative(f"spec.{field}", spec[field])
        job_template = spec.get("jobTemplate")
        if not isinstance(job_template, dict) or not isinstance(job_template.get("spec"), dict):
            out.append(v.required("spec.jobTemplate"))
        else:
            out += validate_job_spec("spec.jobTemplate.spec", job_template["spec"])
        return out


register_strategy(JOBS, JobStrategy())
register_strategy(CRONJOBS, CronJobStrategy())
