"""Traffic for the kubernetes-client driver: requests from pods in the scenario's namespace,
so they resolve names and cross the cluster network as a workload's would.

A batch of requests is one exec in the probe pod (a busybox shell loop of ``wget``); a
steady load is a pod of its own whose loop makes a request every 1/rate seconds, read back
through the pod's log with the kubelet's timestamps. The same pods run on a real cluster
and on the served simulator, which models busybox and makes each request at its own
instant of cluster time; nothing here knows which one it talks to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kclusterkit.driver.base import Load, Obj, Observation, Request
from kclusterkit.driver.errors import ApiError, ClusterError
from kclusterkit.driver.probe import (
    LOAD_POD_PREFIX,
    PROBE_IMAGE,
    PROBE_POD,
    WGET_TIMEOUT,
    batch_script,
    load_manifest,
    parse_batch,
    parse_log,
    probe_manifest,
)

if TYPE_CHECKING:
    from kclusterkit.driver.kube import KubeDriver

PROBE_START_TIMEOUT = 120.0  # cluster seconds for a traffic pod to run
BATCH_LIMIT = 200  # requests per exec (one shell loop); more are split over several execs


def _running(driver: KubeDriver, namespace: str, name: str, what: str) -> Obj:
    """Wait (cluster time) until pod ``name`` runs with an address; return it."""

    def check() -> Observation:
        seen = driver.get("pods", name, namespace=namespace)
        status = (seen or {}).get("status") or {}
        ok = status.get("phase") == "Running" and bool(status.get("podIP"))
        return Observation(ok, f"{what} {name}: phase {status.get('phase', 'missing')}, "
                               f"address {status.get('podIP') or 'none yet'}",
                           [seen] if seen else [])

    result = driver.wait_until(check, PROBE_START_TIMEOUT, ("pods",))
    if not result.ok:
        raise ClusterError(f"the {what} {name} ({PROBE_IMAGE}) did not start within "
                           f"{PROBE_START_TIMEOUT:g}s: {result.last.seen}")
    return driver.get("pods", name, namespace=namespace) or {}


class LoadPod(Load):
    """A steady load: a pod whose shell loop makes one GET every 1/rate seconds.

    Its requests are read from the pod's log (``timestamps=true``: each marker line's
    timestamp is when that request ended, on the cluster's clock); stopping reads the log
    one last time and deletes the pod.
    """

    def __init__(self, driver: KubeDriver, namespace: str, name: str, url: str,
                 rate: float, method: str = "GET") -> None:
        if rate <= 0:
            raise ClusterError(f"a load needs a positive rate, got {rate:g} requests per second")
        self.driver = driver
        self.namespace = namespace
        self.name = name
        self.url = url
        self.rate = float(rate)
        manifest = load_manifest(name, url, rate, method)
        manifest["metadata"]["namespace"] = namespace
        driver.create(manifest)
        _running(driver, namespace, name, "load pod")
        self.started = driver.now()
        self._final: list[Request] | None = None

    def _read(self) -> list[Request]:
        try:
            log = self.driver.logs(self.name, namespace=self.namespace, timestamps=True)
        except ApiError as exc:
            if exc.code == 404:
                return []
            raise
        return parse_log(log, self.url)

    @property
    def records(self) -> list[Request]:
        if self._final is not None:
            return list(self._final)
        return self._read()

    @property
    def running(self) -> bool:
        return self._final is None

    def stop(self) -> list[Request]:
        if self._final is None:
            try:
                self._final = self._read()
            except ClusterError:
                self._final = []
            try:
                self.driver.delete("pods", self.name, namespace=self.namespace, grace_period=0)
            except ClusterError:
                pass  # the namespace goes with the scenario anyway
        return list(self._final)


class KubeTraffic:
    """The probe pod of the driver's current namespace, and the loads started from it."""

    def __init__(self, driver: KubeDriver) -> None:
        self.driver = driver
        self.namespace = driver.namespace
        self.loads: list[LoadPod] = []
        self._ready = False

    def probe(self) -> Obj:
        """The probe pod, created (through the API) and waited for until it runs."""
        driver = self.driver
        pod = driver.get("pods", PROBE_POD, namespace=self.namespace)
        if pod is None:
            manifest = probe_manifest()
            manifest["metadata"]["namespace"] = self.namespace
            driver.create(manifest)
        if self._ready and pod is not None:
            return pod
        pod = _running(driver, self.namespace, PROBE_POD, "probe pod")
        self._ready = True
        return pod

    def send(self, url: str, count: int) -> list[Request]:
        """``count`` GETs from the probe pod, in execs of up to BATCH_LIMIT requests."""
        self.probe()
        out: list[Request] = []
        while len(out) < count:
            n = min(BATCH_LIMIT, count - len(out))
            start = self.driver.now()
            result = self.driver.exec(PROBE_POD, ["sh", "-c", batch_script(url, n)],
                                      namespace=self.namespace,
                                      timeout=60.0 + n * WGET_TIMEOUT)
            end = self.driver.now()
            done = parse_batch(result.stdout, url,
                               lambda i, s=start, e=end, k=n: s + (e - s) * i / max(k, 1))
            if len(done) != n:
                raise ClusterError(f"requests from the probe pod: expected {n} answers, read "
                                   f"{len(done)} (exit {result.exit_code}: "
                                   f"{(result.stderr or result.stdout).strip()[:200]})")
            out.extend(done)
        return out

    def start_load(self, url: str, rate: float, method: str = "GET") -> Load:
        name = f"{LOAD_POD_PREFIX}-{len(self.loads) + 1}"
        load = LoadPod(self.driver, self.namespace, name, url, rate, method)
        self.loads.append(load)
        return load

    def from_outside(self, url: str) -> Request:
        """A GET of an address outside the pod network (a NodePort on a node's address),
        made from the probe pod: this machine may not reach the cluster's node addresses,
        the cluster's own pods always can."""
        return self.send(url, 1)[0]

    def stop_all(self) -> None:
        for load in self.loads:
            if load.running:
                load.stop()
        self.loads.clear()
