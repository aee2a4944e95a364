"""NetworkPolicy, as the simulated network plugin enforces it (networking.k8s.io/v1).

Upstream leaves enforcement to the network plugin; these are the semantics every
conformant plugin implements (the API reference and the sig-network e2e "netpol" tests):

- A pod is isolated for ingress (egress) when a policy in its namespace selects it
  (``podSelector``; ``{}`` selects every pod) and lists Ingress (Egress) in ``policyTypes``.
  ``policyTypes`` defaults to Ingress, plus Egress when the policy has egress rules.
- Policies are additive: an isolated pod accepts a connection that any selecting policy's
  rule allows. A rule allows a peer (``from``/``to``; absent or empty = everyone) on a port
  (``ports``; absent or empty = every port; a named port is the destination's container
  port name; ``endPort`` makes a range).
- A peer is ``podSelector`` (pods of the policy's namespace), ``namespaceSelector`` (every
  pod of matching namespaces), both (matching pods of matching namespaces), or ``ipBlock``
  (``cidr`` minus ``except``) matched against the other end's pod IP.
- A connection goes through only when the source's egress and the destination's ingress
  both allow it; through a Service the destination is the backend pod after kube-proxy's
  DNAT, and its target port is what the rules see. Dropped packets look like a timeout.
- Name resolution is egress too: a pod whose egress is isolated resolves names only if a
  rule allows port 53 (UDP or TCP) to the cluster DNS pods (kube-system, k8s-app=kube-dns).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj, selector_matches
from kclusterkit.sim import validation as v
from kclusterkit.sim.resources import NAMESPACES, NETWORKPOLICIES
from kclusterkit.sim.strategy import Cause, Strategy, register_strategy

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api
    from kclusterkit.sim.store import Store

DNS_NAMESPACE = "kube-system"
DNS_LABELS = {"k8s-app": "kube-dns"}


class NetworkPolicyStrategy(Strategy):
    """Defaults (SetDefaults_NetworkPolicy) and the checks ValidateNetworkPolicy makes."""

    tracks_generation = True
    has_status = False

    def default(self, api: Api, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            return
        spec.setdefault("podSelector", {})
        if not spec.get("policyTypes"):
            types = ["Ingress"]
            if spec.get("egress"):
                types.append("Egress")
            spec["policyTypes"] = types
        for direction in ("ingress", "egress"):
            for rule in spec.get(direction) or []:
                for port in (rule or {}).get("ports") or []:
                    if isinstance(port, dict):
                        port.setdefault("protocol", "TCP")

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [v.required("spec")]
        out: list[Cause] = []
        for i, ptype in enumerate(spec.get("policyTypes") or []):
            if ptype not in ("Ingress", "Egress"):
                out.append(v.not_supported(f"spec.policyTypes[{i}]", ptype,
                                           ["Egress", "Ingress"]))
        for direction, peers in (("ingress", "from"), ("egress", "to")):
            for i, rule in enumerate(spec.get(direction) or []):
                rule = rule or {}
                for j, port in enumerate(rule.get("ports") or []):
                    path = f"spec.{direction}[{i}].ports[{j}]"
                    proto = (port or {}).get("protocol", "TCP")
                    if proto not in ("TCP", "UDP", "SCTP"):
                        out.append(v.not_supported(f"{path}.protocol", proto,
                                                   ["SCTP", "TCP", "UDP"]))
                    end = (port or {}).get("endPort")
                    if end is not None and not isinstance((port or {}).get("port"), int):
                        out.append(v.required(f"{path}.port",
                                              "must be specified when endPort is specified"))
                for j, peer in enumerate(rule.get(peers) or []):
                    out += _validate_peer(f"spec.{direction}[{i}].{peers}[{j}]", peer or {})
        return out


def _validate_peer(path: str, peer: dict[str, Any]) -> list[Cause]:
    given = [k for k in ("podSelector", "namespaceSelector", "ipBlock") if k in peer]
    if not given:
        return [v.required(path, "must specify a peer")]
    if "ipBlock" in peer and len(given) > 1:
        return [v.forbidden(path, "may not specify more than 1 peer")]
    block = peer.get("ipBlock")
    if block is None:
        return []
    try:
        net = ipaddress.ip_network(str(block.get("cidr", "")), strict=False)
    except ValueError:
        return [v.invalid(f"{path}.ipBlock.cidr", block.get("cidr", ""),
                          "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")]
    out: list[Cause] = []
    for k, ex in enumerate(block.get("except") or []):
        try:
            inner = ipaddress.ip_network(str(ex), strict=False)
        except ValueError:
            out.append(v.invalid(f"{path}.ipBlock.except[{k}]", ex, "must be a valid CIDR"))
            continue
        if not (inner.version == net.version and inner.subnet_of(net)):  # type: ignore[arg-type]
            out.append(v.invalid(f"{path}.ipBlock.except[{k}]", ex,
                                 "must be a strict subset of `cidr`"))
    return out


register_strategy(NETWORKPOLICIES, NetworkPolicyStrategy())


class Endpoint:
    """One end of a connection: a pod (namespace, labels, IP, ports) or a bare address."""

    def __init__(self, pod: Obj | None, ip: str) -> None:
        self.pod = pod
        self.ip = ip
        meta = (pod or {}).get("metadata") or {}
        self.namespace = meta.get("namespace")
        self.labels = meta.get("labels") or {}

    def port_named(self, name: str) -> int | None:
        for c in ((self.pod or {}).get("spec") or {}).get("containers") or []:
            for p in c.get("ports") or []:
                if p.get("name") == name:
                    return p.get("containerPort")
        return None


class PolicyEngine:
    """Answers "may this connection go through?" from the stored policies."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _ns_labels(self, name: str | None) -> dict[str, str]:
        ns = self.store.get(NAMESPACES, "", name or "")
        labels = dict(((ns or {}).get("metadata") or {}).get("labels") or {})
        labels.setdefault("kubernetes.io/metadata.name", name or "")
        return labels

    def _selecting(self, end: Endpoint, ptype: str) -> list[Obj]:
        if end.pod is None or end.namespace is None:
            return []
        return [p for p in self.store.iter(NETWORKPOLICIES, end.namespace)
                if ptype in ((p.get("spec") or {}).get("policyTypes") or [])
                and selector_matches((p.get("spec") or {}).get("podSelector") or {},
                                     end.labels)]

    def _peer_matches(self, policy: Obj, peer: dict[str, Any], other: Endpoint) -> bool:
        block = peer.get("ipBlock")
        if block is not None:
            try:
                addr = ipaddress.ip_address(other.ip)
                if addr not in ipaddress.ip_network(block.get("cidr", ""), strict=False):
                    return False
                return not any(addr in ipaddress.ip_network(ex, strict=False)
                               for ex in block.get("except") or [])
            except ValueError:
                return False
        if other.pod is None:
            return False
        ns_selector = peer.get("namespaceSelector")
        if ns_selector is None:
            if other.namespace != policy["metadata"].get("namespace"):
                return False
        elif not selector_matches(ns_selector, self._ns_labels(other.namespace)):
            return False
        pod_selector = peer.get("podSelector")
        return pod_selector is None or selector_matches(pod_selector, other.labels)

    @staticmethod
    def _port_matches(rule_ports: list[dict[str, Any]], port: int, protocol: str,
                      dest: Endpoint) -> bool:
        if not rule_ports:
            return True
        for p in rule_ports:
            if (p.get("protocol") or "TCP") != protocol:
                continue
            want = p.get("port")
            if want is None:
                return True
            if isinstance(want, str) and not want.isdigit():
                named = dest.port_named(want)
                if named is not None and named == port:
                    return True
                continue
            low = int(want)
            high = int(p.get("endPort") or low)
            if low <= port <= high:
                return True
        return False

    def _allows(self, end: Endpoint, ptype: str, other: Endpoint, port: int, protocol: str,
                dest: Endpoint) -> bool:
        policies = self._selecting(end, ptype)
        if not policies:
            return True  # not isolated in this direction
        key, peers_key = ("ingress", "from") if ptype == "Ingress" else ("egress", "to")
        for policy in policies:
            for rule in (policy.get("spec") or {}).get(key) or []:
                rule = rule or {}
                peers = rule.get(peers_key) or []
                if peers and not any(self._peer_matches(policy, peer or {}, other)
                                     for peer in peers):
                    continue
                if self._port_matches(rule.get("ports") or [], port, protocol, dest):
                    return True
        return False

    def allowed(self, src_pod: Obj | None, src_ip: str, dst_pod: Obj, dst_ip: str, port: int,
                protocol: str = "TCP") -> bool:
        src, dst = Endpoint(src_pod, src_ip), Endpoint(dst_pod, dst_ip)
        return (self._allows(src, "Egress", dst, port, protocol, dst)
                and self._allows(dst, "Ingress", src, port, protocol, dst))

    def dns_allowed(self, src_pod: Obj | None, src_ip: str) -> bool:
        """Egress to the cluster DNS pods on port 53 (UDP or TCP)."""
        src = Endpoint(src_pod, src_ip)
        if not self._selecting(src, "Egress"):
            return True
        dns = Endpoint({"metadata": {"namespace": DNS_NAMESPACE, "labels": dict(DNS_LABELS)},
                        "spec": {"containers": [{"ports": [
                            {"name": "dns", "containerPort": 53, "protocol": "UDP"},
                            {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"}]}]}},
                       "")
        return any(self._allows(src, "Egress", dns, 53, proto, dns) for proto in ("UDP", "TCP"))
