"""kube-scheduler: place pending pods on nodes, or say why none fits.

The filter and score plugins follow the default profile (pkg/scheduler/framework/plugins):
NodeUnschedulable, TaintToleration, NodeAffinity and NodeResourcesFit filter;
NodeResourcesFit (LeastAllocated), NodeResourcesBalancedAllocation and PodTopologySpread's
system-default spreading score; percentageOfNodesToScore limits how many feasible nodes
are scored, and ties are broken by reservoir sampling. A failure is reported with
FitError's exact aggregated message. Because a simulated cluster may hold 1,000 nodes and
30,000 pods, the scheduler keeps a cache of per-node requests updated from pod events,
caches the static filters per (tolerations, selector, affinity) signature, keeps node
data in flat lists, and schedules every pending pod of an instant in one clock event.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import Counter
from typing import Any

from kclusterkit.kube.meta import Obj, clone, controller_of
from kclusterkit.kube.quantity import cpu_millis, memory_bytes
from kclusterkit.sim import errors, volumebinding
from kclusterkit.sim.kinds.pods import pod_requests
from kclusterkit.sim.podtopology import (
    UNRESOLVABLE,
    Placed,
    Topology,
    needs_topology,
    required_anti_affinity,
)
from kclusterkit.sim.preemption import Preemption, fit_error
from kclusterkit.sim.resources import NAMESPACES, NODES, PODS, PVCS, PVS

COMPONENT = "default-scheduler"
# schedutil.DefaultMilliCPURequest / DefaultMemoryRequest: what scoring assumes for a
# container that requests nothing.
DEFAULT_MILLI_CPU = 100
DEFAULT_MEMORY = 200 * 1024 * 1024
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE = 5
MAX_NODE_SCORE = 100
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"

# Filter reasons, worded as the plugins word them.
REASON_UNSCHEDULABLE = "node(s) were unschedulable"
REASON_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
REASON_TOO_MANY_PODS = "Too many pods"


# -- taints and tolerations (shared with the node lifecycle controller) -----------------


def tolerates(toleration: dict[str, Any], taint: dict[str, Any]) -> bool:
    """v1.Toleration.ToleratesTaint."""
    effect = toleration.get("effect")
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key")
    if key and key != taint.get("key"):
        return False
    op = toleration.get("operator") or "Equal"
    if op == "Exists":
        return True
    return (toleration.get("value") or "") == (taint.get("value") or "")


def untolerated(taints: list[dict[str, Any]], tolerations: list[dict[str, Any]],
                effects: tuple[str, ...] = ("NoSchedule", "NoExecute")) -> dict[str, Any] | None:
    """FindMatchingUntoleratedTaint: the first taint of ``effects`` no toleration tolerates."""
    for taint in taints:
        if taint.get("effect") not in effects:
            continue
        if not any(tolerates(t, taint) for t in tolerations):
            return taint
    return None


def _match_expression(labels: dict[str, str], expr: dict[str, Any]) -> bool:
    key, op, values = expr.get("key", ""), expr.get("operator"), expr.get("values") or []
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt"):
        try:
            have, want = int(labels[key]), int(values[0])
        except (KeyError, ValueError, IndexError):
            return False
        return have > want if op == "Gt" else have < want
    return False


def _term_matches(node: Obj, term: dict[str, Any]) -> bool:
    labels = node["metadata"].get("labels") or {}
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False  # an empty term matches nothing
    for expr in exprs:
        if not _match_expression(labels, expr):
            return False
    for expr in fields:
        if expr.get("key") == "metadata.name" and \
                not _match_expression({"metadata.name": node["metadata"]["name"]}, expr):
            return False
    return True


def node_matches(node: Obj, spec: dict[str, Any]) -> bool:
    """The pod spec's nodeSelector and required node affinity accept the node
    (nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)); the DaemonSet controller's
    predicates use it too."""
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    affinity = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution")
    return affinity is None or any(_term_matches(node, term)
                                   for term in affinity.get("nodeSelectorTerms") or [])


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = version.lstrip("v").split("-", 1)[0].split(".")
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        return (1, 34, 0)


def num_feasible_nodes_to_find(num_all_nodes: int, percentage: int = 0) -> int:
    """numFeasibleNodesToFind (schedule_one.go) with percentageOfNodesToScore unset."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    adaptive = percentage
    if adaptive <= 0:
        adaptive = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE)
    num = num_all_nodes * adaptive // 100
    return max(num, MIN_FEASIBLE_NODES_TO_FIND)


class _Nodes:
    """The scheduler cache's node side, as flat lists indexed by node position."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.index: dict[str, int] = {}
        self.objs: list[Obj | None] = []
        self.alloc_cpu: list[int] = []
        self.alloc_mem: list[int] = []
        self.alloc_pods: list[int] = []
        self.req_cpu: list[int] = []  # sum of requests of pods on the node (fit)
        self.req_mem: list[int] = []
        self.nz_cpu: list[int] = []  # the same with non-zero defaults (scoring)
        self.nz_mem: list[int] = []
        self.pods: list[int] = []
        self.generation = 0

    def add(self, name: str) -> int:
        idx = len(self.names)
        self.names.append(name)
        self.index[name] = idx
        for lst in (self.alloc_cpu, self.alloc_mem, self.alloc_pods, self.req_cpu,
                    self.req_mem, self.nz_cpu, self.nz_mem, self.pods):
            lst.append(0)
        self.objs.append(None)
        return idx


class _Queued:
    __slots__ = ("key", "uid", "priority", "seq", "attempts", "backoff_until", "since",
                 "last_message", "error", "topology")

    def __init__(self, key: tuple[str, str], uid: str, priority: int, seq: int) -> None:
        self.key = key
        self.uid = uid
        self.priority = priority
        self.seq = seq
        self.attempts = 0
        self.backoff_until = 0.0
        self.since = 0.0
        self.last_message = ""
        self.error = False  # failed with an error (podErrorBackoffQ), not as unschedulable
        self.topology = False  # rejected by PodTopologySpread / InterPodAffinity


class Scheduler:
    # Pods one scheduling event may schedule before it yields (see _cycle).
    CYCLE_PODS = 100

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.api = cluster.api
        self.store = cluster.store
        self.clock = cluster.clock
        self.timings = cluster.timings
        self.nodes = _Nodes()
        # assigned pod key -> (node idx, cpu, mem, nz cpu, nz mem, owner uid)
        self.assigned: dict[tuple[str, str], tuple[int, int, int, int, int, str]] = {}
        self.owner_counts: dict[str, dict[int, int]] = {}
        # assigned pods with a required anti-affinity (every later pod is checked against them)
        self.anti_pods: set[tuple[str, str]] = set()
        # priorities of the assigned pods (preemption looks for lower ones only if any)
        self.assigned_priority: dict[tuple[str, str], int] = {}
        self.priority_counts: Counter[int] = Counter()
        self.active: dict[tuple[str, str], _Queued] = {}
        self.backoff: dict[tuple[str, str], _Queued] = {}
        self.unschedulable: dict[tuple[str, str], _Queued] = {}
        # pods nominated to a node by preemption (status.nominatedNodeName), as the
        # scheduler's PodNominator: key -> (node idx, priority, cpu, mem)
        self.nominated: dict[tuple[str, str], tuple[int, int, int, int]] = {}
        self.preemption = Preemption(self)
        self._seq = 0
        self._static: dict[Any, tuple[int, list[int], Counter[str], set[int]]] = {}
        self._next_start = 0
        self._cycle_timer: Any = None
        self._backoff_timer: Any = None
        self.bound = 0
        self.busy_seconds = 0.0  # wall time spent in scheduling cycles (bench figures)
        for node in self.store.iter(NODES):
            self._on_node("ADDED", node, None)
        for pod in self.store.iter(PODS):
            self._on_pod("ADDED", pod, None)
        self.store.subscribe(NODES, self._on_node)
        self.store.subscribe(PODS, self._on_pod)
        # VolumeBinding's cluster events: a claim or volume change may let pods fit.
        self.store.subscribe(PVCS, lambda *_: self._move_all("PvcChange"))
        self.store.subscribe(PVS, lambda *_: self._move_all("PvChange"))
        self.clock.call_later(30.0, self._flush_unschedulable)

    # -- cache: nodes -----------------------------------------------------------------
    def _on_node(self, etype: str, obj: Obj, old: Obj | None) -> None:
        nodes = self.nodes
        name = obj["metadata"]["name"]
        idx = nodes.index.get(name)
        if etype == "DELETED":
            if idx is not None:
                nodes.objs[idx] = None
                nodes.alloc_pods[idx] = 0
                nodes.generation += 1
            return
        if idx is None:
            idx = nodes.add(name)
        elif old is not None and not self._node_changed(old, obj):
            nodes.objs[idx] = obj
            return
        nodes.objs[idx] = obj
        alloc = (obj.get("status") or {}).get("allocatable") or {}
        nodes.alloc_cpu[idx] = cpu_millis(alloc.get("cpu", 0))
        nodes.alloc_mem[idx] = memory_bytes(alloc.get("memory", 0))
        nodes.alloc_pods[idx] = int(alloc.get("pods", 0) or 0)
        nodes.generation += 1
        self._move_all("NodeChange")

    @staticmethod
    def _node_changed(old: Obj, new: Obj) -> bool:
        return (old.get("spec") != new.get("spec")
                or old["metadata"].get("labels") != new["metadata"].get("labels")
                or (old.get("status") or {}).get("allocatable")
                != (new.get("status") or {}).get("allocatable"))

    # -- cache: pods ------------------------------------------------------------------
    def _on_pod(self, etype: str, obj: Obj, old: Obj | None) -> None:
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        spec = obj["spec"]
        node = spec.get("nodeName")
        terminal = (obj.get("status") or {}).get("phase") in ("Succeeded", "Failed")
        if etype == "DELETED" or terminal or not node:
            if key in self.assigned and (etype == "DELETED" or terminal):
                self._unassign(key)
                self._move_all("AssignedPodDelete")
        self._nominate(key, obj, etype)
        if etype == "DELETED":
            self._dequeue(key)
            return
        if node:
            self._dequeue(key)
            if not terminal:
                held = self.assigned.get(key)
                if held is None or self.nodes.names[held[0]] != node:
                    if held is not None:
                        self._unassign(key)
                    self._assign(key, obj, node)
                    self._move_topology()
            return
        if spec.get("schedulerName", COMPONENT) != COMPONENT or meta.get("deletionTimestamp"):
            self._dequeue(key)
            return
        if key in self.active or key in self.backoff:
            return
        if key in self.unschedulable:
            if old is not None and old.get("spec") != spec:
                self._activate(self.unschedulable.pop(key))
            return
        self._seq += 1
        entry = _Queued(key, meta["uid"], int(spec.get("priority") or 0), self._seq)
        self._activate(entry)

    def _nominate(self, key: tuple[str, str], obj: Obj, etype: str) -> None:
        """Keep the nominator in step with a pending pod's status.nominatedNodeName."""
        name = (obj.get("status") or {}).get("nominatedNodeName")
        idx = self.nodes.index.get(name) if name else None
        if etype == "DELETED" or obj["spec"].get("nodeName") or idx is None:
            self.nominated.pop(key, None)
            return
        cpu, mem = pod_requests(obj["spec"])
        self.nominated[key] = (idx, int(obj["spec"].get("priority") or 0), cpu, mem)

    def nominated_load(self, idx: int, priority: int, pod: Obj) -> tuple[int, int, int]:
        """What pods nominated to the node with at least ``priority`` (other than ``pod``)
        hold there (RunFilterPluginsWithNominatedPods): (cpu, memory, pods)."""
        meta = pod["metadata"]
        own = (meta.get("namespace", ""), meta["name"])
        cpu = mem = count = 0
        for key, (at, prio, c, m) in self.nominated.items():
            if at == idx and prio >= priority and key != own:
                cpu, mem, count = cpu + c, mem + m, count + 1
        return cpu, mem, count

    def nominated_on(self, node: str) -> list[tuple[str, str]]:
        idx = self.nodes.index.get(node)
        return [k for k, v in self.nominated.items() if v[0] == idx]

    def requests_of(self, pod: Obj) -> tuple[int, int]:
        """(cpu, memory) the cache counts for an assigned pod."""
        meta = pod["metadata"]
        held = self.assigned.get((meta.get("namespace", ""), meta["name"]))
        return (held[1], held[2]) if held else pod_requests(pod["spec"])

    def _assign(self, key: tuple[str, str], obj: Obj, node: str) -> None:
        idx = self.nodes.index.get(node)
        if idx is None:
            return
        cpu, mem, nz_cpu, nz_mem = self._requests(obj["spec"])
        ref = controller_of(obj)
        owner = ref["uid"] if ref else ""
        self._account(idx, cpu, mem, nz_cpu, nz_mem, owner, 1)
        self.assigned[key] = (idx, cpu, mem, nz_cpu, nz_mem, owner)
        priority = int(obj["spec"].get("priority") or 0)
        self.assigned_priority[key] = priority
        self.priority_counts[priority] += 1
        if required_anti_affinity(obj["spec"]):
            self.anti_pods.add(key)

    def _unassign(self, key: tuple[str, str]) -> None:
        idx, cpu, mem, nz_cpu, nz_mem, owner = self.assigned.pop(key)
        self._account(idx, cpu, mem, nz_cpu, nz_mem, owner, -1)
        priority = self.assigned_priority.pop(key)
        self.priority_counts[priority] -= 1
        if self.priority_counts[priority] <= 0:
            del self.priority_counts[priority]
        self.anti_pods.discard(key)

    def _account(self, idx: int, cpu: int, mem: int, nz_cpu: int, nz_mem: int, owner: str,
                 sign: int) -> None:
        n = self.nodes
        n.req_cpu[idx] += sign * cpu
        n.req_mem[idx] += sign * mem
        n.nz_cpu[idx] += sign * nz_cpu
        n.nz_mem[idx] += sign * nz_mem
        n.pods[idx] += sign
        if owner:
            counts = self.owner_counts.setdefault(owner, {})
            counts[idx] = counts.get(idx, 0) + sign
            if counts[idx] <= 0:
                del counts[idx]
                if not counts:
                    del self.owner_counts[owner]

    @staticmethod
    def _requests(spec: dict[str, Any]) -> tuple[int, int, int, int]:
        cpu, mem = pod_requests(spec)
        nz_cpu = nz_mem = 0
        for c in spec.get("containers") or []:
            req = (c.get("resources") or {}).get("requests") or {}
            nz_cpu += cpu_millis(req["cpu"]) if "cpu" in req else DEFAULT_MILLI_CPU
            nz_mem += memory_bytes(req["memory"]) if "memory" in req else DEFAULT_MEMORY
        return cpu, mem, max(nz_cpu, cpu), max(nz_mem, mem)

    # -- queues -----------------------------------------------------------------------
    def _dequeue(self, key: tuple[str, str]) -> None:
        self.active.pop(key, None)
        self.backoff.pop(key, None)
        self.unschedulable.pop(key, None)

    def _activate(self, entry: _Queued) -> None:
        if entry.backoff_until > self.clock.now:
            self.backoff[entry.key] = entry
            self._arm_backoff()
            if not entry.error and self._cycle_timer is None:
                # SchedulerPopFromBackoffQ (beta, on since 1.33): an idle scheduler pops
                # from the backoffQ instead of waiting for the back-off to end.
                self._cycle_timer = self.clock.call_soon(self._cycle)
            return
        self.active[entry.key] = entry
        if self._cycle_timer is None:
            self._cycle_timer = self.clock.call_soon(self._cycle)

    def _move_all(self, _event: str) -> None:
        """MoveAllToActiveOrBackoffQueue: something changed that may let pods fit."""
        if not self.unschedulable:
            return
        waiting, self.unschedulable = self.unschedulable, {}
        for entry in sorted(waiting.values(), key=lambda e: e.seq):
            self._activate(entry)

    def _move_topology(self) -> None:
        """AssignedPodAdd, with InterPodAffinity's and PodTopologySpread's queueing hints:
        only pods those plugins rejected may fit now that another pod is placed."""
        if not self.unschedulable:
            return
        moved = [e for e in self.unschedulable.values() if e.topology]
        for entry in sorted(moved, key=lambda e: e.seq):
            del self.unschedulable[entry.key]
            self._activate(entry)

    def _arm_backoff(self) -> None:
        if not self.backoff:
            return
        when = min(e.backoff_until for e in self.backoff.values())
        if self._backoff_timer is not None:
            if self._backoff_timer.when <= when:
                return
            self._backoff_timer.cancel()
        self._backoff_timer = self.clock.call_at(when, self._backoff_expired)

    def _backoff_expired(self) -> None:
        self._backoff_timer = None
        now = self.clock.now
        for key in [k for k, e in self.backoff.items() if e.backoff_until <= now]:
            entry = self.backoff.pop(key)
            self.active[key] = entry
        if self.active and self._cycle_timer is None:
            self._cycle_timer = self.clock.call_soon(self._cycle)
        self._arm_backoff()

    def _pop_backoff(self) -> list[_Queued]:
        """activeQueue.unlockedPop with SchedulerPopFromBackoffQ: when activeQ is empty, take
        pods from podBackoffQ (earliest back-off first); podErrorBackoffQ keeps its timer."""
        popped = sorted((e for e in self.backoff.values() if not e.error),
                        key=lambda e: (e.backoff_until, e.seq))
        for entry in popped:
            del self.backoff[entry.key]
        return popped

    def _flush_unschedulable(self) -> None:
        """flushUnschedulablePodsLeftover: retry pods left unschedulable for 5 minutes."""
        self.clock.call_later(30.0, self._flush_unschedulable)
        limit = self.timings.scheduler_unschedulable_flush
        now = self.clock.now
        for key in [k for k, e in self.unschedulable.items() if now - e.since >= limit]:
            self._activate(self.unschedulable.pop(key))

    # -- scheduling cycles ------------------------------------------------------------
    def _cycle(self) -> None:
        self._cycle_timer = None
        if self.api.unavailable_reason or not self._leading():
            # The scheduler cannot reach the API server, or no kube-scheduler instance
            # holds the lease: try again in a second.
            self._cycle_timer = self.clock.call_later(1.0, self._cycle)
            return
        started = time.perf_counter()
        done = 0
        while True:
            # PrioritySort: higher priority first, then first come.
            batch = sorted(self.active.values(), key=lambda e: (-e.priority, e.seq))
            self.active.clear()
            if not batch:
                batch = self._pop_backoff()
                if not batch:
                    break
            for i, entry in enumerate(batch):
                if done >= self.CYCLE_PODS:
                    # Upstream pops one pod per cycle; the rest wait in the active queue
                    # (and are re-sorted with newcomers) for a cycle at the same instant,
                    # so one event never schedules an unbounded number of pods.
                    for left in batch[i:]:
                        self.active.setdefault(left.key, left)
                    if self._cycle_timer is None:
                        self._cycle_timer = self.clock.call_soon(self._cycle)
                    self.busy_seconds += time.perf_counter() - started
                    return
                pod = self.store.get(PODS, *entry.key)
                if pod is None or pod["metadata"]["uid"] != entry.uid or \
                        pod["spec"].get("nodeName"):
                    continue
                self._schedule_one(entry, pod)
                done += 1
        self.busy_seconds += time.perf_counter() - started

    def _leading(self) -> bool:
        """Whether an elected kube-scheduler runs (sim.controlplane); a cluster without a
        control-plane model (unit tests' fakes) always has one."""
        control_plane = getattr(self.cluster, "control_plane", None)
        return control_plane is None or control_plane.scheduler_leading()

    def _static_filter(self, pod: Obj) -> tuple[list[int], Counter[str], set[int]]:
        """NodeUnschedulable, TaintToleration and NodeAffinity, cached per signature."""
        spec = pod["spec"]
        tolerations = spec.get("tolerations") or []
        selector = spec.get("nodeSelector") or {}
        affinity = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution")
        signature = (repr(tolerations), repr(sorted(selector.items())), repr(affinity))
        nodes = self.nodes
        cached = self._static.get(signature)
        if cached is not None and cached[0] == nodes.generation:
            return cached[1], cached[2], cached[3]
        passing: list[int] = []
        reasons: Counter[str] = Counter()
        unresolvable: set[int] = set()
        key_only = version_hides_taints(self.cluster.spec.kubernetes_version)
        unschedulable_tolerated = any(
            tolerates(t, {"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule"})
            for t in tolerations)
        for idx, obj in enumerate(nodes.objs):
            if obj is None:
                continue
            node_spec = obj.get("spec") or {}
            if node_spec.get("unschedulable") and not unschedulable_tolerated:
                reasons[REASON_UNSCHEDULABLE] += 1
                unresolvable.add(idx)
                continue
            taint = untolerated(node_spec.get("taints") or [], tolerations)
            if taint is not None:
                if key_only:
                    reasons["node(s) had untolerated taint(s)"] += 1
                else:
                    reasons[f"node(s) had untolerated taint {{{taint.get('key', '')}: "
                            f"{taint.get('value', '')}}}"] += 1
                unresolvable.add(idx)
                continue
            labels = obj["metadata"].get("labels") or {}
            if any(labels.get(k) != v for k, v in selector.items()) or (
                    affinity is not None and not any(
                        _term_matches(obj, term)
                        for term in affinity.get("nodeSelectorTerms") or [])):
                reasons[REASON_AFFINITY] += 1
                unresolvable.add(idx)
                continue
            passing.append(idx)
        if len(self._static) > 4096:
            self._static.clear()
        self._static[signature] = (nodes.generation, passing, reasons, unresolvable)
        return passing, reasons, unresolvable

    def _schedule_one(self, entry: _Queued, pod: Obj) -> None:
        nodes = self.nodes
        cpu, mem, nz_cpu, nz_mem = self._requests(pod["spec"])
        passing, static_reasons, unresolvable = self._static_filter(pod)
        num_all = sum(1 for o in nodes.objs if o is not None)
        volumes = volumebinding.pre_filter(self.store, pod)
        if volumes.error is not None:
            self._fail_pre_filter(entry, pod, num_all, volumes.error)
            return
        if volumes.waiting:
            self._requeue(entry, "")  # PreBind: wait for the claims to be bound
            return
        if volumes.relevant:
            passing, static_reasons, unresolvable = self._volume_filter(
                volumes, passing, static_reasons, unresolvable)
        limit = num_feasible_nodes_to_find(num_all)
        n = len(nodes.names)
        alloc_cpu, alloc_mem, alloc_pods = nodes.alloc_cpu, nodes.alloc_mem, nodes.alloc_pods
        req_cpu, req_mem, pods = nodes.req_cpu, nodes.req_mem, nodes.pods
        found: list[int] = []
        start = self._next_start if n else 0
        processed = n
        topo = self._topology(pod)
        topo_reasons: dict[int, str] = {}
        held = self._nominated_loads(entry.key, entry.priority)
        if passing:
            pos = bisect_left(passing, start)
            order = passing[pos:] + passing[:pos]
            for idx in order:
                h_cpu, h_mem, h_pods = held.get(idx, (0, 0, 0))
                if pods[idx] + h_pods + 1 > alloc_pods[idx]:
                    continue
                if cpu and cpu > alloc_cpu[idx] - req_cpu[idx] - h_cpu:
                    continue
                if mem and mem > alloc_mem[idx] - req_mem[idx] - h_mem:
                    continue
                if topo is not None:
                    reason = topo.filter(nodes.objs[idx])
                    if reason is not None:
                        topo_reasons[idx] = reason
                        continue
                found.append(idx)
                if len(found) >= limit:
                    processed = (idx - start) % n + 1
                    break
        if n:
            self._next_start = (start + processed) % n
        if not found:
            self._fail(entry, pod, num_all, cpu, mem, passing, static_reasons, unresolvable,
                       topo_reasons, held)
            return
        own = self.nominated.get(entry.key)
        if own is not None and own[0] in found:
            # evaluateNominatedNode: a pod nominated by preemption goes where room was made.
            found = [own[0]]
        extra = None
        if topo is not None and len(found) > 1 and needs_topology(pod["spec"]):
            extra = topo.scores([nodes.objs[i] for i in found])
        chosen = self._select(found, nz_cpu, nz_mem, pod, extra) if len(found) > 1 \
            else found[0]
        if volumes.delayed:
            self._select_volume_node(entry, volumes, nodes.names[chosen])
            return
        self._bind(entry, pod, nodes.names[chosen], chosen, cpu, mem, nz_cpu, nz_mem)

    def _nominated_loads(self, key: tuple[str, str], priority: int
                         ) -> dict[int, tuple[int, int, int]]:
        """Per node, what nominated pods of at least this priority hold there."""
        out: dict[int, tuple[int, int, int]] = {}
        for other, (idx, prio, c, m) in self.nominated.items():
            if other != key and prio >= priority:
                oc, om, on = out.get(idx, (0, 0, 0))
                out[idx] = (oc + c, om + m, on + 1)
        return out

    def _topology(self, pod: Obj) -> Topology | None:
        """The inter-pod view, only for a pod that needs it or when placed pods have
        required anti-affinity (podtopology)."""
        own = needs_topology(pod["spec"])
        if not own and not self.anti_pods:
            return None
        keys = list(self.assigned) if own else sorted(self.anti_pods)
        placed = []
        for key in keys:
            other = self.store.get(PODS, *key)
            if other is not None:
                placed.append(Placed(other, self.nodes.names[self.assigned[key][0]]))

        def ns_labels(name: str) -> dict[str, str]:
            ns = self.store.get(NAMESPACES, "", name)
            return (ns or {}).get("metadata", {}).get("labels") or {}

        topo = Topology(pod, self.nodes.objs, placed, ns_labels,
                        lambda node: node_matches(node, pod["spec"]))
        topo.prepare()
        return topo

    def _select(self, found: list[int], nz_cpu: int, nz_mem: int, pod: Obj,
                extra: list[int] | None = None) -> int:
        """Score the feasible nodes and pick the best, ties by reservoir sampling."""
        nodes = self.nodes
        alloc_cpu, alloc_mem = nodes.alloc_cpu, nodes.alloc_mem
        used_cpu, used_mem = nodes.nz_cpu, nodes.nz_mem
        ref = controller_of(pod)
        counts = self.owner_counts.get(ref["uid"], {}) if ref else {}
        # PodTopologySpread with the system default constraint on kubernetes.io/hostname
        # (maxSkew 3, ScheduleAnyway): raw score (matching pods + maxSkew - 1), normalised
        # so the emptiest node scores 100. The zone constraint is skipped: our nodes carry
        # no zone label.
        spread_max = spread_min = 0
        if counts:
            values = [counts.get(i, 0) for i in found]
            spread_max, spread_min = max(values) + 2, min(values) + 2
        best = -1
        chosen = found[0]
        ties = 0
        rng = self.clock.rng
        # Nodes of one shape with the same requests score the same: remember the
        # resource scores per (allocatable, requested) within this pod's cycle.
        memo: dict[tuple[int, int, int, int], int] = {}
        for pos, idx in enumerate(found):
            ac, am = alloc_cpu[idx], alloc_mem[idx]
            c = used_cpu[idx] + nz_cpu
            m = used_mem[idx] + nz_mem
            key = (ac, am, c, m)
            score = memo.get(key, -1)
            if score < 0:
                # NodeResourcesFit, LeastAllocated (cpu and memory, weight 1 each).
                cs = (ac - c) * MAX_NODE_SCORE // ac if 0 < ac and c <= ac else 0
                ms = (am - m) * MAX_NODE_SCORE // am if 0 < am and m <= am else 0
                score = (cs + ms) // 2
                # NodeResourcesBalancedAllocation: 1 - standard deviation of the fractions.
                fc = min(c / ac, 1.0) if ac else 1.0
                fm = min(m / am, 1.0) if am else 1.0
                score += int((1 - abs(fc - fm) / 2) * MAX_NODE_SCORE)
                memo[key] = score
            if spread_max:
                s = counts.get(idx, 0) + 2
                score += 2 * (MAX_NODE_SCORE * (spread_max + spread_min - s) // spread_max)
            else:
                score += 2 * MAX_NODE_SCORE
            if extra is not None:
                score += extra[pos]
            if score > best:
                best, chosen, ties = score, idx, 1
            elif score == best:
                ties += 1
                if rng.randrange(ties) == 0:
                    chosen = idx
        return chosen

    # -- binding ----------------------------------------------------------------------
    def _bind(self, entry: _Queued, pod: Obj, node: str, idx: int, cpu: int, mem: int,
              nz_cpu: int, nz_mem: int) -> None:
        try:
            meta = pod["metadata"]
            self.api.bind(meta.get("namespace", ""), meta["name"], node)
        except errors.StatusError:
            entry.attempts += 1
            self._requeue(entry, "")
            entry.error = True
            return
        self.bound += 1
        meta = pod["metadata"]
        self.api.record_event(pod, "Normal", "Scheduled",
                              f"Successfully assigned {meta.get('namespace', '')}/"
                              f"{meta['name']} to {node}", COMPONENT)

    def _requeue(self, entry: _Queued, message: str) -> None:
        t = self.timings
        backoff = min(t.scheduler_backoff_initial * 2 ** max(entry.attempts - 1, 0),
                      t.scheduler_backoff_max)
        entry.backoff_until = self.clock.now + backoff
        entry.since = self.clock.now
        entry.last_message = message
        entry.error = False
        self.unschedulable[entry.key] = entry

    # -- failures ---------------------------------------------------------------------
    def _fail(self, entry: _Queued, pod: Obj, num_all: int, cpu: int, mem: int,
              passing: list[int], static_reasons: Counter[str], unresolvable: set[int],
              topo_reasons: dict[int, str] | None = None,
              held: dict[int, tuple[int, int, int]] | None = None) -> None:
        reasons = Counter(static_reasons)
        nodes = self.nodes
        held = held or {}
        # Nodes where the filters said Unschedulable (preemption may help), each with
        # the inter-pod reason when PodTopologySpread / InterPodAffinity rejected it.
        potential: dict[int, str | None] = {}
        for idx in passing:
            node_reasons = []
            over_capacity = False
            h_cpu, h_mem, h_pods = held.get(idx, (0, 0, 0))
            if nodes.pods[idx] + h_pods + 1 > nodes.alloc_pods[idx]:
                node_reasons.append(REASON_TOO_MANY_PODS)
            if cpu and cpu > nodes.alloc_cpu[idx] - nodes.req_cpu[idx] - h_cpu:
                node_reasons.append("Insufficient cpu")
                over_capacity = over_capacity or cpu > nodes.alloc_cpu[idx]
            if mem and mem > nodes.alloc_mem[idx] - nodes.req_mem[idx] - h_mem:
                node_reasons.append("Insufficient memory")
                over_capacity = over_capacity or mem > nodes.alloc_mem[idx]
            if not node_reasons and topo_reasons and idx in topo_reasons:
                # PodTopologySpread / InterPodAffinity run after the resource fit.
                reasons[topo_reasons[idx]] += 1
                if topo_reasons[idx] not in UNRESOLVABLE:
                    potential[idx] = topo_reasons[idx]
                continue
            for reason in node_reasons:
                reasons[reason] += 1
            # A request above what the node can ever offer is unresolvable: preemption
            # cannot help there.
            if not over_capacity:
                potential[idx] = None
        message = fit_error(num_all, reasons)
        outcome = self.preemption.preempt(pod, num_all, potential, (cpu, mem))
        if outcome.node is None:
            message += " " + self._post_filter_message("preemption: " + outcome.message)
        entry.attempts += 1
        self._requeue(entry, message)
        entry.topology = bool(topo_reasons)
        self._report_unschedulable(pod, message, outcome.node)

    def _volume_filter(self, volumes: volumebinding.VolumeCheck, passing: list[int],
                       reasons: Counter[str], unresolvable: set[int]
                       ) -> tuple[list[int], Counter[str], set[int]]:
        """VolumeBinding's Filter over the statically feasible nodes."""
        kept: list[int] = []
        reasons, unresolvable = Counter(reasons), set(unresolvable)
        for idx in passing:
            reason = volumebinding.node_reason(volumes, self.nodes.objs[idx])
            if reason is None:
                kept.append(idx)
            else:
                reasons[reason] += 1
                unresolvable.add(idx)
        return kept, reasons, unresolvable

    def _select_volume_node(self, entry: _Queued, volumes: volumebinding.VolumeCheck,
                            node: str) -> None:
        """Reserve + PreBind for delayed binding: write the chosen node on each claim and
        hold the pod until the provisioner and the binder have bound them."""
        for claim in volumes.delayed:
            updated = clone(claim)
            updated["metadata"].setdefault("annotations", {})[
                volumebinding.ANN_SELECTED_NODE] = node
            try:
                self.api.update(updated)
            except errors.StatusError:
                pass
        self._requeue(entry, "")

    def _fail_pre_filter(self, entry: _Queued, pod: Obj, num_all: int, message: str) -> None:
        """A PreFilter rejection: every node gets the same unresolvable status."""
        eligible = self.preemption.preempt(pod, num_all, {}, (0, 0))
        text = f"0/{num_all} nodes are available: {message}. " + \
            self._post_filter_message("preemption: " + eligible.message)
        entry.attempts += 1
        self._requeue(entry, text)
        self._report_unschedulable(pod, text)

    def _post_filter_message(self, preemption: str) -> str:
        """The PostFilter plugins' message when none made the pod schedulable."""
        if _version_tuple(self.cluster.spec.kubernetes_version) >= (1, 34):
            # DynamicResources (GA in v1.34) runs its PostFilter first and has nothing to
            # deallocate for a pod without claims.
            return "no new claims to deallocate, " + preemption
        return preemption

    def _report_unschedulable(self, pod: Obj, message: str, nominated: str | None = None
                              ) -> None:
        """The FailedScheduling event and the PodScheduled condition; with a successful
        preemption, status.nominatedNodeName too (updatePod in handleSchedulingFailure)."""
        self.api.record_event(pod, "Warning", "FailedScheduling", message, COMPONENT)
        if nominated:
            pod = self.store.get(PODS, pod["metadata"].get("namespace", ""),
                                 pod["metadata"]["name"]) or pod
        current = None
        for cond in (pod.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "PodScheduled":
                current = cond
        if current and current.get("status") == "False" and \
                current.get("reason") == "Unschedulable" and current.get("message") == message \
                and current.get("observedGeneration") == pod["metadata"].get("generation") \
                and not nominated:
            return
        status = clone(pod.get("status") or {})
        if nominated:
            status["nominatedNodeName"] = nominated
        cond: dict[str, Any] = {"type": "PodScheduled"}
        if pod["metadata"].get("generation"):
            # CalculatePodConditionObservedGeneration (PodObservedGenerationTracking, on in 1.34)
            cond["observedGeneration"] = pod["metadata"]["generation"]
        cond |= {"status": "False", "lastProbeTime": None,
                 "lastTransitionTime": current["lastTransitionTime"]
                 if current and current.get("status") == "False" else self.clock.timestamp(),
                 "reason": "Unschedulable", "message": message}
        status["conditions"] = [c for c in status.get("conditions") or []
                                if c.get("type") != "PodScheduled"] + [cond]
        try:
            self.api.update({**pod, "status": status}, subresource="status")
        except errors.StatusError:
            pass

    # -- figures ----------------------------------------------------------------------
    def pods_per_second(self) -> float:
        return self.bound / self.busy_seconds if self.busy_seconds else 0.0


def version_hides_taints(version: str) -> bool:
    """Since v1.34.2 (and the matching patch releases) the TaintToleration filter no
    longer names the taint in its reason (kubernetes/kubernetes#134740)."""
    v = _version_tuple(version) + (0, 0, 0)
    if v[:2] >= (1, 35):
        return True
    return v[:2] == (1, 34) and v[2] >= 2


__all__ = ["Scheduler", "fit_error", "node_matches", "num_feasible_nodes_to_find",
           "tolerates", "untolerated", "version_hides_taints"]
