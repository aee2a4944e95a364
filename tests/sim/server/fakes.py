"""A core-only cluster (clock, store, api, namespaces, two nodes) for the server's tests.

The server needs only ``.api .store .clock .nodes .spec`` of a cluster; this keeps
its tests independent of the node, scheduler and controller components.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kclusterkit.sim import kinds  # noqa: F401  (registers admission strategies)
from kclusterkit.sim.api import Api
from kclusterkit.sim.clock import Clock
from kclusterkit.sim.cluster import ClusterSpec
from kclusterkit.sim.errors import StatusError
from kclusterkit.sim.store import Store


def node(name: str, role: str | None, ip: str) -> dict[str, Any]:
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
    if role:
        labels[f"node-role.kubernetes.io/{role}"] = ""
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": {"podCIDR": "10.244.0.0/24"},
        "status": {
            "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
            "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status",
                            "lastHeartbeatTime": "2026-01-01T00:00:00Z",
                            "lastTransitionTime": "2026-01-01T00:00:00Z"}],
            "addresses": [{"type": "InternalIP", "address": ip},
                          {"type": "Hostname", "address": name}],
            "nodeInfo": {"architecture": "amd64", "bootID": "b", "containerRuntimeVersion":
                         "containerd://2.1.4", "kernelVersion": "6.8.0", "kubeProxyVersion":
                         "v1.34.1", "kubeletVersion": "v1.34.1", "machineID": "m",
                         "operatingSystem": "linux", "osImage": "Ubuntu 24.04.3 LTS",
                         "systemUUID": "u"},
        },
    }


class FakeNodes:
    """Stands in for the kubelets' logs/exec until the node component is wired in."""

    def __init__(self, cluster: FakeCluster):
        self.cluster = cluster

    def log_lines(self, namespace: str, pod: str, container: str, previous: bool = False
                  ) -> list[tuple[float, str]]:
        if previous:
            raise StatusError(400, "BadRequest", f'previous terminated container "{container}" '
                              f'in pod "{pod}" not found')
        # Line i was written i.5 cluster seconds after the epoch.
        return [(i + 0.5, f"{container} line {i}") for i in range(1, 6)]

    def exec(self, namespace: str, pod: str, container: str,
             argv: list[str]) -> tuple[int, str, str]:
        if argv == ["hostname"]:
            return 0, f"{pod}\n", ""
        if argv[:2] == ["sh", "-c"] and argv[2].startswith("exit "):
            return int(argv[2].split()[1]), "", "bye\n"
        return 127, "", f"sh: {argv[0]}: not found\n"


class FakeCluster:
    def __init__(self, seed: int = 0):
        self.spec = ClusterSpec()
        self.clock = Clock(seed, datetime(2026, 1, 1, tzinfo=UTC))
        self.store = Store()
        self.api = Api(self.clock, self.store)
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        self.api.create(node("cp-1", "control-plane", "172.18.0.2"))
        self.api.create(node("worker-1", None, "172.18.0.3"))
        self.nodes = FakeNodes(self)
