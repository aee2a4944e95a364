"""The Endpoints and EndpointSlice controllers: which pods back each Service, and how ready.

kube-proxy and CoreDNS only ever see pods through these objects, so a pod that is not
ready (or whose readiness the controllers have not caught up with) gets no traffic and no
DNS record exactly as upstream (pkg/controller/endpoint, pkg/controller/endpointslice).
Both controllers reconcile per Service through a work queue, so a burst of pod changes
costs one write per Service.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from kclusterkit.kube.meta import Obj, clone, dig
from kclusterkit.sim import errors
from kclusterkit.sim.resources import ENDPOINTS, ENDPOINTSLICES, NODES, PODS, SERVICES
from kclusterkit.sim.store import MODIFIED
from kclusterkit.sim.workqueue import WorkQueue

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
SLICE_MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
SLICE_CONTROLLER = "endpointslice-controller.k8s.io"
ENDPOINTS_MANAGED_BY_LABEL = "endpoints.kubernetes.io/managed-by"
ENDPOINTS_CONTROLLER = "endpoint-controller"
HEADLESS_LABEL = "service.kubernetes.io/headless"
TRIGGER_TIME_ANNOTATION = "endpoints.kubernetes.io/last-change-trigger-time"
OVER_CAPACITY_ANNOTATION = "endpoints.kubernetes.io/over-capacity"
ZONE_LABEL = "topology.kubernetes.io/zone"
MAX_ENDPOINTS_PER_SLICE = 100  # --max-endpoints-per-slice default
MAX_ENDPOINTS_CAPACITY = 1000  # Endpoints objects are truncated beyond this
RETRY_SECONDS = 1.0


# -- pod helpers (pkg/api/v1/pod, pkg/controller/util/endpoint) -------------------------


def pod_ip(pod: Obj) -> str | None:
    ip = dig(pod, "status", "podIP")
    if ip:
        return ip
    ips = dig(pod, "status", "podIPs") or []
    return ips[0].get("ip") if ips and isinstance(ips[0], dict) else None


def is_pod_ready(pod: Obj) -> bool:
    for cond in dig(pod, "status", "conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def is_terminal(pod: Obj) -> bool:
    return dig(pod, "status", "phase") in ("Succeeded", "Failed")


def should_pod_be_in_endpoints(pod: Obj, include_terminating: bool) -> bool:
    if is_terminal(pod) or not pod_ip(pod):
        return False
    return include_terminating or not pod["metadata"].get("deletionTimestamp")


def find_port(pod: Obj, service_port: dict[str, Any]) -> int | None:
    """podutil.FindPort: a numeric targetPort as is, a named one from the containers."""
    target = service_port.get("targetPort")
    if isinstance(target, int) and not isinstance(target, bool):
        return target
    if isinstance(target, str):
        if target.isdigit():
            return int(target)
        protocol = service_port.get("protocol", "TCP")
        spec = pod.get("spec") or {}
        sidecars = [c for c in spec.get("initContainers") or []
                    if c.get("restartPolicy") == "Always"]
        for container in list(spec.get("containers") or []) + sidecars:
            for port in container.get("ports") or []:
                if port.get("name") == target and port.get("protocol", "TCP") == protocol:
                    return port.get("containerPort")
    return None


def selector_of(service: Obj) -> dict[str, str] | None:
    """The Service selector; None when the controllers must leave the Service alone."""
    selector = dig(service, "spec", "selector")
    return selector if isinstance(selector, dict) and selector else None


def selects(selector: dict[str, str], labels: dict[str, str] | None) -> bool:
    labels = labels or {}
    return all(labels.get(k) == val for k, val in selector.items())


def _pod_signature(pod: Obj) -> tuple[Any, ...]:
    """What of a pod the endpoints depend on; other changes are not worth a reconcile."""
    spec = pod.get("spec") or {}
    ports = tuple(
        (p.get("name"), p.get("containerPort"), p.get("protocol"))
        for c in spec.get("containers") or [] for p in c.get("ports") or []
    )
    return (
        tuple(sorted((pod["metadata"].get("labels") or {}).items())),
        pod_ip(pod), is_pod_ready(pod), bool(pod["metadata"].get("deletionTimestamp")),
        is_terminal(pod), spec.get("nodeName"), spec.get("hostname"), spec.get("subdomain"),
        ports,
    )


def _target_ref(pod: Obj) -> dict[str, str]:
    meta = pod["metadata"]
    return {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"],
            "uid": meta.get("uid", "")}


def _hostname(pod: Obj, service: Obj) -> str | None:
    """ShouldSetHostname: the pod's hostname when its subdomain names this Service."""
    spec = pod.get("spec") or {}
    if spec.get("hostname") and spec.get("subdomain") == service["metadata"]["name"] and \
            pod["metadata"]["namespace"] == service["metadata"]["namespace"]:
        return spec["hostname"]
    return None


# -- the shared reconcile loop ----------------------------------------------------------


class _ServiceController:
    """Reconciles a Service's objects when the Service or one of its pods changes."""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.api = cluster.api
        self.store = cluster.store
        self.clock = cluster.clock
        self.queue = WorkQueue(self.clock, self._sync_key)
        self.store.subscribe(SERVICES, self._on_service)
        self.store.subscribe(PODS, self._on_pod)
        for svc in self.store.iter(SERVICES):
            self.queue.add((svc["metadata"]["namespace"], svc["metadata"]["name"]))

    def _on_service(self, etype: str, obj: Obj, old: Obj | None) -> None:
        self.queue.add((obj["metadata"]["namespace"], obj["metadata"]["name"]))

    def _on_pod(self, etype: str, obj: Obj, old: Obj | None) -> None:
        if etype == MODIFIED and old is not None and _pod_signature(old) == _pod_signature(obj):
            return
        ns = obj["metadata"]["namespace"]
        new_labels = obj["metadata"].get("labels")
        old_labels = old["metadata"].get("labels") if old is not None else None
        for svc in self.store.iter(SERVICES, ns):
            selector = selector_of(svc)
            if selector and (selects(selector, new_labels) or
                             (old is not None and selects(selector, old_labels))):
                self.queue.add((ns, svc["metadata"]["name"]))

    def _sync_key(self, key: Hashable) -> None:
        ns, name = key  # type: ignore[misc]
        try:
            self.sync(ns, name)
        except errors.StatusError:
            # API down, a conflict or a race with a deletion: try again shortly, as the
            # controllers' rate-limited queues do.
            self.queue.add_after(key, RETRY_SECONDS)

    def sync(self, namespace: str, name: str) -> None:
        raise NotImplementedError

    def _pods_for(self, service: Obj, selector: dict[str, str]) -> list[Obj]:
        ns = service["metadata"]["namespace"]
        pods = [p for p in self.store.iter(PODS, ns)
                if selects(selector, p["metadata"].get("labels"))]
        pods.sort(key=lambda p: p["metadata"]["name"])
        return pods


# -- Endpoints --------------------------------------------------------------------------


class EndpointsController(_ServiceController):
    def sync(self, namespace: str, name: str) -> None:
        service = self.store.get(SERVICES, namespace, name)
        existing = self.store.get(ENDPOINTS, namespace, name)
        if service is None:
            if existing is not None:
                try:
                    self.api.delete(ENDPOINTS, namespace, name)
                except errors.StatusError as exc:
                    if exc.code != 404:
                        raise
            return
        selector = selector_of(service)
        if selector is None:
            return  # endpoints of selectorless Services are written by their owners
        subsets, truncated = self._subsets(service, selector)
        labels = dict(service["metadata"].get("labels") or {})
        labels[ENDPOINTS_MANAGED_BY_LABEL] = ENDPOINTS_CONTROLLER
        if dig(service, "spec", "clusterIP") == "None":
            labels[HEADLESS_LABEL] = ""
        else:
            labels.pop(HEADLESS_LABEL, None)
        if existing is not None and (existing.get("subsets") or []) == subsets and \
                (existing["metadata"].get("labels") or {}) == labels and \
                (OVER_CAPACITY_ANNOTATION in (existing["metadata"].get("annotations") or {})
                 ) == truncated:
            return
        obj = clone(existing) if existing is not None else {
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": name, "namespace": namespace},
        }
        meta = obj["metadata"]
        meta["labels"] = labels
        annotations = dict(meta.get("annotations") or {})
        # Upstream records the time of the pod or Service change that triggered this.
        annotations[TRIGGER_TIME_ANNOTATION] = self.clock.timestamp()
        if truncated:
            annotations[OVER_CAPACITY_ANNOTATION] = "truncated"
        else:
            annotations.pop(OVER_CAPACITY_ANNOTATION, None)
        meta["annotations"] = annotations
        if subsets:
            obj["subsets"] = subsets
        else:
            obj.pop("subsets", None)
        if existing is None:
            self.api.create(obj)
        else:
            self.api.update(obj)

    def _subsets(self, service: Obj, selector: dict[str, str]) -> tuple[list[Obj], bool]:
        spec = service["spec"]
        publish = bool(spec.get("publishNotReadyAddresses"))
        service_ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
        groups: dict[tuple[Any, ...], dict[str, list[Obj]]] = {}
        for pod in self._pods_for(service, selector):
            if not should_pod_be_in_endpoints(pod, publish):
                continue
            address: dict[str, Any] = {"ip": pod_ip(pod)}
            hostname = _hostname(pod, service)
            if hostname:
                address["hostname"] = hostname
            if dig(pod, "spec", "nodeName"):
                address["nodeName"] = pod["spec"]["nodeName"]
            address["targetRef"] = _target_ref(pod)
            ports = []
            for sp in service_ports:
                number = find_port(pod, sp)
                if number is None:
                    continue
                port = {"port": number, "protocol": sp.get("protocol", "TCP")}
                if sp.get("name"):
                    port = {"name": sp["name"], **port}
                if sp.get("appProtocol"):
                    port["appProtocol"] = sp["appProtocol"]
                ports.append(port)
            if service_ports and not ports:
                continue  # no port of this pod matches: it backs nothing
            key = tuple(sorted((p.get("name", ""), p["port"], p["protocol"]) for p in ports))
            group = groups.setdefault(key, {"ports": ports, "ready": [], "notReady": []})
            ready = publish or is_pod_ready(pod)
            group["ready" if ready else "notReady"].append(address)
        total = sum(len(g["ready"]) + len(g["notReady"]) for g in groups.values())
        truncated = total > MAX_ENDPOINTS_CAPACITY
        budget = MAX_ENDPOINTS_CAPACITY
        subsets = []
        for key in sorted(groups):
            group = groups[key]
            subset: dict[str, Any] = {}
            for field, kind in (("addresses", "ready"), ("notReadyAddresses", "notReady")):
                addresses = sorted(group[kind], key=lambda a: (a["ip"], a["targetRef"]["uid"]))
                if truncated:
                    addresses, budget = addresses[:budget], max(0, budget - len(addresses))
                if addresses:
                    subset[field] = addresses
            if not subset:
                continue
            ports = sorted(group["ports"], key=lambda p: (p.get("name", ""), p["port"]))
            if ports:
                subset["ports"] = ports
            subsets.append(subset)
        return subsets, truncated


# -- EndpointSlices ---------------------------------------------------------------------


class EndpointSliceController(_ServiceController):
    def sync(self, namespace: str, name: str) -> None:
        service = self.store.get(SERVICES, namespace, name)
        existing = sorted(
            (s for s in self.store.iter(ENDPOINTSLICES, namespace)
             if (s["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL) == name
             and (s["metadata"].get("labels") or {}).get(SLICE_MANAGED_BY_LABEL)
             == SLICE_CONTROLLER),
            key=lambda s: s["metadata"]["name"])
        if service is None:
            # Upstream leaves a deleted Service's slices to the garbage collector (they are
            # owned by it); deleting them here too keeps clusters without one consistent.
            for stale in existing:
                self._delete(stale)
            return
        selector = selector_of(service)
        if selector is None:
            return  # slices of selectorless Services are written by their owners
        desired = self._desired(service, selector)
        labels = dict(service["metadata"].get("labels") or {})
        labels[SERVICE_NAME_LABEL] = name
        labels[SLICE_MANAGED_BY_LABEL] = SLICE_CONTROLLER
        if dig(service, "spec", "clusterIP") == "None":
            labels[HEADLESS_LABEL] = ""
        else:
            labels.pop(HEADLESS_LABEL, None)
        owner = {"apiVersion": "v1", "kind": "Service", "name": name,
                 "uid": service["metadata"]["uid"], "controller": True,
                 "blockOwnerDeletion": True}
        for i, (ports, endpoints) in enumerate(desired):
            current = existing[i] if i < len(existing) else None
            if current is not None and current.get("endpoints") == endpoints and \
                    current.get("ports") == ports and \
                    (current["metadata"].get("labels") or {}) == labels and \
                    current.get("addressType") == "IPv4":
                continue
            obj = clone(current) if current is not None else {
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"generateName": f"{name[:57]}-", "namespace": namespace,
                             "ownerReferences": [owner]},
            }
            obj["metadata"]["labels"] = labels
            annotations = dict(obj["metadata"].get("annotations") or {})
            annotations[TRIGGER_TIME_ANNOTATION] = self.clock.timestamp()
            obj["metadata"]["annotations"] = annotations
            obj["addressType"] = "IPv4"
            obj["endpoints"] = endpoints
            obj["ports"] = ports
            if current is None:
                self.api.create(obj)
            else:
                self.api.update(obj)
        for stale in existing[len(desired):]:
            self._delete(stale)

    def _delete(self, slice_obj: Obj) -> None:
        try:
            self.api.delete(ENDPOINTSLICES, slice_obj["metadata"]["namespace"],
                            slice_obj["metadata"]["name"])
        except errors.StatusError as exc:
            if exc.code != 404:
                raise

    def _desired(self, service: Obj, selector: dict[str, str]
                 ) -> list[tuple[list[Obj] | None, list[Obj] | None]]:
        """(ports, endpoints) of each slice: grouped by port mapping, 100 to a slice."""
        spec = service["spec"]
        publish = bool(spec.get("publishNotReadyAddresses"))
        service_ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
        groups: dict[tuple[Any, ...], tuple[list[Obj], list[Obj]]] = {}
        for pod in self._pods_for(service, selector):
            if not should_pod_be_in_endpoints(pod, True):
                continue
            ports = []
            for sp in service_ports:
                number = find_port(pod, sp)
                if number is None:
                    continue
                port: dict[str, Any] = {"name": sp.get("name", ""), "port": number,
                                        "protocol": sp.get("protocol", "TCP")}
                if sp.get("appProtocol"):
                    port["appProtocol"] = sp["appProtocol"]
                ports.append(port)
            key = tuple((p["name"], p["port"], p["protocol"]) for p in ports)
            group = groups.setdefault(key, (ports, []))
            group[1].append(self._endpoint(pod, service, publish))
        if not groups:
            return [(None, None)]  # the placeholder slice of a Service with no endpoints
        out: list[tuple[list[Obj] | None, list[Obj] | None]] = []
        for key in sorted(groups):
            ports, endpoints = groups[key]
            for start in range(0, len(endpoints), MAX_ENDPOINTS_PER_SLICE):
                out.append((ports or None, endpoints[start:start + MAX_ENDPOINTS_PER_SLICE]))
        return out

    def _endpoint(self, pod: Obj, service: Obj, publish: bool) -> Obj:
        serving = is_pod_ready(pod)
        terminating = bool(pod["metadata"].get("deletionTimestamp"))
        # "ready" is never true for a terminating pod unless not-ready addresses publish.
        ready = publish or (serving and not terminating)
        endpoint: dict[str, Any] = {
            "addresses": [pod_ip(pod)],
            "conditions": {"ready": ready, "serving": serving, "terminating": terminating},
        }
        hostname = _hostname(pod, service)
        if hostname:
            endpoint["hostname"] = hostname
        endpoint["targetRef"] = _target_ref(pod)
        node_name = dig(pod, "spec", "nodeName")
        if node_name:
            endpoint["nodeName"] = node_name
            node = self.store.get(NODES, "", node_name)
            zone = dig(node, "metadata", "labels", ZONE_LABEL) if node else None
            if zone:
                endpoint["zone"] = zone
        return endpoint
