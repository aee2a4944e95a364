"""Steps about releases: updating a deployment, watching the rollout, history, rollback,
restart, pause and resume, and a canary beside the stable release.

Rolling back is done the way ``kubectl rollout undo`` does it, client-side, through the
driver's get/list/patch only (staging/src/k8s.io/kubectl/pkg/polymorphichelpers/
rollback.go), so it behaves the same on every target: the ReplicaSet of the wanted
revision (default: the second highest) gives its template back to the deployment in ONE
JSON patch, and the controller then gives that ReplicaSet the next revision number.
"""

# ruff: noqa: E501  (a step's Example must stay on one line: the catalog prints it as is)
from __future__ import annotations

import copy
from typing import Any

from kclusterkit.driver import Driver, Observation
from kclusterkit.steps._support import (
    Obj,
    StepUsageError,
    check_now,
    condition,
    hold_for,
    is_ready,
    is_terminating,
    kk,
    plural,
    pod_table,
    replica_sets_of,
    step,
    wait_for,
)
from kclusterkit.steps.services import deployment_pods, must_get
from kclusterkit.steps.workloads import container_for, full_image

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
POD_TEMPLATE_HASH = "pod-template-hash"
# kubectl's annotationsToSkip: kept from the deployment, never copied from the ReplicaSet.
ANNOTATIONS_TO_SKIP = frozenset({
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
})


# -- rollout undo, as kubectl does it ---------------------------------------------------------
class RollbackError(StepUsageError):
    """kubectl rollout undo refused (paused deployment, unknown revision, no history)."""


def revision_of(rs: Obj) -> int | None:
    value = (rs["metadata"].get("annotations") or {}).get(REVISION)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _without_hash(template: Obj | None) -> Obj:
    out = copy.deepcopy(template or {})
    labels = (out.get("metadata") or {}).get("labels")
    if labels is not None:
        labels.pop(POD_TEMPLATE_HASH, None)
    return out


def equal_ignore_hash(t1: Obj | None, t2: Obj | None) -> bool:
    return _without_hash(t1) == _without_hash(t2)


def revision_replica_set(driver: Driver, deployment: Obj, to_revision: int) -> Obj:
    """kubectl's deploymentRevision: the ReplicaSet of ``to_revision`` (0: the previous)."""
    if to_revision < 0:
        raise RollbackError(f"unable to find specified revision {to_revision} in history")
    latest = previous = None
    latest_rev = previous_rev = -1
    for rs in replica_sets_of(driver, deployment):
        rev = revision_of(rs)
        if rev is None:
            continue
        if to_revision == 0:
            if latest_rev < rev:
                previous, previous_rev, latest, latest_rev = latest, latest_rev, rs, rev
            elif previous_rev < rev:
                previous, previous_rev = rs, rev
        elif rev == to_revision:
            return rs
    if to_revision > 0:
        raise RollbackError(f"unable to find specified revision {to_revision} in history")
    if previous is None:
        raise RollbackError(f'no rollout history found for deployment "{deployment["metadata"]["name"]}"')
    return previous


def rollback(driver: Driver, name: str, to_revision: int = 0) -> str:
    """``kubectl rollout undo deployment/NAME [--to-revision=N]``; returns kubectl's word."""
    deployment = must_get(driver, "deployments", name)
    rs = revision_replica_set(driver, deployment, to_revision)
    if (deployment.get("spec") or {}).get("paused"):
        raise RollbackError("you cannot rollback a paused deployment; resume it first with "
                            f"'kubectl rollout resume deployment/{name}' and try again")
    template = (rs.get("spec") or {}).get("template")
    if equal_ignore_hash(template, (deployment.get("spec") or {}).get("template")):
        return (f"skipped rollback (current template already matches revision "
                f"{to_revision})")
    template = _without_hash(template)
    current = deployment["metadata"].get("annotations") or {}
    annotations = {k: v for k, v in current.items() if k in ANNOTATIONS_TO_SKIP}
    for key, value in (rs["metadata"].get("annotations") or {}).items():
        if key not in ANNOTATIONS_TO_SKIP:
            annotations[key] = value
    driver.patch("deployments", name, [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ], patch_type="json")
    return "rolled back"


# -- rollout restart, as kubectl does it ---------------------------------------------------
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


class RestartError(StepUsageError):
    """kubectl rollout restart refused (paused deployment, restarted in the same second)."""


def restart(driver: Driver, name: str) -> str:
    """``kubectl rollout restart deployment/NAME``: a new restartedAt annotation on the pod
    template (strategic merge patch), so every pod is replaced by a rolling update.

    The time is the driver's (kubectl: the client's ``time.Now()`` in RFC 3339; here in UTC,
    the same instant) — the simulator's clock there, so a seed replays the same template hash
    (polymorphichelpers/objectrestarter.go, cmd/rollout/rollout_restart.go)."""
    deployment = must_get(driver, "deployments", name)
    if (deployment.get("spec") or {}).get("paused"):
        raise RestartError(f'error: deployments.apps "{name}" can\'t restart paused deployment '
                           "(run rollout resume first)")
    stamp = driver.timestamp()
    template_meta = ((deployment.get("spec") or {}).get("template") or {}).get("metadata") or {}
    if (template_meta.get("annotations") or {}).get(RESTARTED_AT) == stamp:
        # kubectl sends the empty patch anyway (a no-op) and reports this error
        raise RestartError(f"failed to create patch for {name}: empty patch (it was already "
                           f"restarted at {stamp}: let a second of cluster time pass between "
                           "restarts)")
    driver.patch("deployments", name,
                 {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}},
                 patch_type="strategic")
    return "restarted"


def history(driver: Driver, name: str) -> list[int]:
    """The revisions ``kubectl rollout history`` lists, oldest first."""
    deployment = must_get(driver, "deployments", name)
    revisions = {revision_of(rs) for rs in replica_sets_of(driver, deployment)}
    return sorted(r for r in revisions if r is not None)


# -- looking at a rollout ------------------------------------------------------------------
def _images(pod: Obj) -> list[str]:
    return [c.get("image", "") for c in (pod.get("spec") or {}).get("containers") or []]


def _on_image(pods: list[Obj], image: str) -> tuple[list[Obj], list[Obj]]:
    """(ready pods running only ``image``, live pods running anything else)."""
    live = [p for p in pods if not is_terminating(p)]
    if len(image.split()) > 1:
        raise StepUsageError(f'"{image}": name the image only (e.g. "agnhost:2.53"), not the '
                             "command it runs")
    image = full_image(image)  # "agnhost:2.53" names the image the step created
    ready_on = [p for p in live if is_ready(p) and set(_images(p)) == {image}]
    others = [p for p in live if set(_images(p)) != {image}]
    return ready_on, others


def _image_table(pods: list[Obj]) -> str:
    return pod_table(pods, extra=[("IMAGE", lambda p: ",".join(_images(p)))])


def _runs_check(driver: Driver, name: str, image: str, n: int) -> Any:
    def check() -> Observation:
        deployment, pods = deployment_pods(driver, name)
        if deployment is None:
            return Observation(False, f'deployment "{name}" does not exist')
        ready_on, others = _on_image(pods, image)
        return Observation(len(ready_on) == n and not others,
                           f'{plural(len(ready_on), "ready pod")} on "{image}", '
                           f'{plural(len(others), "live pod")} on other images'
                           f"\n{_image_table(pods)}", [deployment, *pods])

    return check


# -- When: releases ----------------------------------------------------------------------
def set_image(driver: Driver, name: str, image: str) -> None:
    """``kubectl set image deployment/NAME *=IMAGE``: every container gets the image."""
    if not image or any(ch.isspace() for ch in image):
        raise StepUsageError(f'"{image}" is not an image reference (an update changes only the '
                             "image, not the arguments)")
    deployment = must_get(driver, "deployments", name)
    containers = ((deployment["spec"].get("template") or {}).get("spec") or {}).get("containers")
    driver.patch("deployments", name, {"spec": {"template": {"spec": {"containers": [
        {"name": c["name"], "image": image} for c in containers or []]}}}},
        patch_type="strategic")


@step("when", 'I update deployment "{name:Q}" to image "{image:Q}"')
def update_image(context: Any, name: str, image: str) -> None:
    """Change the image of the deployment's containers (a new rollout starts).

    Example: When I update deployment "web" to image "nginx:1.25"
    """
    set_image(kk(context).driver, name, image)


@step("when", 'I roll back deployment "{name:Q}"')
def roll_back(context: Any, name: str) -> None:
    """Go back to the previous revision, as ``kubectl rollout undo`` does.

    Example: When I roll back deployment "web"
    """
    kk(context).memo["rollback"] = rollback(kk(context).driver, name)


@step("when", 'I roll back deployment "{name:Q}" to revision {revision:N}')
def roll_back_to(context: Any, name: str, revision: int) -> None:
    """Go back to a given revision, as ``kubectl rollout undo --to-revision`` does.

    Example: When I roll back deployment "web" to revision 1
    """
    kk(context).memo["rollback"] = rollback(kk(context).driver, name, revision)


@step("when", 'I restart deployment "{name:Q}"')
def restart_deployment(context: Any, name: str) -> None:
    """Replace every pod of the deployment by a rolling update, as ``kubectl rollout restart`` does.

    Example: When I restart deployment "web"
    """
    state = kk(context)
    _, before = deployment_pods(state.driver, name)
    restart(state.driver, name)
    state.memo.setdefault("pods_before_restart", {})[name] = [
        (p["metadata"]["name"], p["metadata"].get("uid", "")) for p in before]


@step("when", 'I pause the rollout of deployment "{name:Q}"')
def pause(context: Any, name: str) -> None:
    """Pause the deployment: template changes wait until it is resumed.

    Example: When I pause the rollout of deployment "web"
    """
    kk(context).driver.patch("deployments", name, {"spec": {"paused": True}})


@step("when", 'I resume the rollout of deployment "{name:Q}"')
def resume(context: Any, name: str) -> None:
    """Resume a paused deployment: its latest template rolls out.

    Example: When I resume the rollout of deployment "web"
    """
    kk(context).driver.patch("deployments", name, {"spec": {"paused": None}})


@step("given", 'deployment "{name:Q}" keeps {n:N} old revision(s)')
def keeps_old_revisions(context: Any, name: str, n: int) -> None:
    """Set the deployment's revisionHistoryLimit: older ReplicaSets are pruned.

    Example: Given deployment "web" keeps 2 old revisions
    """
    kk(context).driver.patch("deployments", name, {"spec": {"revisionHistoryLimit": n}})


# -- Then: rollouts -------------------------------------------------------------------------
@step("then", 'deployment "{name:Q}" runs "{image:Q}" on {n:N} ready pod(s) within {d:Duration}', any_keyword=True)
def runs_image(context: Any, name: str, image: str, n: int, d: float) -> None:
    """Eventually n ready pods run the image and no live pod of the deployment runs another.

    Example: Then deployment "web" runs "nginx:1.25" on 4 ready pods within 3 minutes
    """
    wait_for(context, f'deployment "{name}" to run "{image}" on {plural(n, "ready pod")}',
             _runs_check(kk(context).driver, name, image, n), d,
             kinds=("pods", "replicasets", "deployments"))


@step("then", 'deployment "{name:Q}" keeps {n:N} pod(s) on "{image:Q}" for {d:Duration}', any_keyword=True)
def keeps_image(context: Any, name: str, n: int, image: str, d: float) -> None:
    """Throughout, n ready pods run the image and no live pod of the deployment runs another.

    Example: Then deployment "web" keeps 4 pods on "nginx:1.24" for 1 minute
    """
    hold_for(context, f'deployment "{name}" to keep {plural(n, "ready pod")} on "{image}"',
             _runs_check(kk(context).driver, name, image, n), d,
             kinds=("pods", "replicasets", "deployments"))


@step("then", 'every pod of deployment "{name:Q}" is replaced within {d:Duration}', any_keyword=True)
def every_pod_replaced(context: Any, name: str, d: float) -> None:
    """Eventually none of the pods from before the deployment was restarted is left and spec.replicas new pods are ready.

    Example: Then every pod of deployment "web" is replaced within 3 minutes
    """
    state = kk(context)
    before = (state.memo.get("pods_before_restart") or {}).get(name)
    if before is None:
        raise StepUsageError(f'deployment "{name}" was not restarted in this scenario: '
                             f'\'When I restart deployment "{name}"\' must come first')
    old_uids = {uid for _, uid in before}

    def old(pod: Obj) -> str:
        return "yes" if pod["metadata"].get("uid") in old_uids else ""

    def check() -> Observation:
        deployment, pods = deployment_pods(state.driver, name)
        if deployment is None:
            return Observation(False, f'deployment "{name}" does not exist')
        wanted = (deployment.get("spec") or {}).get("replicas", 1)
        left = [p for p in pods if old(p)]
        new_ready = [p for p in pods if not old(p) and not is_terminating(p) and is_ready(p)]
        return Observation(not left and len(new_ready) == wanted,
                           f"{len(left)} of the {plural(len(before), 'pod')} from before the restart "
                           f"left, {len(new_ready)} of {plural(wanted, 'new pod')} ready\n"
                           f"{pod_table(pods, extra=[('BEFORE RESTART', old)])}", [deployment, *pods])

    wait_for(context, f'every pod of deployment "{name}" to be replaced', check, d,
             kinds=("pods", "replicasets", "deployments"))


def _progressing(deployment: Obj) -> str:
    cond = condition(deployment, "Progressing")
    if cond is None:
        return "no Progressing condition"
    return (f"Progressing={cond.get('status')} reason={cond.get('reason', '')}: "
            f"{cond.get('message', '')}")


@step("then", 'the rollout of deployment "{name:Q}" fails with {reason:w} within {d:Duration}', any_keyword=True)
def rollout_fails(context: Any, name: str, reason: str, d: float) -> None:
    """Eventually the deployment's Progressing condition is False with this reason.

    Example: Then the rollout of deployment "web" fails with ProgressDeadlineExceeded within 11 minutes
    """
    driver = kk(context).driver

    def check() -> Observation:
        deployment, pods = deployment_pods(driver, name)
        if deployment is None:
            return Observation(False, f'deployment "{name}" does not exist')
        cond = condition(deployment, "Progressing") or {}
        return Observation(cond.get("status") == "False" and cond.get("reason") == reason,
                           f"{_progressing(deployment)}\n{_image_table(pods)}",
                           [deployment, *pods])

    wait_for(context, f'the rollout of deployment "{name}" to fail with {reason}', check, d,
             kinds=("deployments", "pods"))


@step("then", 'the rollout of deployment "{name:Q}" completes within {d:Duration}', any_keyword=True)
def rollout_completes(context: Any, name: str, d: float) -> None:
    """Eventually the rollout is done as ``kubectl rollout status`` says it: every replica updated and available, no old one left.

    Example: Then the rollout of deployment "web" completes within 3 minutes
    """
    driver = kk(context).driver

    def check() -> Observation:
        deployment, pods = deployment_pods(driver, name)
        if deployment is None:
            return Observation(False, f'deployment "{name}" does not exist')
        spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
        wanted = spec.get("replicas", 1)
        updated = status.get("updatedReplicas", 0)
        ok = (status.get("observedGeneration", 0) >= deployment["metadata"].get("generation", 0)
              and updated == wanted and status.get("replicas", 0) == updated
              and status.get("availableReplicas", 0) == updated)
        return Observation(ok, f"{updated} of {wanted} updated, {status.get('replicas', 0)} "
                           f"total, {status.get('availableReplicas', 0)} available; "
                           f"{_progressing(deployment)}\n{_image_table(pods)}",
                           [deployment, *pods])

    wait_for(context, f'the rollout of deployment "{name}" to complete', check, d,
             kinds=("deployments", "replicasets", "pods"))


@step("then", 'the rollout history of deployment "{name:Q}" has {n:N} revision(s)', any_keyword=True)
def history_has(context: Any, name: str, n: int) -> None:
    """``kubectl rollout history`` lists n revisions (one per ReplicaSet kept; a rolled-back-to revision moves to the end).

    Example: Then the rollout history of deployment "web" has 2 revisions
    """
    driver = kk(context).driver
    revisions = history(driver, name)
    check_now(context, f'the rollout history of deployment "{name}" to have {n} revisions',
              lambda: Observation(len(revisions) == n, "revisions: " +
                                  (", ".join(map(str, revisions)) or "none")))


@step("then", 'deployment "{name:Q}" is at revision {revision:N} within {d:Duration}', any_keyword=True)
def at_revision(context: Any, name: str, revision: int, d: float) -> None:
    """Eventually the deployment's revision annotation says this revision.

    Example: Then deployment "web" is at revision 3 within 30 seconds
    """
    driver = kk(context).driver

    def check() -> Observation:
        deployment = driver.get("deployments", name)
        if deployment is None:
            return Observation(False, f'deployment "{name}" does not exist')
        current = (deployment["metadata"].get("annotations") or {}).get(REVISION, "none")
        return Observation(current == str(revision), f"revision {current}", [deployment])

    wait_for(context, f'deployment "{name}" to be at revision {revision}', check, d,
             kinds=("deployments", "replicasets"))


@step("then", 'deployment "{name:Q}" has {n:N} replica set(s) within {d:Duration}', any_keyword=True)
def has_replica_sets(context: Any, name: str, n: int, d: float) -> None:
    """Eventually the deployment owns exactly n ReplicaSets (old ones beyond its history limit are pruned).

    Example: Then deployment "web" has 3 replica sets within 1 minute
    """
    driver = kk(context).driver

    def check() -> Observation:
        deployment = driver.get("deployments", name)
        if deployment is None:
            return Observation(False, f'deployment "{name}" does not exist')
        rss = replica_sets_of(driver, deployment)
        lines = [f"  {rs['metadata']['name']}  revision {revision_of(rs)}  "
                 f"replicas {(rs.get('spec') or {}).get('replicas', 0)}"
                 for rs in sorted(rss, key=lambda r: revision_of(r) or 0)]
        return Observation(len(rss) == n, f"{len(rss)} replica sets\n" + "\n".join(lines),
                           [deployment, *rss])

    wait_for(context, f'deployment "{name}" to have {n} replica sets', check, d,
             kinds=("replicasets", "deployments"))


# -- canary ----------------------------------------------------------------------------------
@step("given", 'a deployment "{name:Q}" running "{image:Q}" with {n:N} replica(s) behind service "{service:Q}"')
def canary_behind_service(context: Any, name: str, image: str, n: int, service: str) -> None:
    """A second deployment whose pods the service selects too (labelled track=canary), e.g. a canary.

    Example: Given a deployment "web-canary" running "nginx:1.25" with 1 replica behind service "web"
    """
    driver = kk(context).driver
    svc = must_get(driver, "services", service)
    selector = dict((svc.get("spec") or {}).get("selector") or {})
    if not selector:
        raise StepUsageError(f'service "{service}" has no selector to put pods behind')
    labels = {**selector, "track": "canary", "app.kubernetes.io/instance": name}
    driver.create({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": dict(labels)},
        "spec": {"replicas": n, "selector": {"matchLabels": dict(labels)},
                 "template": {"metadata": {"labels": dict(labels)},
                              "spec": {"containers": [container_for(image)]}}},
    })


@step("when", 'I promote deployment "{canary:Q}" into deployment "{stable:Q}"')
def promote(context: Any, canary: str, stable: str) -> None:
    """The stable deployment takes the canary's image (a rolling update) and the canary is deleted.

    Example: When I promote deployment "web-canary" into deployment "web"
    """
    driver = kk(context).driver
    deployment = must_get(driver, "deployments", canary)
    containers = deployment["spec"]["template"]["spec"].get("containers") or []
    images = {c.get("image") for c in containers}
    if len(images) != 1:
        raise StepUsageError(f'deployment "{canary}" runs {len(images)} images; promote needs one')
    set_image(driver, stable, images.pop())
    driver.delete("deployments", canary)


@step("when", 'I delete deployment "{name:Q}"')
def delete_deployment(context: Any, name: str) -> None:
    """Delete the deployment; its ReplicaSets and pods go with it (e.g. to abort a canary).

    Example: When I delete deployment "web-canary"
    """
    driver = kk(context).driver
    must_get(driver, "deployments", name)
    driver.delete("deployments", name)
