"""Cluster IP and NodePort allocation, kept consistent with the stored Services.

Upstream keeps a bitmap (or IPAddress objects) beside the Services and repairs it from
them. Here the set of taken IPs and ports is an index fed by the store's own Service
events, so a refused create, a dry run or a deletion can never leak or double-book an
address: what is stored is what is allocated. The choice of a free value follows
upstream's random scan with a reserved lower band (KEP-3070/3668), on the seeded rng.
"""

from __future__ import annotations

import ipaddress
import random
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from kclusterkit.kube.meta import Obj, dig
from kclusterkit.sim.resources import SERVICES
from kclusterkit.sim.store import DELETED, Store

SERVICE_CIDR = "10.96.0.0/12"  # kubeadm's default --service-cidr
NODE_PORT_RANGE = (30000, 32767)  # --service-node-port-range default
KUBERNETES_SERVICE_IP = "10.96.0.1"  # first address of the range
DNS_SERVICE_IP = "10.96.0.10"  # kubeadm's clusterDNS: the 10th address

ERR_IP_ALLOCATED = "provided IP is already allocated"
ERR_PORT_ALLOCATED = "provided port is already allocated"
ERR_FULL = "range is full"

Key = tuple[str, str]  # (namespace, name)


class AllocationError(Exception):
    pass


def cluster_ips_of(svc: Obj) -> list[str]:
    ips = dig(svc, "spec", "clusterIPs") or []
    if not ips and dig(svc, "spec", "clusterIP"):
        ips = [svc["spec"]["clusterIP"]]
    return [ip for ip in ips if isinstance(ip, str) and ip and ip != "None"]


def node_ports_of(svc: Obj) -> list[int]:
    out = []
    for port in dig(svc, "spec", "ports") or []:
        if isinstance(port, dict) and isinstance(port.get("nodePort"), int) and port["nodePort"]:
            out.append(port["nodePort"])
    hc = dig(svc, "spec", "healthCheckNodePort")
    if isinstance(hc, int) and hc:
        out.append(hc)
    return out


class ServiceIndex:
    """Which Service holds each cluster IP and node port, from the store's Service events."""

    def __init__(self, store: Store) -> None:
        self.ips: dict[str, Key] = {}
        self.node_ports: dict[int, Key] = {}
        for svc in store.iter(SERVICES):
            self._add(svc)
        store.subscribe(SERVICES, self._on_event)

    def _on_event(self, etype: str, obj: Obj, old: Obj | None) -> None:
        if old is not None:
            self._remove(old)
        if etype != DELETED:
            self._add(obj)

    @staticmethod
    def _key(svc: Obj) -> Key:
        return svc["metadata"].get("namespace", ""), svc["metadata"]["name"]

    def _add(self, svc: Obj) -> None:
        key = self._key(svc)
        for ip in cluster_ips_of(svc):
            self.ips[ip] = key
        for port in node_ports_of(svc):
            self.node_ports[port] = key

    def _remove(self, svc: Obj) -> None:
        key = self._key(svc)
        for ip in cluster_ips_of(svc):
            if self.ips.get(ip) == key:
                del self.ips[ip]
        for port in node_ports_of(svc):
            if self.node_ports.get(port) == key:
                del self.node_ports[port]


_INDEXES: weakref.WeakKeyDictionary[Store, ServiceIndex] = weakref.WeakKeyDictionary()


def index_for(store: Store) -> ServiceIndex:
    """The one Service index of a store (created on first use)."""
    index = _INDEXES.get(store)
    if index is None:
        index = _INDEXES[store] = ServiceIndex(store)
    return index


def _range_offset(size: int, lo: int, hi: int, step: int) -> int:
    """Upstream's ``min(max(lo, size/step), hi)``: the band kept for static allocation."""
    if size <= lo:
        return 0
    return max(lo, min(size // step, hi))


def _random_scan(rng: random.Random, count: int, offset: int,
                 taken: Callable[[int], bool]) -> int | None:
    """randomScanStrategyWithOffset: random start in the upper band, then the lower band."""
    upper = count - offset
    if upper > 0:
        start = rng.randrange(upper)
        for i in range(upper):
            at = offset + (start + i) % upper
            if not taken(at):
                return at
    if offset > 0:
        start = rng.randrange(offset)
        for i in range(offset):
            at = (start + i) % offset
            if not taken(at):
                return at
    return None


@dataclass(frozen=True)
class IPRange:
    cidr: str = SERVICE_CIDR

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.cidr)

    def bounds(self) -> tuple[int, int]:
        """First and last usable address (no network, no broadcast address)."""
        net = self.network
        return int(net.network_address) + 1, int(net.broadcast_address) - 1

    def contains(self, ip: str) -> bool:
        try:
            value = int(ipaddress.IPv4Address(ip))
        except ValueError:
            return False
        first, last = self.bounds()
        return first <= value <= last

    def allocate(self, ip: str, index: ServiceIndex, owner: Key) -> None:
        if not self.contains(ip):
            raise AllocationError(
                f"the provided IP ({ip}) is not in the valid range. "
                f"The range of valid IPs is {self.cidr}")
        holder = index.ips.get(ip)
        if holder is not None and holder != owner:
            raise AllocationError(ERR_IP_ALLOCATED)

    def allocate_next(self, rng: random.Random, index: ServiceIndex) -> str:
        first, last = self.bounds()
        count = last - first + 1
        offset = _range_offset(self.network.num_addresses, 16, 256, 16)
        at = _random_scan(rng, count, offset,
                          lambda i: str(ipaddress.IPv4Address(first + i)) in index.ips)
        if at is None:
            raise AllocationError(ERR_FULL)
        return str(ipaddress.IPv4Address(first + at))


@dataclass(frozen=True)
class PortRange:
    base: int = NODE_PORT_RANGE[0]
    last: int = NODE_PORT_RANGE[1]

    @property
    def size(self) -> int:
        return self.last - self.base + 1

    def __str__(self) -> str:
        return f"{self.base}-{self.last}"

    def allocate(self, port: int, index: ServiceIndex, owner: Key) -> None:
        if not self.base <= port <= self.last:
            raise AllocationError(
                "provided port is not in the valid range. The range of valid ports is "
                f"{self}")
        holder = index.node_ports.get(port)
        if holder is not None and holder != owner:
            raise AllocationError(ERR_PORT_ALLOCATED)

    def allocate_next(self, rng: random.Random, index: ServiceIndex,
                      claimed: set[int]) -> int:
        offset = _range_offset(self.size, 16, 128, 32)
        at = _random_scan(rng, self.size, offset,
                          lambda i: self.base + i in index.node_ports or self.base + i in claimed)
        if at is None:
            raise AllocationError(ERR_FULL)
        return self.base + at
