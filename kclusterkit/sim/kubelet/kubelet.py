"""One node's kubelet: the pod and container life cycle, as the pod's status shows it.

Scenarios observe pods through their status and events — ContainerCreating, Pulling,
Running, a restart count, CrashLoopBackOff with its doubling back-off, ImagePullBackOff,
a 30-second graceful stop — so the kubelet reproduces the upstream sequence and wording
(pkg/kubelet/kuberuntime, pkg/kubelet/images, pkg/kubelet/status). Everything is driven by
``sync(pod)``, which like upstream's SyncPod looks at what each container is doing and
takes the next step; timers only change container state and call it again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj
from kclusterkit.sim import container_fields, errors, images, shell
from kclusterkit.sim.clock import Timer
from kclusterkit.sim.kubelet import pods, usage, volumes
from kclusterkit.sim.kubelet.node_status import NETWORK_NOT_READY, NodeStatus
from kclusterkit.sim.kubelet.prober import Prober
from kclusterkit.sim.kubelet.status_manager import StatusManager
from kclusterkit.sim.resources import PODS

if TYPE_CHECKING:
    from kclusterkit.sim.cluster import Cluster

COMPONENT = "kubelet"

# Conditions the kubelet owns, in the order it reports them.
_KUBELET_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady")


def _unready_gates(spec: dict[str, Any], conditions: list[dict[str, Any]]) -> list[str]:
    """generate.go GeneratePodReadyCondition: why each spec.readinessGates entry holds Ready
    back (the first condition of that type counts)."""
    out = []
    for gate in spec.get("readinessGates") or []:
        ctype = gate.get("conditionType", "")
        cond = next((c for c in conditions if c.get("type") == ctype), None)
        if cond is None:
            out.append(f'corresponding condition of pod readiness gate "{ctype}" does not exist.')
        elif cond.get("status") != "True":
            out.append(f'the status of pod readiness gate "{ctype}" is not "True", but '
                       f'{cond.get("status", "")}')
    return out


def _ready_status(pod: Obj) -> str | None:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status")
    return None


def go_duration(seconds: float) -> str:
    """Render seconds as Go's time.Duration.String() does (``1m20s``, ``512ms``, ``5m0s``)."""
    ns = int(round(seconds * 1e9))
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return sign + _trim(ns / size) + unit
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    out = sign
    if hours:
        out += f"{hours}h"
    if hours or minutes:
        out += f"{minutes}m"
    return out + _trim(rest / 1e9) + "s"


def _trim(value: float) -> str:
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return text or "0"


def pod_ref(pod: Obj) -> str:
    """format.Pod: ``name_namespace(uid)``."""
    meta = pod["metadata"]
    return f"{meta['name']}_{meta.get('namespace', '')}({meta.get('uid', '')})"


class Container:
    """The kubelet's view of one container slot of a pod, across its restarts."""

    __slots__ = ("name", "spec", "init", "state", "reason", "message", "started_at",
                 "finished_at", "exit_code", "ever_ran", "restart_count", "last_term",
                 "container_id", "ready", "started", "busy", "timer", "backoff",
                 "backoff_updated", "plan", "logs", "prev_logs", "run", "image_id",
                 "probe_state", "term", "env", "files", "dirs", "process", "usage",
                 "oom_timer")

    def __init__(self, spec: dict[str, Any], init: bool) -> None:
        self.name: str = spec["name"]
        self.spec = spec
        self.init = init
        self.state = "waiting"  # waiting | running | terminated
        self.reason = "PodInitializing" if not init else "PodInitializing"
        self.message = ""
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.exit_code = 0
        self.ever_ran = False
        self.restart_count = 0
        self.last_term: dict[str, Any] | None = None
        self.container_id = ""
        self.ready = False
        self.started = False
        self.busy: str | None = None  # pulling | creating | backoff | pullbackoff | stopping
        self.timer: Timer | None = None
        self.backoff = 0.0  # crash-loop back-off (flowcontrol.Backoff entry)
        self.backoff_updated: float | None = None
        self.plan: images.Plan | None = None
        # (cluster time, line): each line of the log at the instant it was written.
        self.logs: list[tuple[float, str]] = []
        self.prev_logs: list[tuple[float, str]] = []
        self.run = 0  # increments per started container; stale timers compare it
        self.image_id = ""
        self.probe_state: Any = None
        self.term: dict[str, Any] | None = None  # how the latest run ended
        self.env: dict[str, str] = {}  # the environment the current run started with
        self.files: dict[str, str] = {}  # the container's own writable layer
        self.dirs: set[str] = set()
        self.process: shell.Process | None = None  # the live script of the current run
        self.usage: usage.Usage | None = None  # the current run's cgroup accounting
        self.oom_timer: Timer | None = None  # when its memory reaches the limit

    @property
    def field_path(self) -> str:
        return f"spec.{'initContainers' if self.init else 'containers'}{{{self.name}}}"

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.busy = None


class PodRun:
    """What the kubelet runs for one pod."""

    __slots__ = ("uid", "namespace", "name", "spec", "init", "main", "ip", "sandbox",
                 "sandbox_timer", "start_time", "terminating", "done", "cond_times",
                 "pull_backoff", "pull_errors", "stop_timers", "volumes", "unready",
                 "attach_wait")

    def __init__(self, pod: Obj) -> None:
        meta = pod["metadata"]
        self.uid: str = meta["uid"]
        self.namespace: str = meta.get("namespace", "")
        self.name: str = meta["name"]
        self.spec: dict[str, Any] = pod["spec"]
        self.init = [Container(c, True) for c in self.spec.get("initContainers") or []]
        self.main = [Container(c, False) for c in self.spec.get("containers") or []]
        if not self.init:
            for c in self.main:
                c.reason = "ContainerCreating"
        else:
            self.init[0].reason = "PodInitializing"
        self.ip = ""
        self.sandbox: str | None = None  # None | creating | ready
        self.sandbox_timer: Timer | None = None
        self.start_time = ""
        self.terminating = False
        self.done = False  # terminal phase reached or removed
        self.cond_times: dict[str, tuple[str, str]] = {}
        self.pull_backoff: dict[str, tuple[float, float]] = {}  # image -> (backoff, updated)
        self.pull_errors: dict[str, str] = {}  # image -> "ErrImagePull: <CRI error>"
        self.stop_timers: list[Timer] = []
        self.volumes: dict[str, dict[str, str]] = {}  # pod-level volumes (emptyDir…)
        self.unready = False  # a fault made the pod's readiness fail (set_ready)
        self.attach_wait: float | None = None  # since when it waits for volumes to attach

    @property
    def containers(self) -> list[Container]:
        return self.init + self.main

    def container(self, name: str | None) -> Container | None:
        if name is None:
            return self.main[0] if self.main else None
        for c in self.containers:
            if c.name == name:
                return c
        return None


class Kubelet:
    """One node's kubelet: it owns the node's pods, containers, probes, status and Lease."""

    def __init__(self, cluster: Cluster, node_name: str, host_ip: str, pod_cidr: str) -> None:
        self.cluster = cluster
        self.api = cluster.api
        self.clock = cluster.clock
        self.timings = cluster.timings
        self.node_name = node_name
        self.host_ip = host_ip
        self.pod_cidr = pod_cidr
        self._net_prefix = pod_cidr.rsplit(".", 1)[0]  # 10.244.N
        self.gateway = f"{self._net_prefix}.1"  # the bridge: where probes come from
        self.host_paths: dict[str, dict[str, str]] = {}
        self._next_ip = 2
        self._ips_in_use: set[str] = set()
        self.alive = True
        self.pods: dict[str, PodRun] = {}
        self.images: set[str] = set()  # normalized references present on the node
        self._pulls: dict[str, tuple[float, float, list[tuple[PodRun, Container, float]]]] = {}
        self.status = StatusManager(self)
        self.prober = Prober(self.clock)
        # The node's /etc/cni/net.d holds a network plugin's config (sim.network.plugin):
        # a node provisioned with the plugin has it from the start.
        self.cni_configured = bool(cluster.spec.network_plugin)
        self.node_status = NodeStatus(self)

    def set_cni_configured(self, configured: bool) -> None:
        """The CNI config appeared on (or left) the node: the runtime's NetworkReady
        follows, the node's Ready condition with it, and pods waiting for the network
        get their sandboxes.

        Knowingly sooner than upstream: the kubelet there notices at its next runtime
        status check (updateRuntimeUp, every 5 s) and reports it with the next node status
        (nodeStatusUpdateFrequency, 10 s), so a node turns Ready up to ~15 s after the
        config appears; here the status is posted at once."""
        if self.cni_configured == configured:
            return
        self.cni_configured = configured
        if not self.alive:
            return
        self.node_status.post_status()
        if configured:
            for pr in list(self.pods.values()):
                if pr.sandbox is None:
                    self.sync(pr)

    # -- watch ------------------------------------------------------------------------
    def on_pod(self, etype: str, pod: Obj, old: Obj | None) -> None:
        """A change to a pod bound to this node (called from the store, so only schedule)."""
        uid = pod["metadata"]["uid"]
        if etype == "DELETED":
            pr = self.pods.pop(uid, None)
            if pr is not None:
                self._forget(pr)
            return
        if not self.alive:
            return
        pr = self.pods.get(uid)
        if pr is None:
            if pod["status"].get("phase") in ("Succeeded", "Failed"):
                return
            pr = PodRun(pod)
            self.pods[uid] = pr
            self.clock.call_soon(self._admit, pr)
            return
        if pod["metadata"].get("deletionTimestamp") and not pr.terminating:
            self.clock.call_soon(self._begin_termination, pr)
        elif old is not None and pod["spec"] is not old["spec"] and \
                pod["spec"].get("containers") != old["spec"].get("containers"):
            self.clock.call_soon(self._spec_changed, pr, pod["spec"])
        if old is not None and not pr.done and (
                pod["metadata"].get("generation") != old["metadata"].get("generation")
                or (pod["spec"].get("readinessGates") and pod["status"].get("conditions")
                    != (old.get("status") or {}).get("conditions"))):
            # The pod worker syncs on every update: a new observedGeneration to report, or a
            # readiness-gate condition someone else set that Ready depends on.
            self.status.mark_dirty(pr)
        elif old is not None and not pr.done and \
                _ready_status(pod) != _ready_status(old):
            # Ready flipped by someone else (MarkPodsNotReady) or by our own write: the
            # status manager's next syncBatch writes the kubelet's view back if it differs.
            self.status.needs_reconcile(pr)

    def _spec_changed(self, pr: PodRun, spec: dict[str, Any]) -> None:
        """A container's definition changed (a new image): restart it with the new one."""
        if pr.done or pr.terminating or not self.alive:
            return
        pr.spec = spec
        wanted = {c.get("name"): c for c in spec.get("containers") or []}
        for c in pr.main:
            new = wanted.get(c.name)
            if new is None or new == c.spec:
                continue
            c.spec = new
            if c.state == "running":
                self.kill_container(pr, c, f"Container {c.name} definition changed, "
                                    "will be restarted")
            elif c.busy in ("pulling", "pullbackoff", "pullerror", "backoff") or \
                    c.state == "waiting":
                c.cancel()
                c.backoff_updated = None
                if c.ever_ran:
                    c.state = "terminated"
                self.sync(pr)

    # -- admission and sandbox --------------------------------------------------------
    def _admit(self, pr: PodRun) -> None:
        if pr.done or not self.alive or self.pods.get(pr.uid) is not pr:
            return
        pod = self._stored(pr)
        if pod is None:
            return
        pr.start_time = self.clock.timestamp()
        if pod["metadata"].get("deletionTimestamp"):
            self._begin_termination(pr)
            return
        self.status.mark_dirty(pr)
        self.sync(pr)

    def _stored(self, pr: PodRun) -> Obj | None:
        pod = self.cluster.store.get(PODS, pr.namespace, pr.name)
        if pod is None or pod["metadata"]["uid"] != pr.uid:
            return None
        return pod

    def _allocate_ip(self) -> str:
        for _ in range(253):
            candidate = f"{self._net_prefix}.{self._next_ip}"
            self._next_ip = self._next_ip + 1 if self._next_ip < 254 else 2
            if candidate not in self._ips_in_use:
                self._ips_in_use.add(candidate)
                return candidate
        raise RuntimeError(f"node {self.node_name}: pod CIDR {self.pod_cidr} exhausted")

    def _sandbox_ready(self, pr: PodRun) -> None:
        pr.sandbox_timer = None
        if pr.done or pr.terminating or not self.alive:
            return
        pr.sandbox = "ready"
        # A hostNetwork pod shares the node's network namespace: its IP is the node's.
        pr.ip = self.host_ip if pr.spec.get("hostNetwork") else self._allocate_ip()
        self.status.mark_dirty(pr)
        self.sync(pr)

    # -- the sync loop ----------------------------------------------------------------
    def sync(self, pr: PodRun) -> None:
        """Take the next step for every container of the pod (SyncPod)."""
        if pr.done or not self.alive or pr.terminating:
            return
        if pr.sandbox is None and not self.cni_configured and \
                not pr.spec.get("hostNetwork"):
            # syncPod: "network is not ready" until a plugin has configured the node; a
            # hostNetwork pod (the plugin's own) needs no pod network.
            stored = self._stored(pr)
            if stored is not None:
                self.api.record_event(stored, "Warning", "NetworkNotReady",
                                      f"network is not ready: {NETWORK_NOT_READY}", "kubelet",
                                      self.node_name)
            return
        if pr.sandbox is None:
            if not volumes.wait_for_attach(self, pr):
                return
            pr.sandbox = "creating"
            pr.sandbox_timer = self.clock.call_later(self.timings.sandbox_start_seconds,
                                                     self._sandbox_ready, pr)
            return
        if pr.sandbox != "ready":
            return
        policy = pr.spec.get("restartPolicy", "Always")
        for c in pr.init:
            if c.state == "terminated" and c.exit_code == 0:
                continue
            if c.state == "terminated" and policy == "Never":
                self._finish_terminal(pr)
                return
            self._drive(pr, c, policy)
            return
        for c in pr.main:
            self._drive(pr, c, policy)
        if self._phase(pr) in ("Succeeded", "Failed"):
            self._finish_terminal(pr)

    def _should_restart(self, c: Container, policy: str) -> bool:
        if c.init:
            return c.exit_code != 0 and policy != "Never"
        if policy == "Always":
            return True
        if policy == "OnFailure":
            return c.exit_code != 0
        return False

    def _drive(self, pr: PodRun, c: Container, policy: str) -> None:
        if c.busy is not None or c.state == "running":
            return
        if not c.ever_ran and c.state == "waiting" and c.reason not in ("CrashLoopBackOff",):
            self._start(pr, c)
            return
        if not self._should_restart(c, policy):
            return
        # doBackOff (kuberuntime_manager.go): the back-off key is the container; the
        # reference time its last exit.
        finished = c.finished_at if c.finished_at is not None else self.clock.now
        if self._in_backoff(c, finished):
            c.state = "waiting"
            c.reason = "CrashLoopBackOff"
            pod = self._stored(pr)
            c.message = (f"back-off {go_duration(c.backoff)} restarting failed container="
                         f"{c.name} pod={pod_ref(pod) if pod else pr.name}")
            c.busy = "backoff"
            self._backoff_sync(pr, c, finished)
            self.status.mark_dirty(pr)
            return
        self._next_backoff(c, finished)
        self._start(pr, c)

    def _in_backoff(self, c: Container, finished: float) -> bool:
        if c.backoff_updated is None:
            return False
        if finished - c.backoff_updated > self.timings.crashloop_reset_after:
            return False  # ran long enough: the back-off is forgotten
        return self.clock.now - finished < c.backoff

    def _next_backoff(self, c: Container, finished: float) -> None:
        t = self.timings
        if c.backoff_updated is None or finished - c.backoff_updated > t.crashloop_reset_after:
            c.backoff = t.crashloop_initial_backoff
        else:
            c.backoff = min(c.backoff * 2, t.crashloop_max_backoff)
        c.backoff_updated = self.clock.now

    def _resync_delay(self) -> float:
        """pod_workers.go completeWork: a sync that failed (a container in back-off) is
        retried after wait.Jitter(backOffPeriod, 0.5), i.e. in [10 s, 15 s)."""
        return self.timings.pod_worker_backoff * (1 + 0.5 * self.clock.rng.random())

    def _backoff_sync(self, pr: PodRun, c: Container, finished: float) -> None:
        """One pod sync that finds the container in back-off: doBackOff records BackOff every
        time (the recorder folds the repeats into count), and the worker syncs again later.
        We restart right when the back-off ends rather than at the next such sync (upstream
        v1.34 waits for that sync; PR #133066 in v1.35 requeues at the expiry)."""
        pod = self._stored(pr)
        if pod is not None:
            self.api.record_event(
                pod, "Warning", "BackOff",
                f"Back-off restarting failed container {c.name} in pod {pod_ref(pod)}",
                COMPONENT, self.node_name, c.field_path)
        remaining = max(finished + c.backoff - self.clock.now, 0.0)
        delay = self._resync_delay()
        if delay < remaining:
            c.timer = self.clock.call_later(delay, self._backoff_resync, pr, c, finished)
        else:
            c.timer = self.clock.call_later(remaining, self._backoff_over, pr, c)

    def _backoff_resync(self, pr: PodRun, c: Container, finished: float) -> None:
        c.timer = None
        if pr.done or pr.terminating or not self.alive:
            c.busy = None
            return
        self._backoff_sync(pr, c, finished)

    def _backoff_over(self, pr: PodRun, c: Container) -> None:
        c.timer = None
        c.busy = None
        if pr.done or pr.terminating or not self.alive:
            return
        self._next_backoff(c, c.finished_at if c.finished_at is not None else self.clock.now)
        self._start(pr, c)

    # -- image pull -------------------------------------------------------------------
    def event(self, pr: PodRun, c: Container | None, etype: str, reason: str, message: str
              ) -> None:
        pod = self._stored(pr)
        if pod is not None:
            self.api.record_event(pod, etype, reason, message, COMPONENT, self.node_name,
                                  c.field_path if c is not None else None)

    def _start(self, pr: PodRun, c: Container) -> None:
        """EnsureImageExists, then create and start the container."""
        image = c.spec.get("image") or ""
        ref = images.parse_image(image)
        present = ref.normalized in self.images
        policy = c.spec.get("imagePullPolicy") or "IfNotPresent"
        if policy == "Never" or (policy == "IfNotPresent" and present):
            if not present:
                msg = f'Container image "{image}" is not present with pull policy of Never'
                self.event(pr, c, "Warning", "ErrImageNeverPull", msg)
                self._waiting(pr, c, "ErrImageNeverPull", msg)
                return
            self.event(pr, c, "Normal", "Pulled",
                        f'Container image "{image}" already present on machine')
            self._create(pr, c)
            return
        backoff, updated = pr.pull_backoff.get(image, (0.0, -1e18))
        if self.clock.now - updated < backoff - 1e-9:
            msg = f'Back-off pulling image "{image}"'
            self.event(pr, c, "Normal", "BackOff", msg)
            self.event(pr, c, "Warning", "Failed", "Error: ImagePullBackOff")
            # image_manager.go: only the status message carries the previous pull error.
            previous = pr.pull_errors.get(image)
            self._waiting(pr, c, "ImagePullBackOff", f"{msg}: {previous}" if previous else msg)
            c.busy = "pullbackoff"
            # Each pod worker resync inside the back-off reports it again (BackOff and
            # Failed fold into count); the pull is retried once the back-off ends.
            c.timer = self.clock.call_later(
                min(updated + backoff - self.clock.now, self._resync_delay()), self._retry, pr, c)
            return
        pr.pull_errors.pop(image, None)
        self.event(pr, c, "Normal", "Pulling", f'Pulling image "{image}"')
        c.busy = "pulling"
        if not images.image_exists(image, self.cluster.spec.missing_images):
            c.timer = self.clock.call_later(min(1.0, self.timings.image_pull_seconds),
                                            self._pull_failed, pr, c)
            return
        key = ref.normalized
        if key in self._pulls:
            self._pulls[key][2].append((pr, c, self.clock.now))
            return
        duration = self.timings.image_pull_seconds
        if present:  # Always: the registry is asked again, the layers are already here
            duration = duration / 4
        self._pulls[key] = (self.clock.now, duration, [(pr, c, self.clock.now)])
        self.clock.call_later(duration, self._pull_done, key)

    def _waiting(self, pr: PodRun, c: Container, reason: str, message: str) -> None:
        if c.ever_ran and c.state == "terminated":
            # A restarting container keeps showing how it last ended until it runs again.
            pass
        c.state, c.reason, c.message = "waiting", reason, message
        self.status.mark_dirty(pr)

    def _retry(self, pr: PodRun, c: Container) -> None:
        c.timer = None
        c.busy = None
        if pr.done or pr.terminating or not self.alive:
            return
        self._start(pr, c)

    def _pull_failed(self, pr: PodRun, c: Container) -> None:
        c.timer = None
        if pr.done or pr.terminating or not self.alive:
            c.busy = None
            return
        image = c.spec.get("image") or ""
        err = images.pull_error(image)
        self.event(pr, c, "Warning", "Failed", f'Failed to pull image "{image}": {err}')
        self.event(pr, c, "Warning", "Failed", "Error: ErrImagePull")
        t = self.timings
        backoff, updated = pr.pull_backoff.get(image, (0.0, None))  # type: ignore[arg-type]
        if updated is None or self.clock.now - updated > 2 * t.image_pull_max_backoff:
            backoff = t.image_pull_initial_backoff
        else:
            backoff = min(backoff * 2, t.image_pull_max_backoff)
        pr.pull_backoff[image] = (backoff, self.clock.now)
        pr.pull_errors[image] = f"ErrImagePull: {err}"
        self._waiting(pr, c, "ErrImagePull", err)
        # The pod worker syncs again shortly and then reports the back-off.
        c.busy = "pullerror"
        c.timer = self.clock.call_later(1.0, self._retry, pr, c)

    def _pull_done(self, key: str) -> None:
        began, duration, waiters = self._pulls.pop(key)
        self.images.add(key)
        for pr, c, since in waiters:
            if pr.done or pr.terminating or c.busy != "pulling" or not self.alive:
                continue
            c.busy = None
            image = c.spec.get("image") or ""
            pulled = self.clock.now - max(began, since)
            waited = self.clock.now - since
            self.event(pr, c, "Normal", "Pulled",
                        f'Successfully pulled image "{image}" in {go_duration(pulled)} '
                        f"({go_duration(waited)} including waiting). Image size: "
                        f"{images.image_size(image)} bytes.")
            self._create(pr, c)

    # -- containers -------------------------------------------------------------------
    def _create(self, pr: PodRun, c: Container) -> None:
        c.busy = "creating"
        c.timer = self.clock.call_later(self.timings.container_start_seconds,
                                        self._run_container, pr, c)

    def _run_container(self, pr: PodRun, c: Container) -> None:
        c.timer = None
        c.busy = None
        if pr.done or pr.terminating or not self.alive:
            return
        c.env = pods.container_env(self, pr, c)
        c.files, c.dirs = {}, set()
        plan = images.plan_for(c.spec)
        if c.ever_ran:
            c.restart_count += 1
            c.last_term = c.term
        c.term = None
        cid = f"{self.cluster.clock.rng.getrandbits(256):064x}"
        c.container_id = f"containerd://{cid}"
        c.image_id = images.image_id(c.spec.get("image") or "")
        c.plan = plan
        c.run += 1
        c.prev_logs, c.logs = c.logs, []
        c.ever_ran = True
        self.event(pr, c, "Normal", "Created", f"Created container: {c.name}")
        if plan.start_error:
            self.event(pr, c, "Warning", "Failed", f"Error: {plan.start_error}")
            c.started_at = None
            self._terminate_container(c, plan.exit_code, "StartError", plan.start_error)
            self.status.mark_dirty(pr)
            self.sync(pr)
            return
        self.event(pr, c, "Normal", "Started", f"Started container {c.name}")
        c.state, c.reason, c.message = "running", "", ""
        c.started_at = self.clock.now
        c.finished_at = None
        self._start_usage(pr, c)
        c.started = not c.spec.get("startupProbe")
        c.ready = c.started and not c.spec.get("readinessProbe") and not c.init \
            and not pr.unready
        self.prober.start(self, pr, c)
        for offset, line in plan.output:
            if offset <= 0:
                c.logs.append((self.clock.now, line))
            else:
                self.clock.call_later(offset, self._log_line, c, c.run, line)
        if plan.runs_for is not None and plan.script is None:
            self.clock.call_later(plan.runs_for, self.process_exited, pr, c, c.run,
                                  plan.exit_code)
        self.status.mark_dirty(pr)
        if plan.cni_config and not self.cni_configured:
            self.set_cni_configured(True)  # kindnetd wrote /etc/cni/net.d on this node
        if plan.script is not None:
            # Last: it may exit at once, and it runs before any probe looks at it.
            self._start_process(pr, c, plan.script)

    def _log_line(self, c: Container, run: int, line: str) -> None:
        if c.run == run and c.state == "running":
            c.logs.append((self.clock.now, line))

    # -- resource use (cAdvisor's view of the container's cgroup) ------------------------
    def workload_cost(self, pr: PodRun) -> usage.Cost:
        pod = self.cluster.store.get(PODS, pr.namespace, pr.name)
        return usage.cost_of(usage.workload_annotations(self.cluster.store, pod))

    def _start_usage(self, pr: PodRun, c: Container) -> None:
        cpu, memory = usage.limits_of(c.spec)
        family = images.parse_image(c.spec.get("image") or "").family
        c.usage = usage.Usage(self.clock.now, usage.idle_of(family), cpu, memory,
                              self.workload_cost(pr))
        self._arm_oom(pr, c)

    def refresh_usage(self, pr: PodRun, c: Container) -> None:
        """Pick up a changed cost (the workload's annotations) for a running container."""
        if c.usage is None or c.state != "running":
            return
        cost = self.workload_cost(pr)
        if cost != c.usage.cost:
            c.usage.set_growth(self.clock.now, cost)
            self._arm_oom(pr, c)

    def _arm_oom(self, pr: PodRun, c: Container) -> None:
        if c.oom_timer is not None:
            c.oom_timer.cancel()
            c.oom_timer = None
        at = c.usage.oom_at(self.clock.now) if c.usage is not None else None
        if at is not None:
            c.oom_timer = self.clock.call_at(at, self._out_of_memory, pr, c, c.run)

    def _out_of_memory(self, pr: PodRun, c: Container, run: int) -> None:
        """The kernel's OOM killer ends the container's process when its cgroup's memory
        reaches the limit: the runtime reports reason OOMKilled, exit code 137 (128 +
        SIGKILL), and the pod's restart policy and back-off apply as for any exit."""
        c.oom_timer = None
        if c.run != run or c.state != "running" or pr.done or c.usage is None:
            return
        limit = c.usage.limit_memory
        if limit is None or c.usage.memory(self.clock.now) < limit - 1:
            self._arm_oom(pr, c)  # the growth changed since: not yet
            return
        self.container_exited(pr, c, 137, "OOMKilled")

    def charge_request(self, pr: PodRun, c: Container,
                       cpu: tuple[float, float] | None = None,
                       memory: tuple[int, float] | None = None) -> None:
        """What serving one request costs the container (see usage.py): what the image
        says it burns (resource-consumer's ConsumeCPU: cores, seconds; ConsumeMem: bytes,
        seconds), else the workload's cost annotations."""
        self.charge_requests(pr, c, [self.clock.now], cpu, memory)

    def charge_requests(self, pr: PodRun, c: Container, times: list[float],
                        cpu: tuple[float, float] | None = None,
                        memory: tuple[int, float] | None = None) -> None:
        """``charge_request`` for one request made at each of ``times`` (ascending)."""
        if c.usage is None or not times:
            return
        usage = c.usage
        if cpu is None and memory is None:
            cost = self.workload_cost(pr)
            cpu = (cost.cpu, cost.duration)
            memory = (cost.memory, -1.0) if cost.memory else None  # -1: held for good
        if cpu is not None:
            usage.charge_many(times, *cpu)
        if memory is not None:
            for at in times:
                usage.hold(at, memory[0], None if memory[1] < 0 else memory[1])
            self._arm_oom(pr, c)

    # -- a script as the container's live process ---------------------------------------
    def _start_process(self, pr: PodRun, c: Container, script: str) -> None:
        """The script runs on the cluster clock: each command at its own instant, each line
        logged when written; it first runs the instant the container starts."""
        ctx = pods.shell_context(self, pr, c)
        run = c.run
        ctx.write = lambda _stream, line: self._log_line(c, run, line)
        c.process = shell.Process(script, ctx)
        self._step_process(pr, c, run)

    def _step_process(self, pr: PodRun, c: Container, run: int) -> None:
        process = c.process
        if c.run != run or c.state != "running" or pr.done or process is None:
            return
        wait = process.resume()
        if wait is None:
            c.process = None
            self.process_exited(pr, c, run, int(process.exit_code or 0))
        elif wait != shell.FOREVER:
            self.clock.call_later(wait, self._step_process, pr, c, run)

    @staticmethod
    def _stop_process(c: Container) -> None:
        """The container is killed: its process runs no further."""
        process, c.process = c.process, None
        if process is not None and not process.exited:
            try:
                process.stop()
            except ValueError:  # stopped from inside its own step: it ends as that returns
                pass

    def process_exited(self, pr: PodRun, c: Container, run: int, code: int) -> None:
        """The process of run ``run`` ended with ``code`` (stale runs are ignored)."""
        if c.run != run or c.state != "running" or pr.done:
            return
        self.container_exited(pr, c, code)

    def container_exited(self, pr: PodRun, c: Container, code: int,
                         reason: str | None = None, message: str = "") -> None:
        """The container's main process ended (on its own, killed, or crashed)."""
        if reason is None:
            reason = "Completed" if code == 0 else "Error"
        self._terminate_container(c, code, reason, message)
        self.prober.stop(c)
        if not self.alive:
            return  # nobody notices until the kubelet is back
        self.status.mark_dirty(pr)
        if not pr.terminating:
            self.sync(pr)

    def _terminate_container(self, c: Container, code: int, reason: str, message: str) -> None:
        self._stop_process(c)
        if c.oom_timer is not None:
            c.oom_timer.cancel()
            c.oom_timer = None
        c.state = "terminated"
        c.exit_code = code
        c.reason = reason
        c.message = message
        c.finished_at = self.clock.now
        c.ready = False
        c.started = False
        c.term = self._terminated_state(c)

    def _terminated_state(self, c: Container) -> dict[str, Any]:
        term: dict[str, Any] = {"exitCode": c.exit_code, "reason": c.reason}
        if c.message:
            term["message"] = c.message
        term["startedAt"] = self.clock.timestamp(c.started_at) if c.started_at is not None \
            else self.clock.timestamp(0) if c.reason == "StartError" else None
        term["finishedAt"] = self.clock.timestamp(c.finished_at)
        if c.container_id:
            term["containerID"] = c.container_id
        if c.reason == "StartError":
            term["startedAt"] = "1970-01-01T00:00:00Z"
        return term

    def kill_container(self, pr: PodRun, c: Container, message: str,
                       probe: dict[str, Any] | None = None) -> None:
        """Stop a running container so it restarts (a failed liveness/startup probe)."""
        self.event(pr, c, "Normal", "Killing", message)
        grace = (probe or {}).get("terminationGracePeriodSeconds")
        if grace is None:
            grace = pr.spec.get("terminationGracePeriodSeconds", 30)
        plan = c.plan
        needs = None if plan is None else plan.stop_seconds
        if needs is None or needs > float(grace):
            after, code = float(grace), 137
        else:
            after, code = needs, plan.stop_exit_code if plan else 0
        c.ready = False
        self.status.mark_dirty(pr)
        self.clock.call_later(after, self.process_exited, pr, c, c.run, code)

    def signal(self, pr: PodRun, c: Container, signal: int) -> None:
        """A signal to the container's PID 1 from inside (``kill 1``): a process that has
        no handler for it ignores it, as PID 1 in a PID namespace does."""
        plan = c.plan
        if plan is None or plan.stop_seconds is None or signal == 9:
            return
        self.clock.call_later(plan.stop_seconds, self.process_exited, pr, c, c.run,
                              plan.stop_exit_code)

    def crash(self, pr: PodRun, c: Container, exit_code: int = 1) -> None:
        if c.state != "running":
            raise errors.bad_request(
                f'container "{c.name}" in pod "{pr.name}" is not running')
        self.container_exited(pr, c, exit_code)

    # -- termination ------------------------------------------------------------------
    def _begin_termination(self, pr: PodRun) -> None:
        if pr.done or pr.terminating or not self.alive:
            return
        pod = self._stored(pr)
        if pod is None:
            return
        pr.terminating = True
        if pr.sandbox_timer is not None:
            pr.sandbox_timer.cancel()
        grace = float(pod["metadata"].get("deletionGracePeriodSeconds",
                                           pr.spec.get("terminationGracePeriodSeconds", 30)))
        pending = 0
        for c in pr.containers:
            c.cancel()
            if c.state != "running":
                continue
            self.event(pr, c, "Normal", "Killing", f"Stopping container {c.name}")
            plan = c.plan
            needs = None if plan is None else plan.stop_seconds
            if needs is None or needs > grace:
                after, code = grace, 137
            else:
                after, code = needs, plan.stop_exit_code if plan else 0
            pending += 1
            pr.stop_timers.append(self.clock.call_later(after, self._stopped, pr, c, c.run,
                                                        code))
        if not pending:
            self._terminated(pr)

    def _stopped(self, pr: PodRun, c: Container, run: int, code: int) -> None:
        if c.run == run and c.state == "running":
            self._terminate_container(c, code, "Completed" if code == 0 else "Error", "")
            self.prober.stop(c)
        if not self.alive:
            return
        if all(x.state != "running" for x in pr.containers):
            self._terminated(pr)

    def _terminated(self, pr: PodRun) -> None:
        """Every container has stopped: report the final status and let the pod go."""
        for c in pr.containers:
            if c.state == "waiting" and not c.ever_ran:
                c.reason = c.reason or "ContainerCreating"
        self.status.write(pr)
        pr.done = True
        self._release(pr)
        try:
            self.api.finish_delete(PODS, pr.namespace, pr.name)
        except errors.StatusError:
            pass

    def _finish_terminal(self, pr: PodRun) -> None:
        """restartPolicy Never/OnFailure: the pod ended; its containers won't run again."""
        self.status.write(pr)
        pr.done = True
        self._release(pr)

    def _release(self, pr: PodRun) -> None:
        if pr.ip and pr.ip != self.host_ip:
            self._ips_in_use.discard(pr.ip)

    def _forget(self, pr: PodRun) -> None:
        pr.done = True
        if pr.sandbox_timer is not None:
            pr.sandbox_timer.cancel()
        for c in pr.containers:
            c.cancel()
            self._stop_process(c)
            if c.state == "running":
                c.state = "terminated"
                self.prober.stop(c)
        for t in pr.stop_timers:
            t.cancel()
        self._release(pr)

    # -- failure and recovery ---------------------------------------------------------
    def fail(self) -> None:
        """The kubelet stops: no status, no restarts; running containers keep running."""
        self.alive = False
        for pr in self.pods.values():
            if pr.sandbox_timer is not None:
                pr.sandbox_timer.cancel()
                pr.sandbox_timer = None
                pr.sandbox = None
            for c in pr.containers:
                if c.busy is not None:
                    c.cancel()
            for t in pr.stop_timers:
                t.cancel()
            pr.stop_timers.clear()

    def set_ready(self, pr: PodRun, ready: bool) -> None:
        """Fault: the pod's readiness starts failing (its readiness endpoint answers 503) or
        recovers. Without a readiness probe the containers turn unready at once."""
        pr.unready = not ready
        for c in pr.main:
            if c.state != "running":
                continue
            probed = self.prober.readiness(c)
            if probed is None:
                c.ready = c.started and ready
            elif not ready:
                continue  # the probe notices after failureThreshold periods
            else:
                c.ready = probed
        self.status.mark_dirty(pr)

    def recover(self) -> None:
        """The kubelet is back: it renews its Lease, posts its node status, relists its pods
        and carries on from what it finds."""
        if self.alive:
            return
        self.alive = True
        self._relist()
        self.node_status.renew_lease()
        self.node_status.post_status(force=True)

    def _relist(self) -> None:
        store = self.cluster.store
        seen: set[str] = set()
        for pod in list(store.iter(PODS)):
            if pod["spec"].get("nodeName") != self.node_name:
                continue
            uid = pod["metadata"]["uid"]
            seen.add(uid)
            pr = self.pods.get(uid)
            if pr is None:
                if pod["status"].get("phase") in ("Succeeded", "Failed"):
                    continue
                pr = PodRun(pod)
                self.pods[uid] = pr
                self.clock.call_soon(self._admit, pr)
                continue
            if pr.done:
                continue
            if pod["metadata"].get("deletionTimestamp"):
                pr.terminating = False
                self.clock.call_soon(self._begin_termination, pr)
                continue
            self.status.mark_dirty(pr)
            self.clock.call_soon(self.sync, pr)
        for uid in [u for u in self.pods if u not in seen]:
            self._forget(self.pods.pop(uid))

    # -- status -----------------------------------------------------------------------
    def _phase(self, pr: PodRun) -> str:
        """getPhase (pkg/kubelet/kubelet_pods.go)."""
        policy = pr.spec.get("restartPolicy", "Always")
        for c in pr.init:
            if c.state == "terminated" and c.exit_code == 0:
                continue
            if c.state == "terminated" and policy == "Never":
                return "Failed"
            return "Pending"
        running = waiting = stopped = succeeded = 0
        for c in pr.main:
            if c.state == "running":
                running += 1
            elif c.state == "terminated":
                stopped += 1
                if c.exit_code == 0:
                    succeeded += 1
            elif c.ever_ran:
                stopped += 1
                if c.term and c.term.get("exitCode") == 0:
                    succeeded += 1
            else:
                waiting += 1
        if waiting:
            return "Pending"
        if running:
            return "Running"
        if stopped:
            if pr.terminating:
                return "Succeeded" if stopped == succeeded else "Failed"
            if policy == "Always":
                return "Running"
            if stopped == succeeded:
                return "Succeeded"
            if policy == "Never":
                return "Failed"
            return "Running"
        return "Pending"

    def _condition(self, pr: PodRun, ctype: str, status: str, reason: str = "",
                   message: str = "", generation: int = 0) -> dict[str, Any]:
        previous = pr.cond_times.get(ctype)
        if previous is None or previous[0] != status:
            pr.cond_times[ctype] = (status, self.clock.timestamp())
        cond: dict[str, Any] = {"type": ctype}
        if generation:  # PodObservedGenerationTracking (beta, on by default in v1.34)
            cond["observedGeneration"] = generation
        cond.update({"status": status, "lastProbeTime": None,
                     "lastTransitionTime": pr.cond_times[ctype][1]})
        if reason:
            cond["reason"] = reason
        if message:
            cond["message"] = message
        return cond

    def _container_status(self, pr: PodRun, c: Container) -> dict[str, Any]:
        image = c.spec.get("image") or ""
        out: dict[str, Any] = {"name": c.name}
        if c.state == "running":
            out["state"] = {"running": {"startedAt": self.clock.timestamp(c.started_at)}}
        elif c.state == "terminated" and c.term is not None:
            out["state"] = {"terminated": c.term}
        else:
            waiting: dict[str, Any] = {"reason": c.reason}
            if c.message:
                waiting["message"] = c.message
            out["state"] = {"waiting": waiting}
        # While waiting to run again, the last state is how the latest run ended.
        last = c.term if c.state == "waiting" and c.term is not None else c.last_term
        out["lastState"] = {"terminated": last} if last else {}
        # prober_manager.go UpdatePodStatus: a (non-sidecar) init container that exited 0 is ready.
        out["ready"] = c.ready or (c.init and c.state == "terminated" and c.exit_code == 0)
        out["restartCount"] = c.restart_count
        if c.ever_ran:
            out["image"] = images.parse_image(image).normalized
            out["imageID"] = c.image_id
            out["containerID"] = c.container_id
        else:
            out["image"] = image
            out["imageID"] = ""
        out["started"] = c.started
        # kubelet_pods.go convertToAPIContainerStatuses, with v1.34's default-on gates.
        if c.state == "running":
            out["resources"] = container_fields.resources(c.spec)
        mounts = container_fields.volume_mounts(c.spec)
        if mounts:
            out["volumeMounts"] = mounts
        if c.ever_ran:
            out["user"] = container_fields.user(pr.spec, c.spec)
        return out

    def build_status(self, pr: PodRun, current: dict[str, Any], generation: int = 0
                     ) -> dict[str, Any]:
        """The pod status the kubelet reports; ``generation`` is the pod's
        metadata.generation, echoed as observedGeneration (PodObservedGenerationTracking)."""
        status = {"observedGeneration": generation, **current} if generation else dict(current)
        if generation:
            status["observedGeneration"] = generation  # it may have been stored already
        phase = self._phase(pr)
        status["phase"] = phase
        unready = [c.name for c in pr.main if not c.ready]
        incomplete = [c.name for c in pr.init
                      if not (c.state == "terminated" and c.exit_code == 0)]
        gen = generation
        conds = [self._condition(pr, "PodReadyToStartContainers",
                                 "True" if pr.sandbox == "ready" and not pr.done else "False",
                                 generation=gen)]
        if phase == "Succeeded":
            conds.append(self._condition(pr, "Initialized", "True", "PodCompleted",
                                         generation=gen))
        elif incomplete:
            conds.append(self._condition(pr, "Initialized", "False", "ContainersNotInitialized",
                                         f"containers with incomplete status: "
                                         f"[{' '.join(incomplete)}]", gen))
        else:
            conds.append(self._condition(pr, "Initialized", "True", generation=gen))
        if phase in ("Succeeded", "Failed"):
            # generate.go ...ConditionForTerminalPhase: no message, whatever the containers say.
            reason = "PodCompleted" if phase == "Succeeded" else "PodFailed"
            ready = [self._condition(pr, t, "False", reason, generation=gen)
                     for t in ("Ready", "ContainersReady")]
        elif unready:
            msg = f"containers with unready status: [{' '.join(unready)}]"
            ready = [self._condition(pr, t, "False", "ContainersNotReady", msg, gen)
                     for t in ("Ready", "ContainersReady")]
        else:
            gates = _unready_gates(pr.spec, current.get("conditions") or [])
            ready = [self._condition(pr, "Ready", "False", "ReadinessGatesNotReady",
                                     ", ".join(gates), gen) if gates
                     else self._condition(pr, "Ready", "True", generation=gen),
                     self._condition(pr, "ContainersReady", "True", generation=gen)]
        conds += ready
        # mergePodStatus: conditions the kubelet does not own (DisruptionTarget, readiness
        # gates) come first, in stored order; then the kubelet's, PodScheduled last.
        others = [c for c in current.get("conditions") or []
                  if c.get("type") not in _KUBELET_CONDITIONS and c.get("type") != "PodScheduled"]
        scheduled = next((c for c in current.get("conditions") or []
                          if c.get("type") == "PodScheduled"), None)
        if scheduled is None:
            scheduled = {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                         "lastTransitionTime": pr.start_time}
        if gen:
            # generateAPIPodStatus regenerates PodScheduled=True with the pod's generation too.
            scheduled = {"type": "PodScheduled", "observedGeneration": gen,
                         **{k: v for k, v in scheduled.items()
                            if k not in ("type", "observedGeneration")}}
        status["conditions"] = others + conds + [scheduled]
        status["hostIP"] = self.host_ip
        status["hostIPs"] = [{"ip": self.host_ip}]
        if pr.ip:
            status["podIP"] = pr.ip
            status["podIPs"] = [{"ip": pr.ip}]
        if pr.start_time:
            status["startTime"] = pr.start_time
        if pr.init:
            status["initContainerStatuses"] = [self._container_status(pr, c) for c in pr.init]
        status["containerStatuses"] = [self._container_status(pr, c) for c in pr.main]
        return status
