"""Steps about node maintenance: disruption budgets, cordon, drain, uncordon.

A drain is what a platform team does before every node upgrade; the question a scenario
answers is whether the service stays up while it happens. So the drain step runs
``kubectl drain --ignore-daemonsets --delete-emptydir-data`` semantics through the driver
(cordon, evict through the Eviction API, retry a 429 from a PodDisruptionBudget every 5
seconds, wait until the pods are gone) and, at every change it waits through, counts each
deployment's ready pods, so "never had fewer than N ready pods while that happened" is
checked against every state the drain went through, not a sample.

On a real cluster these steps change shared nodes: the driver refuses them unless the
environment sets ``allow_disruptive: true`` (the scenario is skipped with the reason) and
puts every node back as it was when the scenario ends.
"""

# ruff: noqa: E501  (a step's Example must stay on one line: the catalog prints it as is)
from __future__ import annotations

from typing import Any

from kclusterkit.driver import Observation
from kclusterkit.driver.drain import DrainRefused, DrainResult, drain_node
from kclusterkit.errors import ClusterTimeout
from kclusterkit.steps._support import (
    ExpectationNotMet,
    Obj,
    Ref,
    StepUsageError,
    check_now,
    is_ready,
    is_terminating,
    kk,
    owner_pods,
    plural,
    pod_table,
    step,
    wait_for,
)
from kclusterkit.steps.cluster import node_table
from kclusterkit.steps.workloads import workload

UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
DEFAULT_DRAIN_TIMEOUT = 600.0
# The drain leaves kclusterkit's own probe and load pods where they are (kubectl drain
# --pod-selector): they measure the drain, and moving them would end the measurement.
NOT_OURS = "app.kubernetes.io/managed-by!=kclusterkit"


# -- workloads whose pods are slow to become ready --------------------------------------

@step("given", 'a deployment "{name:Q}" running "{image:Q}" with {n:N} replica(s) that become ready {d:Duration} after they start')
def slow_ready_deployment(context: Any, name: str, image: str, n: int, d: float) -> None:
    """A deployment whose pods pass their readiness probe (exec ``true``) only d after their
    container starts (initialDelaySeconds), as an application that warms up: a replacement
    takes that long to count for a disruption budget.

    Example: Given a deployment "web" running "nginx:1.25" with 4 replicas that become ready 10 seconds after they start
    """
    obj = workload("Deployment", name, image, n)
    obj["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = {
        "exec": {"command": ["true"]}, "initialDelaySeconds": int(d), "periodSeconds": 1}
    kk(context).driver.create(obj)


# -- budgets --------------------------------------------------------------------------

def _budget(context: Any, name: str, field: str, n: int) -> None:
    state = kk(context)
    dep = state.driver.get("deployments", name)
    if dep is None:
        raise StepUsageError(f'deployment "{name}" does not exist: create it before its '
                             "disruption budget")
    state.driver.create({
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": name},
        "spec": {field: n, "selector": dep["spec"]["selector"]},
    })


@step("given", 'at most {n:N} pod(s) of deployment "{name:Q}" may be disrupted at a time')
def budget_max_unavailable(context: Any, n: int, name: str) -> None:
    """A PodDisruptionBudget with maxUnavailable n over the deployment's pods.

    Example: Given at most 1 pod of deployment "web" may be disrupted at a time
    """
    _budget(context, name, "maxUnavailable", n)


@step("given", 'at least {n:N} pod(s) of deployment "{name:Q}" must stay available')
def budget_min_available(context: Any, n: int, name: str) -> None:
    """A PodDisruptionBudget with minAvailable n over the deployment's pods.

    Example: Given at least 3 pods of deployment "web" must stay available
    """
    _budget(context, name, "minAvailable", n)


@step("then", 'the disruption budget of deployment "{name:Q}" allows {n:N} disruption(s) within {d:Duration}', any_keyword=True)
def budget_allows(context: Any, name: str, n: int, d: float) -> None:
    """Eventually the budget's status says n disruptions are allowed (disruptionsAllowed).

    Example: Then the disruption budget of deployment "web" allows 1 disruption within 30 seconds
    """
    driver = kk(context).driver

    def check() -> Observation:
        pdb = driver.get("poddisruptionbudgets", name)
        if pdb is None:
            return Observation(False, f'no disruption budget "{name}"')
        st = pdb.get("status") or {}
        return Observation(st.get("disruptionsAllowed") == n,
                           f"disruptionsAllowed {st.get('disruptionsAllowed')}, currentHealthy "
                           f"{st.get('currentHealthy')}, desiredHealthy "
                           f"{st.get('desiredHealthy')}, expectedPods {st.get('expectedPods')}",
                           [pdb])

    wait_for(context, f'the disruption budget "{name}" to allow '
             f"{plural(n, 'disruption')}", check, d,
             kinds=("poddisruptionbudgets", "pods"))


# -- choosing a node ------------------------------------------------------------------

def _busiest_node(context: Any, name: str) -> str:
    state = kk(context)
    owner, pods = owner_pods(state.driver, "deployment", name)
    if owner is None:
        raise StepUsageError(f'deployment "{name}" does not exist')
    per_node: dict[str, int] = {}
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        if node and not is_terminating(pod):
            per_node[node] = per_node.get(node, 0) + 1
    if not per_node:
        raise StepUsageError(f'no node runs a pod of deployment "{name}"\n{pod_table(pods)}')
    chosen = sorted(per_node, key=lambda n: (-per_node[n], n))[0]
    state.that_node = Ref("node", chosen)
    return chosen


def _that_node(context: Any) -> str:
    state = kk(context)
    return state.remembered("node referred to as 'that node'", state.that_node).name


def _named_node(context: Any, node: str) -> str:
    state = kk(context)
    if state.driver.get("nodes", node) is None:
        raise StepUsageError(f'node "{node}" does not exist\n'
                             f"{node_table(state.driver.list('nodes'))}")
    state.that_node = Ref("node", node)
    return node


def _node_of_pod(context: Any, pod: str) -> str:
    state = kk(context)
    obj = state.driver.get("pods", pod)
    node = ((obj or {}).get("spec") or {}).get("nodeName")
    if not node:
        raise StepUsageError(f'pod "{pod}" ' + ("does not exist" if obj is None
                                                else "is not on a node yet"))
    state.that_node = Ref("node", node)
    return node


# -- cordon ---------------------------------------------------------------------------

@step("when", 'I cordon node "{node:Q}"')
def cordon_node(context: Any, node: str) -> None:
    """Mark the node unschedulable, as `kubectl cordon` does (remembered as "that node").

    Example: When I cordon node "worker-1"
    """
    kk(context).driver.set_node_unschedulable(_named_node(context, node), True)


@step("when", 'I cordon the node running the most pods of deployment "{name:Q}"')
def cordon_busiest(context: Any, name: str) -> None:
    """Cordon the node with most of the deployment's pods (ties: first by name).

    Example: When I cordon the node running the most pods of deployment "web"
    """
    kk(context).driver.set_node_unschedulable(_busiest_node(context, name), True)


@step("when", "I uncordon that node")
def uncordon_that(context: Any) -> None:
    """Mark the remembered node schedulable again, as `kubectl uncordon` does.

    Example: When I uncordon that node
    """
    kk(context).driver.set_node_unschedulable(_that_node(context), False)


@step("when", 'I uncordon node "{node:Q}"')
def uncordon_node(context: Any, node: str) -> None:
    """Mark the node schedulable again.

    Example: When I uncordon node "worker-1"
    """
    kk(context).driver.set_node_unschedulable(_named_node(context, node), False)


def _cordon_check(context: Any, node: str, wanted: bool) -> Any:
    driver = kk(context).driver

    def check() -> Observation:
        obj = driver.get("nodes", node)
        if obj is None:
            return Observation(False, f'node "{node}" does not exist')
        spec = obj.get("spec") or {}
        tainted = any(t.get("key") == UNSCHEDULABLE_TAINT and t.get("effect") == "NoSchedule"
                      for t in spec.get("taints") or [])
        cordoned = bool(spec.get("unschedulable"))
        seen = (f'node "{node}": spec.unschedulable {str(cordoned).lower()}, taint '
                f"{UNSCHEDULABLE_TAINT}:NoSchedule {'present' if tainted else 'absent'}")
        return Observation(cordoned == wanted and tainted == wanted, seen, [obj])

    return check


@step("then", "that node is cordoned within {d:Duration}", any_keyword=True)
def that_node_cordoned(context: Any, d: float) -> None:
    """Eventually the remembered node is unschedulable and carries the
    node.kubernetes.io/unschedulable:NoSchedule taint (the node lifecycle controller adds it).

    Example: Then that node is cordoned within 10 seconds
    """
    node = _that_node(context)
    wait_for(context, f'node "{node}" to be cordoned', _cordon_check(context, node, True), d,
             kinds=("nodes",))


@step("then", "that node is schedulable within {d:Duration}", any_keyword=True)
def that_node_schedulable(context: Any, d: float) -> None:
    """Eventually the remembered node is schedulable and its unschedulable taint is gone.

    Example: Then that node is schedulable within 10 seconds
    """
    node = _that_node(context)
    wait_for(context, f'node "{node}" to be schedulable', _cordon_check(context, node, False),
             d, kinds=("nodes",))


# -- drain ----------------------------------------------------------------------------

def _ready_counter(context: Any) -> Any:
    """Count every deployment's ready pods in the scenario's namespace, keeping the minimum
    seen since the drain began (in ``memo["min_ready"]``)."""
    state = kk(context)
    lows: dict[str, int] = {}
    state.memo["min_ready"] = (state.driver.now(), lows)

    def observe() -> None:
        counts: dict[str, int] = {}
        for pod in state.driver.list("pods"):
            labels = pod["metadata"].get("labels") or {}
            hashed = labels.get("pod-template-hash")
            ref = next((r for r in pod["metadata"].get("ownerReferences") or []
                        if r.get("controller") and r.get("kind") == "ReplicaSet"), None)
            if not hashed or ref is None or not ref.get("name", "").endswith("-" + hashed):
                continue
            deployment = ref["name"][:-len(hashed) - 1]
            counts.setdefault(deployment, 0)
            if is_ready(pod) and not is_terminating(pod):
                counts[deployment] += 1
        for deployment, n in counts.items():
            lows[deployment] = min(n, lows.get(deployment, n))

    return observe


def _drain(context: Any, node: str, *, force: bool = False,
           timeout: float = DEFAULT_DRAIN_TIMEOUT, expect_done: bool = True) -> None:
    state = kk(context)
    observe = _ready_counter(context)
    observe()
    state.memo.pop("drain", None)
    state.memo.pop("drain_error", None)
    try:
        result: DrainResult = drain_node(state.driver, node, force=force, timeout=timeout,
                                         pod_selector=NOT_OURS, observe=observe)
    except (DrainRefused, ClusterTimeout) as exc:
        state.memo["drain_error"] = exc
        if expect_done:
            raise ExpectationNotMet(f'node "{node}" could not be drained: {exc}') from exc
        return
    state.memo["drain"] = result


@step("when", 'I drain node "{node:Q}"')
def drain_named_node(context: Any, node: str) -> None:
    """`kubectl drain --ignore-daemonsets --delete-emptydir-data`: cordon, evict every pod
    (DaemonSet pods and kclusterkit's own probe pods stay), retry what a disruption budget
    refuses every 5 seconds, wait until they are gone (up to 10 minutes). Remembered as
    "that node".

    Example: When I drain node "worker-1"
    """
    _drain(context, _named_node(context, node))


@step("when", 'I drain the node running the most pods of deployment "{name:Q}"')
def drain_busiest(context: Any, name: str) -> None:
    """Drain the node with most of the deployment's pods (ties: first by name).

    Example: When I drain the node running the most pods of deployment "web"
    """
    _drain(context, _busiest_node(context, name))


@step("when", "I drain that node")
def drain_that(context: Any) -> None:
    """Drain the remembered node.

    Example: When I drain that node
    """
    _drain(context, _that_node(context))


@step("when", 'I try to drain the node running pod "{pod:Q}"')
def try_drain_pod_node(context: Any, pod: str) -> None:
    """Drain the pod's node, remembering a refusal instead of failing (see "the drain was
    refused …").

    Example: When I try to drain the node running pod "bare"
    """
    _drain(context, _node_of_pod(context, pod), expect_done=False)


@step("when", 'I force-drain the node running pod "{pod:Q}"')
def force_drain_pod_node(context: Any, pod: str) -> None:
    """`kubectl drain --force`: pods that declare no controller are evicted too.

    Example: When I force-drain the node running pod "bare"
    """
    _drain(context, _node_of_pod(context, pod), force=True)


@step("when", 'I try to drain the node running the most pods of deployment "{name:Q}" for {d:Duration}')
def try_drain_for(context: Any, name: str, d: float) -> None:
    """Drain with a time limit (`kubectl drain --timeout`), remembering that it did not
    finish instead of failing.

    Example: When I try to drain the node running the most pods of deployment "web" for 1 minute
    """
    _drain(context, _busiest_node(context, name), timeout=d, expect_done=False)


def _drain_error(context: Any) -> Exception:
    state = kk(context)
    if "drain_error" not in state.memo and "drain" not in state.memo:
        raise StepUsageError("no drain to refer to: an earlier step must try to drain a node")
    error = state.memo.get("drain_error")
    if error is None:
        result = state.memo["drain"]
        raise ExpectationNotMet(f'expected the drain of node "{result.node}" not to finish\n'
                             "observed: it finished:\n  " + "\n  ".join(result.log))
    return error


@step("then", 'the drain was refused with "{text:Q}"')
def drain_refused(context: Any, text: str) -> None:
    """The drain stopped before evicting anything, with kubectl's message containing text.

    Example: Then the drain was refused with "cannot delete Pods that declare no controller"
    """
    error = _drain_error(context)
    if not isinstance(error, DrainRefused) or text not in str(error):
        raise ExpectationNotMet(f'expected the drain to be refused with "{text}"\n'
                             f"observed: {type(error).__name__}: {error}")


@step("then", "the drain did not finish: the disruption budget refused every eviction")
def drain_held(context: Any) -> None:
    """The drain ran out of time while evictions kept getting the API's 429 "Cannot evict
    pod as it would violate the pod's disruption budget.", and none was carried out.

    Example: Then the drain did not finish: the disruption budget refused every eviction
    """
    error = _drain_error(context)
    text = str(error)
    if not isinstance(error, ClusterTimeout) or "Cannot evict pod as it would violate the " \
            "pod's disruption budget." not in text or " evicted" in text:
        raise ExpectationNotMet("expected the drain to time out with every eviction refused by "
                             f"the disruption budget\nobserved: {type(error).__name__}: {text}")


@step("then", "the disruption budget made the drain wait at least once")
def drain_waited(context: Any) -> None:
    """The finished drain had at least one eviction refused with 429 and retried.

    Example: Then the disruption budget made the drain wait at least once
    """
    state = kk(context)
    result = state.memo.get("drain")
    if result is None:
        raise StepUsageError("no finished drain to refer to: an earlier step must drain a node")
    if result.refusals < 1:
        raise ExpectationNotMet("expected at least one eviction refused by the disruption "
                             "budget\nobserved: none; the drain said:\n  "
                             + "\n  ".join(result.log))


@step("then", 'deployment "{name:Q}" never had fewer than {n:N} ready pod(s) while that happened')
def never_fewer_ready(context: Any, name: str, n: int) -> None:
    """At every change during the latest drain, the deployment had at least n ready pods
    (terminating pods do not count).

    Example: Then deployment "web" never had fewer than 3 ready pods while that happened
    """
    state = kk(context)
    recorded = state.memo.get("min_ready")
    if recorded is None or state.action_started is None or recorded[0] < state.action_started:
        raise StepUsageError("'while that happened' here refers to a drain among the latest "
                             "When steps; only a drain counts ready pods as it goes")
    started, lows = recorded
    low = lows.get(name)
    if low is None:
        raise ExpectationNotMet(f'expected deployment "{name}" to keep {plural(n, "ready pod")}'
                             " during the drain\nobserved: no pod of it was seen")
    if low < n:
        result = state.memo.get("drain")
        log = ("\nthe drain said:\n  " + "\n  ".join(result.log)) if result else ""
        raise ExpectationNotMet(f'expected deployment "{name}" never to have fewer than '
                             f"{plural(n, 'ready pod')} while the drain ran\n"
                             f"observed: it went down to {low}{log}")


# -- where pods run -------------------------------------------------------------------

def _pods_on(context: Any, name: str, node: str) -> tuple[list[Obj], list[Obj]]:
    owner, pods = owner_pods(kk(context).driver, "deployment", name)
    if owner is None:
        raise StepUsageError(f'deployment "{name}" does not exist')
    live = [p for p in pods if not is_terminating(p)]
    return [p for p in live if (p.get("spec") or {}).get("nodeName") == node], live


@step("then", 'that node runs no pod of deployment "{name:Q}" within {d:Duration}', any_keyword=True)
def that_node_runs_none(context: Any, name: str, d: float) -> None:
    """Eventually none of the deployment's pods (terminating ones included) is on the
    remembered node.

    Example: Then that node runs no pod of deployment "web" within 3 minutes
    """
    node = _that_node(context)
    driver = kk(context).driver

    def check() -> Observation:
        owner, pods = owner_pods(driver, "deployment", name)
        there = [p for p in pods if (p.get("spec") or {}).get("nodeName") == node]
        return Observation(owner is not None and not there,
                           f'{plural(len(there), "pod")} of deployment "{name}" on node '
                           f'"{node}"\n{pod_table(pods)}', there)

    wait_for(context, f'no pod of deployment "{name}" on node "{node}"', check, d,
             kinds=("pods",))


@step("then", 'that node runs {n:N} pod(s) of deployment "{name:Q}"')
def that_node_runs_n(context: Any, n: int, name: str) -> None:
    """Right now exactly n of the deployment's pods (not terminating) are on the remembered
    node.

    Example: Then that node runs 2 pods of deployment "web"
    """
    node = _that_node(context)

    def check() -> Observation:
        there, live = _pods_on(context, name, node)
        return Observation(len(there) == n, f'{plural(len(there), "pod")} of deployment '
                           f'"{name}" on node "{node}"\n{pod_table(live)}', there)

    check_now(context, f'{plural(n, "pod")} of deployment "{name}" on node "{node}"', check)


@step("then", 'that node runs at least {n:N} pod(s) of deployment "{name:Q}" within {d:Duration}', any_keyword=True)
def that_node_runs_at_least(context: Any, n: int, name: str, d: float) -> None:
    """Eventually at least n of the deployment's pods are on the remembered node.

    Example: Then that node runs at least 1 pod of deployment "web" within 1 minute
    """
    node = _that_node(context)

    def check() -> Observation:
        there, live = _pods_on(context, name, node)
        return Observation(len(there) >= n, f'{plural(len(there), "pod")} of deployment '
                           f'"{name}" on node "{node}"\n{pod_table(live)}', there)

    wait_for(context, f'at least {plural(n, "pod")} of deployment "{name}" on node "{node}"',
             check, d, kinds=("pods",))

