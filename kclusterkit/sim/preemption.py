"""DefaultPreemption: the scheduler's PostFilter, which makes room for a pod of higher
priority by deleting pods of lower priority on one node.

It follows pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go and
pkg/scheduler/framework/preemption/preemption.go (Evaluator.Preempt):

1. ``PodEligibleToPreemptOthers``: a pod with ``preemptionPolicy: Never`` is not eligible
   ("not eligible due to preemptionPolicy=Never."), nor one whose nominated node still has
   a lower-priority pod terminating because of preemption ("not eligible due to a
   terminating pod on the nominated node.").
2. ``findCandidates``: only nodes the filters found Unschedulable (not
   UnschedulableAndUnresolvable) are tried; ``GetOffsetAndNumCandidates`` (10%, at least
   100) from a seeded offset.
3. ``SelectVictimsOnNode``: take every pod of lower priority off the node; if none,
   "No preemption victims found for incoming pod"; if the pod still does not fit, the
   filter's reason. Otherwise put pods back, most important first (``MoreImportantPod``:
   higher priority, then earlier start), those whose PodDisruptionBudget would be
   violated before the others (``filterPodsWithPDBViolation``); whatever cannot go back
   is a victim, and the violating ones are counted.
4. ``pickOneNodeForPreemption``: fewest PDB violations, lowest highest victim priority,
   smallest sum of priorities, fewest victims, latest start of the highest-priority
   victims, then the first.
5. ``prepareCandidate`` / ``PreemptPod``: each victim gets the DisruptionTarget condition
   (reason PreemptionByScheduler, "default-scheduler: preempting to accommodate a higher
   priority pod"), is deleted gracefully, and an event ``Preempted`` "Preempted by pod
   <uid> on node <node>" is recorded on it; lower-priority pods nominated to that node
   lose their nomination. The scheduler then writes ``status.nominatedNodeName``.

With no candidate, the message is FitError's over the dry run's statuses, every other node
counting as "Preemption is not helpful for scheduling".

What this model leaves out: nodes rejected by inter-pod affinity or topology spread are
tried only as far as resources go (a node whose rejection removing pods would cure keeps
its filter reason); extenders; asynchronous preemption (the API calls happen at once).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from kclusterkit.kube.meta import Obj, clone, selector_matches
from kclusterkit.sim import errors
from kclusterkit.sim.resources import PDBS, PODS

NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
NOT_ELIGIBLE_NEVER = "not eligible due to preemptionPolicy=Never."
NOT_ELIGIBLE_TERMINATING = "not eligible due to a terminating pod on the nominated node."
REASON = "PreemptionByScheduler"
# DefaultPreemptionArgs defaults (pkg/scheduler/apis/config/v1/defaults.go)
MIN_CANDIDATE_NODES_PERCENTAGE = 10
MIN_CANDIDATE_NODES_ABSOLUTE = 100


def priority(pod: Obj) -> int:
    """corev1helpers.PodPriority: spec.priority, 0 when unset."""
    return int((pod.get("spec") or {}).get("priority") or 0)


def start_time(pod: Obj) -> str:
    """util.GetPodStartTime: status.startTime (RFC 3339 strings sort as times)."""
    return (pod.get("status") or {}).get("startTime") or \
        pod["metadata"].get("creationTimestamp") or ""


def more_important(a: Obj, b: Obj) -> bool:
    """util.MoreImportantPod: higher priority, then the one that started first."""
    pa, pb = priority(a), priority(b)
    if pa != pb:
        return pa > pb
    return start_time(a) < start_time(b)


def terminating_by_preemption(pod: Obj) -> bool:
    """podTerminatingByPreemption: being deleted, with the scheduler's DisruptionTarget."""
    if not pod["metadata"].get("deletionTimestamp"):
        return False
    return any(c.get("type") == "DisruptionTarget" and c.get("reason") == REASON
               for c in (pod.get("status") or {}).get("conditions") or [])


def split_by_budget(pods: list[Obj], pdbs: list[Obj]) -> tuple[list[Obj], list[Obj]]:
    """filterPodsWithPDBViolation: (violating, non-violating), each in the given order."""
    allowed = [int((p.get("status") or {}).get("disruptionsAllowed") or 0) for p in pdbs]
    violating: list[Obj] = []
    fine: list[Obj] = []
    for pod in pods:
        labels = pod["metadata"].get("labels") or {}
        violated = False
        if labels:
            for i, pdb in enumerate(pdbs):
                if pdb["metadata"].get("namespace") != pod["metadata"].get("namespace"):
                    continue
                selector = pdb["spec"].get("selector")
                # A PDB with a nil or empty selector matches nothing.
                if not selector or not (selector.get("matchLabels")
                                        or selector.get("matchExpressions")):
                    continue
                if not selector_matches(selector, labels):
                    continue
                if pod["metadata"]["name"] in ((pdb.get("status") or {}).get(
                        "disruptedPods") or {}):
                    continue
                allowed[i] -= 1
                if allowed[i] < 0:
                    violated = True
        (violating if violated else fine).append(pod)
    return violating, fine


@dataclass
class Victims:
    node: int
    pods: list[Obj]  # most important first
    pdb_violations: int


@dataclass
class Outcome:
    """The PostFilter's result: a nominated node (success) or why preemption cannot help."""

    node: str | None
    message: str


def _sort_important(pods: list[Obj]) -> list[Obj]:
    def key(p: Obj) -> tuple[int, str]:
        return (-priority(p), start_time(p))
    return sorted(pods, key=key)


def pick_one_node(candidates: list[Victims]) -> Victims:
    """pickOneNodeForPreemption's ordered score functions; ties go to the first."""
    def highest_start(v: Victims) -> str:
        top = priority(v.pods[0])
        return min(start_time(p) for p in v.pods if priority(p) == top)

    scores = (
        lambda v: -v.pdb_violations,
        lambda v: -priority(v.pods[0]),
        lambda v: -sum(priority(p) + 2 ** 31 for p in v.pods),
        lambda v: -len(v.pods),
        highest_start,
    )
    remaining = candidates
    for score in scores:
        best = max(score(v) for v in remaining)
        remaining = [v for v in remaining if score(v) == best]
        if len(remaining) == 1:
            break
    return remaining[0]


class Preemption:
    """The DefaultPreemption PostFilter over one scheduler's cache."""

    def __init__(self, scheduler: Any) -> None:
        self.scheduler = scheduler
        self.api = scheduler.api
        self.store = scheduler.store
        self.clock = scheduler.clock

    def preempt(self, pod: Obj, num_all: int, potential: dict[int, str | None],
                requests: tuple[int, int]) -> Outcome:
        """``potential``: the node positions the filters found Unschedulable, each with the
        inter-pod reason that rejected it (None when only resources did)."""
        not_eligible = self._not_eligible(pod)
        if not_eligible:
            return Outcome(None, not_eligible)
        statuses: Counter[str] = Counter()
        candidates: list[Victims] = []
        mine = priority(pod)
        if potential and not any(p < mine for p in self.scheduler.priority_counts):
            # No assigned pod has a lower priority: every node says so, without looking
            # at each one (a full cluster of equals must not cost a pass over all pods).
            statuses[NO_VICTIMS] = len(potential)
        elif potential:
            order = sorted(potential)
            count = len(order)
            wanted = candidates_wanted(count)
            offset = self.clock.rng.randrange(count) if count > wanted else 0
            pdbs = list(self.store.iter(PDBS))
            on_node = self._pods_by_node(set(order))
            for i in range(count):
                idx = order[(offset + i) % count]
                victims, status = self._select_victims(pod, idx, potential[idx],
                                                       on_node.get(idx, []), pdbs, requests)
                if victims is None:
                    statuses[status] += 1
                    continue
                candidates.append(victims)
                if any(v.pdb_violations == 0 for v in candidates) and \
                        len(candidates) >= wanted:
                    break
        if not candidates:
            statuses[NOT_HELPFUL] += num_all - sum(statuses.values())
            return Outcome(None, fit_error(num_all, statuses))
        # Candidates that violate no budget come first (DryRunPreemption's two lists).
        candidates.sort(key=lambda v: v.pdb_violations > 0)
        best = pick_one_node(candidates)
        node = self.scheduler.nodes.names[best.node]
        self._prepare(pod, best, node)
        return Outcome(node, "")

    # -- 1. eligibility ------------------------------------------------------------------
    def _not_eligible(self, pod: Obj) -> str:
        spec = pod["spec"]
        if spec.get("preemptionPolicy") == "Never":
            return NOT_ELIGIBLE_NEVER
        nominated = (pod.get("status") or {}).get("nominatedNodeName")
        if nominated:
            mine = priority(pod)
            for other in self.store.iter(PODS):
                if other["spec"].get("nodeName") == nominated and priority(other) < mine \
                        and terminating_by_preemption(other):
                    return NOT_ELIGIBLE_TERMINATING
        return ""

    # -- 3. victims on one node ----------------------------------------------------------
    def _pods_by_node(self, wanted: set[int]) -> dict[int, list[Obj]]:
        out: dict[int, list[Obj]] = {}
        for key, held in self.scheduler.assigned.items():
            if held[0] in wanted:
                obj = self.store.get(PODS, *key)
                if obj is not None:
                    out.setdefault(held[0], []).append(obj)
        return out

    def _select_victims(self, pod: Obj, idx: int, topo_reason: str | None,
                        pods: list[Obj], pdbs: list[Obj], requests: tuple[int, int]
                        ) -> tuple[Victims | None, str]:
        mine = priority(pod)
        lower = [p for p in pods if priority(p) < mine]
        if not lower:
            return None, NO_VICTIMS
        if topo_reason is not None:
            return None, topo_reason
        sched = self.scheduler
        nodes = sched.nodes
        cpu, mem = requests
        nom_cpu, nom_mem, nom_pods = sched.nominated_load(idx, mine, pod)
        free_cpu = nodes.alloc_cpu[idx] - nodes.req_cpu[idx] - nom_cpu
        free_mem = nodes.alloc_mem[idx] - nodes.req_mem[idx] - nom_mem
        free_pods = nodes.alloc_pods[idx] - nodes.pods[idx] - nom_pods
        for p in lower:
            c, m = sched.requests_of(p)
            free_cpu, free_mem, free_pods = free_cpu + c, free_mem + m, free_pods + 1

        def fits(fc: int, fm: int, fp: int) -> bool:
            return fp >= 1 and (not cpu or cpu <= fc) and (not mem or mem <= fm)

        if not fits(free_cpu, free_mem, free_pods):
            reasons = []
            if free_pods < 1:
                reasons.append("Too many pods")
            if cpu and cpu > free_cpu:
                reasons.append("Insufficient cpu")
            if mem and mem > free_mem:
                reasons.append("Insufficient memory")
            return None, ", ".join(reasons)
        violating, fine = split_by_budget(_sort_important(lower), pdbs)
        victims: list[Obj] = []
        violations = 0

        for group, counts in ((violating, True), (fine, False)):
            for p in group:
                c, m = sched.requests_of(p)
                if fits(free_cpu - c, free_mem - m, free_pods - 1):
                    free_cpu, free_mem, free_pods = free_cpu - c, free_mem - m, free_pods - 1
                else:
                    victims.append(p)
                    violations += counts
        if violating and fine:
            victims = _sort_important(victims)
        return Victims(idx, victims, violations), ""

    # -- 5. act --------------------------------------------------------------------------
    def _prepare(self, pod: Obj, best: Victims, node: str) -> None:
        scheduler_name = pod["spec"].get("schedulerName") or "default-scheduler"
        uid = pod["metadata"]["uid"]
        for victim in best.pods:
            if victim["metadata"].get("deletionTimestamp"):
                continue
            meta = victim["metadata"]
            ns, name = meta.get("namespace", ""), meta["name"]
            status = clone(victim.get("status") or {})
            cond: dict[str, Any] = {"type": "DisruptionTarget"}
            if meta.get("generation"):
                cond["observedGeneration"] = meta["generation"]
            cond |= {"status": "True", "lastProbeTime": None,
                     "lastTransitionTime": self.clock.timestamp(), "reason": REASON,
                     "message": f"{scheduler_name}: preempting to accommodate a higher "
                                "priority pod"}
            status["conditions"] = [c for c in status.get("conditions") or []
                                    if c.get("type") != "DisruptionTarget"] + [cond]
            try:
                self.api.update({**victim, "status": status}, subresource="status")
                self.api.delete(PODS, ns, name)
            except errors.StatusError:
                continue
            self.api.record_event(victim, "Normal", "Preempted",
                                  f"Preempted by pod {uid} on node {node}", scheduler_name,
                                  related=pod, action="Preempting")
        self._clear_lower_nominations(pod, node)

    def _clear_lower_nominations(self, pod: Obj, node: str) -> None:
        """getLowerPriorityNominatedPods + clearNominatedNodeName."""
        mine = priority(pod)
        for key in self.scheduler.nominated_on(node):
            other = self.store.get(PODS, *key)
            if other is None or priority(other) >= mine or \
                    other["metadata"]["uid"] == pod["metadata"]["uid"]:
                continue
            status = clone(other.get("status") or {})
            status.pop("nominatedNodeName", None)
            try:
                self.api.update({**other, "status": status}, subresource="status")
            except errors.StatusError:
                pass


def candidates_wanted(count: int) -> int:
    """GetOffsetAndNumCandidates' number of candidates for ``count`` potential nodes."""
    return min(max(count * MIN_CANDIDATE_NODES_PERCENTAGE // 100,
                   MIN_CANDIDATE_NODES_ABSOLUTE), count)


def fit_error(num_all: int, reasons: Counter[str]) -> str:
    """FitError.Error(): ``0/N nodes are available: <sorted histogram>.``"""
    parts = sorted(f"{count} {reason}" for reason, count in reasons.items() if count)
    message = f"0/{num_all} nodes are available:"
    if parts:
        message += f" {', '.join(parts)}."
    return message
