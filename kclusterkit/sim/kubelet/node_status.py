"""The kubelet's own Node: registration, its Lease, its status (kubelet_node_status.go).

Upstream every kubelet registers its own Node object, renews a Lease in
``kube-node-lease`` every 10 s (pkg/kubelet/nodelease) and re-posts its status when
something changes or every 5 minutes (tryUpdateNodeStatus); the node lifecycle controller
watches those heartbeats. ``NodeStatus`` is that part of one kubelet; the fleet's shared
tick (``sim.nodes``) only tells each kubelet when to do it.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj
from kclusterkit.kube.quantity import memory_bytes
from kclusterkit.sim import errors, images
from kclusterkit.sim.resources import LEASES, NODES

if TYPE_CHECKING:
    from kclusterkit.sim.kubelet.kubelet import Kubelet

CONTROL_PLANE_ROLE = "node-role.kubernetes.io/control-plane"
# kubelet --eviction-hard defaults: memory.available<100Mi, nodefs.available<10%.
EVICTION_HARD_MEMORY = 100 * 1024 * 1024
NODE_STATUS_REPORT_FREQUENCY = 300.0  # kubelet nodeStatusReportFrequency (5 min)
NETWORK_NOT_READY = ("container runtime network not ready: NetworkReady=false "
                     "reason:NetworkPluginNotReady message:Network plugin returns error: "
                     "cni plugin not initialized")
KERNEL_VERSION = "6.8.0-60-generic"
OS_IMAGE = "Debian GNU/Linux 12 (bookworm)"
CONTAINER_RUNTIME = "containerd://2.1.3"


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = version.lstrip("v").split("-", 1)[0].split(".")
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        return (1, 34, 0)


class NodeStatus:
    """What one kubelet tells the API server about its node."""

    def __init__(self, kubelet: Kubelet) -> None:
        self.kubelet = kubelet
        self.cluster = kubelet.cluster
        self.api = kubelet.api
        self.clock = kubelet.clock
        self.store = kubelet.cluster.store
        self.timings = kubelet.timings
        self.name = kubelet.node_name
        self.last_posted = 0.0

    def register(self, shape: Any, control_plane: bool, zone: str | None = None) -> None:
        """registerWithAPIServer: create the Node, its Lease, and the start-up events."""
        name, kubelet = self.name, self.kubelet
        self.api.create(self._node_object(name, shape, kubelet.host_ip, kubelet.pod_cidr,
                                          zone,
                                          control_plane))
        self._create_lease(name)
        for reason, message in (
            ("Starting", "Starting kubelet."),
            ("NodeHasSufficientMemory", f"Node {name} status is now: NodeHasSufficientMemory"),
            ("NodeHasNoDiskPressure", f"Node {name} status is now: NodeHasNoDiskPressure"),
            ("NodeHasSufficientPID", f"Node {name} status is now: NodeHasSufficientPID"),
            ("NodeAllocatableEnforced", "Updated Node Allocatable limit across pods"),
        ):
            self._node_event(reason, message)
        if self._network_ready():
            self._node_event("NodeReady", f"Node {name} status is now: NodeReady")
        self.last_posted = self.clock.now

    def _network_ready(self) -> bool:
        """The runtime's NetworkReady: a CNI config is on the node (sim.network.plugin)."""
        return bool(getattr(self.kubelet, "cni_configured", True))

    def _node_event(self, reason: str, message: str) -> None:
        # The kubelet's node reference carries the node name as its UID.
        ref = {"kind": "Node", "apiVersion": "v1",
               "metadata": {"name": self.name, "uid": self.name}}
        self.api.record_event(ref, "Normal", reason, message, "kubelet", self.name)

    def _node_object(self, name: str, shape: Any, host_ip: str, pod_cidr: str,
                     zone: str | None, control_plane: bool) -> Obj:
        rng = self.clock.rng
        labels = {
            "beta.kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
        }
        if zone:
            # What a cloud provider's node controller sets (well-known labels).
            labels["topology.kubernetes.io/zone"] = zone
        taints = []
        if control_plane:
            labels[CONTROL_PLANE_ROLE] = ""
            labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
            taints.append({"key": CONTROL_PLANE_ROLE, "effect": "NoSchedule"})
        memory = memory_bytes(shape.memory)
        storage = memory_bytes(shape.ephemeral_storage)
        capacity = {
            "cpu": str(shape.cpu),
            "ephemeral-storage": f"{storage // 1024}Ki",
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "0",
            "memory": f"{memory // 1024}Ki",
            "pods": str(shape.pods),
        }
        allocatable = dict(capacity)
        allocatable["memory"] = f"{max(memory - EVICTION_HARD_MEMORY, 0) // 1024}Ki"
        allocatable["ephemeral-storage"] = str(storage - storage // 10)
        version = self.cluster.spec.kubernetes_version
        spec: dict[str, Any] = {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr]}
        if taints:
            spec["taints"] = taints
        node_info = {
            "architecture": "amd64",
            "bootID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "containerRuntimeVersion": CONTAINER_RUNTIME,
            "kernelVersion": KERNEL_VERSION,
            # DisableNodeKubeProxyVersion is on by default since v1.33: the kubelet no
            # longer reports it, and the field serialises empty.
            "kubeProxyVersion": "" if _version_tuple(version) >= (1, 33) else version,
            "kubeletVersion": version,
            "machineID": f"{rng.getrandbits(128):032x}",
            "operatingSystem": "linux",
            "osImage": OS_IMAGE,
            "systemUUID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "swap": {"capacity": 0},
        }
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": labels,
                "annotations": {
                    "kubeadm.alpha.kubernetes.io/cri-socket":
                        "unix:///run/containerd/containerd.sock",
                    "node.alpha.kubernetes.io/ttl": "0",
                    "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                },
            },
            "spec": spec,
            "status": {
                "capacity": capacity,
                "allocatable": allocatable,
                "conditions": self._conditions(None),
                "addresses": [{"type": "InternalIP", "address": host_ip},
                              {"type": "Hostname", "address": name}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": node_info,
                "images": [],
                "runtimeHandlers": [
                    {"name": "runc", "features": {"recursiveReadOnlyMounts": True,
                                                  "userNamespaces": True}},
                    {"name": "", "features": {"recursiveReadOnlyMounts": True,
                                              "userNamespaces": True}},
                ],
                "features": {"supplementalGroupsPolicy": True},
            },
        }

    def _conditions(self, previous: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
        """The kubelet's node conditions now; transition times kept from ``previous``."""
        now = self.clock.timestamp()
        ready = self._network_ready()
        wanted = [
            ("MemoryPressure", "False", "KubeletHasSufficientMemory",
             "kubelet has sufficient memory available"),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "False", "KubeletHasSufficientPID",
             "kubelet has sufficient PID available"),
            ("Ready", "True" if ready else "False",
             "KubeletReady" if ready else "KubeletNotReady",
             "kubelet is posting ready status" if ready else NETWORK_NOT_READY),
        ]
        before = {c["type"]: c for c in previous or []}
        out = []
        for ctype, status, reason, message in wanted:
            old = before.get(ctype)
            transition = old["lastTransitionTime"] if old and old["status"] == status else now
            out.append({"type": ctype, "status": status, "lastHeartbeatTime": now,
                        "lastTransitionTime": transition, "reason": reason,
                        "message": message})
        return out

    def _create_lease(self, name: str) -> None:
        node = self.store.get(NODES, "", name)
        owner = [{"apiVersion": "v1", "kind": "Node", "name": name,
                  "uid": node["metadata"]["uid"]}] if node else []
        lease = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": name, "namespace": "kube-node-lease", "ownerReferences": owner},
            "spec": {"holderIdentity": name,
                     "leaseDurationSeconds": int(self.timings.node_lease_duration),
                     "renewTime": self.clock.micro_timestamp()},
        }
        existing = self.store.get(LEASES, "kube-node-lease", name)
        if existing is None:
            self.api.create(lease)


    def renew_lease(self) -> None:
        """nodelease controller: renew the node's Lease (recreate it if it went away)."""
        lease = self.store.get(LEASES, "kube-node-lease", self.name)
        if lease is None:
            self._create_lease(self.name)
            return
        renewed = {**lease, "spec": {**lease["spec"],
                                     "renewTime": self.clock.micro_timestamp()}}
        try:
            self.api.update(renewed)
        except errors.StatusError:
            pass

    def post_status(self, force: bool = False) -> None:
        name = self.name
        node = self.store.get(NODES, "", name)
        if node is None:
            return
        status = node.get("status") or {}
        previous = status.get("conditions") or []
        wanted = self._conditions(previous)
        changed = [(c["type"], c["status"], c["reason"]) for c in wanted] != \
            [(c.get("type"), c.get("status"), c.get("reason")) for c in previous]
        due = self.clock.now - self.last_posted >= NODE_STATUS_REPORT_FREQUENCY
        if not (changed or due or force):
            return
        was_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in previous)
        updated = {**node, "status": {**status, "conditions": wanted,
                                      "images": self._images()}}
        try:
            self.api.update(updated, subresource="status")
        except errors.StatusError:
            return
        self.last_posted = self.clock.now
        now_ready = wanted[-1]["status"] == "True"
        if now_ready and not was_ready:
            self._node_event("NodeReady", f"Node {name} status is now: NodeReady")
        elif was_ready and not now_ready:
            self._node_event("NodeNotReady", f"Node {name} status is now: NodeNotReady")

    def _images(self) -> list[dict[str, Any]]:
        out = []
        for ref in sorted(self.kubelet.images):
            out.append({"names": [images.image_id(ref), ref], "sizeBytes": images.image_size(ref)})
        return out
