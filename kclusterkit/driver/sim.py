"""The simulator as a driver target: one fresh simulated cluster per scenario.

Scenarios must not leak into each other and must replay exactly from a seed, so every
scenario gets a new ``Cluster`` built from the same spec and seed. The cluster is built on
first use, which lets "Given a cluster with 3 worker nodes" reshape it before anything
exists. Waits run the cluster's event queue instead of sleeping: "within 6 minutes" costs
only the events that fall inside those six minutes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from kclusterkit.driver import nodeops
from kclusterkit.driver.base import (
    FIELD_MANAGER,
    AccessCheck,
    Check,
    Driver,
    ExecResult,
    Obj,
    Observation,
    Request,
    Subject,
    WaitResult,
)
from kclusterkit.driver.errors import ApiError, ClusterError
from kclusterkit.driver.simtraffic import SimLoad, SimTraffic
from kclusterkit.sim import faults
from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.errors import StatusError
from kclusterkit.sim.resources import NODES, Resource, UnknownResource, lookup

PATCH_TYPES = {
    "json": "application/json-patch+json",
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}


@contextmanager
def _api_errors() -> Iterator[None]:
    """The simulator's refusals pass through as they are (one ApiError type for both)."""
    try:
        yield
    except StatusError:
        raise  # the simulator's StatusError is the package's ApiError


class SimDriver(Driver):
    target = "sim"
    capabilities = frozenset({
        "virtual-time", "cluster-shape", "container-crash", "node-failure", "exec", "logs",
        "traffic", "readiness-fault", "control-plane-fault", "api-probe", "cluster-dns-fault",
        "node-maintenance", "network-plugin", "namespaces",
    })

    def __init__(self, spec: ClusterSpec | None = None, seed: int = 1,
                 cluster_factory: Callable[[ClusterSpec, int], Cluster] | None = None) -> None:
        self.base_spec = spec or ClusterSpec()
        self.seed = seed
        self._factory = cluster_factory or (lambda s, n: Cluster(s, seed=n))
        self._spec = self.base_spec
        self._cluster: Cluster | None = None
        self._created = False
        self.scenario = ""
        self._traffic: SimTraffic | None = None

    # -- life cycle -------------------------------------------------------------------
    def open_scenario(self, name: str) -> None:
        self.scenario = name
        self._spec = self.base_spec
        self._cluster = None
        self._created = False

    def create_namespace(self, name: str, labels: Mapping[str, str] | None = None) -> str:
        """The cluster is the scenario's alone (a fresh one each time): the name as is."""
        with _api_errors():
            self.cluster.api.create({"apiVersion": "v1", "kind": "Namespace",
                                     "metadata": {"name": name, "labels": dict(labels or {})}})
        return name

    def close_scenario(self, passed: bool) -> None:
        if self._traffic is not None:
            self._traffic.stop_all()
            self._traffic = None
        self._cluster = None

    def close(self) -> None:
        self._cluster = None

    @property
    def cluster(self) -> Cluster:
        """The scenario's cluster, built on first use."""
        if self._cluster is None:
            self._cluster = self._factory(self._spec, self.seed)
        return self._cluster

    @property
    def kubernetes_version(self) -> str:
        return self._spec.kubernetes_version

    def configure_cluster(self, control_plane_nodes: int, worker_nodes: int) -> None:
        if self._created:
            raise ClusterError(
                f"cannot give the cluster {control_plane_nodes} control-plane and "
                f"{worker_nodes} worker nodes: objects were already created in this scenario; "
                "put the 'Given a cluster with …' step first (before any object is created)")
        if control_plane_nodes < 1:
            raise ClusterError("a cluster needs at least 1 control-plane node")
        self._spec = dataclasses.replace(self._spec, control_plane_nodes=control_plane_nodes,
                                         worker_nodes=worker_nodes)
        self._cluster = None

    # -- access -----------------------------------------------------------------------
    def can(self, subject: Subject, verb: str, resource: str, namespace: str | None = None,
            name: str | None = None) -> AccessCheck:
        """The cluster's own RBAC authorizer, asked as a SubjectAccessReview asks it."""
        from kclusterkit.sim.auth import UserInfo
        from kclusterkit.sim.auth.rbac import Attributes

        base, _, sub = resource.partition("/")
        try:
            res = lookup(base)
            group, plural, namespaced = res.group, res.plural, res.namespaced
        except UnknownResource:  # RBAC answers for resources nobody serves, too
            plural, _, group = base.partition(".")
            namespaced = True
        ns = (self.namespace if namespace is None else namespace) if namespaced else ""
        attrs = Attributes(UserInfo(subject.user, subject.groups), verb, True, ns, group, "",
                           plural, sub, name or "")
        decision = self.cluster.access.authorize(attrs)
        return AccessCheck(decision.allowed, decision.reason)

    def anonymous_request(self, path: str) -> tuple[int, str]:
        from kclusterkit.sim.auth.incluster import answer

        decided = answer(self.cluster, path, None)
        return decided if decided is not None else (200, "ok")

    # -- objects ----------------------------------------------------------------------
    def _resource(self, kind: str) -> Resource:
        try:
            return lookup(kind)
        except UnknownResource as exc:
            custom = self.cluster.api.custom.lookup(kind)  # served by an Established CRD
            if custom is not None:
                return custom
            raise ApiError(404, "NotFound", str(exc)) from exc

    def _ns(self, res: Resource, namespace: str | None) -> str:
        if not res.namespaced:
            return ""
        return self.namespace if namespace is None else namespace

    def create(self, obj: Obj) -> Obj:
        with _api_errors():
            created = self.cluster.api.create(obj, namespace=None if obj.get("metadata", {}).get(
                "namespace") else self.namespace, decode=True, manager=FIELD_MANAGER)
        self._created = True
        return created

    def get(self, kind: str, name: str, namespace: str | None = None) -> Obj | None:
        res = self._resource(kind)
        try:
            return self.cluster.api.get(res, self._ns(res, namespace), name)
        except StatusError as exc:
            if exc.code == 404:
                return None
            raise  # the simulator's StatusError is the package's ApiError

    def list(self, kind: str, namespace: str | None = None, labels: str | None = None) -> list[Obj]:
        res = self._resource(kind)
        ns = self._ns(res, namespace)
        with _api_errors():
            result = self.cluster.api.list(res, ns or None, label_selector=labels)
        return result["items"]

    def update(self, obj: Obj) -> Obj:
        with _api_errors():
            return self.cluster.api.update(obj, namespace=None if obj.get("metadata", {}).get(
                "namespace") else self.namespace, decode=True, manager=FIELD_MANAGER)

    def patch(self, kind: str, name: str, body: Any, patch_type: str = "merge",
              namespace: str | None = None, subresource: str | None = None) -> Obj:
        res = self._resource(kind)
        if patch_type not in PATCH_TYPES:
            raise ValueError(f"patch_type must be one of {', '.join(PATCH_TYPES)}")
        with _api_errors():
            return self.cluster.api.patch(res, self._ns(res, namespace), name, body,
                                          PATCH_TYPES[patch_type], subresource=subresource,
                                          manager=FIELD_MANAGER)

    def apply(self, obj: Obj, field_manager: str, force: bool = False) -> Obj:
        meta = obj.get("metadata") or {}
        with _api_errors():
            res = self.cluster.api.resource_of(obj)
            ns = (meta.get("namespace") or self.namespace) if res.namespaced else ""
            applied = self.cluster.api.patch(res, ns, meta.get("name") or "", obj,
                                             "application/apply-patch+yaml",
                                             manager=field_manager, force=force)
        self._created = True
        return applied

    def delete(self, kind: str, name: str, namespace: str | None = None,
               grace_period: int | None = None) -> None:
        res = self._resource(kind)
        with _api_errors():
            self.cluster.api.delete(res, self._ns(res, namespace), name, grace_period=grace_period)

    def scale(self, kind: str, name: str, replicas: int, namespace: str | None = None) -> None:
        res = self._resource(kind)
        with _api_errors():
            self.cluster.api.update_scale(res, self._ns(res, namespace), name, replicas,
                                          manager=FIELD_MANAGER)

    def events(self, namespace: str | None = None) -> list[Obj]:
        items = self.list("events", namespace)

        def order(event: Obj) -> tuple[str, int]:
            stamp = event.get("lastTimestamp") or event.get("eventTime") or \
                event.get("firstTimestamp") or ""
            return (stamp, int(event["metadata"].get("resourceVersion") or 0))

        return sorted(items, key=order)

    # -- inside pods ------------------------------------------------------------------
    def exec(self, pod: str, command: Sequence[str], container: str | None = None,
             namespace: str | None = None) -> ExecResult:
        with _api_errors():
            code, out, err = self.cluster.nodes.exec(namespace or self.namespace, pod,
                                                     list(command), container=container)
        return ExecResult(code, out, err)

    def logs(self, pod: str, container: str | None = None, namespace: str | None = None,
             previous: bool = False) -> str:
        with _api_errors():
            return self.cluster.nodes.logs(namespace or self.namespace, pod,
                                           container=container, previous=previous)

    # -- traffic (see simtraffic) -------------------------------------------------------
    @property
    def traffic(self) -> SimTraffic:
        if self._traffic is None or self._traffic.cluster is not self.cluster:
            self._traffic = SimTraffic(self)
        return self._traffic

    def send_requests(self, url: str, count: int) -> list[Request]:
        return self.traffic.send(url, count)

    def start_load(self, url: str, rate: float, method: str = "GET") -> SimLoad:
        return self.traffic.start_load(url, rate, method)

    def request_from_outside(self, url: str) -> Request:
        return self.traffic.from_outside(url)

    def make_unready(self, pod: str, namespace: str | None = None) -> None:
        with _api_errors():
            self.cluster.nodes.set_ready(namespace or self.namespace, pod, False)

    # -- faults -----------------------------------------------------------------------
    def resource_metrics(self, kind: str, namespace: str | None = None) -> list[Obj]:
        server = self.cluster.metrics_server
        if kind == "nodes":
            return server.node_metrics()
        if kind != "pods":
            raise ValueError(f"resource metrics are of pods or nodes, not {kind!r}")
        return server.pod_metrics(self.namespace if namespace is None else namespace or None)

    def crash_container(self, pod: str, container: str | None = None,
                        namespace: str | None = None, exit_code: int = 1) -> None:
        with _api_errors():
            self.cluster.nodes.crash_container(namespace or self.namespace, pod,
                                               container=container, exit_code=exit_code)

    def fail_node(self, name: str) -> None:
        with _api_errors():
            self.cluster.nodes.fail_node(name)

    def recover_node(self, name: str) -> None:
        with _api_errors():
            self.cluster.nodes.recover_node(name)

    def stop_component(self, component: str, node: str | None = None) -> None:
        with _api_errors():
            faults.apply(self.cluster, "stop-component",
                         {"component": component, "node": node})

    def start_component(self, component: str, node: str | None = None) -> None:
        with _api_errors():
            faults.apply(self.cluster, "start-component",
                         {"component": component, "node": node})

    def stop_cluster_dns(self) -> None:
        with _api_errors():
            faults.apply(self.cluster, "stop-cluster-dns", {})

    def start_cluster_dns(self) -> None:
        with _api_errors():
            faults.apply(self.cluster, "start-cluster-dns", {})

    def api_answers(self) -> Observation:
        api = self.cluster.api
        if api.unavailable_reason:
            return Observation(False, f"{api.unavailable_code}: {api.unavailable_reason}")
        return Observation(True, "/readyz: ok")
    # -- nodes ------------------------------------------------------------------------
    def _edit_node(self, name: str, edit: Callable[[Obj], Obj]) -> None:
        for _ in range(5):
            with _api_errors():
                node = self.cluster.api.get(NODES, "", name)
                try:
                    self.cluster.api.update(edit(node))
                    return
                except StatusError as exc:
                    if exc.code != 409:
                        raise
        raise ClusterError(f"node {name} kept changing while it was being written")

    def set_node_unschedulable(self, name: str, unschedulable: bool) -> None:
        self._edit_node(name, lambda n: nodeops.with_unschedulable(n, unschedulable))

    def set_node_label(self, name: str, key: str, value: str | None) -> None:
        self._edit_node(name, lambda n: nodeops.with_label(n, key, value))

    def set_node_taint(self, name: str, taint: Obj, present: bool) -> None:
        self._edit_node(name, lambda n: nodeops.with_taint(n, taint, present))

    def set_network_plugin(self, installed: bool) -> None:
        """Before the scenario created anything, a cluster without the plugin is built
        without it (kind's ``disableDefaultCNI``: no kindnet DaemonSet, no CNI config on
        the nodes); otherwise the running cluster's plugin is removed or installed."""
        if not installed and not self._created:
            self._spec = dataclasses.replace(self._spec, network_plugin=False)
            self._cluster = None
            return
        self.cluster.nodes.set_network_plugin(installed)

    def evict(self, pod: str, namespace: str | None = None) -> None:
        with _api_errors():
            self.cluster.api.evict(self.namespace if namespace is None else namespace, pod)

    # -- time -------------------------------------------------------------------------
    def now(self) -> float:
        return self.cluster.clock.now

    def timestamp(self) -> str:
        return self.cluster.clock.timestamp()

    def _run(self, check: Check, duration: float, stop_when: bool,
             kinds: Sequence[str] = ()) -> WaitResult:
        """Run the event queue up to ``duration`` from now, re-checking after every batch
        of events that changed the store; stop early when ``check().ok == stop_when``.

        A check that names the kinds it watches is not re-run for changes to Leases and
        Events alone (unless it names them): the control plane renews its leases every
        2 s and components record events all along, and neither changes what a check on
        pods or deployments sees."""
        cluster = self.cluster
        clock, store = cluster.clock, cluster.store
        # What the last action set off at this instant (controllers creating pods, the
        # scheduler binding them) happens before anyone can look, as on a real cluster.
        clock.run_until(clock.now)
        start = clock.now
        deadline = start + max(duration, 0.0)
        seen = check()
        if seen.ok == stop_when:
            return WaitResult(seen.ok, 0.0, seen, None if seen.ok else clock.now)
        quiet = _quiet_keys(kinds)
        changed = [False]

        def note(event: tuple[int, str, str, Any]) -> None:
            if event[2] not in quiet:
                changed[0] = True

        unsubscribe = store.subscribe_all(note)
        try:
            while True:
                when = clock.next_time()
                if when is None or when > deadline:
                    break
                clock.run_next()
                if changed[0]:
                    changed[0] = False
                    seen = check()
                    if seen.ok == stop_when:
                        return WaitResult(seen.ok, clock.now - start, seen,
                                          None if seen.ok else clock.now)
        finally:
            unsubscribe()
        clock.run_until(deadline)
        seen = check()
        return WaitResult(seen.ok, clock.now - start, seen, None if seen.ok else clock.now)

    def wait_until(self, check: Check, timeout: float, kinds: Sequence[str] = ()) -> WaitResult:
        return self._run(check, timeout, stop_when=True, kinds=kinds)

    def hold(self, check: Check, duration: float, kinds: Sequence[str] = ()) -> WaitResult:
        return self._run(check, duration, stop_when=False, kinds=kinds)

    def sleep(self, seconds: float) -> None:
        self.cluster.clock.advance(seconds)


# Kinds whose changes alone do not re-run a check that names other kinds.
_NOISE = ("leases", "events", "events.events.k8s.io")


def _quiet_keys(kinds: Sequence[str]) -> frozenset[str]:
    if not kinds:
        return frozenset()
    named = set()
    for kind in kinds:
        try:
            named.add(lookup(kind).key)
        except UnknownResource:
            return frozenset()  # a kind we cannot place: re-check on every change
    return frozenset(key for key in (lookup(k).key for k in _NOISE) if key not in named)


__all__ = ["SimDriver", "Observation"]
