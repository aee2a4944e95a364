"""A cluster with just the core and the network, plus pods whose status the test writes.

Stands in for the nodes component (kubelets and images) with ``FakeNodes``: every pod with
an IP answers HTTP on the ports its containers declare, with its own name as the body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kclusterkit.kube.meta import Obj
from kclusterkit.sim import kinds  # noqa: F401  (registers admission strategies)
from kclusterkit.sim.api import Api
from kclusterkit.sim.clock import Clock
from kclusterkit.sim.network import Network, start_network
from kclusterkit.sim.resources import PODS
from kclusterkit.sim.store import Store

NODE_IPS = {"cp-1": "172.18.0.2", "worker-1": "172.18.0.3", "worker-2": "172.18.0.4"}


@dataclass
class FakeSpec:
    network_plugin: bool = True
    kubernetes_version: str = "v1.34.1"


class FakeNodes:
    def __init__(self, cluster: FakeCluster):
        self.cluster = cluster
        self.failed: set[str] = set()
        self.calls: list[tuple[str, str, int, str]] = []

    def is_failed(self, node_name: str) -> bool:
        return node_name in self.failed

    def queue_delay(self, namespace: str, pod_name: str, port: int) -> float:
        return 0.0  # no CPU queue: these fake containers are never throttled

    def http_get(self, namespace: str, pod_name: str, port: int, path: str,
                 method: str = "GET", client_ip: str | None = None,
                 user_agent: str | None = None) -> tuple[int, str] | None:
        self.calls.append((namespace, pod_name, port, path))
        pod = self.cluster.store.get(PODS, namespace, pod_name)
        if pod is None:
            return None
        for c in pod["spec"]["containers"]:
            for p in c.get("ports") or []:
                if p["containerPort"] == port:
                    return 200, pod_name
        return None


@dataclass
class FakeCluster:
    seed: int = 0
    spec: FakeSpec = field(default_factory=FakeSpec)

    def __post_init__(self) -> None:
        self.clock = Clock(self.seed)
        self.store = Store()
        self.api = Api(self.clock, self.store)
        for ns in ("default", "kube-system", "web"):
            self.api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        for name, ip in NODE_IPS.items():
            labels = {"kubernetes.io/hostname": name}
            if name.startswith("cp"):
                labels["node-role.kubernetes.io/control-plane"] = ""
            self.api.create({
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": labels},
                "status": {"addresses": [{"type": "InternalIP", "address": ip},
                                         {"type": "Hostname", "address": name}],
                           "conditions": [{"type": "Ready", "status": "True"}]},
            })
        self.nodes = FakeNodes(self)
        self.network: Network = start_network(self)
        self.settle()

    def settle(self) -> None:
        self.clock.run_until(self.clock.now)

    # -- objects ----------------------------------------------------------------------
    def service(self, name: str, ns: str = "default", **spec: Any) -> Obj:
        spec.setdefault("selector", {"app": name})
        spec.setdefault("ports", [{"port": 80, "targetPort": 8080}])
        svc = self.api.create({"apiVersion": "v1", "kind": "Service",
                               "metadata": {"name": name, "namespace": ns}, "spec": spec})
        self.settle()
        return svc

    def pod(self, name: str, ip: str | None, ready: bool = True, ns: str = "default",
            app: str = "web", node: str = "worker-1", ports: list[Obj] | None = None) -> Obj:
        ports = ports if ports is not None else [{"containerPort": 8080, "name": "http"}]
        self.api.create({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": app}},
            "spec": {"nodeName": node,
                     "containers": [{"name": "c", "image": "agnhost:2.53", "ports": ports}]},
        })
        return self.set_pod(name, ip, ready, ns)

    def set_pod(self, name: str, ip: str | None, ready: bool, ns: str = "default") -> Obj:
        pod = self.api.get(PODS, ns, name)
        status: dict[str, Any] = {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        }
        if ip:
            status["podIP"] = ip
            status["podIPs"] = [{"ip": ip}]
        pod["status"] = status
        updated = self.api.update(pod, subresource="status")
        self.settle()
        return updated
