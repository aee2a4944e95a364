"""Which control-plane processes run where, and what the cluster can do because of it.

Each control-plane node runs one instance of etcd, kube-apiserver, kube-controller-manager
and kube-scheduler as static pods (kubeadm). An instance stops when its manifest is moved
out of ``/etc/kubernetes/manifests`` (the ``stop-component`` fault) or when its node fails;
the kubelet then deletes its mirror pod, and creates it again when the instance returns.

What follows, as upstream:

- **etcd**: one member per control-plane node; the cluster's data is readable and writable
  while a majority of members is up (raft quorum). Data lives in the store, so it survives
  any restart of API servers and of a minority of members.
- **kube-apiserver**: serves while it runs and etcd has quorum. The cluster answers while
  any API server serves (the ``kubernetes`` Service lists the live ones). With none
  running, clients get 503 ``ServiceUnavailable`` (on a real cluster: connection refused);
  with API servers but no etcd quorum, 500 ``etcdserver: request timed out``, the error
  kube-apiserver passes on from the etcd client.
- **kube-scheduler / kube-controller-manager**: every instance runs leader election on the
  Lease of its name in ``kube-system`` through its own node's API server (kubeadm's
  scheduler.conf / controller-manager.conf point at the local endpoint), with upstream's
  defaults (k8s.io/component-base/config/v1alpha1/defaults.go: lease duration 15 s, renew
  deadline 10 s, retry period 2 s; client-go tools/leaderelection/leaderelection.go). The
  holder renews every retry period; a holder that cannot renew for the renew deadline
  stops leading (and restarts with a new identity); another instance takes the lease once
  it has not been renewed for the lease duration. A kube-scheduler told to stop releases
  its lease first (ReleaseOnCancel), so the next one takes it within a retry period.
  Only the leader works: while none leads, nothing is scheduled and no controller
  reconciles; a new leader starts from a full resync.
- The kubelets and kube-proxy keep doing what they did: running pods keep running and
  Services keep routing among the endpoints they had.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import clone
from kclusterkit.sim import errors
from kclusterkit.sim.controlplane import manifests
from kclusterkit.sim.resources import DAEMONSETS, DEPLOYMENTS, LEASES, NODES, PODS

if TYPE_CHECKING:
    from kclusterkit.sim.cluster import Cluster

CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"
#: the components with leader election, and their Lease names in kube-system
ELECTED = ("kube-scheduler", "kube-controller-manager")
NO_API_SERVER = "no kube-apiserver is running: the control plane cannot serve requests"
ETCD_NO_QUORUM = "etcdserver: request timed out"


@dataclass
class Election:
    """One Lease's election: who holds it and when each instance last renewed it."""

    name: str
    identities: dict[str, str] = field(default_factory=dict)  # node -> current identity
    renewed: dict[str, float] = field(default_factory=dict)  # node -> its last renewal
    leading_node: str | None = None


class ControlPlane:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.api = cluster.api
        self.store = cluster.store
        self.clock = cluster.clock
        self.timings = cluster.timings
        self.nodes: list[str] = sorted(
            n["metadata"]["name"] for n in self.store.iter(NODES)
            if CONTROL_PLANE_LABEL in (n["metadata"].get("labels") or {}))
        self.stopped: set[tuple[str, str]] = set()  # (component, node)
        self.elections = {name: Election(name) for name in ELECTED}
        self._was_leading: dict[str, bool] = {name: False for name in ELECTED}
        self._queues: list[Any] = []
        self.coredns_replicas = 2  # what "start cluster DNS" gives CoreDNS back
        for node in self.nodes:
            for name in ELECTED:
                self._new_identity(name, node)
        self._install_addons()
        self.refresh()
        self.clock.call_later(0.0, self._tick)

    # -- wiring the components that obey leader election ---------------------------------
    def govern(self, controller_manager: Any, extra_controllers: list[Any]) -> None:
        """Hold every controller's work while no kube-controller-manager leads."""
        from kclusterkit.sim.controllers.manager import queues_of

        queues = controller_manager.work_queues()
        for controller in extra_controllers:
            queues += queues_of(controller)
        for queue in queues:
            queue.gate = self.controllers_leading
        self._queues = queues
        controller_manager.node_lifecycle.leading = self.controllers_leading

    def scheduler_leading(self) -> bool:
        return self.leading("kube-scheduler")

    def controllers_leading(self) -> bool:
        return self.leading("kube-controller-manager")

    # -- who runs -----------------------------------------------------------------------
    def node_up(self, node: str) -> bool:
        kubelet = self.cluster.nodes.kubelets.get(node)
        return kubelet is not None and kubelet.alive

    def running(self, component: str, node: str) -> bool:
        return self.node_up(node) and (component, node) not in self.stopped

    def etcd_members_up(self) -> int:
        return sum(1 for n in self.nodes if self.running("etcd", n))

    def etcd_quorum(self) -> bool:
        return self.etcd_members_up() > len(self.nodes) // 2

    def api_server_serving(self, node: str) -> bool:
        return self.running("kube-apiserver", node) and self.etcd_quorum()

    def leading(self, component: str) -> bool:
        election = self.elections[component]
        node = election.leading_node
        return node is not None and self.running(component, node) \
            and self.clock.now - election.renewed.get(node, float("-inf")) \
            <= self.timings.leader_elect_renew_deadline

    def lease_holder(self, component: str) -> str | None:
        lease = self.store.get(LEASES, "kube-system", component)
        return (lease or {}).get("spec", {}).get("holderIdentity") or None

    # -- faults -------------------------------------------------------------------------
    def check(self, component: str, node: str | None) -> list[str]:
        """The (component, nodes) a fault names, or a 404 listing the ones that exist."""
        if component not in manifests.COMPONENTS:
            raise errors.StatusError(404, "NotFound", f"no control-plane component "
                                     f"{component!r} (known: {', '.join(manifests.COMPONENTS)})")
        if node is None:
            return list(self.nodes)
        if node not in self.nodes:
            raise errors.StatusError(404, "NotFound", f"no control-plane node {node!r} "
                                     f"(control-plane nodes: {', '.join(self.nodes)})")
        return [node]

    def stop(self, component: str, node: str | None = None) -> None:
        """The instance(s) stop, as when the manifest leaves /etc/kubernetes/manifests: the
        kubelet sends SIGTERM. kube-scheduler then releases a lease it holds
        (cmd/kube-scheduler/app/options/options.go: ReleaseOnCancel: true), so another
        instance takes it at its next retry; kube-controller-manager does not release, so
        its lease must expire first."""
        for name in self.check(component, node):
            if component == "kube-scheduler" and self.running(component, name):
                self._release(self.elections[component], name)
            self.stopped.add((component, name))
        self.refresh()

    def _release(self, election: Election, node: str) -> None:
        """LeaderElector.release (client-go): an empty holder with a 1-second lease."""
        lease = self.store.get(LEASES, "kube-system", election.name)
        spec = (lease or {}).get("spec") or {}
        if lease is None or spec.get("holderIdentity") != election.identities[node] \
                or not self.api_server_serving(node):
            return
        stamp = self.clock.micro_timestamp(self.clock.now)
        updated = clone(lease)
        updated["spec"].update({"holderIdentity": "", "leaseDurationSeconds": 1,
                                "acquireTime": stamp, "renewTime": stamp})
        try:
            self.api.update(updated)
        except errors.StatusError:
            return

    def start(self, component: str, node: str | None = None) -> None:
        for name in self.check(component, node):
            if (component, name) in self.stopped:
                self.stopped.discard((component, name))
                if component in ELECTED:
                    self._new_identity(component, name)  # a new process, a new identity
        self.refresh()
        self._elect()

    def stop_cluster_dns(self) -> None:
        """CoreDNS scaled to 0, as ``kubectl -n kube-system scale deploy coredns
        --replicas=0`` does; the replicas it had are kept for ``start_cluster_dns``."""
        coredns = self.api.get(DEPLOYMENTS, "kube-system", "coredns")
        replicas = coredns["spec"].get("replicas", 2)
        if replicas:
            self.coredns_replicas = replicas
        coredns["spec"]["replicas"] = 0
        self.api.update(coredns)

    def start_cluster_dns(self) -> None:
        coredns = self.api.get(DEPLOYMENTS, "kube-system", "coredns")
        coredns["spec"]["replicas"] = self.coredns_replicas
        self.api.update(coredns)

    def refresh(self) -> None:
        """Say whether the API answers, from what runs now."""
        serving = [n for n in self.nodes if self.running("kube-apiserver", n)]
        if not serving:
            self.api.unavailable_reason = NO_API_SERVER
            self.api.unavailable_code = 503
        elif not self.etcd_quorum():
            self.api.unavailable_reason = ETCD_NO_QUORUM
            self.api.unavailable_code = 500
        else:
            self.api.unavailable_reason = None
            self.api.unavailable_code = 503
        network = getattr(self.cluster, "network", None)
        if network is not None:
            # The live API servers' endpoints (upstream: the lease endpoint reconciler,
            # which drops a stopped one when its 15 s master lease expires; here at once).
            network.master_services.queue.add("kubernetes")

    # -- the loop every retry period ------------------------------------------------------
    def _tick(self) -> None:
        self.clock.call_later(self.timings.leader_elect_retry_period, self._tick)
        self.refresh()
        self._elect()
        self._sync_mirror_pods()

    def _new_identity(self, component: str, node: str) -> None:
        # leaderelection identity: hostname + "_" + a fresh UUID per process start.
        self.elections[component].identities[node] = f"{node}_{self.api.new_uid()}"

    def _elect(self) -> None:
        for name, election in self.elections.items():
            for node in self.nodes:
                if self.running(name, node) and self.api_server_serving(node):
                    self._try_acquire_or_renew(election, node)
            now_leading = self.leading(name)
            if now_leading and not self._was_leading[name]:
                self._started_leading(name)
            self._was_leading[name] = now_leading

    def _started_leading(self, component: str) -> None:
        if component == "kube-controller-manager":
            for queue in self._queues:
                queue.release()
            # A new controller manager resyncs every object, not only those it heard of.
            for ds in self.store.iter(DAEMONSETS):
                self.cluster.controller_manager.daemonset.queue.add(
                    (ds["metadata"]["namespace"], ds["metadata"]["name"]))

    def _try_acquire_or_renew(self, election: Election, node: str) -> None:
        """tryAcquireOrRenew (client-go tools/leaderelection/leaderelection.go)."""
        now = self.clock.now
        me = election.identities[node]
        lease = self.store.get(LEASES, "kube-system", election.name)
        duration = int(self.timings.leader_elect_lease_duration)
        stamp = self.clock.micro_timestamp(now)
        try:
            if lease is None:
                self.api.create({
                    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": election.name, "namespace": "kube-system"},
                    "spec": {"holderIdentity": me, "leaseDurationSeconds": duration,
                             "acquireTime": stamp, "renewTime": stamp,
                             "leaseTransitions": 0}})
                self._took(election, node, now)
                return
            spec = lease.get("spec") or {}
            holder = spec.get("holderIdentity") or ""
            if holder == me and now - election.renewed.get(node, float("-inf")) \
                    > self.timings.leader_elect_renew_deadline:
                # "leaderelection lost": the process exits and the kubelet restarts it
                # with a new identity, which must wait for the lease to expire.
                self._new_identity(election.name, node)
                me = election.identities[node]
            if holder == me:
                updated = clone(lease)
                updated["spec"]["renewTime"] = stamp
                self.api.update(updated)
                self._took(election, node, now)
                return
            renewed = self.clock.seconds_of(spec["renewTime"]) if spec.get("renewTime") \
                else float("-inf")
            if holder and renewed + (spec.get("leaseDurationSeconds") or duration) > now:
                return  # held, and not expired
            updated = clone(lease)
            updated["spec"].update({
                "holderIdentity": me, "leaseDurationSeconds": duration,
                "acquireTime": stamp, "renewTime": stamp,
                # tryAcquireOrRenew: a different holder than before counts a transition.
                "leaseTransitions": (spec.get("leaseTransitions") or 0) + 1})
            self.api.update(updated)
            self._took(election, node, now)
        except errors.StatusError:
            return  # retried at the next retry period

    def _took(self, election: Election, node: str, now: float) -> None:
        election.renewed[node] = now
        election.leading_node = node

    # -- mirror pods (the kubelet of each control-plane node) ------------------------------
    def _sync_mirror_pods(self) -> None:
        if self.api.unavailable_reason:
            return
        version = self.cluster.spec.kubernetes_version
        for node in self.nodes:
            if not self.node_up(node):
                continue
            node_obj = self.store.get(NODES, "", node)
            if node_obj is None:
                continue
            for component in manifests.COMPONENTS:
                name = f"{component}-{node}"
                present = self.store.get(PODS, "kube-system", name)
                try:
                    if self.running(component, node) and present is None:
                        pod = manifests.mirror_pod(
                            component, node, version,
                            self.api.new_uid().replace("-", ""),
                            self.clock.micro_timestamp(self.clock.now),
                            node_obj["metadata"]["uid"])
                        self.api.create(pod)
                    elif not self.running(component, node) and present is not None \
                            and not present["metadata"].get("deletionTimestamp"):
                        self.api.delete(PODS, "kube-system", name, grace_period=0)
                except errors.StatusError:
                    continue  # the next tick tries again

    def _install_addons(self) -> None:
        """kubeadm's addon phase: kube-proxy, CoreDNS, and (kind) the network plugin."""
        spec = self.cluster.spec
        objects = [manifests.kube_proxy(spec.kubernetes_version), manifests.coredns()]
        if spec.network_plugin:
            objects.append(manifests.network_plugin())
        for obj in objects:
            res = DAEMONSETS if obj["kind"] == "DaemonSet" else DEPLOYMENTS
            if self.store.get(res, "kube-system", obj["metadata"]["name"]) is None:
                self.api.create(obj)
        self._sync_mirror_pods()
