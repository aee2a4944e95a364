"""The driver interface: objects in Kubernetes JSON shape, exec, faults, and waits.

Waits are the heart of it. A step hands the driver a *check* — a function that looks at
the cluster and says whether the expectation holds and what it saw — and the driver
decides when to look again: the simulator after every change of state in virtual time, a
real cluster after every watch event. Nothing here sleeps in a polling loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]


@dataclass
class Observation:
    """What a check saw: whether the expectation holds, and a description of the state."""

    ok: bool
    seen: str
    objects: list[Obj] = field(default_factory=list)


Check = Callable[[], Observation]


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

    # -- cluster shape ----------------------------------------------------------------
    def configure_cluster(self, control_plane_nodes: int, worker_nodes: int) -> None:
        """Build (simulator) or check (real cluster) the cluster's node topology."""
        raise NotImplementedError

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
    ) -> Obj:
        """``patch_type``: "json", "merge" or "strategic"."""

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
        raise NotImplementedError

    def logs(
        self,
        pod: str,
        container: str | None = None,
        namespace: str | None = None,
        previous: bool = False,
    ) -> str:
        raise NotImplementedError

    # -- faults -----------------------------------------------------------------------
    def crash_container(
        self,
        pod: str,
        container: str | None = None,
        namespace: str | None = None,
        exit_code: int = 1,
    ) -> None:
        """Make a running container exit, as a crash would."""
        raise NotImplementedError

    # -- time -------------------------------------------------------------------------
    @abstractmethod
    def now(self) -> float:
        """Cluster time in seconds (virtual on the simulator, monotonic wall elsewhere)."""

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
