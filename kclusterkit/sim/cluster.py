"""One simulated cluster: the clock, the store, the API server and every component.

A cluster is built from a ``ClusterSpec`` (what ``environments/*.yaml`` and "Given a
cluster with …" describe) and a seed. Nothing runs until the clock is advanced; components
schedule their work on the clock and talk to each other only through the API, as upstream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from kclusterkit.sim import kinds  # noqa: F401  (registers admission strategies)
from kclusterkit.sim.api import Api
from kclusterkit.sim.apiextensions.apiservices import AutoRegistration
from kclusterkit.sim.apiextensions.controllers import CustomResourceDefinitionControllers
from kclusterkit.sim.auth import Access
from kclusterkit.sim.auth.bootstrap import reconcile
from kclusterkit.sim.clock import DEFAULT_EPOCH, Clock
from kclusterkit.sim.controllers.manager import ControllerManager
from kclusterkit.sim.controlplane.components import ControlPlane
from kclusterkit.sim.metrics_server import MetricsServer
from kclusterkit.sim.network import Network
from kclusterkit.sim.nodes import Nodes, start_nodes
from kclusterkit.sim.scheduler import Scheduler
from kclusterkit.sim.storage import Storage
from kclusterkit.sim.store import Store
from kclusterkit.sim.timings import Timings

KUBERNETES_VERSION = "v1.34.1"


@dataclass
class NodeShape:
    """What a node offers; upstream kubelet defaults for pods (110)."""

    cpu: str = "4"
    memory: str = "8Gi"
    pods: int = 110
    ephemeral_storage: str = "100Gi"


@dataclass
class ClusterSpec:
    control_plane_nodes: int = 1
    worker_nodes: int = 2
    node: NodeShape = field(default_factory=NodeShape)
    control_plane_node: NodeShape | None = None
    network_plugin: bool = True
    kubernetes_version: str = KUBERNETES_VERSION
    timings: Timings = field(default_factory=Timings)
    # Images the cluster's registry does not have, beyond the simulator's own rule.
    missing_images: tuple[str, ...] = ()
    # kind's default StorageClass "standard" (local-path, WaitForFirstConsumer).
    default_storage_class: bool = True
    # A non-default class of network-attached volumes (Longhorn's CSI driver "longhorn").
    network_storage_class: bool = True
    # Zones the nodes are spread over, round robin (topology.kubernetes.io/zone), or none.
    zones: tuple[str, ...] = ()


class Cluster:
    """The clock, the store and API server, and each component as a typed attribute."""

    nodes: Nodes  # the machines: one kubelet per node (sim.kubelet)
    scheduler: Scheduler
    controller_manager: ControllerManager
    network: Network  # services, endpoints, kube-proxy, DNS
    storage: Storage  # persistent volumes' files
    control_plane: ControlPlane  # which etcd/apiserver/scheduler/controller-manager runs
    metrics_server: MetricsServer  # metrics.k8s.io: what kubectl top and the HPA read

    def __init__(
        self, spec: ClusterSpec | None = None, seed: int = 0, epoch: datetime = DEFAULT_EPOCH
    ) -> None:
        self.spec = spec or ClusterSpec()
        self.seed = seed
        self.timings = self.spec.timings
        self.clock = Clock(seed, epoch)
        self.store = Store()
        self.api = Api(self.clock, self.store)
        self.access = Access(self, seed)  # authentication, impersonation, RBAC
        self.api.access = self.access
        self._bootstrap()

    def _bootstrap(self) -> None:
        """The system namespaces, then each component in the order kubeadm brings them up."""
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        # The API server's RBAC bootstrap (storage_rbac.go PostStartHook) and kubeadm's binding.
        reconcile(self.api)
        # apiextensions-apiserver's CRD controllers and kube-aggregator's APIServices.
        self.crd_controllers = CustomResourceDefinitionControllers(self.api)
        self.apiservices = AutoRegistration(self.api)
        self.storage = Storage(self.api, self.spec.default_storage_class,
                               self.spec.network_storage_class)
        self.nodes = start_nodes(self)
        self.metrics_server = MetricsServer(self)  # the metrics-server add-on (kube-system)
        self.controller_manager = ControllerManager(self)
        self.scheduler = Scheduler(self)
        self.network = Network(self)
        self.control_plane = ControlPlane(self)
        self.control_plane.govern(self.controller_manager,
                                  [self.network.endpoints_controller,
                                   self.network.endpointslice_controller])
        # Let the nodes register and report Ready before anyone uses the cluster.
        self.clock.run_until(self.clock.now)

    # -- time -------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.clock.now

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def run_until(self, when: float) -> None:
        self.clock.run_until(when)
