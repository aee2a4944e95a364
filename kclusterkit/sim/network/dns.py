"""Cluster DNS: what CoreDNS answers, and how a pod's resolver gets there.

Two halves, as upstream: the kubelet writes each pod's resolv.conf from its dnsPolicy and
dnsConfig (pkg/kubelet/network/dns), and the pod's resolver walks the search list with
ndots before asking; CoreDNS's kubernetes plugin (kubeadm's Corefile: ``kubernetes
cluster.local … { pods insecure }``) answers names in the cluster zone from Services and
EndpointSlices, so a not-ready pod has no record behind a headless Service either.
Names outside the zone would be forwarded upstream; the simulated cluster has no upstream,
so they do not resolve.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from kclusterkit.kube.meta import Obj, dig
from kclusterkit.sim.network.allocator import DNS_SERVICE_IP
from kclusterkit.sim.network.endpoints import SERVICE_NAME_LABEL
from kclusterkit.sim.resources import ENDPOINTSLICES, NAMESPACES, SERVICES

CLUSTER_DOMAIN = "cluster.local"
DEFAULT_NDOTS = 5
MAX_NAMESERVERS = 3
MAX_SEARCHES = 32
# The nodes' own resolver (what dnsPolicy Default hands a pod). The simulated nodes have
# no real upstream; this address stands for it and resolves nothing in the cluster zone.
HOST_NAMESERVER = "192.168.0.1"


@dataclass
class DnsConfig:
    nameservers: list[str] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)
    options: list[tuple[str, str | None]] = field(default_factory=list)

    def option(self, name: str) -> str | None:
        for key, value in self.options:
            if key == name:
                return value
        return None

    @property
    def ndots(self) -> int:
        value = self.option("ndots")
        try:
            return int(value) if value is not None else 1  # resolv.conf's own default
        except ValueError:
            return 1

    def render(self) -> str:
        lines = []
        if self.searches:
            lines.append("search " + " ".join(self.searches))
        lines += [f"nameserver {ns}" for ns in self.nameservers]
        if self.options:
            lines.append("options " + " ".join(
                k if v is None else f"{k}:{v}" for k, v in self.options))
        return "\n".join(lines) + "\n"


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def pod_dns_config(pod: Obj) -> DnsConfig:
    """GetPodDNS: the resolv.conf the kubelet gives a pod."""
    spec = pod.get("spec") or {}
    ns = pod["metadata"].get("namespace") or "default"
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    if policy == "ClusterFirst" and spec.get("hostNetwork"):
        policy = "Default"  # ClusterFirst on the host network falls back to the node's
    if policy in ("ClusterFirst", "ClusterFirstWithHostNet"):
        config = DnsConfig(
            [DNS_SERVICE_IP],
            [f"{ns}.svc.{CLUSTER_DOMAIN}", f"svc.{CLUSTER_DOMAIN}", CLUSTER_DOMAIN],
            [("ndots", str(DEFAULT_NDOTS))])
    elif policy == "None":
        config = DnsConfig()
    else:
        config = DnsConfig([HOST_NAMESERVER])
    extra = spec.get("dnsConfig") or {}
    for server in extra.get("nameservers") or []:
        if server not in config.nameservers:
            config.nameservers.append(server)
    for search in extra.get("searches") or []:
        if search not in config.searches:
            config.searches.append(search)
    for opt in extra.get("options") or []:
        name = opt.get("name")
        if not name:
            continue
        config.options = [(k, v) for k, v in config.options if k != name]
        config.options.append((name, opt.get("value")))
    config.nameservers = config.nameservers[:MAX_NAMESERVERS]
    config.searches = config.searches[:MAX_SEARCHES]
    return config


def candidates(name: str, config: DnsConfig) -> list[str]:
    """The fully qualified names a resolver tries for ``name``, in order (ndots rule)."""
    if name.endswith("."):
        return [name.rstrip(".")]
    searched = [f"{name}.{domain}" for domain in config.searches]
    if name.count(".") >= config.ndots:
        return [name, *searched]
    return [*searched, name]


class ClusterDns:
    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.store = cluster.store

    # -- the pod's resolver -----------------------------------------------------------
    def resolv_conf(self, pod: Obj) -> str:
        return pod_dns_config(pod).render()

    def resolve(self, from_pod: Obj | None, name: str) -> list[str] | None:
        """Addresses ``name`` resolves to in ``from_pod`` (None: asked of CoreDNS itself).

        None means NXDOMAIN (or no answer at all).
        """
        name = name.strip().lower()
        if not name:
            return None
        if _is_ip(name):
            return [name]
        if from_pod is None:
            return self.lookup(name.rstrip("."))
        config = pod_dns_config(from_pod)
        if DNS_SERVICE_IP not in config.nameservers:
            return None  # only the node's resolver, which knows nothing of the cluster
        if not self.coredns_ready():
            return None  # kube-dns has no ready CoreDNS pod behind it: no answer at all
        for fqdn in candidates(name, config):
            answer = self.lookup(fqdn)
            if answer:
                return answer
        return None

    def answers(self, pod: Obj) -> bool:
        """Whether the pod's nameserver answers: the node's resolver always does; the
        cluster's (kube-dns) only while a ready CoreDNS pod is behind it."""
        return DNS_SERVICE_IP not in pod_dns_config(pod).nameservers or self.coredns_ready()

    def coredns_ready(self) -> bool:
        """kube-proxy sends the kube-dns ClusterIP to ready endpoints only. A cluster built
        without the control plane's pods (tests' fakes) has no CoreDNS pods to ask."""
        if getattr(self.cluster, "control_plane", None) is None:
            return True
        return bool(self._ready_endpoints("kube-system", "kube-dns"))

    # -- CoreDNS ----------------------------------------------------------------------
    def lookup(self, fqdn: str) -> list[str] | None:
        """CoreDNS's A records for a fully qualified name; None for NXDOMAIN or no data."""
        fqdn = fqdn.rstrip(".").lower()
        suffix = "." + CLUSTER_DOMAIN
        if not fqdn.endswith(suffix):
            return None  # forwarded upstream: nothing there in the simulator
        labels = fqdn[: -len(suffix)].split(".")
        kind, rest = labels[-1], labels[:-1]
        if kind == "svc":
            return self._service_records(rest)
        if kind == "pod" and len(rest) == 2:
            return self._pod_record(rest[0], rest[1])
        return None

    def _namespace_exists(self, ns: str) -> bool:
        return self.store.get(NAMESPACES, "", ns) is not None

    def _pod_record(self, dashed: str, ns: str) -> list[str] | None:
        # "pods insecure": any well-formed a-b-c-d answers a.b.c.d.
        ip = dashed.replace("-", ".")
        if not _is_ip(ip) or not self._namespace_exists(ns):
            return None
        return [ip]

    def _service_records(self, rest: list[str]) -> list[str] | None:
        if len(rest) == 4 and rest[0].startswith("_") and rest[1].startswith("_"):
            return self._service_records(rest[2:])  # _port._proto.svc.ns: the service's A
        if len(rest) == 2:
            name, ns = rest
            service = self.store.get(SERVICES, ns, name)
            if service is None:
                return None
            spec = service.get("spec") or {}
            if spec.get("type") == "ExternalName":
                target = str(spec.get("externalName") or "")
                return self.lookup(target) if target != name else None  # a CNAME
            if spec.get("clusterIP") and spec["clusterIP"] != "None":
                return [spec["clusterIP"]]
            ips = sorted({ip for _, ip in self._ready_endpoints(ns, name)},
                         key=lambda ip: int(ipaddress.ip_address(ip)))
            return ips or None
        if len(rest) == 3:
            endpoint, name, ns = rest
            service = self.store.get(SERVICES, ns, name)
            if service is None or dig(service, "spec", "clusterIP") != "None":
                return None
            ips = [ip for host, ip in self._ready_endpoints(ns, name) if host == endpoint]
            return ips or None
        return None

    def _ready_endpoints(self, ns: str, name: str) -> list[tuple[str, str]]:
        """(record name, ip) of the ready endpoints of a headless Service."""
        out = []
        for slice_obj in self.store.iter(ENDPOINTSLICES, ns):
            if (slice_obj["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL) != name:
                continue
            for endpoint in slice_obj.get("endpoints") or []:
                if (endpoint.get("conditions") or {}).get("ready") is False:
                    continue
                for ip in endpoint.get("addresses") or []:
                    out.append((endpoint.get("hostname") or ip.replace(".", "-"), ip))
        return out
