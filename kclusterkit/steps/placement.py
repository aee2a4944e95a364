"""Steps about placement: node labels and taints, and where a workload's pods run.

Platform teams keep replicas apart (one per node, spread over zones), steer pods to the
nodes that have what they need (labels, node affinity) and keep others off (taints).
The Given steps here build deployments with those rules written the Kubernetes way
(podAntiAffinity on kubernetes.io/hostname, topologySpreadConstraints on
topology.kubernetes.io/zone, nodeAffinity, tolerations), so the same scenario reads the
same on any cluster; the Then steps look at where the pods actually are.

Labelling or tainting a node changes a shared machine: on a real cluster the driver
refuses it unless the environment sets ``allow_disruptive: true`` and undoes every such
change when the scenario ends.
"""

# ruff: noqa: E501  (a step's Example must stay on one line: the catalog prints it as is)
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from kclusterkit.driver import Observation
from kclusterkit.steps._support import (
    Obj,
    StepUsageError,
    check_now,
    is_terminating,
    kk,
    owner_pods,
    plural,
    pod_table,
    step,
    wait_for,
)
from kclusterkit.steps.workloads import workload

HOSTNAME = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"
_LABEL = re.compile(r"^([A-Za-z0-9./_-]+)=([A-Za-z0-9._-]*)$")
_TAINT = re.compile(r"^([A-Za-z0-9./_-]+)(?:=([A-Za-z0-9._-]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$")
_TAINT_KEY = re.compile(r"^([A-Za-z0-9./_-]+):(NoSchedule|PreferNoSchedule|NoExecute)$")


def _label(text: str) -> tuple[str, str]:
    match = _LABEL.match(text)
    if not match:
        raise StepUsageError(f'"{text}" is not a label: expected key=value, e.g. "disk=ssd"')
    return match.group(1), match.group(2)


def _taint(text: str) -> dict[str, str]:
    match = _TAINT.match(text)
    if not match:
        raise StepUsageError(f'"{text}" is not a taint: expected key=value:Effect or '
                             'key:Effect, e.g. "dedicated=db:NoSchedule"')
    taint = {"key": match.group(1), "effect": match.group(3)}
    if match.group(2):
        taint["value"] = match.group(2)
    return taint


def _node(context: Any, name: str) -> str:
    if kk(context).driver.get("nodes", name) is None:
        names = sorted(n["metadata"]["name"] for n in kk(context).driver.list("nodes"))
        raise StepUsageError(f'node "{name}" does not exist (nodes: {", ".join(names)})')
    return name


# -- labels and taints --------------------------------------------------------------------

@step("given", 'node "{node:Q}" is labelled "{label:Q}"')
def given_label(context: Any, node: str, label: str) -> None:
    """The node carries the label (set now, and taken off again after the scenario on a
    real cluster).

    Example: Given node "worker-2" is labelled "disk=ssd"
    """
    key, value = _label(label)
    kk(context).driver.set_node_label(_node(context, node), key, value)


@step("when", 'I label node "{node:Q}" with "{label:Q}"')
def when_label(context: Any, node: str, label: str) -> None:
    """Set a label on the node, as `kubectl label node … --overwrite` does.

    Example: When I label node "worker-1" with "disk=ssd"
    """
    key, value = _label(label)
    kk(context).driver.set_node_label(_node(context, node), key, value)


@step("when", 'I remove label "{key:Q}" from node "{node:Q}"')
def when_unlabel(context: Any, key: str, node: str) -> None:
    """Take a label off the node (`kubectl label node … key-`).

    Example: When I remove label "disk" from node "worker-2"
    """
    kk(context).driver.set_node_label(_node(context, node), key, None)


@step("given", 'node "{node:Q}" is tainted "{taint:Q}"')
def given_taint(context: Any, node: str, taint: str) -> None:
    """The node carries the taint (key=value:Effect).

    Example: Given node "worker-1" is tainted "dedicated=db:NoSchedule"
    """
    kk(context).driver.set_node_taint(_node(context, node), _taint(taint), True)


@step("when", 'I taint node "{node:Q}" with "{taint:Q}"')
def when_taint(context: Any, node: str, taint: str) -> None:
    """Add a taint to the node, as `kubectl taint node … key=value:Effect` does.

    Example: When I taint node "worker-1" with "dedicated=db:NoSchedule"
    """
    kk(context).driver.set_node_taint(_node(context, node), _taint(taint), True)


@step("when", 'I remove taint "{taint:Q}" from node "{node:Q}"')
def when_untaint(context: Any, taint: str, node: str) -> None:
    """Remove the node's taint with that key and effect (`kubectl taint node … key:Effect-`).

    Example: When I remove taint "dedicated:NoSchedule" from node "worker-1"
    """
    match = _TAINT_KEY.match(taint)
    if not match:
        raise StepUsageError(f'"{taint}" names no taint: expected key:Effect, e.g. '
                             '"dedicated:NoSchedule"')
    kk(context).driver.set_node_taint(_node(context, node), {"key": match.group(1),
                                                             "effect": match.group(2)}, False)


# -- deployments with placement rules ------------------------------------------------------

def _deployment_with(context: Any, name: str, image: str, n: int,
                     shape: Callable[[dict[str, Any]], None]) -> None:
    obj = workload("Deployment", name, image, n)
    shape(obj["spec"]["template"]["spec"])
    kk(context).driver.create(obj)


@step("given", 'a deployment "{name:Q}" running "{image:Q}" with {n:N} replica(s), no two on the same node')
def one_per_node(context: Any, name: str, image: str, n: int) -> None:
    """Required pod anti-affinity on kubernetes.io/hostname against its own pods.

    Example: Given a deployment "web" running "nginx:1.25" with 3 replicas, no two on the same node
    """
    def shape(spec: dict[str, Any]) -> None:
        spec["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": name}}, "topologyKey": HOSTNAME}]}}
    _deployment_with(context, name, image, n, shape)


@step("given", 'a deployment "{name:Q}" running "{image:Q}" with {n:N} replica(s) spread over zones with a maximum skew of {skew:N}')
def spread_over_zones(context: Any, name: str, image: str, n: int, skew: int) -> None:
    """A topology spread constraint on topology.kubernetes.io/zone (DoNotSchedule).

    Example: Given a deployment "web" running "nginx:1.25" with 4 replicas spread over zones with a maximum skew of 1
    """
    def shape(spec: dict[str, Any]) -> None:
        spec["topologySpreadConstraints"] = [{
            "maxSkew": skew, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": name}}}]
    _deployment_with(context, name, image, n, shape)


@step("given", 'a deployment "{name:Q}" running "{image:Q}" with {n:N} replica(s) on nodes labelled "{label:Q}"')
def on_labelled_nodes(context: Any, name: str, image: str, n: int, label: str) -> None:
    """Required node affinity: the label's key In [value].

    Example: Given a deployment "db" running "nginx:1.25" with 2 replicas on nodes labelled "disk=ssd"
    """
    key, value = _label(label)

    def shape(spec: dict[str, Any]) -> None:
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": key, "operator": "In", "values": [value]}]}]}}}
    _deployment_with(context, name, image, n, shape)


@step("given", 'a deployment "{name:Q}" running "{image:Q}" with {n:N} replica(s) preferring nodes labelled "{label:Q}"')
def preferring_labelled_nodes(context: Any, name: str, image: str, n: int, label: str) -> None:
    """Preferred node affinity (weight 100): such nodes score higher, others still do.

    Example: Given a deployment "cache" running "nginx:1.25" with 2 replicas preferring nodes labelled "disk=ssd"
    """
    key, value = _label(label)

    def shape(spec: dict[str, Any]) -> None:
        spec["affinity"] = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "preference": {"matchExpressions": [
                {"key": key, "operator": "In", "values": [value]}]}}]}}
    _deployment_with(context, name, image, n, shape)


@step("given", 'a deployment "{name:Q}" running "{image:Q}" with {n:N} replica(s) beside the pods of deployment "{other:Q}"')
def beside(context: Any, name: str, image: str, n: int, other: str) -> None:
    """Required pod affinity on kubernetes.io/hostname to the other deployment's pods.

    Example: Given a deployment "sidecar" running "nginx:1.25" with 2 replicas beside the pods of deployment "web"
    """
    def shape(spec: dict[str, Any]) -> None:
        spec["affinity"] = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": other}}, "topologyKey": HOSTNAME}]}}
    _deployment_with(context, name, image, n, shape)


@step("given", 'a deployment "{name:Q}" running "{image:Q}" with {n:N} replica(s) tolerating "{taint:Q}"')
def tolerating(context: Any, name: str, image: str, n: int, taint: str) -> None:
    """Pods that tolerate the taint (key=value:Effect, operator Equal).

    Example: Given a deployment "db" running "nginx:1.25" with 2 replicas tolerating "dedicated=db:NoSchedule"
    """
    wanted = _taint(taint)

    def shape(spec: dict[str, Any]) -> None:
        spec["tolerations"] = [{"key": wanted["key"], "operator": "Equal",
                                "value": wanted.get("value", ""), "effect": wanted["effect"]}]
    _deployment_with(context, name, image, n, shape)


# -- where pods are ------------------------------------------------------------------------

def _placed(context: Any, name: str) -> tuple[list[Obj], list[Obj]]:
    """(every pod of the deployment, the bound ones not terminating)."""
    owner, pods = owner_pods(kk(context).driver, "deployment", name)
    if owner is None:
        raise StepUsageError(f'deployment "{name}" does not exist')
    bound = [p for p in pods if (p.get("spec") or {}).get("nodeName") and not is_terminating(p)]
    return pods, bound


def _node_labels(context: Any) -> dict[str, dict[str, str]]:
    return {n["metadata"]["name"]: n["metadata"].get("labels") or {}
            for n in kk(context).driver.list("nodes")}


def _where(pods: list[Obj], labels: dict[str, dict[str, str]], key: str | None = None) -> str:
    extra = [("ZONE", lambda p: labels.get(p["spec"].get("nodeName") or "", {}).get(
        key or ZONE, "<none>"))] if key else []
    return pod_table(pods, extra)


@step("then", 'the pods of deployment "{name:Q}" run on {n:N} different node(s) within {d:Duration}', any_keyword=True)
def on_n_nodes(context: Any, name: str, n: int, d: float) -> None:
    """Eventually the deployment's running pods are on exactly n distinct nodes.

    Example: Then the pods of deployment "web" run on 2 different nodes within 1 minute
    """
    def check() -> Observation:
        pods, bound = _placed(context, name)
        nodes = sorted({p["spec"]["nodeName"] for p in bound})
        return Observation(len(nodes) == n, f'{plural(len(nodes), "node")}: '
                           f'{", ".join(nodes) or "none"}\n{pod_table(pods)}', pods)

    wait_for(context, f'the pods of deployment "{name}" on {plural(n, "different node")}',
             check, d, kinds=("pods",))


@step("then", 'the pods of deployment "{name:Q}" run in {n:N} different zone(s) within {d:Duration}', any_keyword=True)
def in_n_zones(context: Any, name: str, n: int, d: float) -> None:
    """Eventually the deployment's running pods are in exactly n distinct zones
    (topology.kubernetes.io/zone of their nodes).

    Example: Then the pods of deployment "web" run in 2 different zones within 1 minute
    """
    def check() -> Observation:
        pods, bound = _placed(context, name)
        labels = _node_labels(context)
        zones = sorted({labels.get(p["spec"]["nodeName"], {}).get(ZONE, "<none>")
                        for p in bound})
        return Observation(len(zones) == n and "<none>" not in zones,
                           f'{plural(len(zones), "zone")}: {", ".join(zones) or "none"}\n'
                           f"{_where(pods, labels, ZONE)}", pods)

    wait_for(context, f'the pods of deployment "{name}" in {plural(n, "different zone")}',
             check, d, kinds=("pods",))


@step("then", 'the pods of deployment "{name:Q}" are spread over zones within a skew of {skew:N}')
def zone_skew(context: Any, name: str, skew: int) -> None:
    """Right now the pod counts of any two zones (of the nodes that have one) differ by at
    most skew.

    Example: Then the pods of deployment "web" are spread over zones within a skew of 1
    """
    def check() -> Observation:
        pods, bound = _placed(context, name)
        labels = _node_labels(context)
        counts = {z: 0 for z in {v.get(ZONE) for v in labels.values()} if z}
        for p in bound:
            zone = labels.get(p["spec"]["nodeName"], {}).get(ZONE)
            if zone:
                counts[zone] += 1
        spread = (max(counts.values()) - min(counts.values())) if counts else 0
        shown = ", ".join(f"{z}: {c}" for z, c in sorted(counts.items())) or "no zones"
        return Observation(bool(counts) and spread <= skew, f"pods per zone: {shown}\n"
                           f"{_where(pods, labels, ZONE)}", pods)

    check_now(context, f'the pods of deployment "{name}" spread over zones within a skew '
              f"of {skew}", check)


@step("then", 'no two pods of deployment "{name:Q}" share a node')
def no_two_share(context: Any, name: str) -> None:
    """Right now every running pod of the deployment is on a node of its own.

    Example: Then no two pods of deployment "web" share a node
    """
    def check() -> Observation:
        pods, bound = _placed(context, name)
        per: dict[str, int] = {}
        for p in bound:
            per[p["spec"]["nodeName"]] = per.get(p["spec"]["nodeName"], 0) + 1
        shared = sorted(n for n, c in per.items() if c > 1)
        return Observation(not shared, (f'nodes with more than one: {", ".join(shared)}'
                                        if shared else "one pod per node")
                           + f"\n{pod_table(pods)}", pods)

    check_now(context, f'no two pods of deployment "{name}" on one node', check)


@step("then", 'pod "{pod:Q}" runs on node "{node:Q}" within {d:Duration}', any_keyword=True)
def pod_on_node(context: Any, pod: str, node: str, d: float) -> None:
    """Eventually the pod is bound to that node.

    Example: Then pod "client" runs on node "worker-2" within 1 minute
    """
    driver = kk(context).driver

    def check() -> Observation:
        obj = driver.get("pods", pod)
        if obj is None:
            return Observation(False, f'pod "{pod}" does not exist')
        at = (obj.get("spec") or {}).get("nodeName") or "no node (Pending)"
        return Observation(at == node, f'pod "{pod}" is on {at}', [obj])

    wait_for(context, f'pod "{pod}" on node "{node}"', check, d, kinds=("pods",))


def _none_on(context: Any, name: str, node: str) -> Observation:
    pods, bound = _placed(context, name)
    there = [p for p in bound if p["spec"]["nodeName"] == node]
    return Observation(not there, f'{plural(len(there), "pod")} of deployment "{name}" on '
                       f'node "{node}"\n{pod_table(pods)}', pods)


@step("then", 'none of the pods of deployment "{name:Q}" is on node "{node:Q}"')
def none_on_node(context: Any, name: str, node: str) -> None:
    """Right now no running pod of the deployment is on that node.

    Example: Then none of the pods of deployment "web" is on node "worker-1"
    """
    check_now(context, f'no pod of deployment "{name}" on node "{node}"',
              lambda: _none_on(context, name, node))


@step("then", 'none of the pods of deployment "{name:Q}" is on that node')
def none_on_that_node(context: Any, name: str) -> None:
    """Right now no running pod of the deployment is on the remembered node.

    Example: Then none of the pods of deployment "web" is on that node
    """
    state = kk(context)
    node = state.remembered("node referred to as 'that node'", state.that_node).name
    check_now(context, f'no pod of deployment "{name}" on node "{node}"',
              lambda: _none_on(context, name, node))


@step("then", 'every pod of deployment "{name:Q}" runs on a node labelled "{label:Q}"')
def every_on_labelled(context: Any, name: str, label: str) -> None:
    """Right now every running pod of the deployment is on a node carrying the label.

    Example: Then every pod of deployment "db" runs on a node labelled "disk=ssd"
    """
    key, value = _label(label)

    def check() -> Observation:
        pods, bound = _placed(context, name)
        labels = _node_labels(context)
        off = [p["metadata"]["name"] for p in bound
               if labels.get(p["spec"]["nodeName"], {}).get(key) != value]
        return Observation(bool(bound) and not off,
                           (f"on other nodes: {', '.join(off)}" if off else
                            f"{plural(len(bound), 'running pod')}") + f"\n{pod_table(pods)}",
                           pods)

    check_now(context, f'every pod of deployment "{name}" on a node labelled "{label}"', check)
