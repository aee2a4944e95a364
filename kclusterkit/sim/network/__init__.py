"""The cluster network: Services, their endpoints, kube-proxy's routing and cluster DNS.

Everything a pod needs to find and reach another pod by a stable name lives here, in the
same pieces as upstream (service admission and allocation, the Endpoints and EndpointSlice
controllers, kube-proxy, CoreDNS), so that readiness, endpoint lag and DNS search paths
shape traffic the way they do on a real cluster. Importing ``services`` registers the
Service admission strategy; ``start_network`` starts the rest for one cluster.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.kube.meta import Obj
from kclusterkit.sim.network.allocator import index_for
from kclusterkit.sim.network.bootstrap import MasterServices
from kclusterkit.sim.network.dns import ClusterDns
from kclusterkit.sim.network.endpoints import EndpointsController, EndpointSliceController
from kclusterkit.sim.network.envvars import service_env
from kclusterkit.sim.network.proxy import Connection, HttpResult, Proxy

__all__ = ["Connection", "HttpResult", "Network", "start_network"]


class Network:
    """The network of one simulated cluster; the kubelets, images and driver call in here."""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.services = index_for(cluster.store)
        self.endpoints_controller = EndpointsController(cluster)
        self.endpointslice_controller = EndpointSliceController(cluster)
        self.dns = ClusterDns(cluster)
        self.proxy = Proxy(cluster, self.services, self.dns.resolve)
        self.master_services = MasterServices(cluster)

    # -- traffic ----------------------------------------------------------------------
    def http_request(self, from_pod: Obj | None, url: str, method: str = "GET",
                     headers: dict[str, str] | None = None) -> HttpResult:
        """An HTTP GET (or ``method``) of ``url``, with request ``headers``, from a pod (or
        from outside the cluster with ``None``)."""
        return self.proxy.http_request(from_pod, url, method, headers)

    def http_requests(self, from_pod: Obj, url: str, method: str, times: list[float]
                      ) -> list[HttpResult]:
        """The same request from a pod at each of ``times``, made at once: a load
        generator's requests between two instants of cluster events (``Proxy.http_requests``)."""
        return self.proxy.http_requests(from_pod, url, method, times)

    def connect(self, from_pod: Obj | None, host: str, port: int) -> Connection:
        """Where a TCP connection to ``host:port`` lands (a pod and port, or an error).

        Whether that pod's container listens on the port is the nodes component's to say.
        """
        return self.proxy.connect(from_pod, host, port)

    # -- DNS --------------------------------------------------------------------------
    def resolve(self, from_pod: Obj | None, name: str) -> list[str] | None:
        """The addresses ``name`` resolves to inside ``from_pod``; None for NXDOMAIN (or
        when the pod's egress policies do not let the query reach the cluster DNS)."""
        if from_pod is not None and not self.proxy.policies.dns_allowed(
                from_pod, (from_pod.get("status") or {}).get("podIP") or ""):
            return None
        return self.dns.resolve(from_pod, name)

    def resolv_conf(self, pod: Obj) -> str:
        """The pod's /etc/resolv.conf."""
        return self.dns.resolv_conf(pod)

    # -- environment ------------------------------------------------------------------
    def service_env(self, namespace: str, enable_service_links: bool = True
                    ) -> dict[str, str]:
        """The service variables a container in ``namespace`` starts with."""
        return service_env(self.cluster.store, namespace, enable_service_links)


def start_network(cluster: Any) -> Network:
    return Network(cluster)
