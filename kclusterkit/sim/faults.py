"""What an operator can do to the simulated machines that the Kubernetes API cannot.

On a real cluster a node fails when somebody runs ``docker stop`` on it, and a container
crashes when its process dies; no API verb does either. The simulator offers the same
faults here, by name, in one table, each done by the component that owns what it breaks
(the node's kubelet): the in-process driver calls ``apply`` directly, and the
served simulator offers the same table over HTTP on its admin path (``kclusterkit sim
fault ACTION …``), so the real-cluster driver reaches them through the environment's hook
commands exactly as it reaches ``docker stop``. A new fault (a control-plane component, the
network plugin …) is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kclusterkit.sim import errors

if TYPE_CHECKING:
    from kclusterkit.sim.cluster import Cluster


@dataclass(frozen=True)
class Fault:
    """One fault: its required and optional arguments and what it does."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    help: str
    run: Callable[[Any, Mapping[str, Any]], None]


def _fail_node(cluster: Cluster, args: Mapping[str, Any]) -> None:
    cluster.nodes.fail_node(args["node"])  # a control-plane node takes its components along


def _recover_node(cluster: Cluster, args: Mapping[str, Any]) -> None:
    cluster.nodes.recover_node(args["node"])


def _component(start: bool) -> Callable[[Cluster, Mapping[str, Any]], None]:
    def run(cluster: Cluster, args: Mapping[str, Any]) -> None:
        node = args.get("node") or None
        if start:
            cluster.control_plane.start(str(args["component"]), node)
        else:
            cluster.control_plane.stop(str(args["component"]), node)
    return run


def _crash_container(cluster: Cluster, args: Mapping[str, Any]) -> None:
    kubelet, pr, c = cluster.nodes.locate(args["namespace"], args["pod"],
                                          args.get("container") or None)
    kubelet.crash(pr, c, _exit_code(args.get("exit_code")))


def _readiness(ready: bool) -> Callable[[Cluster, Mapping[str, Any]], None]:
    def run(cluster: Cluster, args: Mapping[str, Any]) -> None:
        kubelet, pr, _ = cluster.nodes.locate(args["namespace"], args["pod"])
        kubelet.set_ready(pr, ready)
    return run


def _network_plugin(installed: bool) -> Callable[[Cluster, Mapping[str, Any]], None]:
    def run(cluster: Cluster, args: Mapping[str, Any]) -> None:
        cluster.nodes.set_network_plugin(installed)
    return run


def _exit_code(value: Any) -> int:
    if value is None:
        return 1
    try:
        code = int(value)
    except (TypeError, ValueError):
        raise errors.bad_request(f"exit_code: expected a whole number, got {value!r}") from None
    if not 0 <= code <= 255:
        raise errors.bad_request(f"exit_code: expected 0 to 255, got {code}")
    return code


FAULTS: dict[str, Fault] = {
    "fail-node": Fault(
        ("node",), (), "the node stops: no heartbeats, no status; its containers keep running",
        _fail_node),
    "recover-node": Fault(
        ("node",), (), "a failed node comes back and reports again",
        _recover_node),
    "crash-container": Fault(
        ("namespace", "pod"), ("container", "exit_code"),
        "the container's main process dies with exit_code (default 1)",
        _crash_container),
    "make-unready": Fault(
        ("namespace", "pod"), (), "the pod's readiness starts failing",
        _readiness(False)),
    "stop-component": Fault(
        ("component",), ("node",),
        "a control-plane component (etcd, kube-apiserver, kube-controller-manager, "
        "kube-scheduler) stops on the node, or on every control-plane node: its static pod "
        "manifest leaves /etc/kubernetes/manifests",
        _component(False)),
    "start-component": Fault(
        ("component",), ("node",),
        "a stopped control-plane component starts again (its manifest is back)",
        _component(True)),
    "stop-cluster-dns": Fault(
        (), (), "CoreDNS is scaled to 0 replicas: names stop resolving",
        lambda cluster, _args: cluster.control_plane.stop_cluster_dns()),
    "start-cluster-dns": Fault(
        (), (), "CoreDNS gets back the replicas it had",
        lambda cluster, _args: cluster.control_plane.start_cluster_dns()),
    "make-ready": Fault(
        ("namespace", "pod"), (), "the pod's readiness recovers",
        _readiness(True)),
    "remove-network-plugin": Fault(
        (), (), "the network plugin is gone: kindnet's DaemonSet deleted and every node's "
        "CNI config removed, so every node is NotReady (NetworkPluginNotReady)",
        _network_plugin(False)),
    "install-network-plugin": Fault(
        (), (), "the network plugin is installed: kindnet's DaemonSet is created, and each "
        "node turns Ready once its pod has written the CNI config",
        _network_plugin(True)),
}


def check(action: str, args: Mapping[str, Any]) -> Fault:
    """The fault ``action`` names, with ``args`` checked; a 400/404 StatusError otherwise."""
    fault = FAULTS.get(action)
    if fault is None:
        raise errors.StatusError(404, "NotFound",
                                 f"no fault {action!r} (known: {', '.join(sorted(FAULTS))})")
    missing = [name for name in fault.required if not args.get(name)]
    if missing:
        raise errors.bad_request(f"fault {action}: missing {', '.join(missing)}")
    unknown = sorted(set(args) - set(fault.required) - set(fault.optional))
    if unknown:
        raise errors.bad_request(f"fault {action}: unknown argument {unknown[0]!r} (known: "
                                 f"{', '.join(fault.required + fault.optional)})")
    for name, value in args.items():
        if value is not None and not isinstance(value, str | int):
            raise errors.bad_request(f"fault {action}: {name} must be a string")
    return fault


def apply(cluster: Any, action: str, args: Mapping[str, Any]) -> None:
    """Run fault ``action`` on ``cluster`` (on the cluster's own thread)."""
    check(action, args).run(cluster, args)
