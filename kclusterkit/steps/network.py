"""Steps about pod-to-pod reachability, by pod IP and through Services.

Whether one pod can open a TCP connection to another is not an API object anyone can
watch: it can only be tried. So these steps try it from inside the client pod, as a person
would with ``kubectl exec``: busybox's ``nc -z -w 2 ADDRESS PORT`` (exit 0 when the
connection is accepted). "within D" tries once a second of cluster time until it works;
"for D" tries every 5 seconds and fails at the first connection that gets through. The
client pod needs an image with busybox ``nc`` (``busybox:1.36`` has it).
"""

# ruff: noqa: E501  (a step's Example must stay on one line: the catalog prints it as is)
from __future__ import annotations

from typing import Any

from kclusterkit.driver import Observation
from kclusterkit.steps._support import (
    ExpectationNotMet,
    Obj,
    StepUsageError,
    condition,
    is_terminating,
    kk,
    owner_pods,
    step,
    wait_for,
)
from kclusterkit.steps.types import format_duration

NC_TIMEOUT = 2  # seconds nc waits for a handshake (-w)
RETRY = 1.0  # cluster seconds between tries of "within"
HOLD_EVERY = 5.0  # cluster seconds between tries of "for"


def _try(context: Any, client: str, address: str, port: int) -> tuple[bool, str]:
    """One connection attempt from the client pod: (connected, what nc said)."""
    result = kk(context).driver.exec(client, ["nc", "-z", "-v", "-w", str(NC_TIMEOUT),
                                              address, str(port)])
    said = (result.stderr or result.stdout).strip() or f"exit code {result.exit_code}"
    return result.exit_code == 0, said


def _targets_pods(context: Any, name: str) -> list[tuple[str, str]]:
    """(pod name, pod IP) of the deployment's running pods."""
    owner, pods = owner_pods(kk(context).driver, "deployment", name)
    if owner is None:
        raise StepUsageError(f'deployment "{name}" does not exist')
    out = [(p["metadata"]["name"], (p.get("status") or {}).get("podIP") or "")
           for p in pods if not is_terminating(p) and (p.get("status") or {}).get("podIP")]
    if not out:
        raise StepUsageError(f'deployment "{name}" has no pod with an IP yet')
    return out


def _pod_ip(context: Any, name: str) -> str:
    pod: Obj | None = kk(context).driver.get("pods", name)
    if pod is None:
        raise StepUsageError(f'pod "{name}" does not exist')
    ip = (pod.get("status") or {}).get("podIP")
    if not ip:
        raise StepUsageError(f'pod "{name}" has no IP yet (wait for it to run first)')
    return ip


def _reach(context: Any, client: str, targets: list[tuple[str, str]], port: int,
           want: bool, d: float, hold: bool) -> None:
    """``want`` True: every target accepts within d; False: none does, for d."""
    driver = kk(context).driver
    started = driver.now()
    results: dict[str, tuple[bool, str]] = {}
    while True:
        for label, address in targets:
            results[label] = _try(context, client, address, port)
        good = [k for k, (ok, _) in results.items() if ok == want]
        waited = driver.now() - started
        if not hold and len(good) == len(targets):
            return
        if hold and len(good) < len(targets):
            broke = [k for k, (ok, _) in results.items() if ok != want]
            raise ExpectationNotMet(
                f'expected pod "{client}" not to reach {", ".join(broke)} on port {port} for '
                f"{format_duration(d)}\nobserved after {format_duration(waited)}: "
                + "; ".join(f"{k}: {results[k][1]}" for k in broke)
                + _seed(context))
        if waited >= d:
            if hold:
                return
            missing = [k for k, (ok, _) in results.items() if not ok]
            raise ExpectationNotMet(
                f'expected pod "{client}" to reach {", ".join(missing)} on port {port} within '
                f"{format_duration(d)}\nobserved: "
                + "; ".join(f"{k}: {results[k][1]}" for k in missing)
                + f"\nwaited {format_duration(waited)} of cluster time" + _seed(context))
        driver.sleep(min(HOLD_EVERY if hold else RETRY, max(d - waited, 0.0)) or RETRY)


def _seed(context: Any) -> str:
    seed = kk(context).driver.seed
    return f" (seed={seed})" if seed is not None else ""


@step("then", 'pod "{client:Q}" can reach pod "{target:Q}" on port {port:N} within {d:Duration}', any_keyword=True)
def pod_reaches_pod(context: Any, client: str, target: str, port: int, d: float) -> None:
    """Eventually a TCP connection from the client pod to the target pod's IP and port is
    accepted (busybox `nc -z`).

    Example: Then pod "client" can reach pod "server" on port 8080 within 30 seconds
    """
    _reach(context, client, [(f'pod "{target}"', _pod_ip(context, target))], port, True, d,
           False)


@step("then", 'pod "{client:Q}" cannot reach pod "{target:Q}" on port {port:N} for {d:Duration}', any_keyword=True)
def pod_cannot_reach_pod(context: Any, client: str, target: str, port: int, d: float) -> None:
    """No TCP connection from the client pod to the target pod's IP and port gets through,
    tried every 5 seconds for d.

    Example: Then pod "client" cannot reach pod "server" on port 9999 for 10 seconds
    """
    _reach(context, client, [(f'pod "{target}"', _pod_ip(context, target))], port, False, d,
           True)


@step("then", 'pod "{client:Q}" can reach every pod of deployment "{name:Q}" on port {port:N} within {d:Duration}', any_keyword=True)
def pod_reaches_every_pod(context: Any, client: str, name: str, port: int, d: float) -> None:
    """Eventually the client pod connects to every running pod of the deployment, each by
    its pod IP (whatever node it is on).

    Example: Then pod "client" can reach every pod of deployment "echo" on port 8080 within 30 seconds
    """
    targets = [(f'pod "{n}" ({ip})', ip) for n, ip in _targets_pods(context, name)]
    _reach(context, client, targets, port, True, d, False)


@step("then", 'pod "{client:Q}" cannot reach any pod of deployment "{name:Q}" on port {port:N} for {d:Duration}', any_keyword=True)
def pod_reaches_no_pod(context: Any, client: str, name: str, port: int, d: float) -> None:
    """No connection from the client pod to any pod of the deployment on that port gets
    through for d.

    Example: Then pod "client" cannot reach any pod of deployment "echo" on port 9999 for 10 seconds
    """
    targets = [(f'pod "{n}" ({ip})', ip) for n, ip in _targets_pods(context, name)]
    _reach(context, client, targets, port, False, d, True)


@step("then", 'pod "{client:Q}" can reach service "{service:Q}" on port {port:N} within {d:Duration}', any_keyword=True)
def pod_reaches_service(context: Any, client: str, service: str, port: int, d: float) -> None:
    """Eventually a connection from the client pod to the service's name and port is
    accepted (resolved by cluster DNS, forwarded by kube-proxy to a ready endpoint).

    Example: Then pod "client" can reach service "echo" on port 80 within 30 seconds
    """
    if kk(context).driver.get("services", service) is None:
        raise StepUsageError(f'service "{service}" does not exist')
    _reach(context, client, [(f'service "{service}"', service)], port, True, d, False)


@step("then", 'pod "{client:Q}" cannot reach service "{service:Q}" on port {port:N} for {d:Duration}', any_keyword=True)
def pod_cannot_reach_service(context: Any, client: str, service: str, port: int,
                             d: float) -> None:
    """No connection from the client pod to the service's name and port gets through for d.

    Example: Then pod "client" cannot reach service "echo" on port 81 for 10 seconds
    """
    if kk(context).driver.get("services", service) is None:
        raise StepUsageError(f'service "{service}" does not exist')
    _reach(context, client, [(f'service "{service}"', service)], port, False, d, True)



# -- the network plugin ---------------------------------------------------------------------

NETWORK_NOT_READY = "NetworkPluginNotReady"
NOT_READY_TAINT = "node.kubernetes.io/not-ready"


@step("given", "a cluster without a network plugin")
def without_network_plugin(context: Any) -> None:
    """The cluster's network plugin is removed: its DaemonSet and the CNI config it wrote
    on every node, so each kubelet reports NetworkPluginNotReady (on a real cluster
    through the environment's remove_network_plugin hook; it is installed again when the
    scenario ends).

    Example: Given a cluster without a network plugin
    """
    kk(context).driver.set_network_plugin(False)


@step("when", "the network plugin is installed")
def install_network_plugin(context: Any) -> None:
    """Install the network plugin: its DaemonSet is created through the API (on a real
    cluster the objects of the environment's network_plugin_manifest, else its
    install_network_plugin hook); each node turns Ready once the plugin's pod there has
    written its CNI config.

    Example: When the network plugin is installed
    """
    kk(context).driver.set_network_plugin(True)


@step("then", "every node is NotReady because the network plugin is not ready, and takes no pods, within {d:Duration}", any_keyword=True)
def nodes_network_not_ready(context: Any, d: float) -> None:
    """Eventually every node's Ready condition is False with the kubelet's
    NetworkPluginNotReady message, and carries the node.kubernetes.io/not-ready:NoSchedule
    taint the node lifecycle controller adds (so the scheduler places nothing there).

    Example: Then every node is NotReady because the network plugin is not ready, and takes no pods, within 1 minute
    """
    driver = kk(context).driver

    def check() -> Observation:
        nodes = driver.list("nodes")
        lines, bad = [], 0
        for node in sorted(nodes, key=lambda n: n["metadata"]["name"]):
            ready = condition(node, "Ready") or {}
            tainted = any(t.get("key") == NOT_READY_TAINT and t.get("effect") == "NoSchedule"
                          for t in (node.get("spec") or {}).get("taints") or [])
            ok = ready.get("status") == "False" and NETWORK_NOT_READY in \
                (ready.get("message") or "") and tainted
            bad += not ok
            lines.append(f'  {node["metadata"]["name"]}: Ready={ready.get("status")} '
                         f'{ready.get("reason", "")}: {ready.get("message", "")}'
                         f"{'' if tainted else ' (no not-ready taint yet)'}")
        return Observation(bool(nodes) and bad == 0, "\n".join(lines), nodes)

    wait_for(context, "every node to be NotReady with NetworkPluginNotReady", check, d,
             kinds=("nodes",))
