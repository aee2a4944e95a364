"""Where a pod may go given the pods already placed: inter-pod affinity and anti-affinity,
topology spread constraints, and preferred node affinity (the scheduler's InterPodAffinity,
PodTopologySpread and NodeAffinity score plugins, pkg/scheduler/framework/plugins).

The scheduler's fast path places pods that carry none of this without looking at other
pods; a pod with affinity or spread constraints (or any pod, once some placed pod has a
required anti-affinity that could match it) goes through ``Topology``, which sees every
assigned pod's labels and node. Filters return upstream's reasons:

- ``node(s) didn't match pod affinity rules`` (UnschedulableAndUnresolvable),
- ``node(s) didn't match pod anti-affinity rules`` (Unschedulable),
- ``node(s) didn't satisfy existing pods anti-affinity rules`` (Unschedulable),
- ``node(s) didn't match pod topology spread constraints`` (Unschedulable), with
  `` (missing required label)`` when the node lacks the topology key (unresolvable).

Knowingly left out: matchLabelKeys / mismatchLabelKeys, nodeTaintsPolicy Honor, the
ScheduleAnyway spreading score for explicit constraints (such constraints never filter
and the system-default spreading still scores), and preferred pod (anti-)affinity of the
placed pods toward the incoming one (only the incoming pod's own preferences score).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from kclusterkit.kube.meta import Obj, labels_match, selector_matches

AFFINITY_NOT_MATCH = "node(s) didn't match pod affinity rules"
ANTI_AFFINITY_NOT_MATCH = "node(s) didn't match pod anti-affinity rules"
EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
SPREAD_NOT_MATCH = "node(s) didn't match pod topology spread constraints"
SPREAD_MISSING_LABEL = SPREAD_NOT_MATCH + " (missing required label)"
UNRESOLVABLE = frozenset({AFFINITY_NOT_MATCH, SPREAD_MISSING_LABEL})


def _terms(spec: dict[str, Any], kind: str, when: str) -> list[dict[str, Any]]:
    block = ((spec.get("affinity") or {}).get(kind) or {}).get(when) or []
    return [t for t in block if isinstance(t, dict)]


def required_anti_affinity(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return _terms(spec, "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution")


def node_term_matches(node: Obj, term: dict[str, Any]) -> bool:
    """A NodeSelectorTerm (matchExpressions on labels, matchFields on metadata.name); an
    empty term matches nothing."""
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False
    reqs = [(e.get("key", ""), e.get("operator", ""), tuple(e.get("values") or ()))
            for e in exprs]
    if not labels_match(node["metadata"].get("labels") or {}, reqs):
        return False
    name_reqs = [("metadata.name", e.get("operator", ""), tuple(e.get("values") or ()))
                 for e in fields if e.get("key") == "metadata.name"]
    return labels_match({"metadata.name": node["metadata"]["name"]}, name_reqs)


def needs_topology(spec: dict[str, Any]) -> bool:
    """The pod has rules about other pods, or spreads, or prefers nodes."""
    affinity = spec.get("affinity") or {}
    return bool(affinity.get("podAffinity") or affinity.get("podAntiAffinity")
                or spec.get("topologySpreadConstraints")
                or (affinity.get("nodeAffinity") or {}).get(
                    "preferredDuringSchedulingIgnoredDuringExecution"))


class Placed:
    """An assigned pod as topology sees it."""

    __slots__ = ("namespace", "labels", "node", "spec")

    def __init__(self, pod: Obj, node: str) -> None:
        self.namespace = pod["metadata"].get("namespace", "")
        self.labels = pod["metadata"].get("labels") or {}
        self.node = node
        self.spec = pod.get("spec") or {}


def term_matches(term: dict[str, Any], owner_ns: str, pod_ns: str,
                 pod_labels: dict[str, str], ns_labels: Callable[[str], dict[str, str]]) -> bool:
    """An affinity term of a pod in ``owner_ns`` selects a pod (namespaces, namespaceSelector,
    labelSelector; a nil labelSelector selects nothing)."""
    namespaces = term.get("namespaces") or []
    ns_selector = term.get("namespaceSelector")
    if namespaces or ns_selector is not None:
        in_ns = pod_ns in namespaces or (ns_selector is not None
                                         and selector_matches(ns_selector, ns_labels(pod_ns)))
    else:
        in_ns = pod_ns == owner_ns
    return in_ns and selector_matches(term.get("labelSelector"), pod_labels)


class Topology:
    """One scheduling cycle's view for one pod."""

    def __init__(self, pod: Obj, nodes: list[Obj | None], placed: Iterable[Placed],
                 ns_labels: Callable[[str], dict[str, str]],
                 node_ok: Callable[[Obj], bool]) -> None:
        self.pod = pod
        self.spec = pod.get("spec") or {}
        self.ns = pod["metadata"].get("namespace", "")
        self.labels = pod["metadata"].get("labels") or {}
        self.nodes = nodes
        self.by_name = {n["metadata"]["name"]: n for n in nodes if n is not None}
        self.placed = [p for p in placed if p.node in self.by_name]
        self.ns_labels = ns_labels
        self.node_ok = node_ok  # the pod's nodeSelector / required node affinity

    def _value(self, node_name: str, key: str) -> str | None:
        node = self.by_name.get(node_name)
        return None if node is None else (node["metadata"].get("labels") or {}).get(key)

    # -- filters ------------------------------------------------------------------------
    def prepare(self) -> None:
        """PreFilter: count what the filters need once per cycle."""
        self.affinity = _terms(self.spec, "podAffinity",
                               "requiredDuringSchedulingIgnoredDuringExecution")
        self.anti = required_anti_affinity(self.spec)
        # per term: {topology value: matching placed pods}
        self.affinity_counts = [self._counts(t) for t in self.affinity]
        self.anti_counts = [self._counts(t) for t in self.anti]
        # existing pods' anti-affinity that selects this pod: {(key, value)}
        self.existing_anti: set[tuple[str, str]] = set()
        for other in self.placed:
            for term in required_anti_affinity(other.spec):
                key = term.get("topologyKey", "")
                value = self._value(other.node, key)
                if value is not None and term_matches(term, other.namespace, self.ns,
                                                      self.labels, self.ns_labels):
                    self.existing_anti.add((key, value))
        self.spread = [c for c in self.spec.get("topologySpreadConstraints") or []
                       if c.get("whenUnsatisfiable", "DoNotSchedule") == "DoNotSchedule"]
        self.spread_counts = [self._spread_counts(c) for c in self.spread]

    def _counts(self, term: dict[str, Any]) -> dict[str, int]:
        key = term.get("topologyKey", "")
        counts: dict[str, int] = {}
        for other in self.placed:
            value = self._value(other.node, key)
            if value is not None and term_matches(term, self.ns, other.namespace, other.labels,
                                                  self.ns_labels):
                counts[value] = counts.get(value, 0) + 1
        return counts

    def _spread_counts(self, constraint: dict[str, Any]) -> dict[str, int]:
        """Matching pods per domain over the nodes the pod could go to (nodeAffinityPolicy
        Honor) that carry the topology key; every such domain is listed, even at 0."""
        key = constraint.get("topologyKey", "")
        counts: dict[str, int] = {}
        for node in self.by_name.values():
            value = (node["metadata"].get("labels") or {}).get(key)
            if value is not None and self.node_ok(node):
                counts.setdefault(value, 0)
        for other in self.placed:
            value = self._value(other.node, key)
            if value in counts and other.namespace == self.ns and selector_matches(
                    constraint.get("labelSelector"), other.labels):
                counts[value] += 1
        return counts

    def filter(self, node: Obj) -> str | None:
        """The first failing reason for the node, or None when it passes: PodTopologySpread
        runs before InterPodAffinity, whose Filter checks the pod's affinity, then its
        anti-affinity, then the placed pods' anti-affinity (interpodaffinity/filtering.go)."""
        labels = node["metadata"].get("labels") or {}
        for constraint, counts in zip(self.spread, self.spread_counts, strict=True):
            key = constraint.get("topologyKey", "")
            if key not in labels:
                return SPREAD_MISSING_LABEL
            minimum = min(counts.values()) if counts else 0
            min_domains = constraint.get("minDomains")
            if min_domains and len(counts) < min_domains:
                minimum = 0
            self_match = 1 if selector_matches(constraint.get("labelSelector"),
                                               self.labels) else 0
            if counts.get(labels[key], 0) + self_match - minimum > int(constraint.get(
                    "maxSkew", 1)):
                return SPREAD_NOT_MATCH
        for term, counts in zip(self.affinity, self.affinity_counts, strict=True):
            key = term.get("topologyKey", "")
            if key not in labels:
                return AFFINITY_NOT_MATCH
            if counts.get(labels[key], 0) == 0:
                # The first pod of a group that selects itself may go anywhere.
                anywhere = any(counts.values())
                if anywhere or not term_matches(term, self.ns, self.ns, self.labels,
                                                self.ns_labels):
                    return AFFINITY_NOT_MATCH
        for term, counts in zip(self.anti, self.anti_counts, strict=True):
            value = labels.get(term.get("topologyKey", ""))
            if value is not None and counts.get(value, 0) > 0:
                return ANTI_AFFINITY_NOT_MATCH
        for key, value in self.existing_anti:
            if labels.get(key) == value:
                return EXISTING_ANTI_AFFINITY
        return None

    # -- scores -------------------------------------------------------------------------
    def scores(self, candidates: list[Obj]) -> list[int]:
        """NodeAffinity (preferred terms) and InterPodAffinity (the pod's preferred terms),
        each normalised to 0..100 and weighted 2 as in the default profile."""
        preferred_nodes = ((self.spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "preferredDuringSchedulingIgnoredDuringExecution") or []
        raw_node = [sum(int(p.get("weight", 0)) for p in preferred_nodes
                        if node_term_matches(n, p.get("preference") or {}))
                    for n in candidates]
        top = max(raw_node, default=0)
        node_scores = [100 * s // top if top > 0 else 0 for s in raw_node]
        raw_pod = [0] * len(candidates)
        for kind, sign in (("podAffinity", 1), ("podAntiAffinity", -1)):
            for weighted in _terms(self.spec, kind,
                                   "preferredDuringSchedulingIgnoredDuringExecution"):
                term = weighted.get("podAffinityTerm") or {}
                counts = self._counts(term)
                key = term.get("topologyKey", "")
                for i, n in enumerate(candidates):
                    value = (n["metadata"].get("labels") or {}).get(key)
                    if value is not None:
                        raw_pod[i] += sign * int(weighted.get("weight", 0)) * \
                            counts.get(value, 0)
        low, high = min(raw_pod, default=0), max(raw_pod, default=0)
        pod_scores = [100 * (s - low) // (high - low) if high > low else 0 for s in raw_pod]
        return [2 * a + 2 * b for a, b in zip(node_scores, pod_scores, strict=True)]
