"""The DaemonSet controller, following pkg/controller/daemon (daemon_controller.go, update.go).

A DaemonSet is what puts kube-proxy and the network plugin on every node, and what the
nodes/network work builds on, so its placement rules are upstream's:

- a node should run the daemon pod when the pod's nodeSelector and required node affinity
  match it and it tolerates the node's NoSchedule/NoExecute taints (``predicates`` /
  ``NodeShouldRunDaemonPod``); a pod already there keeps running while only NoSchedule
  taints are untolerated;
- the pod is created with upstream's default daemon tolerations
  (util.AddOrUpdateDaemonPodTolerations: not-ready and unreachable NoExecute, disk-,
  memory-, pid-pressure and unschedulable NoSchedule, network-unavailable NoSchedule for
  hostNetwork pods) and pinned by node affinity ``matchFields metadata.name In [node]``
  (util.ReplaceDaemonSetPodNodeNameNodeAffinity); the default scheduler binds it, so
  with the scheduler stopped new daemon pods stay Pending, as upstream;
- failed daemon pods are deleted and replaced; a node with more than one keeps the oldest;
- RollingUpdate (maxSurge 0) deletes old-template pods that are unavailable at once and
  available ones only while fewer than maxUnavailable daemon pods are unavailable
  (update.go rollingUpdate); OnDelete leaves old pods until someone deletes them.

Deliberate differences: no ControllerRevision objects (the ``controller-revision-hash``
label is the template's hash, computed as the Deployment controller computes
``pod-template-hash``), no slow-start batches, no expectations (the store is never stale).
"""

from __future__ import annotations

import math
from typing import Any

from kclusterkit.kube.meta import Obj, clone, owner_reference
from kclusterkit.sim.api import Api
from kclusterkit.sim.controllers.deployment_util import compute_hash
from kclusterkit.sim.controllers.util import (
    RetryingQueue,
    controller_uid,
    create_pod,
    creation_key,
    delete_pod,
    is_pod_available,
    is_pod_ready,
)
from kclusterkit.sim.resources import DAEMONSETS, NODES, PODS
from kclusterkit.sim.scheduler import node_matches, untolerated

COMPONENT = "daemonset-controller"
REVISION_HASH_LABEL = "controller-revision-hash"
TEMPLATE_GENERATION_LABEL = "pod-template-generation"

Key = tuple[str, str]


def default_daemon_tolerations(spec: dict[str, Any]) -> None:
    """util.AddOrUpdateDaemonPodTolerations (pkg/controller/daemon/util/daemonset_util.go)."""
    wanted = [("node.kubernetes.io/not-ready", "NoExecute"),
              ("node.kubernetes.io/unreachable", "NoExecute"),
              ("node.kubernetes.io/disk-pressure", "NoSchedule"),
              ("node.kubernetes.io/memory-pressure", "NoSchedule"),
              ("node.kubernetes.io/pid-pressure", "NoSchedule"),
              ("node.kubernetes.io/unschedulable", "NoSchedule")]
    if spec.get("hostNetwork"):
        wanted.append(("node.kubernetes.io/network-unavailable", "NoSchedule"))
    tolerations = [t for t in spec.get("tolerations") or []
                   if (t.get("key"), t.get("effect")) not in set(wanted)]
    tolerations += [{"key": k, "operator": "Exists", "effect": e} for k, e in wanted]
    spec["tolerations"] = tolerations


def pin_to_node(spec: dict[str, Any], node: str) -> None:
    """util.ReplaceDaemonSetPodNodeNameNodeAffinity: the required node affinity becomes
    exactly ``metadata.name In [node]`` (other preferences are kept)."""
    affinity = spec.setdefault("affinity", {})
    node_affinity = affinity.setdefault("nodeAffinity", {})
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {
        "nodeSelectorTerms": [{"matchFields": [
            {"key": "metadata.name", "operator": "In", "values": [node]}]}]}


def pinned_node(pod: Obj) -> str | None:
    """The node a daemon pod is for: its nodeName, or the node its affinity pins it to."""
    node = pod["spec"].get("nodeName")
    if node:
        return node
    required = ((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution") or {}
    for term in required.get("nodeSelectorTerms") or []:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("operator") == "In" \
                    and len(field.get("values") or []) == 1:
                return field["values"][0]
    return None


def daemon_spec(template_spec: dict[str, Any]) -> dict[str, Any]:
    """The template's pod spec with the default daemon tolerations, as NewPod builds it."""
    spec = clone(template_spec)
    default_daemon_tolerations(spec)
    return spec


def should_run(template_spec: dict[str, Any], node: Obj) -> tuple[bool, bool]:
    """NodeShouldRunDaemonPod: (should run a new pod, should keep a running one)."""
    return fits(daemon_spec(template_spec), node)


def fits(spec: dict[str, Any], node: Obj) -> tuple[bool, bool]:
    """``predicates`` for a daemon pod spec (tolerations already defaulted)."""
    if not node_matches(node, spec):
        return False, False
    taints = (node.get("spec") or {}).get("taints") or []
    tolerations = spec.get("tolerations") or []
    if untolerated(taints, tolerations) is not None:
        return False, untolerated(taints, tolerations, ("NoExecute",)) is None
    return True, True


def max_unavailable(ds: Obj, desired: int) -> int:
    """util.UnavailableCount: maxUnavailable of desiredNumberScheduled, rounded up."""
    rolling = ((ds["spec"].get("updateStrategy") or {}).get("rollingUpdate") or {})
    value = rolling.get("maxUnavailable", 1)
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * desired / 100)
    return int(value)


class DaemonSetController:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store
        self.clock = api.clock
        self.queue = RetryingQueue(self.clock, self.sync)
        for ds in self.store.iter(DAEMONSETS):
            self.queue.add(_key(ds))
        self.store.subscribe(DAEMONSETS, lambda _e, ds, _o: self.queue.add(_key(ds)))
        self.store.subscribe(PODS, self._on_pod)
        self.store.subscribe(NODES, self._on_node)

    def _on_pod(self, etype: str, pod: Obj, old: Obj | None) -> None:
        for obj in (pod, old):
            if obj is None:
                continue
            for ref in obj["metadata"].get("ownerReferences") or ():
                if ref.get("controller") and ref.get("kind") == "DaemonSet":
                    self.queue.add((obj["metadata"].get("namespace", ""), ref.get("name", "")))

    def _on_node(self, etype: str, node: Obj, old: Obj | None) -> None:
        if old is not None and etype != "DELETED" and \
                old["metadata"].get("labels") == node["metadata"].get("labels") and \
                (old.get("spec") or {}).get("taints") == (node.get("spec") or {}).get("taints"):
            return
        for ds in self.store.iter(DAEMONSETS):
            self.queue.add(_key(ds))

    # -- sync -----------------------------------------------------------------------------
    def sync(self, key: Key) -> None:
        ds = self.store.get(DAEMONSETS, *key)
        if ds is None:
            return
        uid = ds["metadata"]["uid"]
        template = ds["spec"].get("template") or {}
        tspec = template.get("spec") or {}
        current_hash = compute_hash(template, ds.get("status", {}).get("collisionCount"))
        by_node: dict[str, list[Obj]] = {}
        for pod in self.store.owned_by(uid, PODS):
            if controller_uid(pod) != uid or pod["metadata"].get("deletionTimestamp"):
                continue
            node = pinned_node(pod)
            if node:
                by_node.setdefault(node, []).append(pod)
        nodes = {n["metadata"]["name"]: n for n in self.store.iter(NODES)}
        spec = daemon_spec(tspec)
        verdicts = {name: fits(spec, node) for name, node in nodes.items()}
        to_create: list[str] = []
        to_delete: list[Obj] = []
        want: dict[str, Obj] = {}
        for name in sorted(set(nodes) | set(by_node)):
            pods = sorted(by_node.get(name, []), key=creation_key)
            node = nodes.get(name)
            run, keep = verdicts[name] if node is not None else (False, False)
            if run or (keep and pods):
                alive = [p for p in pods if (p.get("status") or {}).get("phase") != "Failed"]
                to_delete += [p for p in pods if p not in alive]
                if not alive:
                    if run:
                        to_create.append(name)
                    continue
                want[name] = alive[0]
                to_delete += alive[1:]
            else:
                to_delete += pods
        deleting = ds["metadata"].get("deletionTimestamp")
        if not deleting:
            strategy = (ds["spec"].get("updateStrategy") or {}).get("type")
            if strategy == "RollingUpdate":
                to_delete += self._rolling_victims(ds, want, to_create, current_hash)
            for pod in to_delete:
                self._delete(ds, pod)
            for name in to_create:
                self._create(ds, name, current_hash)
        self._update_status(ds, verdicts, by_node, want, current_hash)

    def _rolling_victims(self, ds: Obj, want: dict[str, Obj], missing: list[str],
                         current_hash: str) -> list[Obj]:
        """update.go rollingUpdate with maxSurge 0."""
        min_ready = ds["spec"].get("minReadySeconds") or 0
        desired = len(want) + len(missing)
        budget = max_unavailable(ds, desired)
        unavailable = len(missing)
        old_available: list[Obj] = []
        victims: list[Obj] = []
        for name in sorted(want):
            pod = want[name]
            is_new = (pod["metadata"].get("labels") or {}).get(REVISION_HASH_LABEL) == current_hash
            available = is_pod_available(self.clock, pod, min_ready)
            if not available:
                unavailable += 1
                if not is_new:
                    victims.append(pod)  # an unavailable old pod goes at once
            elif not is_new:
                old_available.append(pod)
        room = max(budget - unavailable, 0)
        victims += old_available[:room]
        if min_ready and len(victims) < len(old_available):
            self.queue.add_after(_key(ds), float(min_ready))
        return victims

    def _create(self, ds: Obj, node: str, current_hash: str) -> None:
        meta = ds["metadata"]
        template = ds["spec"].get("template") or {}
        tmeta = template.get("metadata") or {}
        labels = dict(tmeta.get("labels") or {})
        labels[REVISION_HASH_LABEL] = current_hash
        labels[TEMPLATE_GENERATION_LABEL] = str(meta.get("generation", 1))
        pod_meta: dict[str, Any] = {"generateName": f"{meta['name']}-",
                                    "namespace": meta.get("namespace", ""), "labels": labels,
                                    "ownerReferences": [owner_reference(ds)]}
        if tmeta.get("annotations"):
            pod_meta["annotations"] = clone(tmeta["annotations"])
        spec = clone(template.get("spec") or {})
        default_daemon_tolerations(spec)
        pin_to_node(spec, node)
        create_pod(self.api, ds, {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta,
                                  "spec": spec}, COMPONENT)

    def _delete(self, ds: Obj, pod: Obj) -> None:
        delete_pod(self.api, ds, pod, COMPONENT)

    def _update_status(self, ds: Obj, verdicts: dict[str, tuple[bool, bool]],
                       by_node: dict[str, list[Obj]], want: dict[str, Obj],
                       current_hash: str) -> None:
        """updateDaemonSetStatus: counts over the nodes that should run the pod."""
        min_ready = ds["spec"].get("minReadySeconds") or 0
        desired = scheduled = misscheduled = ready = available = updated = 0
        for name, (run, _) in verdicts.items():
            pods = [p for p in by_node.get(name, [])
                    if (p.get("status") or {}).get("phase") != "Failed"]
            if run:
                desired += 1
                if pods:
                    scheduled += 1
                    pod = want.get(name, pods[0])
                    if is_pod_ready(pod):
                        ready += 1
                        if is_pod_available(self.clock, pod, min_ready):
                            available += 1
                    if (pod["metadata"].get("labels") or {}).get(REVISION_HASH_LABEL) \
                            == current_hash:
                        updated += 1
            elif pods:
                misscheduled += 1
        status = dict(ds.get("status") or {})
        status.update({"currentNumberScheduled": scheduled, "numberMisscheduled": misscheduled,
                       "desiredNumberScheduled": desired, "numberReady": ready,
                       "observedGeneration": ds["metadata"].get("generation", 1),
                       "updatedNumberScheduled": updated, "numberAvailable": available})
        if desired - available > 0:
            status["numberUnavailable"] = desired - available
        else:
            status.pop("numberUnavailable", None)
        if not status.get("numberAvailable"):
            status.pop("numberAvailable", None)
        if status == ds.get("status"):
            return
        fresh = self.store.get(DAEMONSETS, *_key(ds))
        if fresh is None:
            return
        self.api.update({**fresh, "status": status}, subresource="status")
        if min_ready and ready > available:
            self.queue.add_after(_key(ds), float(min_ready))


def _key(ds: Obj) -> Key:
    return ds["metadata"].get("namespace", ""), ds["metadata"]["name"]
