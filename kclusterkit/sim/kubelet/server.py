"""What the kubelet answers about a running container: exec, logs, and what it serves.

Upstream the API server proxies ``pods/exec`` and ``pods/log`` to the kubelet of the pod's
node (pkg/kubelet/server), which asks the container runtime; a connection to a pod IP
reaches the container's process itself. Each function here is that, for one container of
one kubelet; ``sim.nodes`` finds the kubelet a pod runs on.
"""

from __future__ import annotations

from itertools import repeat
from typing import TYPE_CHECKING

from kclusterkit.sim import errors, images, shell
from kclusterkit.sim.kubelet import pods
from kclusterkit.sim.kubelet.logs import LogLine
from kclusterkit.sim.resources import PODS

if TYPE_CHECKING:
    from kclusterkit.sim.kubelet.kubelet import Container, Kubelet, PodRun

_SHELLS = ("sh", "bash", "ash")


def exec_in(kubelet: Kubelet, pr: PodRun, c: Container, argv: list[str],
            stdin: str | None = None) -> tuple[int, str, str]:
    """Run ``argv`` in a running container at once: (exit code, stdout, stderr)."""
    pod = kubelet.cluster.store.get(PODS, pr.namespace, pr.name) or {}
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise errors.bad_request("cannot exec into a container in a completed pod; "
                                 f"current phase is {phase}")
    if c.state != "running":
        raise errors.bad_request(
            f'unable to upgrade connection: container not found ("{c.name}")')
    if not argv:
        raise errors.bad_request("you must specify at least one command for the container")
    ctx = pods.shell_context(kubelet, pr, c)
    base = argv[0].rsplit("/", 1)[-1]
    if base in _SHELLS and len(argv) >= 3 and argv[1] == "-c":
        script = argv[2]
    elif base in _SHELLS and len(argv) == 1:
        script = stdin or ""
    elif base in shell.APPLETS or base in ctx.applets:
        script = shell.join(argv)
    else:
        return 126, "", (
            "OCI runtime exec failed: exec failed: unable to start container process: "
            f'exec: "{argv[0]}": executable file not found in $PATH: unknown\n')
    before = set(ctx.dirs)
    result = shell.run(script, ctx)
    mounted = [m.rstrip("/") for m, _ in pods.mounts(kubelet, pr, c)]
    c.dirs |= {d for d in ctx.dirs - before
               if not any(d == m or d.startswith(m + "/") for m in mounted)}
    if result.killed is not None:
        kubelet.signal(pr, c, result.killed)
        return 0, result.stdout, result.stderr
    return result.exit_code, result.stdout, result.stderr


def log_lines(pr: PodRun, c: Container, previous: bool = False) -> list[LogLine]:
    """The container's log (``previous``: its last run's) with each line's time."""
    if previous:
        if c.restart_count == 0 and not (c.state == "waiting" and c.term):
            raise errors.bad_request(
                f'previous terminated container "{c.name}" in pod "{pr.name}" not found')
        return list(c.prev_logs if c.state == "running" or c.term is None else c.logs)
    if not c.ever_ran:
        raise errors.bad_request(f'container "{c.name}" in pod "{pr.name}" is waiting '
                                 f"to start: {c.reason or 'ContainerCreating'}")
    return list(c.logs)


def listener(pr: PodRun, port: int) -> tuple[Container, bool] | None:
    """The running container of the pod that listens on TCP ``port``, and whether it
    speaks HTTP there; None: connection refused."""
    if pr.done:
        return None
    for c in pr.main:
        if c.state != "running" or c.plan is None:
            continue
        ports, http = images.listening_ports(c.plan, c.spec)
        if int(port) in ports:
            return c, http
    return None


def _answer(kubelet: Kubelet, pr: PodRun, c: Container, path: str, client_ip: str,
            user_agent: str, method: str) -> images.Response:
    """What the container's process answers to the request now."""
    assert c.plan is not None and c.started_at is not None
    clock = kubelet.clock
    request = images.Request(path=path, hostname=pr.name, now=clock.datetime(),
                             uptime=clock.now - c.started_at, client_ip=client_ip,
                             user_agent=user_agent, env=c.env, method=method)
    return images.serve(c.plan, c.spec, request)


def serve(kubelet: Kubelet, pr: PodRun, c: Container, path: str, client_ip: str,
          user_agent: str, method: str = "GET") -> tuple[int, str]:
    """What the container's process answers to ``GET path`` (or ``method``) now; it logs
    the request, and the container pays what serving it costs."""
    clock = kubelet.clock
    response = _answer(kubelet, pr, c, path, client_ip, user_agent, method)
    if not user_agent.startswith("kube-probe/"):  # the kubelet's own probes cost nothing
        kubelet.charge_request(pr, c, response.cpu, response.memory)
    c.logs.extend((clock.now, line) for line in response.log)
    if response.exit_code is not None:
        clock.call_soon(kubelet.process_exited, pr, c, c.run, response.exit_code)
    return response.status, response.body


def serve_many(kubelet: Kubelet, pr: PodRun, c: Container, path: str, client_ip: str,
               user_agent: str, method: str, times: list[float]) -> tuple[int, str, int]:
    """``serve`` for the same request made at each of ``times`` (between two instants of
    cluster events), answered at once: the process answers as it does now, each request
    is logged and charged at its own time. A request that ends the process (agnhost
    /exit) is the last one served. Returns (status, body, how many were served)."""
    clock = kubelet.clock
    response = _answer(kubelet, pr, c, path, client_ip, user_agent, method)
    if response.exit_code is not None:
        times = times[:1]
    kubelet.charge_requests(pr, c, times, response.cpu, response.memory)
    if len(response.log) == 1:
        c.logs.extend(zip(times, repeat(response.log[0])))
    elif response.log:
        c.logs.extend((t, line) for t in times for line in response.log)
    if response.exit_code is not None:
        clock.call_soon(kubelet.process_exited, pr, c, c.run, response.exit_code)
    return response.status, response.body, len(times)
