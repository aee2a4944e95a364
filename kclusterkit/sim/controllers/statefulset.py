"""The StatefulSet controller, following pkg/controller/statefulset (stateful_set_control.go,
stateful_pod_control.go, stateful_set_utils.go).

What users rely on: stable pod names ``<set>-<ordinal>`` with a stable hostname and the
headless Service as subdomain (so ``web-0.web.<ns>.svc.cluster.local`` resolves), a claim
``<template>-<set>-<ordinal>`` per volume claim template created before its pod and kept
when the pod is replaced, ordered creation and deletion under ``OrderedReady`` (one pod at
a time, each waiting for the previous to be Running and Ready), everything at once under
``Parallel``, the claim retention policy on scale-in and deletion, and rolling updates from
the highest ordinal down to ``partition``, recorded in ControllerRevisions whose name is
the ``controller-revision-hash`` label on the pods.

Deliberate differences: no expectations (the store is never stale); revisions are hashed
from the template with FNV-32a of its JSON, not of Go's object printer, so the hash
values differ from a real cluster's while keeping their form (``<set>-<hash>``).
"""

from __future__ import annotations

import json
from typing import Any

from kclusterkit.kube.meta import Obj, clone, controller_of, owner_reference, selector_matches
from kclusterkit.sim import errors
from kclusterkit.sim.api import Api
from kclusterkit.sim.controllers.util import (
    RetryingQueue,
    is_pod_available,
    is_pod_ready,
    namespace_terminating,
)
from kclusterkit.sim.resources import CONTROLLERREVISIONS, PODS, PVCS, STATEFULSETS

COMPONENT = "statefulset-controller"
REVISION_LABEL = "controller-revision-hash"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"

Key = tuple[str, str]


def _fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for byte in data:
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


_SAFE = "bcdfghjklmnpqrstvwxz2456789"


def safe_encode(value: int) -> str:
    """rand.SafeEncodeString of the decimal hash: no vowels, no look-alike digits."""
    return "".join(_SAFE[ord(c) % len(_SAFE)] for c in str(value))


def template_hash(template: dict[str, Any]) -> str:
    return safe_encode(_fnv32a(json.dumps(template, sort_keys=True).encode()))


def ordinal_of(name: str, set_name: str) -> int | None:
    """getParentNameAndOrdinal: ``<set>-<n>``."""
    prefix = set_name + "-"
    if not name.startswith(prefix) or not name[len(prefix):].isdigit():
        return None
    return int(name[len(prefix):])


def claim_name(template: dict[str, Any], set_name: str, ordinal: int) -> str:
    return f"{template['metadata']['name']}-{set_name}-{ordinal}"


def _is_running_and_ready(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and is_pod_ready(pod)


def _is_failed(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") == "Failed"


def _is_terminating(pod: Obj) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


class StatefulSetController:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store
        self.clock = api.clock
        self.queue = RetryingQueue(self.clock, self.sync)
        for sts in self.store.iter(STATEFULSETS):
            self.queue.add(_key(sts))
        self.store.subscribe(STATEFULSETS, lambda e, o, old: self.queue.add(_key(o)))
        self.store.subscribe(PODS, self._on_pod)

    def _on_pod(self, etype: str, pod: Obj, old: Obj | None) -> None:
        ref = controller_of(pod) or (controller_of(old) if old is not None else None)
        if ref is None or ref.get("kind") != "StatefulSet":
            return
        self.queue.add((pod["metadata"].get("namespace", ""), ref.get("name", "")))

    # -- revisions ------------------------------------------------------------------------
    def _revisions(self, sts: Obj) -> list[Obj]:
        uid = sts["metadata"]["uid"]
        revs = [r for r in self.store.owned_by(uid, CONTROLLERREVISIONS)]
        return sorted(revs, key=lambda r: r.get("revision", 0))

    def _ensure_revision(self, sts: Obj, revs: list[Obj]) -> Obj:
        template = sts["spec"].get("template") or {}
        name = f"{sts['metadata']['name']}-{template_hash(template)}"
        latest = max((r.get("revision", 0) for r in revs), default=0)
        for rev in revs:
            if rev["metadata"]["name"] == name:
                if rev.get("revision", 0) != latest:
                    updated = clone(rev)
                    updated["revision"] = latest + 1
                    return self.api.update(updated)
                return rev
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        labels[REVISION_LABEL] = name
        rev = {
            "apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": name, "namespace": sts["metadata"].get("namespace", ""),
                         "labels": labels, "ownerReferences": [owner_reference(sts)]},
            # getPatch: the template as a strategic merge patch that replaces it.
            "data": {"spec": {"template": {**clone(template), "$patch": "replace"}}},
            "revision": latest + 1,
        }
        return self.api.create(rev)

    def _truncate_history(self, sts: Obj, revs: list[Obj], pods: list[Obj],
                          keep: set[str]) -> None:
        live = {(p["metadata"].get("labels") or {}).get(REVISION_LABEL) for p in pods} | keep
        limit = sts["spec"].get("revisionHistoryLimit", 10)
        history = [r for r in revs if r["metadata"]["name"] not in live]
        for rev in history[:max(len(history) - limit, 0)]:
            try:
                self.api.delete(CONTROLLERREVISIONS, rev["metadata"].get("namespace", ""),
                                rev["metadata"]["name"])
            except errors.StatusError as exc:
                if exc.code != 404:
                    raise

    # -- sync -----------------------------------------------------------------------------
    def sync(self, key: Key) -> None:
        sts = self.store.get(STATEFULSETS, *key)
        if sts is None:
            return
        pods = self._claim_pods(sts)
        if sts["metadata"].get("deletionTimestamp"):
            return
        revs = self._revisions(sts)
        update_rev = self._ensure_revision(sts, revs)
        revs = self._revisions(sts)
        status = sts.get("status") or {}
        current_name = status.get("currentRevision") or update_rev["metadata"]["name"]
        current_rev = next((r for r in revs if r["metadata"]["name"] == current_name), update_rev)
        self._update_set(sts, pods, current_rev, update_rev)
        pods = self._claim_pods(sts)
        self._truncate_history(sts, revs, pods,
                               {current_rev["metadata"]["name"], update_rev["metadata"]["name"]})
        self._update_status(sts, pods, current_rev, update_rev)

    def _claim_pods(self, sts: Obj) -> list[Obj]:
        uid = sts["metadata"]["uid"]
        name = sts["metadata"]["name"]
        selector = sts["spec"].get("selector")
        out = []
        for pod in self.store.owned_by(uid, PODS):
            ref = controller_of(pod)
            if ref is None or ref.get("uid") != uid:
                continue
            if ordinal_of(pod["metadata"]["name"], name) is None or \
                    not selector_matches(selector, pod["metadata"].get("labels")):
                continue
            out.append(pod)
        return out

    def _template_of(self, rev: Obj) -> dict[str, Any]:
        template = clone(((rev.get("data") or {}).get("spec") or {}).get("template") or {})
        template.pop("$patch", None)
        return template

    def _new_pod(self, sts: Obj, rev: Obj, ordinal: int) -> Obj:
        """newVersionedStatefulSetPod: identity, storage and the revision label."""
        template = self._template_of(rev)
        meta = sts["metadata"]
        name = f"{meta['name']}-{ordinal}"
        tmeta = template.get("metadata") or {}
        labels = dict(tmeta.get("labels") or {})
        labels[POD_NAME_LABEL] = name
        labels[POD_INDEX_LABEL] = str(ordinal)
        labels[REVISION_LABEL] = rev["metadata"]["name"]
        pod_meta: dict[str, Any] = {"name": name, "namespace": meta.get("namespace", ""),
                                    "labels": labels, "ownerReferences": [owner_reference(sts)]}
        if tmeta.get("annotations"):
            pod_meta["annotations"] = dict(tmeta["annotations"])
        spec = clone(template.get("spec") or {})
        spec["hostname"] = name
        if sts["spec"].get("serviceName"):
            spec["subdomain"] = sts["spec"]["serviceName"]
        volumes = [vol for vol in spec.get("volumes") or ()
                   if vol.get("name") not in {t["metadata"]["name"]
                                              for t in self._claim_templates(sts)}]
        for t in self._claim_templates(sts):
            volumes.append({"name": t["metadata"]["name"], "persistentVolumeClaim": {
                "claimName": claim_name(t, meta["name"], ordinal)}})
        if volumes:
            spec["volumes"] = volumes
        return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": spec}

    @staticmethod
    def _claim_templates(sts: Obj) -> list[dict[str, Any]]:
        return [t for t in sts["spec"].get("volumeClaimTemplates") or ()
                if (t.get("metadata") or {}).get("name")]

    def _create_claims(self, sts: Obj, ordinal: int) -> None:
        """createPersistentVolumeClaims: each missing claim, labelled with the selector."""
        meta = sts["metadata"]
        ns = meta.get("namespace", "")
        pod_name = f"{meta['name']}-{ordinal}"
        retention = sts["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
        for t in self._claim_templates(sts):
            name = claim_name(t, meta["name"], ordinal)
            if self.store.get(PVCS, ns, name) is not None:
                continue
            labels = dict(t["metadata"].get("labels") or {})
            labels.update((sts["spec"].get("selector") or {}).get("matchLabels") or {})
            claim_meta: dict[str, Any] = {"name": name, "namespace": ns, "labels": labels}
            if t["metadata"].get("annotations"):
                claim_meta["annotations"] = dict(t["metadata"]["annotations"])
            if retention.get("whenDeleted") == "Delete":
                claim_meta["ownerReferences"] = [owner_reference(sts)]
            claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                     "metadata": claim_meta, "spec": clone(t.get("spec") or {})}
            try:
                self.api.create(claim)
            except errors.StatusError as exc:
                if exc.code == 409:
                    continue
                self.api.record_event(sts, "Warning", "FailedCreate",
                                      f"create Claim {name} for Pod {pod_name} in StatefulSet "
                                      f"{meta['name']} failed error: {exc.message}", COMPONENT)
                raise
            self.api.record_event(sts, "Normal", "SuccessfulCreate",
                                  f"create Claim {name} Pod {pod_name} in StatefulSet "
                                  f"{meta['name']} success", COMPONENT)

    def _create_pod(self, sts: Obj, rev: Obj, ordinal: int) -> None:
        self._create_claims(sts, ordinal)
        pod = self._new_pod(sts, rev, ordinal)
        name = pod["metadata"]["name"]
        try:
            self.api.create(pod)
        except errors.StatusError as exc:
            if namespace_terminating(exc) or exc.code == 409:
                return
            self._pod_event("create", sts, name, exc)
            raise
        self._pod_event("create", sts, name)

    def _delete_pod(self, sts: Obj, pod: Obj) -> None:
        name = pod["metadata"]["name"]
        try:
            self.api.delete(PODS, pod["metadata"].get("namespace", ""), name)
        except errors.StatusError as exc:
            if exc.code == 404:
                return
            self._pod_event("delete", sts, name, exc)
            raise
        self._pod_event("delete", sts, name)

    def _pod_event(self, verb: str, sts: Obj, pod: str,
                   failed: errors.StatusError | None = None) -> None:
        """recordPodEvent (stateful_pod_control.go): Successful<Verb> / Failed<Verb>."""
        what = f"{verb} Pod {pod} in StatefulSet {sts['metadata']['name']}"
        if failed is None:
            self.api.record_event(sts, "Normal", f"Successful{verb.capitalize()}",
                                  f"{what} successful", COMPONENT)
        else:
            self.api.record_event(sts, "Warning", f"Failed{verb.capitalize()}",
                                  f"{what} failed error: {failed.message}", COMPONENT)

    def _release_scaled_claims(self, sts: Obj, pod: Obj, ordinal: int) -> None:
        """whenScaled: Delete: the condemned pod owns its claims, so they go with it."""
        retention = sts["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
        if retention.get("whenScaled") != "Delete":
            return
        ns = sts["metadata"].get("namespace", "")
        for t in self._claim_templates(sts):
            claim = self.store.get(PVCS, ns, claim_name(t, sts["metadata"]["name"], ordinal))
            if claim is None:
                continue
            refs = [r for r in claim["metadata"].get("ownerReferences") or ()
                    if r.get("uid") != pod["metadata"]["uid"]]
            refs.append(owner_reference(pod, controller=False))
            updated = clone(claim)
            updated["metadata"]["ownerReferences"] = refs
            self.api.update(updated)

    def _update_set(self, sts: Obj, pods: list[Obj], current_rev: Obj, update_rev: Obj) -> None:
        """updateStatefulSet: replicas in ordinal order, condemned from the top down."""
        spec = sts["spec"]
        replicas = spec.get("replicas", 1)
        name = sts["metadata"]["name"]
        parallel = spec.get("podManagementPolicy") == "Parallel"
        strategy = spec.get("updateStrategy") or {}
        partition = (strategy.get("rollingUpdate") or {}).get("partition") or 0
        by_ordinal: dict[int, Obj] = {}
        condemned: list[tuple[int, Obj]] = []
        for pod in pods:
            ordinal = ordinal_of(pod["metadata"]["name"], name)
            assert ordinal is not None
            if ordinal < replicas:
                by_ordinal[ordinal] = pod
            else:
                condemned.append((ordinal, pod))
        condemned.sort(key=lambda item: -item[0])

        def revision_for(ordinal: int) -> Obj:
            # Pods below the partition stay at the current revision (newVersionedStatefulSetPod).
            if strategy.get("type") == "RollingUpdate" and ordinal < partition:
                return current_rev
            return update_rev

        # Replace failed pods; create missing ones; in order, waiting under OrderedReady.
        for ordinal in range(replicas):
            pod = by_ordinal.get(ordinal)
            if pod is not None and _is_failed(pod) and not _is_terminating(pod):
                self._delete_pod(sts, pod)
                if not parallel:
                    return
                continue
            if pod is None:
                self._create_pod(sts, revision_for(ordinal), ordinal)
                if not parallel:
                    return
                continue
            if _is_terminating(pod):
                if not parallel:
                    return
                continue
            if not parallel and not _is_running_and_ready(pod):
                return
        # Scale in: the highest ordinal first; OrderedReady one at a time, only when all
        # the others are running and ready.
        for ordinal, pod in condemned:
            if _is_terminating(pod):
                if not parallel:
                    return
                continue
            if not parallel and any(not _is_running_and_ready(p) for p in by_ordinal.values()):
                return
            self._release_scaled_claims(sts, pod, ordinal)
            self._delete_pod(sts, pod)
            if not parallel:
                return
        if strategy.get("type") != "RollingUpdate":
            return
        # Rolling update: from the top ordinal down to the partition, one pod at a time,
        # after every pod is running and ready.
        if any(not _is_running_and_ready(p) or _is_terminating(p) for p in by_ordinal.values()):
            return
        update_name = update_rev["metadata"]["name"]
        for ordinal in sorted(by_ordinal, reverse=True):
            if ordinal < partition:
                break
            pod = by_ordinal[ordinal]
            if (pod["metadata"].get("labels") or {}).get(REVISION_LABEL) != update_name:
                self.api.record_event(sts, "Normal", "SuccessfulDelete",
                                      f"delete Pod {pod['metadata']['name']} in StatefulSet "
                                      f"{name} successful", COMPONENT)
                try:
                    self.api.delete(PODS, pod["metadata"].get("namespace", ""),
                                    pod["metadata"]["name"])
                except errors.StatusError as exc:
                    if exc.code != 404:
                        raise
                return

    def _update_status(self, sts: Obj, pods: list[Obj], current_rev: Obj,
                       update_rev: Obj) -> None:
        current_name = current_rev["metadata"]["name"]
        update_name = update_rev["metadata"]["name"]
        replicas = ready = available = current = updated = 0
        min_ready = sts["spec"].get("minReadySeconds") or 0
        for pod in pods:
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            replicas += 1
            if is_pod_ready(pod):
                ready += 1
                if is_pod_available(self.clock, pod, min_ready):
                    available += 1
            if _is_terminating(pod):
                continue
            rev = (pod["metadata"].get("labels") or {}).get(REVISION_LABEL)
            if rev == current_name:
                current += 1
            if rev == update_name:
                updated += 1
        old = sts.get("status") or {}
        status: dict[str, Any] = {
            "observedGeneration": sts["metadata"].get("generation", 0),
            "replicas": replicas,
            "readyReplicas": ready,
            "currentReplicas": current,
            "updatedReplicas": updated,
            "currentRevision": current_name,
            "updateRevision": update_name,
            "collisionCount": old.get("collisionCount", 0),
            "availableReplicas": available,
        }
        # completeRollingUpdate: once every replica is updated and ready, the update
        # revision becomes the current one.
        strategy = (sts["spec"].get("updateStrategy") or {}).get("type")
        if strategy == "RollingUpdate" and updated == sts["spec"].get("replicas", 1) and \
                ready == updated and replicas == updated:
            status["currentRevision"] = update_name
            status["currentReplicas"] = updated
        for field in ("readyReplicas", "currentReplicas", "updatedReplicas"):
            if not status[field]:
                del status[field]
        if status == old:
            return
        fresh = clone(sts)
        fresh["status"] = status
        try:
            self.api.update(fresh, subresource="status")
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
        if min_ready and ready != available:
            self.queue.add_after(_key(sts), float(min_ready))


def _key(obj: Obj) -> Key:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
