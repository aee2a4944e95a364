"""Steps about the control plane: its components stopping and starting, control-plane
nodes failing, whether the API server answers and the cluster can be managed, leases.

On the simulator each component is a part that fails as upstream's does (see
``kclusterkit.sim.controlplane``); on a real cluster stopping one is a disruptive hook
(``stop_component`` / ``start_component`` in the environment file: for kind, moving the
static pod manifest out of /etc/kubernetes/manifests and back), skipped with the reason
when the environment names none. Whether the API server answers is asked of the
kubeconfig's endpoint (its /readyz) with a short timeout, without watches, so it works
while the API is down.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.driver import Observation
from kclusterkit.steps._support import (
    CONTROL_PLANE_LABEL,
    HoldBroken,
    Ref,
    StepUsageError,
    WaitRecord,
    WaitTimedOut,
    kk,
    step,
)
from kclusterkit.steps.types import format_duration

#: how a feature file names each component → its name on the node (kubeadm's)
COMPONENT_WORDS = {
    "scheduler": "kube-scheduler", "kube-scheduler": "kube-scheduler",
    "controller manager": "kube-controller-manager",
    "kube-controller-manager": "kube-controller-manager",
    "api server": "kube-apiserver", "kube-apiserver": "kube-apiserver",
    "etcd": "etcd",
}
KNOWN = "scheduler, controller manager, API server, etcd"
SYSTEM_NAMESPACE = "kube-system"
#: how often (cluster seconds) API answers are asked for while waiting
POLL_EVERY = 1.0




def component_name(word: str) -> str:
    """The component a feature file's word names; a step usage error listing the known."""
    found = COMPONENT_WORDS.get(word.strip().lower())
    if found is None:
        raise StepUsageError(f'there is no control-plane component "{word}" '
                             f"(known: {KNOWN})")
    return found


def control_plane_nodes(context: Any) -> list[str]:
    nodes = kk(context).driver.list("nodes")
    return sorted(n["metadata"]["name"] for n in nodes
                  if CONTROL_PLANE_LABEL in (n["metadata"].get("labels") or {}))


def control_plane_node(context: Any, name: str) -> str:
    names = control_plane_nodes(context)
    if name not in names:
        raise StepUsageError(f'there is no control-plane node "{name}" (control-plane nodes: '
                             f"{', '.join(names) or 'none'})")
    return name


def _poll(context: Any, expected: str, check: Any, duration: float, until: bool) -> None:
    """wait_for / hold_for without watches: the API server itself may be what is down."""
    state = kk(context)
    started = state.driver.now()
    record = WaitRecord(state.step_text, expected, "within" if until else "for", started)
    state.waits.append(record)
    result = state.driver.poll(check, duration, POLL_EVERY)
    record.result = result
    seed = f" (seed={state.seed})" if state.seed is not None else ""
    if until and not result.ok:
        raise WaitTimedOut(f"expected {expected} within {format_duration(duration)}\n"
                           f"observed: {result.last.seen}\n"
                           f"waited {format_duration(result.waited)} of cluster time{seed}")
    if not until and result.ok:
        broke = (result.failed_at or state.driver.now()) - started
        raise HoldBroken(f"expected {expected} for {format_duration(duration)}\n"
                         f"it stopped holding after {format_duration(broke)} of cluster "
                         f"time\nobserved: {result.last.seen}{seed}")


# -- components ---------------------------------------------------------------------------

@step("when", '{component:Component} on node "{node:Q}" stops')
def component_on_node_stops(context: Any, component: str, node: str) -> None:
    """One instance of a control-plane component stops (its static pod manifest is
    removed): scheduler, controller manager, API server or etcd.

    Example: When the scheduler on node "control-plane-2" stops
    """
    name = component_name(component)
    kk(context).driver.stop_component(name, control_plane_node(context, node))


@step("when", "{component:Component} stops")
def component_stops(context: Any, component: str) -> None:
    """Every instance of a control-plane component stops, on every control-plane node.

    Example: When the scheduler stops
    """
    kk(context).driver.stop_component(component_name(component), None)


@step("when", '{component:Component} on node "{node:Q}" starts again')
def component_on_node_starts(context: Any, component: str, node: str) -> None:
    """A stopped instance of a control-plane component starts again on that node.

    Example: When the scheduler on node "control-plane-2" starts again
    """
    name = component_name(component)
    kk(context).driver.start_component(name, control_plane_node(context, node))


@step("when", "{component:Component} starts again")
def component_starts(context: Any, component: str) -> None:
    """Every stopped instance of a control-plane component starts again.

    Example: When the controller manager starts again
    """
    kk(context).driver.start_component(component_name(component), None)


@step("when", "{component:Component} restarts")
def component_restarts(context: Any, component: str) -> None:
    """Every instance of a control-plane component stops and starts again at once.

    Example: When the API server restarts
    """
    name = component_name(component)
    driver = kk(context).driver
    driver.stop_component(name, None)
    driver.start_component(name, None)


# -- control-plane nodes --------------------------------------------------------------------

@step("when", "the control-plane node fails")
def the_control_plane_node_fails(context: Any) -> None:
    """The cluster's only control-plane node fails, and every component on it with it
    (remembered as "that node").

    Example: When the control-plane node fails
    """
    state = kk(context)
    state.driver.require("node-failure", "failing the control-plane node")
    names = control_plane_nodes(context)
    if len(names) != 1:
        raise StepUsageError(f"the cluster has {len(names)} control-plane nodes "
                             f"({', '.join(names)}): say which, or use 'a control-plane "
                             f"node fails'")
    state.driver.fail_node(names[0])
    state.that_node = Ref("node", names[0])


@step("when", "a control-plane node fails")
def a_control_plane_node_fails(context: Any) -> None:
    """A control-plane node fails — the one whose scheduler holds the lease, so that
    leadership must move (remembered as "that node").

    Example: When a control-plane node fails
    """
    state = kk(context)
    state.driver.require("node-failure", "failing a control-plane node")
    names = control_plane_nodes(context)
    lease = state.driver.get("leases", "kube-scheduler", namespace=SYSTEM_NAMESPACE)
    holder = ((lease or {}).get("spec") or {}).get("holderIdentity") or ""
    chosen = next((n for n in names if holder.startswith(f"{n}_")), names[0] if names else "")
    if not chosen:
        raise StepUsageError("the cluster has no control-plane node")
    state.driver.fail_node(chosen)
    state.that_node = Ref("node", chosen)


@step("when", 'control-plane node "{node:Q}" fails')
def named_control_plane_node_fails(context: Any, node: str) -> None:
    """That control-plane node fails, with every component on it (remembered as "that
    node").

    Example: When control-plane node "control-plane-2" fails
    """
    state = kk(context)
    state.driver.require("node-failure", "failing a control-plane node")
    state.driver.fail_node(control_plane_node(context, node))
    state.that_node = Ref("node", node)


@step("when", 'control-plane node "{node:Q}" recovers')
def named_control_plane_node_recovers(context: Any, node: str) -> None:
    """A failed control-plane node comes back, and its components with it.

    Example: When control-plane node "control-plane-2" recovers
    """
    kk(context).driver.recover_node(node)


# -- the API server ----------------------------------------------------------------------------

@step("then", "the API server answers within {d:Duration}", any_keyword=True)
def api_answers_within(context: Any, d: float) -> None:
    """Eventually the cluster's API server answers (its /readyz, asked with a short
    timeout).

    Example: Then the API server answers within 30 seconds
    """
    _poll(context, "the API server to answer", kk(context).driver.api_answers, d, until=True)


@step("then", "the API server does not answer for {d:Duration}", any_keyword=True)
def api_silent_for(context: Any, d: float) -> None:
    """The cluster's API server gives no answer (refused, timed out or an error) the whole
    time.

    Example: Then the API server does not answer for 1 minute
    """
    _poll(context, "the API server not to answer", kk(context).driver.api_answers, d,
          until=False)


@step("then", "the cluster can be managed within {d:Duration}", any_keyword=True)
def cluster_manageable(context: Any, d: float) -> None:
    """Eventually a write succeeds: a ConfigMap is created in the scenario's namespace (and
    removed again).

    Example: Then the cluster can be managed within 1 minute
    """
    state = kk(context)
    attempts = [0]

    def check() -> Observation:
        attempts[0] += 1
        name = f"kk-managed-{attempts[0]}"
        try:
            state.driver.create({"apiVersion": "v1", "kind": "ConfigMap",
                                 "metadata": {"name": name}, "data": {"probe": "1"}})
        except Exception as exc:  # noqa: BLE001 — any refusal is "cannot be managed" yet
            return Observation(False, f"creating ConfigMap {name}: {exc}")
        try:
            state.driver.delete("configmaps", name)
        except Exception:  # noqa: BLE001 — the namespace goes at the end anyway
            pass
        return Observation(True, f"ConfigMap {name} created")

    _poll(context, "a write to succeed", check, d, until=True)


# -- kube-system --------------------------------------------------------------------------------

def _system_pods_check(context: Any) -> Observation:
    pods = kk(context).driver.list("pods", namespace=SYSTEM_NAMESPACE)
    rows = []
    bad = []
    for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
        phase = (pod.get("status") or {}).get("phase", "")
        node = (pod.get("spec") or {}).get("nodeName") or "<none>"
        rows.append(f"  {pod['metadata']['name']:<44} {phase:<10} {node}")
        if phase not in ("Running", "Succeeded") or pod["metadata"].get("deletionTimestamp"):
            bad.append(pod["metadata"]["name"])
    ok = bool(pods) and not bad
    head = (f"{len(pods) - len(bad)} of {len(pods)} pods in {SYSTEM_NAMESPACE} running"
            + (f"; not running: {', '.join(bad)}" if bad else ""))
    return Observation(ok, head + "\n" + "\n".join(rows), pods)


@step("then", "every pod in kube-system is running within {d:Duration}", any_keyword=True)
def system_pods_running(context: Any, d: float) -> None:
    """Eventually every pod in kube-system is Running (there is at least one).

    Example: Then every pod in kube-system is running within 2 minutes
    """
    _poll(context, "every pod in kube-system to be running",
          lambda: _system_pods_check(context), d, until=True)


@step("then", '{component:Component} runs on node "{node:Q}"', any_keyword=True)
def component_runs_on(context: Any, component: str, node: str) -> None:
    """Right now the component's static pod (``<component>-<node>``) on that control-plane
    node is listed in kube-system and Running.

    Example: Then the API server runs on node "control-plane"
    """
    name = component_name(component)
    node = control_plane_node(context, node)
    pod = kk(context).driver.get("pods", f"{name}-{node}", namespace=SYSTEM_NAMESPACE)
    phase = ((pod or {}).get("status") or {}).get("phase")
    if phase != "Running":
        raise WaitTimedOut(f"expected pod {SYSTEM_NAMESPACE}/{name}-{node} Running\n"
                           f"observed: {'it does not exist' if pod is None else phase}")


@step("then", "every control-plane node runs its control-plane pods within {d:Duration}",
      any_keyword=True)
def every_node_runs_components(context: Any, d: float) -> None:
    """Eventually each control-plane node's static pods — API server, etcd, scheduler and
    controller manager, ``<component>-<node>`` in kube-system as kubeadm names them — run.

    Example: Then every control-plane node runs its control-plane pods within 1 minute
    """
    driver = kk(context).driver

    def check() -> Observation:
        nodes = control_plane_nodes(context)
        pods = {p["metadata"]["name"]: p
                for p in driver.list("pods", namespace=SYSTEM_NAMESPACE)}
        missing = []
        for node in nodes:
            for component in ("kube-apiserver", "etcd", "kube-scheduler",
                              "kube-controller-manager"):
                pod = pods.get(f"{component}-{node}")
                phase = ((pod or {}).get("status") or {}).get("phase")
                if phase != "Running":
                    missing.append(f"{component}-{node} ({phase or 'no such pod'})")
        seen = (f"{len(nodes)} control-plane node(s): {', '.join(nodes) or 'none'}"
                + (f"; not running: {', '.join(missing)}" if missing else "; all running"))
        return Observation(bool(nodes) and not missing, seen)

    _poll(context, "every control-plane node to run its four components", check, d,
          until=True)


# -- leases --------------------------------------------------------------------------------------

def _lease_check(context: Any, component: str, wanted: Any, describe: str) -> Any:
    state = kk(context)

    def check() -> Observation:
        lease = state.driver.get("leases", component, namespace=SYSTEM_NAMESPACE)
        spec = (lease or {}).get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        node = holder.rsplit("_", 1)[0] if "_" in holder else holder
        seen = (f"lease {SYSTEM_NAMESPACE}/{component} is held by {holder or 'nobody'} "
                f"(renewed {spec.get('renewTime', '-')}, "
                f"{spec.get('leaseTransitions', 0)} transitions)")
        return Observation(bool(node) and wanted(node), seen, [lease] if lease else [])

    return check, f"the {component} lease to be held by {describe}"


@step("then", "{component:Component}'s lease is held by a node other than that node "
      "within {d:Duration}", any_keyword=True)
def lease_moved(context: Any, component: str, d: float) -> None:
    """Eventually another instance holds the component's leader-election Lease in
    kube-system than the one on the remembered node.

    Example: Then the scheduler's lease is held by a node other than that node within 30 seconds
    """
    name = component_name(component)
    ref = kk(context).remembered("node referred to as 'that node'", kk(context).that_node)
    check, expected = _lease_check(context, name, lambda n: n != ref.name,
                                   f'a node other than "{ref.name}"')
    _poll(context, expected, check, d, until=True)


@step("then", "{component:Component}'s lease is held by node \"{node:Q}\" within "
      "{d:Duration}", any_keyword=True)
def lease_held_by(context: Any, component: str, node: str, d: float) -> None:
    """Eventually the instance on that control-plane node holds the component's Lease.

    Example: Then the controller manager's lease is held by node "control-plane" within 30 seconds
    """
    name = component_name(component)
    node = control_plane_node(context, node)
    check, expected = _lease_check(context, name, lambda n: n == node, f'node "{node}"')
    _poll(context, expected, check, d, until=True)


# -- cluster DNS ---------------------------------------------------------------------------------

@step("when", "cluster DNS stops")
def cluster_dns_stops(context: Any) -> None:
    """CoreDNS is scaled to 0 (disruptive: it is the cluster's own Deployment in
    kube-system; on a real cluster the stop_cluster_dns hook does it). The scenario's end
    starts it again if the scenario did not.

    Example: When cluster DNS stops
    """
    kk(context).driver.stop_cluster_dns()


@step("when", "cluster DNS starts again")
def cluster_dns_starts(context: Any) -> None:
    """CoreDNS gets back the replicas it had before "cluster DNS stops".

    Example: When cluster DNS starts again
    """
    kk(context).driver.start_cluster_dns()


def _dns_endpoints(context: Any) -> tuple[int, str]:
    slices = kk(context).driver.list("endpointslices", namespace=SYSTEM_NAMESPACE)
    ready = []
    for slice_obj in slices:
        if (slice_obj["metadata"].get("labels") or {}).get(
                "kubernetes.io/service-name") != "kube-dns":
            continue
        for endpoint in slice_obj.get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("ready") is not False:
                ready += endpoint.get("addresses") or []
    ips = sorted(set(ready))
    return len(ips), (f"service {SYSTEM_NAMESPACE}/kube-dns has {len(ips)} ready endpoint(s)"
                      + (f": {', '.join(ips)}" if ips else ""))


@step("then", "cluster DNS has no ready pod within {d:Duration}", any_keyword=True)
def cluster_dns_down(context: Any, d: float) -> None:
    """Eventually the kube-dns Service has no ready CoreDNS endpoint left.

    Example: Then cluster DNS has no ready pod within 1 minute
    """
    def check() -> Observation:
        n, seen = _dns_endpoints(context)
        return Observation(n == 0, seen)

    _poll(context, "kube-dns to have no ready endpoint", check, d, until=True)


@step("then", "cluster DNS is ready within {d:Duration}", any_keyword=True)
def cluster_dns_ready(context: Any, d: float) -> None:
    """Eventually the kube-dns Service has a ready CoreDNS endpoint.

    Example: Then cluster DNS is ready within 1 minute
    """
    def check() -> Observation:
        n, seen = _dns_endpoints(context)
        return Observation(n > 0, seen)

    _poll(context, "kube-dns to have a ready endpoint", check, d, until=True)
