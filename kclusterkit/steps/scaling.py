"""Steps about changing replica counts and about pods that cannot be placed.

Scaling goes through the scale subresource, as ``kubectl scale`` and autoscalers do. A pod
the scheduler cannot place stays Pending with ``PodScheduled=False`` and a FailedScheduling
event whose message names what was missing (``0/3 nodes are available: 3 Insufficient
cpu.``); the steps here read exactly those.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.driver import Observation
from kclusterkit.steps._support import (
    Obj,
    Ref,
    check_now,
    condition,
    hold_for,
    is_terminating,
    kk,
    owner_pods,
    plural,
    pod_table,
    step,
    wait_for,
)


@step("when", 'I scale deployment "{name:Q}" to {n:N} replica(s)')
def scale_deployment(context: Any, name: str, n: int) -> None:
    """Set the deployment's replica count (as kubectl scale does).

    Example: When I scale deployment "web" to 5 replicas
    """
    kk(context).driver.scale("deployment", name, n)


@step("when", 'I scale replica set "{name:Q}" to {n:N} replica(s)')
def scale_replica_set(context: Any, name: str, n: int) -> None:
    """Set the replica set's replica count.

    Example: When I scale replica set "cache" to 3 replicas
    """
    kk(context).driver.scale("replicaset", name, n)


def is_unscheduled(pod: Obj) -> bool:
    if is_terminating(pod) or (pod.get("spec") or {}).get("nodeName"):
        return False
    if (pod.get("status") or {}).get("phase", "Pending") != "Pending":
        return False
    return True


def _pending_check(context: Any, name: str, n: int, found: list[Obj]) -> Any:
    driver = kk(context).driver

    def check() -> Observation:
        owner, pods = owner_pods(driver, "deployment", name)
        if owner is None:
            return Observation(False, f'deployment "{name}" does not exist')
        pending = [p for p in pods if is_unscheduled(p)]
        found[:] = pending
        return Observation(len(pending) == n,
                           f'{len(pending)} of {plural(len(pods), "pod")} of deployment "{name}" '
                           f"{'is' if len(pending) == 1 else 'are'} Pending without a node\n"
                           f"{pod_table(pods)}", [owner, *pods])

    return check


def _remember(context: Any, pods: list[Obj]) -> None:
    kk(context).those_pods = [Ref("pod", p["metadata"]["name"], p["metadata"].get("uid", ""),
                                  p["metadata"].get("namespace")) for p in pods]


@step("then", '{n:N} pod(s) of deployment "{name:Q}" [is|are] Pending within {d:Duration}',
      any_keyword=True)
def pods_become_pending(context: Any, n: int, name: str, d: float) -> None:
    """Eventually exactly n pods of the deployment wait unscheduled (remembered as "them").

    Example: Then 2 pods of deployment "big" are Pending within 30 seconds
    """
    found: list[Obj] = []
    wait_for(context, f'{plural(n, "pod")} of deployment "{name}" to be Pending',
             _pending_check(context, name, n, found), d, kinds=("pods",))
    _remember(context, found)


@step("then", '{n:N} pod(s) of deployment "{name:Q}" stay(s) Pending for {d:Duration}',
      any_keyword=True)
def pods_stay_pending(context: Any, n: int, name: str, d: float) -> None:
    """Exactly n pods of the deployment stay unscheduled the whole time (remembered as "them").

    Example: Then 2 pods of deployment "big" stay Pending for 1 minute
    """
    found: list[Obj] = []
    hold_for(context, f'{plural(n, "pod")} of deployment "{name}" to stay Pending',
             _pending_check(context, name, n, found), d, kinds=("pods",))
    _remember(context, found)


@step("then", 'the scheduler reports "{reason:Q}" for them')
def scheduler_reports(context: Any, reason: str) -> None:
    """Every pod remembered as "them" has a FailedScheduling event (or PodScheduled
    condition) whose message contains the text.

    Example: Then the scheduler reports "Insufficient cpu" for them
    """
    state = kk(context)
    refs = state.remembered("pods referred to as 'them'", state.those_pods)

    def check() -> Observation:
        events = [e for e in state.driver.events()
                  if e.get("reason") == "FailedScheduling"
                  and (e.get("involvedObject") or {}).get("kind") == "Pod"]
        missing, lines = [], []
        for ref in refs:
            messages = [e.get("message", "") for e in events
                        if (e.get("involvedObject") or {}).get("name") == ref.name]
            pod = state.driver.get("pods", ref.name, ref.namespace)
            cond = condition(pod, "PodScheduled") if pod else None
            if cond and cond.get("message"):
                messages.append(cond["message"])
            said = next((m for m in messages if reason in m), None)
            if said is None:
                missing.append(ref.name)
            latest = said or (messages[-1] if messages else "no FailedScheduling event")
            lines.append(f'  pod "{ref.name}": {latest}')
        return Observation(not missing, "\n".join(["scheduler said:", *lines]), events)

    check_now(context, f'the scheduler to report "{reason}" for {plural(len(refs), "pod")}',
              check)
