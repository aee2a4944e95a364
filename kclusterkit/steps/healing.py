"""Steps about damage and repair: deleting pods, crashing containers, and what follows.

A When step that damages a pod remembers it ("the deleted pod", "that pod") by name and
uid, so a later step can tell the original apart from a replacement of the same name.
Which pod is hit is deterministic (the first by name among the healthy ones), and the
names themselves come from the seeded cluster, so a seed replays the same choice.
"""

# ruff: noqa: E501  (a step's Example must stay on one line: the catalog prints it as is)
from __future__ import annotations

from typing import Any

from kclusterkit.driver import Observation
from kclusterkit.steps._support import (
    Obj,
    Ref,
    StepUsageError,
    check_now,
    hold_for,
    is_ready,
    is_terminating,
    kk,
    owner_pods,
    plural,
    pod_table,
    restarts,
    step,
    wait_for,
)
from kclusterkit.steps.types import format_duration


def pick_pods(context: Any, kind_word: str, name: str, n: int,
              ready_only: bool = True) -> list[Obj]:
    """n healthy pods of the workload, the first by name: the same ones for the same seed."""
    owner, pods = owner_pods(kk(context).driver, kind_word, name)
    if owner is None:
        raise StepUsageError(f'{kind_word} "{name}" does not exist')
    candidates = [p for p in pods if not is_terminating(p)]
    healthy = [p for p in candidates if is_ready(p)] if ready_only else candidates
    if len(healthy) < n:
        some = f"only {plural(len(healthy), 'ready pod')}" if healthy else "no ready pod"
        wanted = "" if n == 1 else f" ({n} wanted)"
        raise StepUsageError(f'{kind_word} "{name}" has {some} to act on{wanted}\n'
                             f"{pod_table(pods)}")
    return sorted(healthy, key=lambda p: p["metadata"]["name"])[:n]


def pick_pod(context: Any, kind_word: str, name: str, ready_only: bool = True) -> Obj:
    """A healthy pod of the workload, the same one for the same seed."""
    return pick_pods(context, kind_word, name, 1, ready_only)[0]


def ref_of(pod: Obj) -> Ref:
    meta = pod["metadata"]
    return Ref("pod", meta["name"], meta.get("uid", ""), meta.get("namespace"))


def _delete(context: Any, pods: list[Obj]) -> None:
    """Delete the pods; one is "the deleted pod" and "that pod", any number "the deleted pods"
    (their labels are kept too: a replacement would carry them)."""
    state = kk(context)
    refs = [ref_of(pod) for pod in pods]
    single = refs[0] if len(refs) == 1 else None
    labels = dict(pods[0]["metadata"].get("labels") or {}) if single else {}
    # pods carrying those labels before the delete are its peers, not its replacements
    peers = state.driver.list("pods", single.namespace, labels=_selector(labels)) \
        if single and labels else []
    for ref in refs:
        state.driver.delete("pods", ref.name)
    state.deleted_pod = state.that_pod = single
    state.memo["deleted_pods"] = refs
    state.memo["deleted_pod_labels"] = labels
    state.memo["deleted_pod_peers"] = {p["metadata"].get("uid") for p in peers}


def _selector(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


@step("when", 'I delete a pod of deployment "{name:Q}"')
def delete_pod_of_deployment(context: Any, name: str) -> None:
    """Delete one ready pod of the deployment (remembered as "the deleted pod", "that pod").

    Example: When I delete a pod of deployment "web"
    """
    _delete(context, [pick_pod(context, "deployment", name)])


@step("when", 'I delete a pod of replica set "{name:Q}"')
def delete_pod_of_replica_set(context: Any, name: str) -> None:
    """Delete one ready pod of the replica set (remembered as "the deleted pod").

    Example: When I delete a pod of replica set "cache"
    """
    _delete(context, [pick_pod(context, "replica set", name)])


@step("when", 'I delete {n:N} pod(s) of deployment "{name:Q}"')
def delete_pods_of_deployment(context: Any, n: int, name: str) -> None:
    """Delete n ready pods of the deployment at once (remembered as "the deleted pods").

    Example: When I delete 2 pods of deployment "web"
    """
    if n < 1:
        raise StepUsageError("delete at least 1 pod")
    _delete(context, pick_pods(context, "deployment", name, n))


@step("when", 'I delete pod "{name:Q}"')
def delete_named_pod(context: Any, name: str) -> None:
    """Delete the pod with this name (remembered as "the deleted pod").

    Example: When I delete pod "client"
    """
    pod = kk(context).driver.get("pods", name)
    if pod is None:
        raise StepUsageError(f'pod "{name}" does not exist')
    _delete(context, [pod])


@step("when", 'the container of a pod of deployment "{name:Q}" crashes')
def container_crashes(context: Any, name: str) -> None:
    """Make the container of one ready pod exit with an error (remembered as "that pod").

    Example: When the container of a pod of deployment "web" crashes
    """
    state = kk(context)
    state.driver.require("container-crash", "crashing a container")
    pod = pick_pod(context, "deployment", name)
    state.driver.crash_container(pod["metadata"]["name"])
    state.that_pod = ref_of(pod)


# -- Then ---------------------------------------------------------------------------
def _gone_check(context: Any) -> Any:
    state = kk(context)
    ref = state.remembered("deleted pod", state.deleted_pod)

    def check() -> Observation:
        pod = state.driver.get("pods", ref.name, ref.namespace)
        if pod is None or pod["metadata"].get("uid") != ref.uid:
            return Observation(True, f'pod "{ref.name}" is gone')
        return Observation(False, f'pod "{ref.name}" still exists\n{pod_table([pod])}', [pod])

    return ref, check


@step("then", "the deleted pod no longer exists")
def deleted_pod_gone(context: Any) -> None:
    """The pod deleted earlier in the scenario is gone now (a new pod may reuse its name).

    Example: Then the deleted pod no longer exists
    """
    ref, check = _gone_check(context)
    check_now(context, f'the deleted pod "{ref.name}" to no longer exist', check)


@step("then", "the deleted pod no longer exists within {d:Duration}", any_keyword=True)
def deleted_pod_gone_within(context: Any, d: float) -> None:
    """The pod deleted earlier is gone within the time (it may terminate gracefully first).

    Example: Then the deleted pod no longer exists within 30 seconds
    """
    ref, check = _gone_check(context)
    wait_for(context, f'the deleted pod "{ref.name}" to no longer exist', check, d,
             kinds=("pods",))


@step("then", "the deleted pods no longer exist within {d:Duration}", any_keyword=True)
def deleted_pods_gone_within(context: Any, d: float) -> None:
    """Every pod deleted by the latest delete step is gone within the time (new pods may reuse their names).

    Example: Then the deleted pods no longer exist within 30 seconds
    """
    state = kk(context)
    refs: list[Ref] = state.remembered("deleted pods", state.memo.get("deleted_pods"))

    def check() -> Observation:
        left = []
        for ref in refs:
            pod = state.driver.get("pods", ref.name, ref.namespace)
            if pod is not None and pod["metadata"].get("uid") == ref.uid:
                left.append(pod)
        if not left:
            return Observation(True, "the deleted pod is gone" if len(refs) == 1 else
                               f"all {len(refs)} deleted pods are gone")
        verb = "exists" if len(left) == 1 else "exist"
        return Observation(False, f"{len(left)} of the {plural(len(refs), 'deleted pod')} still {verb}\n"
                           f"{pod_table(left)}", left)

    wait_for(context, "the deleted pod to no longer exist" if len(refs) == 1 else
             f"the {len(refs)} deleted pods to no longer exist", check, d,
             kinds=("pods",))


@step("then", 'pod "{name:Q}" does not exist within {d:Duration}', any_keyword=True)
def pod_does_not_exist_within(context: Any, name: str, d: float) -> None:
    """Eventually no pod of this name exists (a terminating one still does).

    Example: Then pod "lonely" does not exist within 1 minute
    """
    driver = kk(context).driver

    def check() -> Observation:
        pod = driver.get("pods", name)
        if pod is None:
            return Observation(True, f'pod "{name}" does not exist')
        return Observation(False, f'pod "{name}" exists\n{pod_table([pod])}', [pod])

    wait_for(context, f'pod "{name}" to not exist', check, d, kinds=("pods",))


@step("then", "no pod replaces the deleted pod for {d:Duration}", any_keyword=True)
def no_replacement_for(context: Any, d: float) -> None:
    """Throughout, no other pod takes the deleted pod's place: none with its name, no new one with all its labels (as a controller's replacement would have).

    Example: Then no pod replaces the deleted pod for 2 minutes
    """
    state = kk(context)
    ref = state.remembered("deleted pod", state.deleted_pod)
    selector = _selector(state.memo.get("deleted_pod_labels") or {})
    known = {ref.uid, *(state.memo.get("deleted_pod_peers") or ())}
    shown = f" or the labels {selector}" if selector else ""

    def check() -> Observation:
        same = [state.driver.get("pods", ref.name, ref.namespace)]
        if selector:
            same += state.driver.list("pods", ref.namespace, labels=selector)
        # the same name is a replacement whatever its uid; the same labels only for a new pod
        others = {p["metadata"]["name"]: p for p in same if p is not None and (
            p["metadata"]["name"] == ref.name or p["metadata"].get("uid") not in known)
            and p["metadata"].get("uid") != ref.uid}
        if not others:
            return Observation(True, f'no pod with the name "{ref.name}"{shown} appeared')
        pods = [others[k] for k in sorted(others)]
        took = "1 pod took" if len(pods) == 1 else f"{len(pods)} pods took"
        return Observation(False, f'{took} the place of pod "{ref.name}" (its name{shown})\n'
                           f"{pod_table(pods)}", pods)

    hold_for(context, f'no pod to replace the deleted pod "{ref.name}"', check, d,
             kinds=("pods",))


def _that_pod(context: Any) -> tuple[Ref, Any]:
    state = kk(context)
    ref = state.remembered("pod referred to as 'that pod'", state.that_pod)

    def current() -> Obj | None:
        pod = state.driver.get("pods", ref.name, ref.namespace)
        if pod is None or pod["metadata"].get("uid") != ref.uid:
            return None
        return pod

    return ref, current


def _times(count: int) -> str:
    return "1 time" if count == 1 else f"{count} times"


def _gone(ref: Ref) -> Observation:
    return Observation(False, f'pod "{ref.name}" no longer exists')


@step("then", "that pod has restarted {n:N} time(s) within {d:Duration}", any_keyword=True)
def that_pod_restarted(context: Any, n: int, d: float) -> None:
    """Eventually the remembered pod's containers have restarted at least n times in place.

    Example: Then that pod has restarted 1 time within 30 seconds
    """
    ref, current = _that_pod(context)

    def check() -> Observation:
        pod = current()
        if pod is None:
            return _gone(ref)
        count = restarts(pod)
        return Observation(count >= n, f'pod "{ref.name}" has restarted {_times(count)}\n'
                           f"{pod_table([pod])}", [pod])

    wait_for(context, f'pod "{ref.name}" to have restarted {plural(n, "time")}', check, d,
             kinds=("pods",))


def _waiting_reason(pod: Obj) -> str:
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting:
            return waiting.get("reason", "")
    return ""


def _crashloop_check(name_of: Any, current: Any) -> Any:
    def check() -> Observation:
        pod = current()
        if pod is None:
            return Observation(False, f'pod "{name_of()}" does not exist')
        reason = _waiting_reason(pod)
        return Observation(reason == "CrashLoopBackOff",
                           f'pod "{pod["metadata"]["name"]}" is '
                           f'{"waiting: " + reason if reason else "not waiting"}\n'
                           f"{pod_table([pod])}", [pod])

    return check


@step("then", "that pod is in CrashLoopBackOff within {d:Duration}", any_keyword=True)
def that_pod_crashloops(context: Any, d: float) -> None:
    """Eventually the remembered pod's container waits in CrashLoopBackOff.

    Example: Then that pod is in CrashLoopBackOff within 1 minute
    """
    ref, current = _that_pod(context)
    wait_for(context, f'pod "{ref.name}" to be in CrashLoopBackOff',
             _crashloop_check(lambda: ref.name, current), d, kinds=("pods",))


@step("then", 'a pod of deployment "{name:Q}" is in CrashLoopBackOff within {d:Duration}',
      any_keyword=True)
def a_pod_crashloops(context: Any, name: str, d: float) -> None:
    """Eventually some pod of the deployment waits in CrashLoopBackOff (remembered as "that pod").

    Example: Then a pod of deployment "crasher" is in CrashLoopBackOff within 1 minute
    """
    state = kk(context)
    found: list[Obj] = []

    def check() -> Observation:
        owner, pods = owner_pods(state.driver, "deployment", name)
        looping = sorted((p for p in pods if _waiting_reason(p) == "CrashLoopBackOff"),
                         key=lambda p: p["metadata"]["name"])
        found[:] = looping[:1]
        if owner is None:
            return Observation(False, f'deployment "{name}" does not exist')
        return Observation(bool(looping), f'{len(looping)} of {plural(len(pods), "pod")} of deployment '
                           f'"{name}" in CrashLoopBackOff\n{pod_table(pods)}', [owner, *pods])

    wait_for(context, f'a pod of deployment "{name}" to be in CrashLoopBackOff', check, d,
             kinds=("pods",))
    state.that_pod = ref_of(found[0])


@step("then", "that pod has restarted {n:N} time(s) within {d:Duration}, "
      "each back-off longer than the last", any_keyword=True)
def backoff_grows(context: Any, n: int, d: float) -> None:
    """The remembered pod restarts n times, waiting longer before each restart (back-off).

    Measured as the cluster time between restarts seen during the step (the moment
    restartCount goes up): for a container that fails at once that is its back-off.
    Example: Then that pod has restarted 4 times within 5 minutes, each back-off longer than the last
    """
    state = kk(context)
    ref, current = _that_pod(context)
    counts: list[tuple[int, float]] = []  # (restart count, cluster time first seen)

    def check() -> Observation:
        pod = current()
        if pod is None:
            return _gone(ref)
        count = restarts(pod)
        if not counts or count != counts[-1][0]:
            counts.append((count, state.driver.now()))
        # the first entry is when the step began looking, not a restart
        instants = [t for _, t in counts[1:]]
        gaps = [b - a for a, b in zip(instants, instants[1:], strict=False)]
        growing = all(b > a for a, b in zip(gaps, gaps[1:], strict=False))
        enough = count >= n and len(gaps) >= min(n - 1, 2)
        shown = ", ".join(format_duration(g) for g in gaps) or "none measured yet"
        return Observation(enough and growing,
                           f'pod "{ref.name}" restarted {_times(count)}; time between the '
                           f"restarts seen: {shown}\n{pod_table([pod])}", [pod])

    wait_for(context, f'pod "{ref.name}" to restart {plural(n, "time")}, each back-off longer than the '
             "last", check, d, kinds=("pods",))
