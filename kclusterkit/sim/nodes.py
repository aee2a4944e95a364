"""The cluster's machines: one kubelet per node, and how to reach the one a pod runs on.

Each kubelet owns its node (``sim.kubelet``); this module only holds the fleet. It adds
machines (their kubelet registers the Node), hands each pod event to the kubelet of the
pod's node (upstream each kubelet watches its own pods), finds the kubelet behind a
``namespace/pod`` for exec, logs and faults, and ticks every kubelet's heartbeats from one
timer, so a 1,000-node cluster costs one clock event per heartbeat period instead of a
thousand. It keeps no pod, container or node state of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj
from kclusterkit.sim import errors
from kclusterkit.sim.kubelet import server, volumes
from kclusterkit.sim.kubelet.kubelet import Container, Kubelet, PodRun
from kclusterkit.sim.kubelet.logs import LogLine, LogOptions, render
from kclusterkit.sim.network import plugin
from kclusterkit.sim.resources import PODS, PVCS

if TYPE_CHECKING:
    from kclusterkit.sim.cluster import Cluster


class Nodes:
    """Every node's kubelet, by node name."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.api = cluster.api
        self.clock = cluster.clock
        self.store = cluster.store
        self.timings = cluster.timings
        self.kubelets: dict[str, Kubelet] = {}
        self.store.subscribe(PODS, self._on_pod)
        self.store.subscribe(PVCS, self._on_claim)

    def _on_claim(self, etype: str, claim: Obj, old: Obj | None) -> None:
        for kubelet in self.kubelets.values():
            volumes.on_claim(kubelet, etype, claim, old)

    # -- machines ---------------------------------------------------------------------
    def add_node(self, name: str, control_plane: bool = False,
                 zone: str | None = None) -> Kubelet:
        """A new machine joins: its kubelet registers the Node and starts heartbeating."""
        spec = self.cluster.spec
        shape = (spec.control_plane_node or spec.node) if control_plane else spec.node
        index = len(self.kubelets)
        kubelet = Kubelet(self.cluster, name, f"172.18.0.{index + 2}", f"10.244.{index}.0/24")
        self.kubelets[name] = kubelet
        kubelet.node_status.register(shape, control_plane, zone)
        return kubelet

    def start(self) -> None:
        renew = self.timings.node_lease_duration / 4  # leaseRenewIntervalFraction 0.25
        self.clock.call_later(renew, self._renew_leases, renew)
        frequency = self.timings.node_status_update_frequency
        self.clock.call_later(frequency, self._status_tick, frequency)

    def _renew_leases(self, every: float) -> None:
        self.clock.call_later(every, self._renew_leases, every)
        if self.api.unavailable_reason:
            return
        for kubelet in self.kubelets.values():
            if kubelet.alive:
                kubelet.node_status.renew_lease()

    def _status_tick(self, every: float) -> None:
        """Every nodeStatusUpdateFrequency each kubelet posts its node status if it changed,
        or when nodeStatusReportFrequency has passed since its last post."""
        self.clock.call_later(every, self._status_tick, every)
        if self.api.unavailable_reason:
            return
        for kubelet in self.kubelets.values():
            if kubelet.alive:
                kubelet.node_status.post_status()

    def set_network_plugin(self, installed: bool) -> None:
        """Install the network plugin's DaemonSet (nodes turn Ready as its pods run), or
        remove it with every node's CNI config (nodes NotReady at once): sim.network.plugin."""
        if installed:
            plugin.install(self.cluster)
        else:
            plugin.remove(self.cluster)

    def _on_pod(self, etype: str, obj: Obj, old: Obj | None) -> None:
        node = obj["spec"].get("nodeName")
        kubelet = self.kubelets.get(node) if node else None
        if kubelet is not None:
            kubelet.on_pod(etype, obj, old)

    # -- finding a node's kubelet, a pod's container ------------------------------------
    def kubelet_for(self, node_name: str) -> Kubelet:
        try:
            return self.kubelets[node_name]
        except KeyError:
            raise errors.not_found("nodes", "", node_name) from None

    def locate(self, namespace: str, pod: str, container: str | None = None
               ) -> tuple[Kubelet, PodRun, Container]:
        """The kubelet running the pod, its run of the pod, and the container."""
        obj = self.store.get(PODS, namespace, pod)
        if obj is None:
            raise errors.not_found("pods", "", pod)
        node = obj["spec"].get("nodeName")
        kubelet = self.kubelets.get(node or "")
        pr = kubelet.pods.get(obj["metadata"]["uid"]) if kubelet else None
        if kubelet is None or pr is None:
            raise errors.bad_request(f'pod {pod} does not have a host assigned' if not node
                                     else f'pod "{pod}" is not running on its node yet')
        c = pr.container(container)
        if c is None:
            raise errors.bad_request(f"container {container} is not valid for pod {pod}")
        return kubelet, pr, c

    def _running(self, namespace: str, pod: str) -> tuple[Kubelet, PodRun] | None:
        obj = self.store.get(PODS, namespace, pod)
        if obj is None:
            return None
        kubelet = self.kubelets.get(obj["spec"].get("nodeName") or "")
        pr = kubelet.pods.get(obj["metadata"]["uid"]) if kubelet else None
        if kubelet is None or pr is None or pr.done:
            return None
        return kubelet, pr

    # -- faults -----------------------------------------------------------------------
    def is_failed(self, node_name: str) -> bool:
        kubelet = self.kubelets.get(node_name)
        return kubelet is not None and not kubelet.alive

    def fail_node(self, name: str) -> None:
        """The node stops reporting: no heartbeats, no status; its containers keep running.
        A control-plane node's etcd, API server, scheduler and controller manager stop."""
        self.kubelet_for(name).fail()
        self._control_plane_changed()

    def recover_node(self, name: str) -> None:
        self.kubelet_for(name).recover()
        self._control_plane_changed()

    def _control_plane_changed(self) -> None:
        control_plane = getattr(self.cluster, "control_plane", None)
        if control_plane is not None:
            control_plane.refresh()

    def crash_container(self, namespace: str, pod: str, container: str | None = None,
                        exit_code: int = 1) -> None:
        """The container's main process dies with ``exit_code`` (as if it crashed)."""
        kubelet, pr, c = self.locate(namespace, pod, container)
        kubelet.crash(pr, c, exit_code)

    def set_ready(self, namespace: str, pod: str, ready: bool) -> None:
        kubelet, pr, _ = self.locate(namespace, pod)
        kubelet.set_ready(pr, ready)

    # -- inside pods: exec, logs, HTTP (the kubelet's server) ----------------------------
    def exec(self, namespace: str, pod: str, *args: Any, container: str | None = None,
             argv: list[str] | None = None, stdin: str | None = None
             ) -> tuple[int, str, str]:
        """Run ``argv`` in a running container: (exit code, stdout, stderr).

        Accepts ``exec(ns, pod, container, argv)`` and ``exec(ns, pod, argv, container=…)``.
        """
        if args and isinstance(args[0], (list, tuple)):
            argv = list(args[0])
        else:
            if args:
                container = args[0]
            if len(args) > 1:
                argv = list(args[1])
        kubelet, pr, c = self.locate(namespace, pod, container)
        return server.exec_in(kubelet, pr, c, list(argv or []), stdin)

    def log_lines(self, namespace: str, pod: str, container: str | None = None,
                  previous: bool = False) -> list[LogLine]:
        """The container's log lines with the cluster time each was written."""
        obj = self.store.get(PODS, namespace, pod)
        if obj is None:
            raise errors.not_found("pods", "", pod)
        names = [c["name"] for c in obj["spec"].get("containers") or []]
        if container is None and len(names) > 1:
            raise errors.bad_request(f"a container name must be specified for pod {pod}, "
                                     f"choose one of: [{' '.join(names)}]")
        _, pr, c = self.locate(namespace, pod, container)
        return server.log_lines(pr, c, previous)

    def logs(self, namespace: str, pod: str, container: str | None = None,
             previous: bool = False, options: LogOptions | None = None) -> str:
        """What ``kubectl logs`` prints for the container (``--previous``: the last run)."""
        lines = self.log_lines(namespace, pod, container, previous)
        return render(lines, options or LogOptions(), self.clock.epoch)

    def listens(self, namespace: str, pod: str, port: int) -> bool:
        """Whether a running container of the pod accepts TCP connections on ``port``."""
        running = self._running(namespace, pod)
        return running is not None and server.listener(running[1], port) is not None

    def http_get(self, namespace: str, pod: str, port: int, path: str = "/",
                 client_ip: str | None = None, user_agent: str | None = None,
                 method: str = "GET") -> tuple[int, str] | None:
        """What the pod answers to ``GET path`` on ``port``; None: connection refused (or
        nothing speaking HTTP there)."""
        running = self._running(namespace, pod)
        found = server.listener(running[1], port) if running is not None else None
        if running is None or found is None or not found[1]:
            return None
        kubelet, pr = running
        return server.serve(kubelet, pr, found[0], path or "/", client_ip or kubelet.gateway,
                            user_agent or "curl/8.5.0", method)


    def http_get_many(self, namespace: str, pod: str, port: int, path: str,
                      times: list[float], client_ip: str | None = None, method: str = "GET"
                      ) -> tuple[int, str, float, int] | None:
        """The pod's answer to the same request made at each of ``times`` (between two
        instants of cluster events), served at once: (status, body, seconds waited for
        CPU, how many were served before the process exited); None: connection refused.
        The wait is the container's throttled queue as it stands, before this batch's work
        joins it."""
        running = self._running(namespace, pod)
        found = server.listener(running[1], port) if running is not None else None
        if running is None or found is None or not found[1]:
            return None
        kubelet, pr = running
        container = found[0]
        waits = container.usage.queue_delay(self.clock.now) if container.usage else 0.0
        status, body, served = server.serve_many(kubelet, pr, container, path or "/",
                                                 client_ip or kubelet.gateway, "curl/8.5.0",
                                                 method, times)
        return status, body, waits, served

    def queue_delay(self, namespace: str, pod: str, port: int) -> float:
        """How long a request to the pod's port waits behind its container's throttled
        CPU queue (sim/kubelet/usage.py); 0 when nothing is queued."""
        running = self._running(namespace, pod)
        found = server.listener(running[1], port) if running is not None else None
        if found is None or found[0].usage is None:
            return 0.0
        return found[0].usage.queue_delay(self.clock.now)


def start_nodes(cluster: Cluster) -> Nodes:
    """The spec's machines: control-plane nodes first, then workers, all heartbeating."""
    nodes = Nodes(cluster)
    spec = cluster.spec
    zones = spec.zones

    def zone(i: int) -> str | None:
        return zones[i % len(zones)] if zones else None

    for i in range(spec.control_plane_nodes):
        nodes.add_node("control-plane" if i == 0 else f"control-plane-{i + 1}",
                       control_plane=True, zone=zone(i))
    for i in range(spec.worker_nodes):
        nodes.add_node(f"worker-{i + 1}", zone=zone(i))
    nodes.start()
    return nodes
