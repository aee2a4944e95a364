"""The kubelet's prober: startup, readiness and liveness probes against what containers serve.

"A pod that is not ready gets no traffic" and "a hung container is restarted" are probe
behaviour: each probe runs every periodSeconds after initialDelaySeconds, flips its result
after failureThreshold failures or successThreshold successes, and reports failures as
``Unhealthy`` events in upstream's words (pkg/kubelet/prober). Probes ask the simulated
container itself — the HTTP answer, the listening port, the exec'd command — so a probe
on a path nginx does not serve fails as it would on a real node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kclusterkit.sim import errors
from kclusterkit.sim.clock import Clock, Timer
from kclusterkit.sim.kubelet import server

if TYPE_CHECKING:
    from kclusterkit.sim.kubelet.kubelet import Container, Kubelet, PodRun

_KINDS = (("startup", "startupProbe", "Startup"), ("readiness", "readinessProbe", "Readiness"),
          ("liveness", "livenessProbe", "Liveness"))


class ProbeWorker:
    __slots__ = ("kind", "label", "spec", "run", "successes", "failures", "result", "timer")

    def __init__(self, kind: str, label: str, spec: dict[str, Any], run: int) -> None:
        self.kind = kind
        self.label = label
        self.spec = spec
        self.run = run
        self.successes = 0
        self.failures = 0
        # Initial results: liveness passes until it fails; readiness and startup fail
        # until they succeed.
        self.result = kind == "liveness"
        self.timer: Timer | None = None

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class Prober:
    """One kubelet's probe workers (prober_manager.go), keyed by container."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.workers: dict[int, list[ProbeWorker]] = {}  # id(container) -> workers

    def start(self, kubelet: Kubelet, pr: PodRun, c: Container) -> None:
        self.stop(c)
        workers = []
        for kind, field, label in _KINDS:
            spec = c.spec.get(field)
            if not isinstance(spec, dict) or c.init:
                continue
            worker = ProbeWorker(kind, label, spec, c.run)
            # Knowingly simpler than upstream: pkg/kubelet/prober/worker.go keeps one worker
            # per pod from admission, ticking every periodSeconds and skipping ticks until
            # the container has run initialDelaySeconds; here a worker starts with each
            # container run and first probes exactly at initialDelaySeconds. The first probe
            # can come up to one period earlier than on a node.
            delay = float(spec.get("initialDelaySeconds") or 0)
            worker.timer = self.clock.call_later(delay, self._tick, kubelet, pr, c, worker)
            workers.append(worker)
        if workers:
            self.workers[id(c)] = workers

    def stop(self, c: Container) -> None:
        for worker in self.workers.pop(id(c), []):
            worker.cancel()

    def _tick(self, kubelet: Kubelet, pr: PodRun, c: Container, worker: ProbeWorker) -> None:
        worker.timer = None
        if c.run != worker.run or c.state != "running" or pr.done:
            return
        period = float(worker.spec.get("periodSeconds") or 10)
        worker.timer = self.clock.call_later(period, self._tick, kubelet, pr, c, worker)
        if not kubelet.alive or pr.terminating:
            return
        if worker.kind != "startup" and not c.started:
            return  # readiness and liveness wait for the startup probe
        if worker.kind == "startup" and c.started:
            worker.cancel()
            return
        ok, output = run_probe(kubelet, pr, c, worker.spec, worker.kind)
        if ok:
            worker.failures = 0
            worker.successes += 1
            threshold = int(worker.spec.get("successThreshold") or 1)
            if not worker.result and worker.successes >= threshold:
                worker.result = True
                self._changed(kubelet, pr, c, worker)
            return
        worker.successes = 0
        worker.failures += 1
        kubelet.event(pr, c, "Warning", "Unhealthy", f"{worker.label} probe failed: {output}")
        if worker.failures >= int(worker.spec.get("failureThreshold") or 3) and \
                (worker.result or worker.kind == "startup"):
            worker.result = False
            self._changed(kubelet, pr, c, worker)

    def _changed(self, kubelet: Kubelet, pr: PodRun, c: Container, worker: ProbeWorker) -> None:
        if worker.kind == "readiness":
            c.ready = worker.result and not pr.unready
            kubelet.status.mark_dirty(pr)
        elif worker.kind == "startup" and worker.result:
            c.started = True
            if not c.spec.get("readinessProbe"):
                c.ready = not pr.unready
            worker.cancel()
            kubelet.status.mark_dirty(pr)
        elif not worker.result:  # liveness or startup gave up: restart the container
            worker.cancel()
            kubelet.kill_container(pr, c, f"Container {c.name} failed {worker.kind} probe, "
                                   "will be restarted", worker.spec)

    def readiness(self, c: Container) -> bool | None:
        """The readiness probe's current result, or None without a readiness probe."""
        for worker in self.workers.get(id(c), []):
            if worker.kind == "readiness":
                return worker.result
        return None


def run_probe(kubelet: Kubelet, pr: PodRun, c: Container, probe: dict[str, Any],
              kind: str) -> tuple[bool, str]:
    """Run one probe against the container (prober.go runProbe): (success, failure output)."""
    forced = pr.unready and kind == "readiness"
    if isinstance(probe.get("httpGet"), dict):
        spec = probe["httpGet"]
        port = _port_number(spec.get("port"), c.spec)
        path = spec.get("path") or "/"
        scheme = (spec.get("scheme") or "HTTP").lower()
        if forced:
            return False, "HTTP probe failed with statuscode: 503"
        found = server.listener(pr, port)
        if found is None or found[0] is not c or not found[1]:
            return False, (f'Get "{scheme}://{pr.ip}:{port}{path}": dial tcp '
                           f"{pr.ip}:{port}: connect: connection refused")
        version = _minor(kubelet.cluster.spec.kubernetes_version)
        status, _ = server.serve(kubelet, pr, c, path, kubelet.gateway, f"kube-probe/{version}")
        if 200 <= status < 400:
            return True, ""
        return False, f"HTTP probe failed with statuscode: {status}"
    if isinstance(probe.get("tcpSocket"), dict):
        port = _port_number(probe["tcpSocket"].get("port"), c.spec)
        if forced or server.listener(pr, port) is None:
            return False, f"dial tcp {pr.ip}:{port}: connect: connection refused"
        return True, ""
    if isinstance(probe.get("exec"), dict):
        command = list(probe["exec"].get("command") or [])
        try:
            code, out, err = server.exec_in(kubelet, pr, c, command)
        except errors.StatusError as exc:
            return False, exc.message
        if forced:
            return False, ""
        return code == 0, (out + err).rstrip("\n") if code else ""
    return not forced, ""  # grpc: taken as serving


def _port_number(port: Any, container: dict[str, Any]) -> int:
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return int(p.get("containerPort") or 0)
    return 0


def _minor(version: str) -> str:
    parts = version.lstrip("v").split(".")
    return ".".join(parts[:2])
