"""Traffic on the simulator: requests from a real probe pod, on the virtual clock.

Steps must reach workloads only the way a real cluster allows — from a pod, through
Services — so the simulator's traffic starts from a busybox pod created through the API in
the scenario's namespace, and every request goes through the cluster network (DNS, the
Service's ready endpoints, kube-proxy's choice, what the chosen container answers). A
steady load is a timer on the virtual clock: each request is made at its own instant, so it
keeps running while other steps let cluster time pass, and sees every endpoint change as it
happens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kclusterkit.driver.base import Load, Obj, Observation, Request
from kclusterkit.driver.errors import ClusterError
from kclusterkit.driver.probe import (
    PROBE_IMAGE,
    PROBE_POD,
    WGET_TIMEOUT,
    answerer,
    probe_manifest,
)
from kclusterkit.sim.resources import PODS

if TYPE_CHECKING:
    from kclusterkit.driver.sim import SimDriver

PROBE_START_TIMEOUT = 120.0  # cluster seconds for the probe pod to start running
NO_PROBE = "the probe pod is gone"


def _running(pod: Obj | None) -> bool:
    """Running with an address: its container can make requests (and could be exec'd)."""
    status = (pod or {}).get("status") or {}
    return status.get("phase") == "Running" and bool(status.get("podIP"))


class SimLoad(Load):
    """A steady load: request k is made at ``started + k / rate`` cluster seconds."""

    def __init__(self, traffic: SimTraffic, url: str, rate: float, method: str = "GET") -> None:
        if rate <= 0:
            raise ClusterError(f"a load needs a positive rate, got {rate:g} requests per second")
        self.traffic = traffic
        self.url = url
        self.rate = float(rate)
        self.method = method
        clock = traffic.clock
        self.started = clock.now
        self._records: list[Request] = []
        self._sent = 0
        self._running = True
        self._timer: Any = clock.call_at(self.started, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if not self._running:
            return
        self._records.append(self.traffic.request(self.url, keep_body=False,
                                                  method=self.method))
        self._sent += 1
        self._timer = self.traffic.clock.call_at(self.started + self._sent / self.rate,
                                                 self._tick)

    @property
    def records(self) -> list[Request]:
        return self._records

    @property
    def running(self) -> bool:
        return self._running

    def stop(self) -> list[Request]:
        self._running = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        return list(self._records)


class SimTraffic:
    """The traffic of one scenario's simulated cluster."""

    def __init__(self, driver: SimDriver) -> None:
        self.driver = driver
        self.cluster = driver.cluster
        self.clock = self.cluster.clock
        self.namespace = driver.namespace
        self.loads: list[SimLoad] = []
        self.network = self.cluster.network

    # -- the probe pod ------------------------------------------------------------------
    def _stored_probe(self) -> Obj | None:
        return self.cluster.store.get(PODS, self.namespace, PROBE_POD)

    def probe(self) -> Obj:
        """The probe pod, created and waited for (until it has an address) on first use."""
        pod = self._stored_probe()
        if pod is None:
            self.driver.create(probe_manifest())
        if _running(self._stored_probe()):
            return self._stored_probe()  # type: ignore[return-value]

        def started() -> Observation:
            stored = self._stored_probe()
            return Observation(_running(stored), f"probe pod {PROBE_POD}: "
                               f"{((stored or {}).get('status') or {}).get('phase', 'missing')}")

        result = self.driver.wait_until(started, PROBE_START_TIMEOUT, ("pods",))
        pod = self._stored_probe()
        if not result.ok or pod is None:
            phase = ((pod or {}).get("status") or {}).get("phase", "missing")
            raise ClusterError(f"the probe pod {PROBE_POD} ({PROBE_IMAGE}) did not start within "
                               f"{PROBE_START_TIMEOUT:g}s of cluster time (phase {phase})")
        return pod

    # -- requests -------------------------------------------------------------------------
    def request(self, url: str, keep_body: bool = True, from_pod: bool = True,
                method: str = "GET") -> Request:
        now = self.clock.now
        source = None
        if from_pod:
            source = self._stored_probe()
            if source is None or source["metadata"].get("deletionTimestamp"):
                return Request(now, False, None, None, NO_PROBE)
        result = self.network.http_request(source, url, method)
        if result.ok and getattr(result, "latency", 0.0) >= WGET_TIMEOUT:
            # a throttled server answers later than the probe's wget waits (as on the
            # other targets, where the load pod's wget -T gives up)
            return Request(now, False, None, None, "connection timed out")
        # Which pod answered is read from the answer, as on every other target (agnhost's
        # /hostname says it, nginx's welcome page does not), not from what the network knows.
        pod = answerer(url, result.body) if result.ok else None
        return Request(now, result.ok, result.status, pod, result.error,
                       result.body if keep_body else "")

    def send(self, url: str, count: int) -> list[Request]:
        self.probe()
        return [self.request(url) for _ in range(count)]

    def start_load(self, url: str, rate: float, method: str = "GET") -> SimLoad:
        self.probe()
        load = SimLoad(self, url, rate, method)
        self.loads.append(load)
        return load

    def from_outside(self, url: str) -> Request:
        return self.request(url, from_pod=False)

    def stop_all(self) -> None:
        for load in self.loads:
            load.stop()
