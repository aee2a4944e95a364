"""Traffic for the kubernetes-client driver: requests from a probe pod in the scenario's
namespace, so they resolve names and cross the cluster network as a workload's would.

Two ways to make them. On a real cluster the requests run inside the probe pod through
exec (busybox ``wget``; a batch is one exec running a shell loop; a steady load is a
background thread issuing one such batch per second). On the served simulator (sim-api)
the requests are made by the simulator's own network from that same probe pod, on the
server's event loop and its virtual clock: at 50× the wall clock a load of 20 requests per
second is 1,000 execs per wall second, which no exec path keeps up with, and a request's
answerer (which nginx pod?) is known only to the simulator. The probe pod itself is always
created and waited for through the API.
"""

from __future__ import annotations

import re
import shlex
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kclusterkit.driver.base import Load, Obj, Observation, Request
from kclusterkit.driver.errors import ClusterError, NotSupported
from kclusterkit.driver.simtraffic import PROBE_IMAGE, PROBE_POD, probe_manifest

if TYPE_CHECKING:
    from kclusterkit.driver.kube import KubeDriver

PROBE_START_TIMEOUT = 120.0  # cluster seconds for the probe pod to run
WGET_TIMEOUT = 2  # seconds busybox wget waits for an answer (-T)
MARKER = "@@kk-exit"
BATCH_LIMIT = 200  # requests per exec (one shell loop); more are split over several execs
NO_PROBE = "the probe pod is gone"
_STATUS = re.compile(r"server returned error: HTTP/\S+ (\d{3})")
_HOSTNAME_BODY = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


# -- the exec way (any cluster) -----------------------------------------------------------

def batch_script(url: str, count: int) -> str:
    """One shell loop making ``count`` GETs; each answer is followed by a marker line with
    wget's exit status (busybox sh; no ``seq`` needed)."""
    numbers = " ".join(str(i) for i in range(1, count + 1))
    return (f"for i in {numbers}; do wget -qO- -T {WGET_TIMEOUT} {shlex.quote(url)} 2>&1; "
            f's=$?; echo; echo "{MARKER} $s"; done')


def parse_batch(output: str, url: str, at: Callable[[int], float]) -> list[Request]:
    """The requests a ``batch_script`` run printed, in order; ``at(i)`` is request i's time."""
    out: list[Request] = []
    chunk: list[str] = []
    for line in output.split("\n"):
        if line.startswith(MARKER + " "):
            code = line[len(MARKER) + 1:].strip()
            text = "\n".join(chunk)
            text = text[:-1] if text.endswith("\n") else text
            out.append(_request(at(len(out)), code == "0", text, url))
            chunk = []
        else:
            chunk.append(line)
    return out


def _request(at: float, ok: bool, text: str, url: str) -> Request:
    if ok:
        return Request(at, True, 200, answerer(url, text), None, text)
    message = text.strip().splitlines()[-1] if text.strip() else "request failed"
    message = message.removeprefix("wget: ")
    found = _STATUS.search(message)
    if found:
        return Request(at, False, int(found.group(1)), None, None, "")
    lowered = message.lower()
    if "connection refused" in lowered:
        message = "connection refused"
    elif "timed out" in lowered:
        message = "connection timed out"
    elif "bad address" in lowered:
        message = "could not resolve host"
    return Request(at, False, None, None, message, "")


def answerer(url: str, body: str) -> str | None:
    """The pod that answered, when the answer says: agnhost's ``/hostname`` is the pod's
    name. Anything else (nginx's welcome page) does not tell."""
    path = url.split("://", 1)[-1].partition("/")[2].split("?", 1)[0]
    name = body.strip()
    if path.rstrip("/").endswith("hostname") and _HOSTNAME_BODY.match(name) and len(name) < 254:
        return name
    return None


class ExecTransport:
    """Requests made by busybox wget inside the probe pod, through exec."""

    name = "exec"

    def __init__(self, driver: KubeDriver) -> None:
        self.driver = driver

    def send(self, namespace: str, url: str, count: int) -> list[Request]:
        out: list[Request] = []
        while len(out) < count:
            n = min(BATCH_LIMIT, count - len(out))
            start = self.driver.now()
            result = self.driver.exec(PROBE_POD, ["sh", "-c", batch_script(url, n)],
                                      namespace=namespace, timeout=60.0 + n * WGET_TIMEOUT)
            end = self.driver.now()
            done = parse_batch(result.stdout, url,
                               lambda i, s=start, e=end, k=n: s + (e - s) * i / max(k, 1))
            if len(done) != n:
                raise ClusterError(f"requests from the probe pod: expected {n} answers, read "
                                   f"{len(done)} (exit {result.exit_code}: "
                                   f"{(result.stderr or result.stdout).strip()[:200]})")
            out.extend(done)
        return out

    def start_load(self, namespace: str, url: str, rate: float) -> Load:
        return ExecLoad(self, namespace, url, rate)

    def from_outside(self, url: str) -> Request:
        return http_get_from_host(self.driver.now(), url)

    def make_unready(self, namespace: str, pod: str) -> None:
        raise NotSupported(f"making pod {pod} unready: target {self.driver.target!r} cannot "
                           "(readiness-fault: no image-independent way on a real cluster)")


class ExecLoad(Load):
    """A steady load from a background thread: each second of cluster time, one exec
    sends that second's share of requests (their times spread evenly over the batch)."""

    def __init__(self, transport: ExecTransport, namespace: str, url: str, rate: float) -> None:
        if rate <= 0:
            raise ClusterError(f"a load needs a positive rate, got {rate:g} requests per second")
        self.transport = transport
        self.namespace = namespace
        self.url = url
        self.rate = float(rate)
        self.started = transport.driver.now()
        self._records: list[Request] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="kk-load")
        self._thread.start()

    def _run(self) -> None:
        driver = self.transport.driver
        sent = 0
        while not self._stop.is_set():
            due = int((driver.now() - self.started) * self.rate) + 1 - sent
            if due > 0:
                try:
                    batch = self.transport.send(self.namespace, self.url,
                                                min(due, BATCH_LIMIT))
                except ClusterError as exc:
                    batch = [Request(driver.now(), False, None, None, str(exc))]
                with self._lock:
                    self._records.extend(batch)
                sent += max(len(batch), 1)
            self._stop.wait(max(driver.to_wall(1.0), 0.05))

    @property
    def records(self) -> list[Request]:
        with self._lock:
            return list(self._records)

    @property
    def running(self) -> bool:
        return not self._stop.is_set()

    def stop(self) -> list[Request]:
        self._stop.set()
        self._thread.join(30.0)
        return self.records


def http_get_from_host(at: float, url: str, timeout: float = 5.0) -> Request:
    """A plain GET from this machine (a NodePort, a LoadBalancer address)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 — test URLs
            body = resp.read().decode("utf-8", "replace")
            return Request(at, 200 <= resp.status < 400, resp.status, None, None, body)
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace") if exc.fp is not None else ""
        return Request(at, False, exc.code, None, None, body)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        text = str(reason).lower()
        if "refused" in text:
            return Request(at, False, None, None, "connection refused")
        if "timed out" in text:
            return Request(at, False, None, None, "connection timed out")
        return Request(at, False, None, None, str(reason))


# -- the served simulator's way (sim-api) -------------------------------------------------

class SimLoadProxy(Load):
    """A simulator-side load (``simtraffic.SimLoad`` on the server's clock), seen from the
    driver's thread."""

    def __init__(self, handle: Any, load: Any) -> None:
        self._handle = handle
        self._load = load
        self.url = load.url
        self.rate = load.rate
        self.started = load.started

    @property
    def records(self) -> list[Request]:
        return list(self._load.records)  # appended on the server's thread; a copy is safe

    @property
    def running(self) -> bool:
        return bool(self._load.running)

    def stop(self) -> list[Request]:
        if self._load.running:
            try:
                self._handle.call(lambda _c: self._load.stop())
            except Exception:  # noqa: BLE001 — the server is gone: nothing runs any more
                pass
        return list(self._load.records)


class _OnServer:
    """What ``SimLoad`` needs from its traffic, answered on the server's loop."""

    def __init__(self, cluster: Any, namespace: str) -> None:
        self.cluster = cluster
        self.clock = cluster.clock
        self.namespace = namespace

    def request(self, url: str, keep_body: bool = True, from_pod: bool = True) -> Request:
        from kclusterkit.sim.resources import PODS

        now = self.clock.now
        source = None
        if from_pod:
            source = self.cluster.store.get(PODS, self.namespace, PROBE_POD)
            if source is None or source["metadata"].get("deletionTimestamp"):
                return Request(now, False, None, None, NO_PROBE)
        network = self.cluster.network
        if network is None:
            return Request(now, False, None, None, "the simulated cluster has no network")
        result = network.http_request(source, url)
        return Request(now, result.ok, result.status, result.pod, result.error,
                       result.body if keep_body else "")


class ServedSimTransport:
    """Requests made by the served simulator's network from the probe pod (sim-api)."""

    name = "simulator"

    def __init__(self, driver: KubeDriver, handle: Any) -> None:
        self.driver = driver
        self.handle = handle

    def _call(self, fn: Callable[[Any], Any]) -> Any:
        from kclusterkit.driver.errors import ApiError
        from kclusterkit.sim.errors import StatusError

        try:
            return self.handle.call(fn)
        except StatusError as exc:
            raise ApiError(exc.code, exc.reason, exc.message, exc.status) from exc

    def send(self, namespace: str, url: str, count: int) -> list[Request]:
        def run(cluster: Any) -> list[Request]:
            side = _OnServer(cluster, namespace)
            return [side.request(url) for _ in range(count)]

        return self._call(run)

    def start_load(self, namespace: str, url: str, rate: float) -> Load:
        from kclusterkit.driver.simtraffic import SimLoad

        def run(cluster: Any) -> Any:
            return SimLoad(_OnServer(cluster, namespace), url, rate)  # type: ignore[arg-type]

        return SimLoadProxy(self.handle, self._call(run))

    def from_outside(self, url: str) -> Request:
        return self._call(lambda c: _OnServer(c, "").request(url, from_pod=False))

    def make_unready(self, namespace: str, pod: str) -> None:
        def run(cluster: Any) -> None:
            nodes = cluster.nodes
            if nodes is None or not hasattr(nodes, "set_ready"):
                raise NotSupported("making a pod unready: not implemented by the simulator yet")
            nodes.set_ready(namespace, pod, False)

        self._call(run)


# -- one scenario's traffic -----------------------------------------------------------------

class KubeTraffic:
    """The probe pod of the driver's current namespace, and the loads started from it."""

    def __init__(self, driver: KubeDriver, transport: ExecTransport | ServedSimTransport) -> None:
        self.driver = driver
        self.transport = transport
        self.namespace = driver.namespace
        self.loads: list[Load] = []
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

        def running() -> Observation:
            seen = driver.get("pods", PROBE_POD, namespace=self.namespace)
            status = (seen or {}).get("status") or {}
            ok = status.get("phase") == "Running" and bool(status.get("podIP"))
            return Observation(ok, f"probe pod {PROBE_POD}: phase "
                               f"{status.get('phase', 'missing')}, address "
                               f"{status.get('podIP') or 'none yet'}", [seen] if seen else [])

        result = driver.wait_until(running, PROBE_START_TIMEOUT, ("pods",))
        if not result.ok:
            raise ClusterError(f"the probe pod {PROBE_POD} ({PROBE_IMAGE}) did not start within "
                               f"{PROBE_START_TIMEOUT:g}s: {result.last.seen}")
        self._ready = True
        return driver.get("pods", PROBE_POD, namespace=self.namespace) or {}

    def send(self, url: str, count: int) -> list[Request]:
        self.probe()
        return self.transport.send(self.namespace, url, count)

    def start_load(self, url: str, rate: float) -> Load:
        self.probe()
        load = self.transport.start_load(self.namespace, url, rate)
        self.loads.append(load)
        return load

    def from_outside(self, url: str) -> Request:
        return self.transport.from_outside(url)

    def make_unready(self, pod: str, namespace: str | None = None) -> None:
        self.transport.make_unready(namespace or self.namespace, pod)

    def stop_all(self) -> None:
        for load in self.loads:
            if load.running:
                load.stop()
        self.loads.clear()
