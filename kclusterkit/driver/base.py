"""The driver interface: objects in Kubernetes JSON shape, exec, faults, and waits.

Waits are the heart of it. A step hands the driver a *check* — a function that looks at
the cluster and says whether the expectation holds and what it saw — and the driver
decides when to look again: the simulator after every change of state in virtual time, a
real cluster after every watch event. Nothing here sleeps in a polling loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn

Obj = dict[str, Any]


@dataclass
class Observation:
    """What a check saw: whether the expectation holds, and a description of the state."""

    ok: bool
    seen: str
    objects: list[Obj] = field(default_factory=list)


Check = Callable[[], Observation]
# The field manager the objects the drivers write are recorded for (managedFields).
FIELD_MANAGER = "kclusterkit"


@dataclass(frozen=True)
class Subject:
    """Who an access check is about: a user name and the groups it authenticates with."""

    user: str
    groups: tuple[str, ...] = ()

    @classmethod
    def service_account(cls, namespace: str, name: str) -> Subject:
        """A service account's token user (pkg/serviceaccount: its groups as a token has)."""
        return cls(f"system:serviceaccount:{namespace}:{name}",
                   ("system:serviceaccounts", f"system:serviceaccounts:{namespace}",
                    "system:authenticated"))

    @classmethod
    def user_in_groups(cls, name: str, *groups: str) -> Subject:
        return cls(name, (*groups, "system:authenticated"))


@dataclass(frozen=True)
class AccessCheck:
    """The API server's answer to "may SUBJECT VERB RESOURCE here?" and its reason."""

    allowed: bool
    reason: str = ""


@dataclass
class WaitResult:
    ok: bool
    waited: float  # cluster seconds spent in the wait
    last: Observation
    failed_at: float | None = None  # for holds: when the expectation first broke


@dataclass
class ExecResult:
    exit_code: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Request:
    """One HTTP request of a scenario's traffic and how it went.

    ``pod`` is the pod that answered: the simulator knows it; a real-cluster driver reads it
    from the answer (agnhost's ``/hostname`` body, or the ``Server``/``X-Pod`` header a
    workload sets), and leaves it None when the answer does not say.
    """

    at: float  # cluster seconds (Driver.now()) when it was sent
    ok: bool  # an answer with a 2xx/3xx status
    status: int | None  # the HTTP status, None when no answer came
    pod: str | None  # the pod that answered, when known
    error: str | None  # why there was no answer (curl's words: "connection refused" …)
    body: str = ""  # the answer's body (kept by send_requests/request_from_outside only)


class Load:
    """Steady background traffic a driver keeps sending while the scenario goes on.

    ``records`` grows as requests are made (on the simulator, as virtual time passes);
    ``stop()`` ends it and returns every request it made.
    """

    url: str = ""
    rate: float = 0.0  # requests per second
    started: float = 0.0  # cluster seconds

    @property
    def records(self) -> list[Request]:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        raise NotImplementedError

    def stop(self) -> list[Request]:
        raise NotImplementedError


class Driver(ABC):
    """One target cluster, seen by one scenario at a time."""

    #: "sim", "sim-api", "kubeconfig" …
    target: str = ""
    #: the namespace the scenario's objects live in
    namespace: str = "default"
    #: capability names this target has (see ``require``)
    capabilities: frozenset[str] = frozenset()
    #: the seed of the simulated cluster, or None on a real one
    seed: int | None = None

    def require(self, capability: str, why: str) -> None:
        """Raise NotSupported (the step is skipped) when the target lacks ``capability``."""
        from kclusterkit.driver.errors import NotSupported

        if capability not in self.capabilities:
            raise NotSupported(f"{why}: target {self.target!r} cannot ({capability})")

    # -- life cycle -------------------------------------------------------------------
    @abstractmethod
    def open_scenario(self, name: str) -> None:
        """Prepare a clean place for one scenario (fresh cluster, or a new namespace)."""

    @abstractmethod
    def close_scenario(self, passed: bool) -> None:
        """Remove what the scenario created, as the environment's cleanup policy says."""

    def close(self) -> None:  # noqa: B027 - optional hook, most drivers hold nothing
        """Release the connection or the simulator at the end of the run."""

    def create_namespace(self, name: str, labels: Mapping[str, str] | None = None) -> str:
        """Another namespace of the scenario's own, besides its namespace, with ``labels``:
        named as the target names scenario namespaces (with the run's prefix on a real
        cluster), owned and removed like the scenario's namespace (also on SIGINT). Returns
        the name it really has (capability namespaces)."""
        self._unsupported("namespaces", "creating another namespace for the scenario")

    # -- cluster shape ----------------------------------------------------------------
    def configure_cluster(self, control_plane_nodes: int, worker_nodes: int) -> None:
        """Build (simulator) or check (real cluster) the cluster's node topology.

        A real cluster that does not have this shape raises NotSupported (the scenario is
        skipped with the reason), as does a target that cannot tell."""
        self._unsupported("cluster-shape", "building or checking the cluster's nodes")

    # -- objects ----------------------------------------------------------------------
    @abstractmethod
    def create(self, obj: Obj) -> Obj: ...

    @abstractmethod
    def get(self, kind: str, name: str, namespace: str | None = None) -> Obj | None:
        """The object, or None when it does not exist. ``kind`` is a resource name
        kubectl accepts (``pods``, ``deployment``, ``rs`` …)."""

    @abstractmethod
    def list(self, kind: str, namespace: str | None = None, labels: str | None = None) -> list[Obj]:
        """Objects of ``kind`` in the scenario's namespace (or ``namespace``; "" for all)."""

    @abstractmethod
    def update(self, obj: Obj) -> Obj: ...

    @abstractmethod
    def patch(
        self,
        kind: str,
        name: str,
        body: Any,
        patch_type: str = "merge",
        namespace: str | None = None,
        subresource: str | None = None,
    ) -> Obj:
        """``patch_type``: "json", "merge" or "strategic"; ``subresource``: e.g. "status"."""

    def apply(self, obj: Obj, field_manager: str, force: bool = False) -> Obj:
        """Server-side apply of ``obj`` as ``field_manager`` (created when absent). A field
        another manager owns at another value is a 409 Conflict ``ApiError`` whose causes
        name the fields, unless ``force`` takes them."""
        self._unsupported("server-side-apply", "server-side apply")

    @abstractmethod
    def delete(
        self, kind: str, name: str, namespace: str | None = None, grace_period: int | None = None
    ) -> None: ...

    @abstractmethod
    def scale(self, kind: str, name: str, replicas: int, namespace: str | None = None) -> None: ...

    @abstractmethod
    def events(self, namespace: str | None = None) -> list[Obj]:
        """core/v1 Events of the scenario's namespace, oldest first."""

    # -- inside pods ------------------------------------------------------------------
    def exec(
        self,
        pod: str,
        command: Sequence[str],
        container: str | None = None,
        namespace: str | None = None,
    ) -> ExecResult:
        """Run a command in a container (capability exec)."""
        self._unsupported("exec", "running a command in a container")

    def logs(
        self,
        pod: str,
        container: str | None = None,
        namespace: str | None = None,
        previous: bool = False,
    ) -> str:
        """A container's log (capability logs)."""
        self._unsupported("logs", "reading container logs")

    # -- traffic (capability traffic) ------------------------------------------------
    # Requests come from the scenario's *probe pod*: a busybox pod the driver creates in the
    # scenario's namespace on first use (``kk-probe``), so they resolve names and cross the
    # cluster network exactly as a workload's requests would. A real-cluster driver runs
    # them with exec in that pod (``wget -qO- -T 2 URL``, or a shell loop for a load).
    def send_requests(self, url: str, count: int) -> list[Request]:
        """Send ``count`` HTTP GETs of ``url`` (as a pod writes it: ``http://echo``,
        ``http://echo.<ns>.svc.cluster.local:80/hostname``) one after another from the
        probe pod, and say how each went."""
        self._unsupported("traffic", "sending requests from inside the cluster")

    def start_load(self, url: str, rate: float, method: str = "GET") -> Load:
        """Start GETting ``url`` from the probe pod ``rate`` times per second, in the
        background, until ``Load.stop()`` or the end of the scenario. ``method`` "POST" sends
        an empty body (``wget --post-data=``), as resource-consumer's API wants."""
        self._unsupported("traffic", "sending a steady load from inside the cluster")

    def request_from_outside(self, url: str) -> Request:
        """One HTTP GET from outside the cluster (the test host), e.g. of a NodePort on a
        node's address; ``body`` is kept."""
        self._unsupported("traffic", "sending a request from outside the cluster")

    def make_unready(self, pod: str, namespace: str | None = None) -> None:
        """Make a running pod fail its readiness from now on, without stopping it
        (capability readiness-fault). A real cluster can do it only for images whose
        readiness endpoint can be broken through exec; others raise NotSupported."""
        self._unsupported("readiness-fault", "making a pod unready")

    # -- resource metrics (metrics.k8s.io) ------------------------------------------
    def resource_metrics(self, kind: str, namespace: str | None = None) -> list[Obj]:
        """``PodMetrics`` of the scenario's namespace (``kind`` "pods") or ``NodeMetrics``
        ("nodes"), as metrics.k8s.io/v1beta1 lists them (metrics-server's figures, scraped
        every 15 s). NotSupported when the cluster does not serve that API."""
        self._unsupported("metrics", "reading resource metrics (metrics.k8s.io)")

    # -- access -----------------------------------------------------------------------
    def can(self, subject: Subject, verb: str, resource: str, namespace: str | None = None,
            name: str | None = None) -> AccessCheck:
        """Whether ``subject`` may ``verb`` ``resource`` (``pods``, ``pods/log``,
        ``deployments.apps``) in ``namespace`` (None: the scenario's; "" cluster-wide),
        as the API server's authorizer decides it (capability access-review)."""
        self._unsupported("access-review", "checking what a subject may do")

    def anonymous_request(self, path: str) -> tuple[int, str]:
        """A GET of ``path`` on the API server without credentials: (status, body)."""
        self._unsupported("anonymous-request", "sending an unauthenticated request")

    # -- faults -----------------------------------------------------------------------
    def crash_container(
        self,
        pod: str,
        container: str | None = None,
        namespace: str | None = None,
        exit_code: int = 1,
    ) -> None:
        """Make a running container exit, as a crash would (capability container-crash)."""
        self._unsupported("container-crash", "crashing a container")

    def fail_node(self, name: str) -> None:
        """Make a node stop working as a whole: its kubelet stops reporting and its
        containers stop (capability node-failure; disruptive on a real cluster)."""
        self._unsupported("node-failure", "failing a node")

    def recover_node(self, name: str) -> None:
        """Bring a node failed by ``fail_node`` back (capability node-failure)."""
        self._unsupported("node-failure", "recovering a node")

    # -- the control plane ----------------------------------------------------------------
    def stop_component(self, component: str, node: str | None = None) -> None:
        """Stop a control-plane component (etcd, kube-apiserver, kube-controller-manager,
        kube-scheduler) on ``node``, or on every control-plane node (capability
        control-plane-fault; disruptive on a real cluster)."""
        self._unsupported("control-plane-fault", f"stopping {component}")

    def start_component(self, component: str, node: str | None = None) -> None:
        """Start a component stopped by ``stop_component`` again."""
        self._unsupported("control-plane-fault", f"starting {component}")

    def stop_cluster_dns(self) -> None:
        """Scale CoreDNS to 0 (capability cluster-dns-fault; disruptive on a real
        cluster)."""
        self._unsupported("cluster-dns-fault", "stopping cluster DNS")

    def start_cluster_dns(self) -> None:
        """Give CoreDNS back the replicas it had before ``stop_cluster_dns``."""
        self._unsupported("cluster-dns-fault", "starting cluster DNS")

    def api_answers(self) -> Observation:
        """Whether the cluster's API server answers right now (its readiness, asked with a
        short timeout), and what it said."""
        self._unsupported("api-probe", "asking whether the API server answers")

    def poll(self, check: Check, duration: float, every: float = 1.0) -> WaitResult:
        """Ask ``check`` every ``every`` cluster seconds until it holds or ``duration``
        passes, without watches (for what watches cannot see, like the API server itself).
        A hold ("does not answer for …") polls its opposite: ``ok`` is when it broke."""
        start = self.now()
        while True:
            seen = check()
            waited = self.now() - start
            if seen.ok or waited >= duration:
                return WaitResult(seen.ok, waited, seen, self.now() if seen.ok else None)
            self.sleep(min(every, max(duration - waited, 0.0)))
    # -- nodes (node maintenance; disruptive on a real cluster) ------------------------
    # A real-cluster driver refuses these unless the environment allows disruptive actions,
    # and undoes every change a scenario made to a node when it ends (also on a signal).
    def set_node_unschedulable(self, name: str, unschedulable: bool) -> None:
        """Cordon (True) or uncordon (False) a node: ``spec.unschedulable``, as
        ``kubectl cordon``/``uncordon`` patch it."""
        self._unsupported("node-maintenance", f"cordoning node {name}")

    def set_node_label(self, name: str, key: str, value: str | None) -> None:
        """Set a node's label ``key`` (None removes it)."""
        self._unsupported("node-maintenance", f"labelling node {name}")

    def set_node_taint(self, name: str, taint: Obj, present: bool) -> None:
        """Add (``present``) or remove a node taint ({key, value, effect}); a taint is the
        same taint when its key and effect are, as ``kubectl taint`` sees it."""
        self._unsupported("node-maintenance", f"tainting node {name}")

    def set_network_plugin(self, installed: bool) -> None:
        """Install or remove the cluster's network plugin (capability network-plugin;
        disruptive on a real cluster, through the environment's hooks)."""
        self._unsupported("network-plugin", "installing or removing the network plugin")

    def evict(self, pod: str, namespace: str | None = None) -> None:
        """POST the pod's ``pods/eviction`` subresource (policy/v1 Eviction). A budget that
        forbids it raises the API's 429 (``TooManyRequests``)."""
        self._unsupported("node-maintenance", f"evicting pod {pod}")

    def _unsupported(self, capability: str, what: str) -> NoReturn:
        from kclusterkit.driver.errors import NotSupported

        raise NotSupported(f"{what}: target {self.target!r} cannot ({capability})")

    # -- time -------------------------------------------------------------------------
    @abstractmethod
    def now(self) -> float:
        """Cluster time in seconds (virtual on the simulator, monotonic wall elsewhere)."""

    def timestamp(self) -> str:
        """The current time as a client writes it into an object (RFC 3339, seconds, UTC),
        e.g. ``kubectl rollout restart``'s restartedAt. kubectl takes the client's wall
        clock, and so does this; a simulator says its own cluster clock's time instead, so a
        replayed seed writes the same value (and the same pod-template-hash)."""
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @abstractmethod
    def wait_until(self, check: Check, timeout: float, kinds: Sequence[str] = ()) -> WaitResult:
        """Re-run ``check`` on every relevant change until it holds or ``timeout`` passes.

        ``kinds`` names the resources whose changes can change the answer; a real-cluster
        driver watches exactly those.
        """

    @abstractmethod
    def hold(self, check: Check, duration: float, kinds: Sequence[str] = ()) -> WaitResult:
        """Check that ``check`` holds at every change for ``duration``; stop at the first
        violation (``failed_at``)."""

    def sleep(self, seconds: float) -> None:
        """Let cluster time pass with nothing asserted."""
        self.hold(lambda: Observation(True, ""), seconds)
