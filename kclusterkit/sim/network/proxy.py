"""What kube-proxy does to a connection: cluster IPs and node ports to ready endpoints.

A request is routed the way the iptables rules route a packet: a cluster IP or a node
port picks one endpoint the EndpointSlices call ready (each with equal probability, or
the one a ClientIP affinity pinned), a service with none rejects it (connection refused),
a pod IP goes straight to the pod. What the chosen pod answers is the nodes component's
business (``http_get``). The only state kept is the affinity table kube-proxy keeps too.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from kclusterkit.kube.meta import Obj, dig
from kclusterkit.sim.network.allocator import ServiceIndex
from kclusterkit.sim.network.endpoints import SERVICE_NAME_LABEL, is_terminal, pod_ip
from kclusterkit.sim.network.policy import PolicyEngine
from kclusterkit.sim.resources import ENDPOINTS, ENDPOINTSLICES, NODES, PODS, SERVICES
from kclusterkit.sim.store import DELETED, Store

# How curl words the failures (its messages, lower-cased), so steps can match on them.
CONNECTION_REFUSED = "connection refused"
CONNECTION_TIMED_OUT = "connection timed out"
COULD_NOT_RESOLVE = "could not resolve host"

EXTERNAL_CLIENT = "external"  # the client address of a request from outside the cluster


@dataclass(frozen=True)
class HttpResult:
    """One HTTP exchange: the answer, which pod gave it, or why there was none."""

    status: int | None
    body: str
    pod: str | None
    error: str | None
    latency: float = 0.0  # seconds the answer waited for CPU in a throttled container

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 400


@dataclass(frozen=True)
class Connection:
    """Where a TCP connection ended up: a pod's port, the API server, or an error."""

    namespace: str | None = None
    pod: str | None = None
    port: int | None = None
    error: str | None = None
    service: str | None = None  # "namespace/name" when a service routed it
    api_server: bool = False


@dataclass(frozen=True)
class _Endpoint:
    ip: str
    port: int
    namespace: str | None
    pod: str | None
    node: str | None
    ready: bool
    serving: bool
    terminating: bool


def node_failed(nodes: Any, node_name: str | None) -> bool:
    """Whether the nodes component says ``node_name`` has failed (powered off, cut off)."""
    check = getattr(nodes, "is_failed", None)
    return bool(node_name) and callable(check) and bool(check(node_name))


class _AddressIndex:
    """Pod IPs and node InternalIPs to their objects, from the store's events."""

    def __init__(self, store: Store) -> None:
        self.pods: dict[str, tuple[str, str]] = {}
        self.nodes: dict[str, str] = {}
        for pod in store.iter(PODS):
            self._on_pod("ADDED", pod, None)
        for node in store.iter(NODES):
            self._on_node("ADDED", node, None)
        store.subscribe(PODS, self._on_pod)
        store.subscribe(NODES, self._on_node)

    def _on_pod(self, etype: str, obj: Obj, old: Obj | None) -> None:
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
        if old is not None:
            ip = pod_ip(old)
            if ip and self.pods.get(ip) == key:
                del self.pods[ip]
        # hostNetwork pods share their node's address; they are reached through it.
        if etype != DELETED and not dig(obj, "spec", "hostNetwork"):
            ip = pod_ip(obj)
            if ip:
                self.pods[ip] = key

    def _on_node(self, etype: str, obj: Obj, old: Obj | None) -> None:
        name = obj["metadata"]["name"]
        for stale in [ip for ip, n in self.nodes.items() if n == name]:
            del self.nodes[stale]
        if etype != DELETED:
            for address in dig(obj, "status", "addresses") or []:
                if address.get("type") in ("InternalIP", "ExternalIP") and address.get("address"):
                    self.nodes[address["address"]] = name


def parse_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path-with-query) of a URL; a bare ``host[:port]`` is HTTP."""
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, parts.hostname or "", port, path


class Proxy:
    def __init__(self, cluster: Any, services: ServiceIndex, resolve: Any) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self.clock = cluster.clock
        self.services = services
        self.addresses = _AddressIndex(cluster.store)
        self._resolve = resolve
        # kube-proxy's affinity table: (service, port name, client) -> (endpoint ip, last use)
        self._affinity: dict[tuple[str, str, str, str], tuple[str, float]] = {}
        self._endpoint_cache: dict[tuple[str, str, str, str],
                                   tuple[tuple[Any, ...], list[_Endpoint]]] = {}
        self.policies = PolicyEngine(cluster.store)

    @property
    def nodes(self) -> Any:
        return self.cluster.nodes

    # -- connections ------------------------------------------------------------------
    def connect(self, from_pod: Obj | None, host: str, port: int) -> Connection:
        """Route a TCP connection from a pod (or from outside, ``None``) to its backend,
        then let the network plugin's NetworkPolicy enforcement drop it (a timeout)."""
        client = (pod_ip(from_pod) or EXTERNAL_CLIENT) if from_pod else EXTERNAL_CLIENT
        if from_pod is not None and not _is_ip(host) and \
                not self.policies.dns_allowed(from_pod, client):
            return Connection(error=COULD_NOT_RESOLVE)  # the DNS query never got out
        conn = self._route(from_pod, host, port)
        if conn.pod is None or conn.error:
            return conn
        dest = self.store.get(PODS, conn.namespace or "", conn.pod)
        if dest is not None and not self.policies.allowed(
                from_pod, client, dest, pod_ip(dest) or "", int(conn.port or 0)):
            return Connection(error=CONNECTION_TIMED_OUT)
        return conn

    def _route(self, from_pod: Obj | None, host: str, port: int) -> Connection:
        if from_pod is not None and node_failed(self.nodes, dig(from_pod, "spec", "nodeName")):
            return Connection(error=CONNECTION_TIMED_OUT)
        ips = self._resolve(from_pod, host)
        if not ips:
            return Connection(error=COULD_NOT_RESOLVE)
        ip = ips[0] if len(ips) == 1 else ips[self.clock.rng.randrange(len(ips))]
        client = (pod_ip(from_pod) or EXTERNAL_CLIENT) if from_pod else EXTERNAL_CLIENT

        service_key = self.services.ips.get(ip)
        if service_key is not None:
            service = self.store.get(SERVICES, *service_key)
            if service is not None:
                local = dig(from_pod, "spec", "nodeName") if from_pod else None
                return self._via_service(service, port, client, node_port_on=None,
                                         local_node=local)
        pod_key = self.addresses.pods.get(ip)
        if pod_key is not None:
            pod = self.store.get(PODS, *pod_key)
            if pod is not None:
                return self._to_pod(pod, port)
        node_name = self.addresses.nodes.get(ip)
        if node_name is not None:
            return self._to_node(node_name, port, client)
        # Nothing answers for this address in the cluster: packets go nowhere.
        return Connection(error=CONNECTION_TIMED_OUT)

    def _to_pod(self, pod: Obj, port: int, via: str | None = None) -> Connection:
        if node_failed(self.nodes, dig(pod, "spec", "nodeName")):
            return Connection(error=CONNECTION_TIMED_OUT)
        meta = pod["metadata"]
        return Connection(namespace=meta["namespace"], pod=meta["name"], port=port, service=via)

    def _to_node(self, node_name: str, port: int, client: str) -> Connection:
        if node_failed(self.nodes, node_name):
            return Connection(error=CONNECTION_TIMED_OUT)
        service_key = self.services.node_ports.get(port)
        if service_key is not None:
            service = self.store.get(SERVICES, *service_key)
            if service is not None and dig(service, "spec", "type") in ("NodePort",
                                                                        "LoadBalancer"):
                return self._via_service(service, port, client, node_port_on=node_name,
                                         local_node=node_name)
        # A hostNetwork pod listening on the port, or a hostPort mapping.
        for pod in self.store.iter(PODS):
            if dig(pod, "spec", "nodeName") != node_name or is_terminal(pod):
                continue
            host_network = bool(dig(pod, "spec", "hostNetwork"))
            for container in dig(pod, "spec", "containers") or []:
                for cport in container.get("ports") or []:
                    if host_network and cport.get("containerPort") == port:
                        return self._to_pod(pod, port)
                    if cport.get("hostPort") == port and pod_ip(pod):
                        return self._to_pod(pod, cport.get("containerPort"))
        return Connection(error=CONNECTION_REFUSED)

    # -- services ---------------------------------------------------------------------
    def _via_service(self, service: Obj, port: int, client: str, *, node_port_on: str | None,
                     local_node: str | None) -> Connection:
        found = self._service_endpoints(service, port, node_port_on=node_port_on,
                                        local_node=local_node)
        if isinstance(found, Connection):
            return found
        service_port, usable, via = found
        return self._endpoint_connection(self._pick(service, service_port, usable, client), via)

    def _endpoint_connection(self, chosen: _Endpoint, via: str) -> Connection:
        if chosen.pod is None:
            return Connection(port=chosen.port, service=via, api_server=True)
        pod = self.store.get(PODS, chosen.namespace or "", chosen.pod)
        if pod is None or pod_ip(pod) != chosen.ip:
            # The slice is behind the pod's deletion: the packet hits no one.
            return Connection(error=CONNECTION_REFUSED)
        return self._to_pod(pod, chosen.port, via)

    def _service_endpoints(self, service: Obj, port: int, *, node_port_on: str | None,
                           local_node: str | None
                           ) -> Connection | tuple[Obj, list[_Endpoint], str]:
        """The endpoints a service port may send to (service port, usable, "ns/name"), or
        the Connection error its rules give."""
        spec = service["spec"]
        meta = service["metadata"]
        via = f"{meta['namespace']}/{meta['name']}"
        field = "nodePort" if node_port_on else "port"
        service_port = next((p for p in spec.get("ports") or []
                             if p.get(field) == port and p.get("protocol", "TCP") == "TCP"), None)
        if service_port is None:
            # No rule matches this port of the cluster IP: the packet is dropped.
            return Connection(error=CONNECTION_TIMED_OUT)
        endpoints = self.endpoints_of(service, service_port)
        ready = [e for e in endpoints if e.ready]
        # ProxyTerminatingEndpoints: with nothing ready, serving terminating ones still take
        # traffic rather than dropping it.
        usable = ready or [e for e in endpoints if e.serving and e.terminating]
        policy = spec.get("externalTrafficPolicy") if node_port_on else \
            spec.get("internalTrafficPolicy")
        if policy == "Local" and local_node is not None:
            if not usable:
                return Connection(error=CONNECTION_REFUSED)
            usable = [e for e in usable if e.node == local_node]
            if not usable:
                return Connection(error=CONNECTION_TIMED_OUT)  # no local endpoint: dropped
        if not usable:
            return Connection(error=CONNECTION_REFUSED)  # "has no endpoints": REJECT
        return service_port, usable, via

    def _pick(self, service: Obj, service_port: Obj, usable: list[_Endpoint],
              client: str) -> _Endpoint:
        spec = service["spec"]
        rng = self.clock.rng
        if spec.get("sessionAffinity") != "ClientIP":
            return usable[rng.randrange(len(usable))]
        timeout = dig(spec, "sessionAffinityConfig", "clientIP", "timeoutSeconds",
                      default=10800)
        meta = service["metadata"]
        key = (meta["namespace"], meta["name"], service_port.get("name", ""), client)
        pinned = self._affinity.get(key)
        now = self.clock.now
        if pinned is not None and now - pinned[1] <= timeout:
            for endpoint in usable:
                if endpoint.ip == pinned[0]:
                    self._affinity[key] = (endpoint.ip, now)
                    return endpoint
        chosen = usable[rng.randrange(len(usable))]
        self._affinity[key] = (chosen.ip, now)
        return chosen

    def endpoints_of(self, service: Obj, service_port: Obj) -> list[_Endpoint]:
        """The endpoints kube-proxy programs for one service port, from EndpointSlices."""
        meta = service["metadata"]
        ns, name = meta["namespace"], meta["name"]
        port_name = service_port.get("name", "")
        protocol = service_port.get("protocol", "TCP")
        slices = [s for s in self.store.iter(ENDPOINTSLICES, ns)
                  if (s["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL) == name]
        slices.sort(key=lambda s: s["metadata"]["name"])
        # kube-proxy reprograms its rules when slices change, not per packet: so does this.
        cache_key = (ns, name, port_name, protocol)
        version = tuple(s["metadata"].get("resourceVersion") for s in slices)
        cached = self._endpoint_cache.get(cache_key)
        if slices and cached is not None and cached[0] == version:
            return cached[1]
        out: list[_Endpoint] = []
        seen: set[str] = set()
        for slice_obj in slices:
            number = next((p.get("port") for p in slice_obj.get("ports") or []
                           if (p.get("name") or "") == port_name
                           and p.get("protocol", "TCP") == protocol), None)
            if number is None:
                continue
            for endpoint in slice_obj.get("endpoints") or []:
                conds = endpoint.get("conditions") or {}
                ready = conds.get("ready") is not False  # nil means ready
                serving = conds.get("serving", ready) is not False
                ref = endpoint.get("targetRef") or {}
                for ip in endpoint.get("addresses") or []:
                    if ip in seen:
                        continue
                    seen.add(ip)
                    out.append(_Endpoint(
                        ip, number, ref.get("namespace") if ref.get("kind") == "Pod" else None,
                        ref.get("name") if ref.get("kind") == "Pod" else None,
                        endpoint.get("nodeName"), ready, serving,
                        bool(conds.get("terminating"))))
        if not slices:
            out = self._from_endpoints(ns, name, port_name, protocol)
        out.sort(key=lambda e: _ip_sort_key(e.ip))
        if slices:
            self._endpoint_cache[cache_key] = (version, out)
        return out

    def _from_endpoints(self, ns: str, name: str, port_name: str, protocol: str
                        ) -> list[_Endpoint]:
        # Selectorless Services with hand-written Endpoints: upstream the mirroring
        # controller turns them into slices; reading them directly is equivalent here.
        endpoints = self.store.get(ENDPOINTS, ns, name)
        out = []
        for subset in (endpoints or {}).get("subsets") or []:
            number = next((p.get("port") for p in subset.get("ports") or []
                           if (p.get("name") or "") == port_name
                           and p.get("protocol", "TCP") == protocol), None)
            if number is None:
                continue
            for field, ready in (("addresses", True), ("notReadyAddresses", False)):
                for address in subset.get(field) or []:
                    ref = address.get("targetRef") or {}
                    is_pod = ref.get("kind") == "Pod"
                    out.append(_Endpoint(address.get("ip", ""), number,
                                         ref.get("namespace") if is_pod else None,
                                         ref.get("name") if is_pod else None,
                                         address.get("nodeName"), ready, ready, False))
        return out

    # -- HTTP -------------------------------------------------------------------------
    def http_request(self, from_pod: Obj | None, url: str, method: str = "GET",
                     headers: dict[str, str] | None = None) -> HttpResult:
        try:
            _scheme, host, port, path = parse_url(url)
        except ValueError:
            return HttpResult(None, "", None, f"URL rejected: Malformed input: {url}")
        conn = self.connect(from_pod, host, port)
        if conn.error:
            return HttpResult(None, "", None, conn.error)
        if conn.api_server:
            status, body = api_server_answer(path, self.cluster, headers)
            return HttpResult(status, body, None, None)
        waits = self.nodes.queue_delay(conn.namespace, conn.pod, conn.port)
        # Pod to pod (also through a ClusterIP: kube-proxy DNATs, it does not SNAT) keeps the
        # client pod's IP as the source, which agnhost's /clientip reports.
        client = pod_ip(from_pod) if from_pod is not None else None
        answer = self.nodes.http_get(conn.namespace, conn.pod, conn.port, path,
                                     client_ip=client or None, method=method)
        if answer is None:
            return HttpResult(None, "", None, CONNECTION_REFUSED)
        status, body = answer
        return HttpResult(status, body, conn.pod, None, waits)

    def http_requests(self, from_pod: Obj, url: str, method: str, times: list[float]
                      ) -> list[HttpResult]:
        """The same request from one pod made at each of ``times``, routed and answered at
        once: a steady load's requests between two instants of cluster events, when nothing
        in the cluster changes (driver/simtraffic.py).

        Name resolution, the service's endpoints and the network policy are looked up once;
        kube-proxy's choice is made per request, and what each chosen pod answers and what
        serving costs it is the kubelet's, at each request's time (``Nodes.http_get_many``).
        A destination other than a Service's cluster IP is asked request by request.
        """
        if not times:
            return []
        plan = self._service_plan(from_pod, url)
        if plan is None:
            return [self.http_request(from_pod, url, method) for _ in times]
        if isinstance(plan, HttpResult):
            return [plan] * len(times)
        service, service_port, usable, via, path = plan
        client = pod_ip(from_pod) or EXTERNAL_CLIENT
        if service["spec"].get("sessionAffinity") != "ClientIP":
            rand, count = self.clock.rng.random, len(usable)  # each endpoint equally likely
            picks = [usable[int(rand() * count)] for _ in times]
        else:
            picks = [self._pick(service, service_port, usable, client) for _ in times]
        results: list[HttpResult | None] = [None] * len(times)
        groups: dict[str, list[int]] = {}
        for i, chosen in enumerate(picks):
            group = groups.get(chosen.ip)
            if group is None:
                group = groups[chosen.ip] = []
            group.append(i)
        for indexes in groups.values():
            conn = self._endpoint_connection(picks[indexes[0]], via)
            if conn.pod is not None and not conn.error:
                dest = self.store.get(PODS, conn.namespace or "", conn.pod)
                if dest is not None and not self.policies.allowed(
                        from_pod, client, dest, pod_ip(dest) or "", int(conn.port or 0)):
                    conn = Connection(error=CONNECTION_TIMED_OUT)
            if conn.error or conn.api_server:
                for i in indexes:
                    results[i] = (HttpResult(None, "", None, conn.error) if conn.error else
                                  self.http_request(from_pod, url, method))
                continue
            answered = self.nodes.http_get_many(conn.namespace, conn.pod, conn.port, path,
                                                [times[i] for i in indexes],
                                                client_ip=pod_ip(from_pod) or None,
                                                method=method)
            status, body, waits, served = answered if answered is not None else (
                None, "", 0.0, 0)
            one = HttpResult(status, body, conn.pod, None, waits)
            refused = HttpResult(None, "", None, CONNECTION_REFUSED)
            for n, i in enumerate(indexes):
                results[i] = one if n < served else refused
        return [r if r is not None else HttpResult(None, "", None, CONNECTION_REFUSED)
                for r in results]

    def _service_plan(self, from_pod: Obj, url: str
                      ) -> HttpResult | tuple[Obj, Obj, list[_Endpoint], str, str] | None:
        """What ``connect`` does before kube-proxy's choice, for a Service's cluster IP:
        (service, service port, usable endpoints, "ns/name", path), the failure every
        request meets, or None for a destination that is not a Service."""
        try:
            _scheme, host, port, path = parse_url(url)
        except ValueError:
            return HttpResult(None, "", None, f"URL rejected: Malformed input: {url}")
        client = pod_ip(from_pod) or EXTERNAL_CLIENT
        if not _is_ip(host) and not self.policies.dns_allowed(from_pod, client):
            return HttpResult(None, "", None, COULD_NOT_RESOLVE)
        if node_failed(self.nodes, dig(from_pod, "spec", "nodeName")):
            return HttpResult(None, "", None, CONNECTION_TIMED_OUT)
        ips = self._resolve(from_pod, host)
        if not ips:
            return HttpResult(None, "", None, COULD_NOT_RESOLVE)
        if len(ips) != 1 or ips[0] not in self.services.ips:
            return None
        service = self.store.get(SERVICES, *self.services.ips[ips[0]])
        if service is None:
            return None
        found = self._service_endpoints(service, port, node_port_on=None,
                                        local_node=dig(from_pod, "spec", "nodeName"))
        if isinstance(found, Connection):
            return HttpResult(None, "", None, found.error)
        service_port, usable, via = found
        return service, service_port, usable, via, path


def api_server_answer(path: str, cluster: Any,
                      headers: dict[str, str] | None = None) -> tuple[int, str]:
    """What the API server tells a pod's client (curl -k https://kubernetes): RBAC's
    decision for its credentials (sim.auth.incluster), else the anonymous defaults."""
    import json

    from kclusterkit.sim.auth.incluster import answer

    decided = answer(cluster, path, headers)
    if decided is not None:
        return decided

    bare = path.split("?", 1)[0]
    if bare in ("/healthz", "/livez", "/readyz"):
        return 200, "ok"
    if bare == "/version":
        version = getattr(getattr(cluster, "spec", None), "kubernetes_version", "")
        return 200, json.dumps({"major": version.lstrip("v").split(".")[0],
                                "minor": version.split(".")[1] if "." in version else "",
                                "gitVersion": version, "platform": "linux/amd64"}, indent=2)
    status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
              "message": f'forbidden: User "system:anonymous" cannot get path "{bare}"',
              "reason": "Forbidden", "details": {}, "code": 403}
    return 403, json.dumps(status, indent=2)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _ip_sort_key(ip: str) -> tuple[int, int]:
    try:
        return (0, int(ipaddress.ip_address(ip)))
    except ValueError:
        return (1, 0)
