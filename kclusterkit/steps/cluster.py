"""Steps about the cluster itself: its shape, its nodes, and nodes failing.

On the simulator "a cluster with …" builds that cluster; on a real cluster the driver
checks it and skips the scenario when it does not hold. Control-plane nodes are the ones
labelled ``node-role.kubernetes.io/control-plane``; every other node is a worker.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.driver import Observation
from kclusterkit.steps._support import (
    CONTROL_PLANE_LABEL,
    Obj,
    Ref,
    StepUsageError,
    condition,
    is_terminating,
    kk,
    owner_pods,
    plural,
    step,
    wait_for,
    worker_nodes,
)
from kclusterkit.steps.workloads import ready_pods_check


def node_status(node: Obj) -> str:
    """kubectl's STATUS column: Ready / NotReady (Unknown reads NotReady too)."""
    ready = condition(node, "Ready")
    text = "Ready" if ready and ready.get("status") == "True" else "NotReady"
    if (node.get("spec") or {}).get("unschedulable"):
        text += ",SchedulingDisabled"
    return text


def node_table(nodes: list[Obj]) -> str:
    rows = [("NAME", "STATUS", "ROLES", "REASON")]
    for node in sorted(nodes, key=lambda n: n["metadata"]["name"]):
        labels = node["metadata"].get("labels") or {}
        ready = condition(node, "Ready") or {}
        rows.append((node["metadata"]["name"], node_status(node),
                     "control-plane" if CONTROL_PLANE_LABEL in labels else "<none>",
                     ready.get("reason", "")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


@step("given", "a cluster with {cp:N} control-plane node(s) and {workers:N} worker node(s)")
def a_cluster(context: Any, cp: int, workers: int) -> None:
    """A cluster of this shape: built on the simulator, checked on a real cluster.

    Example: Given a cluster with 1 control-plane node and 3 worker nodes
    """
    kk(context).driver.configure_cluster(cp, workers)


@step("then", "every node is Ready within {d:Duration}", any_keyword=True)
def every_node_ready(context: Any, d: float) -> None:
    """Eventually every node of the cluster reports Ready.

    Example: Then every node is Ready within 2 minutes
    """
    driver = kk(context).driver

    def check() -> Observation:
        nodes = driver.list("nodes")
        ready = [n for n in nodes if node_status(n).startswith("Ready")]
        return Observation(bool(nodes) and len(ready) == len(nodes),
                           f"{len(ready)} of {plural(len(nodes), 'node')} Ready\n"
                           f"{node_table(nodes)}", nodes)

    wait_for(context, "every node to be Ready", check, d, kinds=("nodes",))


def _node_check(context: Any, wanted: str) -> tuple[Ref, Any]:
    state = kk(context)
    ref = state.remembered("node referred to as 'that node'", state.that_node)

    def check() -> Observation:
        node = state.driver.get("nodes", ref.name)
        if node is None:
            return Observation(False, f'node "{ref.name}" does not exist')
        status = node_status(node)
        return Observation(status.split(",")[0] == wanted, f'node "{ref.name}" is {status}\n'
                           f"{node_table([node])}", [node])

    return ref, check


@step("then", "that node is NotReady within {d:Duration}", any_keyword=True)
def that_node_not_ready(context: Any, d: float) -> None:
    """Eventually the remembered node reports NotReady (or its status is Unknown).

    Example: Then that node is NotReady within 1 minute
    """
    ref, check = _node_check(context, "NotReady")
    wait_for(context, f'node "{ref.name}" to be NotReady', check, d, kinds=("nodes",))


@step("then", "that node is Ready within {d:Duration}", any_keyword=True)
def that_node_ready(context: Any, d: float) -> None:
    """Eventually the remembered node reports Ready again.

    Example: Then that node is Ready within 1 minute
    """
    ref, check = _node_check(context, "Ready")
    wait_for(context, f'node "{ref.name}" to be Ready', check, d, kinds=("nodes",))


@step("when", 'a worker node running pods of deployment "{name:Q}" fails')
def worker_node_fails(context: Any, name: str) -> None:
    """The worker node running most pods of the deployment fails (remembered as "that node").

    Example: When a worker node running pods of deployment "web" fails
    """
    state = kk(context)
    state.driver.require("node-failure", "failing a node")
    owner, pods = owner_pods(state.driver, "deployment", name)
    if owner is None:
        raise StepUsageError(f'deployment "{name}" does not exist')
    workers = {n["metadata"]["name"] for n in worker_nodes(state.driver)}
    per_node: dict[str, int] = {}
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        if node in workers and not is_terminating(pod):
            per_node[node] = per_node.get(node, 0) + 1
    if not per_node:
        raise StepUsageError(f'no worker node runs a pod of deployment "{name}"')
    chosen = sorted(per_node, key=lambda n: (-per_node[n], n))[0]
    state.driver.fail_node(chosen)
    state.that_node = Ref("node", chosen)


@step("when", "that node recovers")
def that_node_recovers(context: Any) -> None:
    """The node that failed earlier in the scenario comes back.

    Example: When that node recovers
    """
    state = kk(context)
    ref = state.remembered("node referred to as 'that node'", state.that_node)
    state.driver.recover_node(ref.name)


@step("then", 'deployment "{name:Q}" has {n:N} ready pod(s), none on that node, '
      "within {d:Duration}", any_keyword=True)
def ready_pods_off_node(context: Any, name: str, n: int, d: float) -> None:
    """Eventually n pods of the deployment are Ready and none is left on the remembered node.

    Example: Then deployment "web" has 3 ready pods, none on that node, within 6 minutes
    """
    state = kk(context)
    ref = state.remembered("node referred to as 'that node'", state.that_node)
    wait_for(context, f'deployment "{name}" to have {plural(n, "ready pod")}, none on node '
             f'"{ref.name}"',
             ready_pods_check(context, "deployment", name, lambda r, _: r == n, f"{n} ready",
                              avoid_node=ref.name),
             d, kinds=("pods", "deployments"))
