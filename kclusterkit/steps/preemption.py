"""Steps about priority and preemption: which work gives way when the cluster is full.

A platform team gives its critical workloads a PriorityClass so that, when there is no
room, the scheduler makes room by preempting pods of lower priority (the scheduler's
DefaultPreemption): the victims get the DisruptionTarget condition with reason
PreemptionByScheduler, are deleted gracefully, and an event ``Preempted`` says
"Preempted by pod <uid> on node <node>". A class with ``preemptionPolicy: Never`` waits
instead. These steps define the classes, run workloads in them, and read what was
preempted from those events, so they read the same on any cluster.

PriorityClasses are cluster-scoped: on a real cluster they are labelled with the run and
removed when the scenario ends, like the scenario's ClusterRoles.
"""

# ruff: noqa: E501  (a step's Example must stay on one line: the catalog prints it as is)
from __future__ import annotations

from typing import Any

from kclusterkit.driver import Observation
from kclusterkit.steps._support import (
    KIND_WORDS,
    Obj,
    StepUsageError,
    check_now,
    kk,
    plural,
    replica_sets_of,
    step,
    wait_for,
)
from kclusterkit.steps.workloads import container_for, most_of_a_worker, workload

PREEMPTED = "Preempted"


def _priority_class(context: Any, name: str, value: int, never: bool) -> None:
    obj: Obj = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                "metadata": {"name": name}, "value": value,
                "description": "defined by a kclusterkit scenario"}
    if never:
        obj["preemptionPolicy"] = "Never"
    kk(context).driver.create(obj)


@step("given", 'a priority class "{name:Q}" with value {value:N}')
def a_priority_class(context: Any, name: str, value: int) -> None:
    """A PriorityClass whose pods may preempt pods of lower priority.

    Example: Given a priority class "critical" with value 1000
    """
    _priority_class(context, name, value, False)


@step("given", 'a priority class "{name:Q}" with value {value:N} that never preempts')
def a_polite_priority_class(context: Any, name: str, value: int) -> None:
    """A PriorityClass with preemptionPolicy Never: its pods go first in the queue but
    wait for room instead of making it.

    Example: Given a priority class "urgent-but-polite" with value 1000 that never preempts
    """
    _priority_class(context, name, value, True)


@step("given", 'a deployment "{name:Q}" of priority class "{cls:Q}" running "{image:Q}" with {n:N} replica(s) each requesting most of a worker node\'s CPU')
def a_deployment_of_class(context: Any, name: str, cls: str, image: str, n: int) -> None:
    """A deployment in a priority class whose pods each request 60% of a worker's CPU
    (one fits per worker, two never do).

    Example: Given a deployment "batch" of priority class "low" running "nginx:1.25" with 2 replicas each requesting most of a worker node's CPU
    """
    driver = kk(context).driver
    obj = workload("Deployment", name, image, n, cpu=most_of_a_worker(driver))
    obj["spec"]["template"]["spec"]["priorityClassName"] = cls
    driver.create(obj)


@step("when", 'a pod "{name:Q}" of priority class "{cls:Q}" running "{image:Q}" requests most of a worker node\'s CPU')
def a_pod_of_class(context: Any, name: str, cls: str, image: str) -> None:
    """Create a bare pod in a priority class requesting 60% of a worker's CPU.

    Example: When a pod "urgent" of priority class "critical" running "nginx:1.25" requests most of a worker node's CPU
    """
    driver = kk(context).driver
    driver.create({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"priorityClassName": cls,
                 "containers": [container_for(image, most_of_a_worker(driver))]},
    })


def _preemptions(context: Any, name: str) -> tuple[Obj | None, list[Obj], list[str]]:
    """(the deployment, the Preempted events of its pods, its ReplicaSets' pod prefixes)."""
    driver = kk(context).driver
    owner = driver.get(KIND_WORDS["deployment"], name)
    if owner is None:
        raise StepUsageError(f'deployment "{name}" does not exist')
    prefixes = [rs["metadata"]["name"] + "-" for rs in replica_sets_of(driver, owner)]
    events = [e for e in driver.events()
              if e.get("reason") == PREEMPTED
              and (e.get("involvedObject") or {}).get("kind") == "Pod"
              and any((e.get("involvedObject") or {}).get("name", "").startswith(p)
                      for p in prefixes)]
    return owner, events, prefixes


def _said(events: list[Obj]) -> str:
    return "\n".join(f'  pod "{(e.get("involvedObject") or {}).get("name")}": '
                     f'{e.get("message", "")}' for e in events) or "  no Preempted event"


@step("then", 'pod "{pod:Q}" preempts {n:N} pod(s) of deployment "{name:Q}" within {d:Duration}', any_keyword=True)
def pod_preempts(context: Any, pod: str, n: int, name: str, d: float) -> None:
    """Eventually the scheduler has preempted exactly n pods of the deployment for the pod
    (their ``Preempted`` events name the pod's UID) and nominated a node for it.

    Example: Then pod "urgent" preempts 1 pod of deployment "batch" within 1 minute
    """
    driver = kk(context).driver

    def check() -> Observation:
        preemptor = driver.get("pods", pod)
        if preemptor is None:
            return Observation(False, f'pod "{pod}" does not exist')
        uid = preemptor["metadata"].get("uid", "")
        _, events, _ = _preemptions(context, name)
        mine = [e for e in events if f"Preempted by pod {uid} on node " in e.get("message", "")]
        nominated = (preemptor.get("status") or {}).get("nominatedNodeName") or \
            (preemptor.get("spec") or {}).get("nodeName")
        return Observation(len(mine) == n and bool(nominated),
                           f'{plural(len(mine), "pod")} of deployment "{name}" preempted by '
                           f'pod "{pod}" (uid {uid}); nominated node: {nominated or "none"}\n'
                           f"{_said(events)}", [preemptor, *events])

    wait_for(context, f'pod "{pod}" to preempt {plural(n, "pod")} of deployment "{name}"',
             check, d, kinds=("pods", "events"))


@step("then", 'no pod of deployment "{name:Q}" was preempted')
def none_preempted(context: Any, name: str) -> None:
    """Right now no pod of the deployment has a ``Preempted`` event.

    Example: Then no pod of deployment "batch" was preempted
    """
    def check() -> Observation:
        _, events, _ = _preemptions(context, name)
        return Observation(not events, f'{plural(len(events), "pod")} of deployment '
                           f'"{name}" preempted\n{_said(events)}', events)

    check_now(context, f'no pod of deployment "{name}" preempted', check)


@step("then", 'pod "{pod:Q}" is Pending with "{text:Q}" within {d:Duration}', any_keyword=True)
def pod_pending_with(context: Any, pod: str, text: str, d: float) -> None:
    """Eventually the pod waits without a node and the scheduler's message for it (its
    PodScheduled condition) contains the text.

    Example: Then pod "patient" is Pending with "not eligible due to preemptionPolicy=Never" within 30 seconds
    """
    driver = kk(context).driver

    def check() -> Observation:
        obj = driver.get("pods", pod)
        if obj is None:
            return Observation(False, f'pod "{pod}" does not exist')
        node = (obj.get("spec") or {}).get("nodeName")
        said = next((c.get("message", "") for c in (obj.get("status") or {}).get(
            "conditions") or [] if c.get("type") == "PodScheduled"), "")
        return Observation(not node and text in said,
                           f'pod "{pod}" is {"on " + node if node else "Pending"}; the '
                           f'scheduler said: {said or "nothing yet"}', [obj])

    wait_for(context, f'pod "{pod}" Pending with "{text}"', check, d, kinds=("pods",))
