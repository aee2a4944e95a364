"""Steps about the scenario's other namespaces: a second team, a frontend, a stranger.

Multi-tenant behaviour (who in which namespace may reach what, which namespace a policy
lets in) needs more than the scenario's one namespace. "Given a namespace "other"" makes
another one the scenario owns: on a real cluster it is named with the run's prefix like
the scenario's namespace (``kk-<run>-<n>-other``), labelled with the run, and deleted with
it — also when the run is interrupted. Every step that says ``in namespace "other"`` means
that namespace, whatever its real name; a name the scenario did not make (``kube-system``)
is the cluster's own.
"""

# ruff: noqa: E501  (a step's Example must stay on one line: the catalog prints it as is)
from __future__ import annotations

import re
from typing import Any

from kclusterkit.driver import Observation
from kclusterkit.steps._support import (
    StepUsageError,
    kk,
    pod_table,
    step,
    wait_for,
)
from kclusterkit.steps.pods_exec import is_running
from kclusterkit.steps.workloads import container_for, workload

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL = re.compile(r"^([A-Za-z0-9./_-]+)=([A-Za-z0-9._-]*)$")


def _labels(text: str) -> dict[str, str]:
    """``team=web`` or ``team=web, tier=front``."""
    out = {}
    for part in (p.strip() for p in text.split(",")):
        match = _LABEL.match(part)
        if not match:
            raise StepUsageError(f'"{part}" is not a label: expected key=value, e.g. "team=web"')
        out[match.group(1)] = match.group(2)
    return out


def _make(context: Any, name: str, labels: dict[str, str]) -> None:
    if not _NAME.match(name) or len(name) > 30:
        raise StepUsageError(f'"{name}" is not a namespace name: lowercase letters, digits '
                             "and '-', at most 30 characters")
    state = kk(context)
    if name in state.namespaces:
        raise StepUsageError(f'namespace "{name}" was made already in this scenario')
    state.namespaces[name] = state.driver.create_namespace(name, labels)


def real_namespace(context: Any, name: str) -> str:
    """The namespace ``in namespace "name"`` means (see ScenarioState.namespace)."""
    return kk(context).namespace(name)


@step("given", 'a namespace "{name:Q}"')
def a_namespace(context: Any, name: str) -> None:
    """Another namespace of the scenario's own (named with the run's prefix on a real
    cluster, deleted with the scenario).

    Example: Given a namespace "other"
    """
    _make(context, name, {})


@step("given", 'a namespace "{name:Q}" labelled "{labels:Q}"')
def a_labelled_namespace(context: Any, name: str, labels: str) -> None:
    """Another namespace of the scenario's own, with labels (one, or several separated by
    commas) that namespace selectors can pick.

    Example: Given a namespace "frontend" labelled "team=web"
    """
    _make(context, name, _labels(labels))


@step("given", 'namespaces "{a:Q}" and "{b:Q}"')
def two_namespaces(context: Any, a: str, b: str) -> None:
    """Two more namespaces of the scenario's own.

    Example: Given namespaces "shop" and "other"
    """
    _make(context, a, {})
    _make(context, b, {})


@step("given", 'a pod "{name:Q}" in namespace "{ns:Q}" labelled "{label:Q}" running "{image:Q}"')
def pod_in_namespace(context: Any, name: str, ns: str, label: str, image: str) -> None:
    """A labelled pod in another namespace, to be a client or a target there.

    Example: Given a pod "shop" in namespace "frontend" labelled "app=shop" running "busybox:1.36 sleep 3600"
    """
    kk(context).driver.create({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": real_namespace(context, ns),
                     "labels": _labels(label)},
        "spec": {"containers": [container_for(image)]}})


@step("given", 'a deployment "{name:Q}" in namespace "{ns:Q}" running "{image:Q}" with {n:N} replica(s)')
def deployment_in_namespace(context: Any, name: str, ns: str, image: str, n: int) -> None:
    """A deployment of n pods in another namespace.

    Example: Given a deployment "db" in namespace "shop" running "agnhost:2.53 netexec" with 1 replica
    """
    obj = workload("Deployment", name, image, n)
    obj["metadata"]["namespace"] = real_namespace(context, ns)
    kk(context).driver.create(obj)


@step("then", 'pod "{name:Q}" in namespace "{ns:Q}" is running within {d:Duration}', any_keyword=True)
def pod_running_in(context: Any, name: str, ns: str, d: float) -> None:
    """Eventually the pod in that namespace is Running with every container up.

    Example: Then pod "shop" in namespace "frontend" is running within 1 minute
    """
    driver = kk(context).driver
    real = real_namespace(context, ns)

    def check() -> Observation:
        pod = driver.get("pods", name, real)
        if pod is None:
            return Observation(False, f'pod "{name}" does not exist in namespace "{real}"')
        return Observation(is_running(pod), pod_table([pod]), [pod])

    wait_for(context, f'pod "{name}" in namespace "{ns}" to be running', check, d,
             kinds=("pods",))


@step("given", 'a service "{name:Q}" in namespace "{ns:Q}" on port {port:N} targeting port {target:N} of its deployment "{deployment:Q}"')
def service_in_namespace(context: Any, name: str, ns: str, port: int, target: int,
                         deployment: str) -> None:
    """A ClusterIP service in another namespace selecting that namespace's deployment's
    pods (``app=<deployment>``), from its port to theirs.

    Example: Given a service "db" in namespace "shop" on port 8080 targeting port 8080 of its deployment "db"
    """
    kk(context).driver.create({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": real_namespace(context, ns),
                     "labels": {"app": deployment}},
        "spec": {"type": "ClusterIP", "selector": {"app": deployment},
                 "ports": [{"protocol": "TCP", "port": port, "targetPort": target}]}})
