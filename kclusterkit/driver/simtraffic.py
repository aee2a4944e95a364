"""Traffic on the simulator: requests from a real probe pod, on the virtual clock.

Steps must reach workloads only the way a real cluster allows — from a pod, through
Services — so the simulator's traffic starts from a busybox pod created through the API in
the scenario's namespace, and every request goes through the cluster network (DNS, the
Service's ready endpoints, kube-proxy's choice, what the chosen container answers). A
steady load keeps running while other steps let cluster time pass: request k is made at
``started + k / rate``. Nothing in the cluster changes between two instants at which its
events run, so the requests due before the next such instant are made together, just
before it (``Clock.before_events``, ``Network.http_requests``): each at its own time, with
its own kube-proxy choice and its own CPU charge, against exactly the state it would have
met one event per request, at a fraction of the cost (200 requests per second).
"""

from __future__ import annotations

import math
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
    """A steady load: request k is made at ``started + k / rate`` cluster seconds.

    Between two instants at which the cluster's events run nothing in it changes, so the
    requests due before the next instant are made together just before it
    (``Clock.before_events``), each at its own time against the state it would have met;
    reading the records or stopping makes those due by now.
    """

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
        self._unhook: Any = clock.before_events(self._before)

    def _before(self, when: float) -> None:
        """Make the requests due before ``when`` (the next events' instant)."""
        self._make(math.ceil((when - self.started) * self.rate - 1e-9) - 1)

    def _make(self, last: int) -> None:
        """Make requests ``_sent`` … ``last``."""
        first = self._sent
        if last < first:
            return
        times = [self.started + k / self.rate for k in range(first, last + 1)]
        self._sent = last + 1
        self._records.extend(self.traffic.requests(self.url, times, self.method))

    def _due_by_now(self) -> None:
        self._make(int((self.traffic.clock.now - self.started) * self.rate + 1e-9))

    @property
    def records(self) -> list[Request]:
        if self._running:
            self._due_by_now()
        return self._records

    @property
    def running(self) -> bool:
        return self._running

    def stop(self) -> list[Request]:
        if self._running:
            self._due_by_now()
            self._unhook()
        self._running = False
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

    def requests(self, url: str, times: list[float], method: str = "GET") -> list[Request]:
        """The probe pod's requests of ``url`` made at ``times`` (up to now), at once."""
        source = self._stored_probe()
        if source is None or source["metadata"].get("deletionTimestamp"):
            return [Request(at, False, None, None, NO_PROBE) for at in times]
        results = self.network.http_requests(source, url, method, times)
        outcomes: dict[int, tuple[bool, int | None, str | None, str | None]] = {}
        out: list[Request] = []
        append = out.append
        for at, result in zip(times, results, strict=True):
            outcome = outcomes.get(id(result))  # a batch shares one result per answer
            if outcome is None:
                if not result.ok:
                    outcome = (False, result.status, None, result.error)
                elif result.latency >= WGET_TIMEOUT:
                    outcome = (False, None, None, "connection timed out")
                else:
                    outcome = (True, result.status, answerer(url, result.body), None)
                outcomes[id(result)] = outcome
            append(Request(at, *outcome))
        return out

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
