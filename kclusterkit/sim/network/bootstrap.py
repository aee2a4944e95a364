"""The Services every cluster starts with: ``kubernetes`` and ``kube-dns``.

The API server itself creates ``default/kubernetes`` at 10.96.0.1 and keeps its Endpoints
and EndpointSlice pointing at the live API servers (pkg/controlplane/controller/
kubernetesservice, the lease endpoint reconciler); kubeadm installs ``kube-system/kube-dns``
at the 10th address. Pods find the API server and DNS through them, and the service
environment variables of every pod name ``KUBERNETES_SERVICE_HOST``.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.kube.meta import Obj, clone, condition
from kclusterkit.sim import errors
from kclusterkit.sim.network.allocator import DNS_SERVICE_IP, KUBERNETES_SERVICE_IP
from kclusterkit.sim.network.endpoints import SERVICE_NAME_LABEL
from kclusterkit.sim.network.proxy import node_failed
from kclusterkit.sim.resources import ENDPOINTS, ENDPOINTSLICES, NODES, SERVICES
from kclusterkit.sim.workqueue import WorkQueue

API_SERVER_PORT = 6443  # kubeadm's --secure-port
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"
SKIP_MIRROR_LABEL = "endpointslice.kubernetes.io/skip-mirror"

KUBERNETES_SERVICE: Obj = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "kubernetes", "namespace": "default",
                 "labels": {"component": "apiserver", "provider": "kubernetes"}},
    "spec": {
        "clusterIP": KUBERNETES_SERVICE_IP,
        "ports": [{"name": "https", "port": 443, "protocol": "TCP",
                   "targetPort": API_SERVER_PORT}],
        "sessionAffinity": "None",
        "type": "ClusterIP",
    },
}

KUBE_DNS_SERVICE: Obj = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {
        "name": "kube-dns", "namespace": "kube-system",
        "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                   "kubernetes.io/name": "CoreDNS"},
        "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"},
    },
    "spec": {
        "clusterIP": DNS_SERVICE_IP,
        "ports": [
            {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
            {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
            {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153},
        ],
        "selector": {"k8s-app": "kube-dns"},
        "type": "ClusterIP",
    },
}


def internal_ip(node: Obj) -> str | None:
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") == "InternalIP":
            return address.get("address")
    return None


class MasterServices:
    """Creates the built-in Services and keeps ``kubernetes`` pointing at the API servers."""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.api = cluster.api
        self.store = cluster.store
        self.queue = WorkQueue(cluster.clock, self._sync)
        for svc in (KUBERNETES_SERVICE, KUBE_DNS_SERVICE):
            meta = svc["metadata"]
            if self.store.get(SERVICES, meta["namespace"], meta["name"]) is None:
                self.api.create(clone(svc))
        self.store.subscribe(NODES, lambda *_: self.queue.add("kubernetes"))
        self.queue.add("kubernetes")

    def api_server_ips(self) -> list[str]:
        """Control-plane nodes whose API server is taken as alive.

        Upstream each API server renews a lease and drops out ~15 s after it stops; here a
        control-plane node counts until it is failed or its Ready condition goes Unknown.
        """
        nodes = self.cluster.nodes
        ips = []
        for node in self.store.iter(NODES):
            if CONTROL_PLANE_LABEL not in (node["metadata"].get("labels") or {}):
                continue
            ready = condition(node, "Ready")
            if ready is not None and ready.get("status") == "Unknown":
                continue
            if node_failed(nodes, node["metadata"]["name"]):
                continue
            control_plane = getattr(self.cluster, "control_plane", None)
            if control_plane is not None and \
                    not control_plane.running("kube-apiserver", node["metadata"]["name"]):
                continue
            ip = internal_ip(node)
            if ip:
                ips.append(ip)
        return sorted(set(ips), key=lambda ip: tuple(int(p) for p in ip.split(".")))

    def _sync(self, _key: object) -> None:
        try:
            self._write(self.api_server_ips())
        except errors.StatusError:
            self.queue.add_after("kubernetes", 1.0)

    def _write(self, ips: list[str]) -> None:
        port = {"name": "https", "port": API_SERVER_PORT, "protocol": "TCP"}
        endpoints: Obj = {
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {SKIP_MIRROR_LABEL: "true"}},
        }
        if ips:
            endpoints["subsets"] = [{"addresses": [{"ip": ip} for ip in ips], "ports": [port]}]
        self._put(ENDPOINTS, endpoints, lambda o: o.get("subsets"))
        slice_obj: Obj = {
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {SERVICE_NAME_LABEL: "kubernetes"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips],
            "ports": [port],
        }
        self._put(ENDPOINTSLICES, slice_obj, lambda o: o.get("endpoints"))

    def _put(self, res: Any, obj: Obj, content: Any) -> None:
        current = self.store.get(res, "default", "kubernetes")
        if current is None:
            self.api.create(obj)
        elif content(current) != content(obj):
            updated = clone(current)
            for key, value in obj.items():
                if key != "metadata":
                    updated[key] = value
            if "subsets" not in obj:
                updated.pop("subsets", None)
            self.api.update(updated)
