"""The node lifecycle and taint eviction controllers: what happens to a node that goes quiet.

"A worker node fails; its pods move to the healthy nodes within 6 minutes" rests on two
upstream controllers (pkg/controller/nodelifecycle, pkg/controller/tainteviction): the
first notices a node whose kubelet stopped renewing its lease for the grace period (50 s),
marks its conditions Unknown, its pods not ready, and taints it unreachable; the second
deletes the pods on a NoExecute-tainted node once their toleration (300 s by default)
runs out. The wording of conditions, taints and events is upstream's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kclusterkit.kube.meta import Obj, clone, condition
from kclusterkit.sim import errors
from kclusterkit.sim.resources import LEASES, NODES, PODS
from kclusterkit.sim.scheduler import tolerates
from kclusterkit.sim.workqueue import WorkQueue

NODE_CONTROLLER = "node-controller"
TAINT_EVICTION_CONTROLLER = "taint-eviction-controller"
NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
# doNoScheduleTaintingPass: node condition -> NoSchedule taint.
_CONDITION_TAINTS = (
    ("MemoryPressure", "True", "node.kubernetes.io/memory-pressure"),
    ("DiskPressure", "True", "node.kubernetes.io/disk-pressure"),
    ("PIDPressure", "True", "node.kubernetes.io/pid-pressure"),
    ("NetworkUnavailable", "True", "node.kubernetes.io/network-unavailable"),
    ("Ready", "False", NOT_READY),
    ("Ready", "Unknown", UNREACHABLE),
)
_MANAGED_NO_SCHEDULE = {key for _, _, key in _CONDITION_TAINTS} | {
    "node.kubernetes.io/unschedulable"}
_WATCHED_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")


class NodeLifecycleController:
    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.api = cluster.api
        self.store = cluster.store
        self.clock = cluster.clock
        self.timings = cluster.timings
        self.probe: dict[str, float] = {}  # node -> when we last saw it heartbeat
        self.ready: dict[str, str] = {}  # node -> Ready status last observed
        self._heartbeats: dict[str, str] = {}  # node -> Ready lastHeartbeatTime seen
        self._pods_by_node: dict[str, set[tuple[str, str]]] = {}
        self.queue = WorkQueue(self.clock, self._taint_no_schedule)
        self._paused = False
        # Whether kube-controller-manager runs and holds its lease (sim.controlplane sets it).
        self.leading: Callable[[], bool] = lambda: True
        for node in self.store.iter(NODES):
            self._on_node("ADDED", node, None)
        for pod in self.store.iter(PODS):
            self._on_pod("ADDED", pod, None)
        self.store.subscribe(NODES, self._on_node)
        self.store.subscribe(LEASES, self._on_lease)
        self.store.subscribe(PODS, self._on_pod)
        self.clock.call_later(self.timings.node_monitor_period, self._monitor)

    # -- observation ------------------------------------------------------------------
    def _on_node(self, etype: str, node: Obj, old: Obj | None) -> None:
        name = node["metadata"]["name"]
        if etype == "DELETED":
            self.probe.pop(name, None)
            self.ready.pop(name, None)
            return
        if etype == "ADDED":
            self.probe[name] = self.clock.now
            self.clock.call_soon(self._registered, name)
        ready = condition(node, "Ready")
        beat = ready.get("lastHeartbeatTime") if ready else None
        if beat and beat != self._heartbeats.get(name):
            self._heartbeats[name] = beat
            if ready and ready.get("status") != "Unknown":
                self.probe[name] = self.clock.now
        if name not in self.ready and ready is not None:
            self.ready[name] = ready.get("status", "Unknown")
        if old is None or old.get("spec") != node.get("spec") or \
                (old.get("status") or {}).get("conditions") != \
                (node.get("status") or {}).get("conditions"):
            self.queue.add(name)

    def _registered(self, name: str) -> None:
        node = self.store.get(NODES, "", name)
        if node is not None:
            self.api.record_event(node, "Normal", "RegisteredNode",
                                  f"Node {name} event: Registered Node {name} in Controller",
                                  NODE_CONTROLLER)

    def _on_lease(self, etype: str, lease: Obj, old: Obj | None) -> None:
        if etype == "DELETED" or lease["metadata"].get("namespace") != "kube-node-lease":
            return
        renew = (lease.get("spec") or {}).get("renewTime")
        if old is None or renew != (old.get("spec") or {}).get("renewTime"):
            self.probe[lease["metadata"]["name"]] = self.clock.now

    def _on_pod(self, etype: str, pod: Obj, old: Obj | None) -> None:
        key = (pod["metadata"].get("namespace", ""), pod["metadata"]["name"])
        before = (old or {}).get("spec", {}).get("nodeName") if old else None
        node = pod["spec"].get("nodeName")
        if before and (etype == "DELETED" or before != node):
            self._pods_by_node.get(before, set()).discard(key)
        if etype != "DELETED" and node:
            self._pods_by_node.setdefault(node, set()).add(key)

    def pods_on(self, node: str) -> list[Obj]:
        out = []
        for key in sorted(self._pods_by_node.get(node, ())):
            pod = self.store.get(PODS, *key)
            if pod is not None and pod["spec"].get("nodeName") == node:
                out.append(pod)
        return out

    # -- monitorNodeHealth ------------------------------------------------------------
    def _monitor(self) -> None:
        self.clock.call_later(self.timings.node_monitor_period, self._monitor)
        if self.api.unavailable_reason or not self.leading():
            self._paused = True
            return
        if self._paused:
            # kube-controller-manager was cut off too: like a restarted controller it
            # gives every node a fresh grace period instead of judging stale heartbeats.
            self._paused = False
            for name in self.probe:
                self.probe[name] = self.clock.now
        grace = self.timings.node_monitor_grace_period
        for node in list(self.store.iter(NODES)):
            name = node["metadata"]["name"]
            if self.clock.now - self.probe.get(name, self.clock.now) > grace:
                node = self._mark_unknown(node) or node
            ready = condition(node, "Ready")
            status = ready.get("status", "Unknown") if ready else "Unknown"
            observed = self.ready.get(name, status)
            self.ready[name] = status
            if observed == "True" and status != "True":
                self.api.record_event(node, "Normal", "NodeNotReady",
                                      f"Node {name} status is now: NodeNotReady",
                                      NODE_CONTROLLER)
                self._mark_pods_not_ready(name)
            self._taint_no_execute(node, status)

    def _mark_unknown(self, node: Obj) -> Obj | None:
        """tryUpdateNodeHealth: the kubelet stopped posting; every condition is Unknown."""
        conditions = (node.get("status") or {}).get("conditions") or []
        if all(c.get("status") == "Unknown" for c in conditions if
               c.get("type") in _WATCHED_CONDITIONS) and conditions:
            return None
        now = self.clock.timestamp()
        updated = []
        seen = set()
        for cond in conditions:
            cond = dict(cond)
            if cond.get("type") in _WATCHED_CONDITIONS:
                seen.add(cond["type"])
                if cond.get("status") != "Unknown":
                    cond.update(status="Unknown", reason="NodeStatusUnknown",
                                message="Kubelet stopped posting node status.",
                                lastTransitionTime=now)
            updated.append(cond)
        for ctype in _WATCHED_CONDITIONS:
            if ctype not in seen:
                updated.append({"type": ctype, "status": "Unknown",
                                "lastHeartbeatTime": now, "lastTransitionTime": now,
                                "reason": "NodeStatusNeverUpdated",
                                "message": "Kubelet never posted node status."})
        obj = {**node, "status": {**(node.get("status") or {}), "conditions": updated}}
        try:
            return self.api.update(obj, subresource="status") and \
                self.store.get(NODES, "", node["metadata"]["name"])
        except errors.StatusError:
            return None

    def _mark_pods_not_ready(self, node_name: str) -> None:
        """MarkPodsNotReady (pkg/controller/util/node)."""
        for pod in self.pods_on(node_name):
            status = pod.get("status") or {}
            conditions = status.get("conditions") or []
            changed = False
            out = []
            for cond in conditions:
                if cond.get("type") == "Ready" and cond.get("status") != "False":
                    cond = {**cond, "status": "False",
                            "lastTransitionTime": self.clock.timestamp()}
                    changed = True
                out.append(cond)
            if not changed:
                continue
            try:
                self.api.update({**pod, "status": {**status, "conditions": out}},
                                subresource="status")
            except errors.StatusError:
                continue
            self.api.record_event(pod, "Warning", "NodeNotReady", "Node is not ready",
                                  NODE_CONTROLLER)

    # -- taints -----------------------------------------------------------------------
    def _taint_no_execute(self, node: Obj, ready: str) -> None:
        """processTaintBaseEviction: not-ready / unreachable NoExecute taints."""
        wanted = {"False": NOT_READY, "Unknown": UNREACHABLE}.get(ready)
        taints = (node.get("spec") or {}).get("taints") or []
        keep = [t for t in taints if not (t.get("effect") == "NoExecute"
                                          and t.get("key") in (NOT_READY, UNREACHABLE)
                                          and t.get("key") != wanted)]
        if wanted and not any(t.get("key") == wanted and t.get("effect") == "NoExecute"
                              for t in keep):
            keep.append({"key": wanted, "effect": "NoExecute",
                         "timeAdded": self.clock.timestamp()})
        if keep != taints:
            self._set_taints(node["metadata"]["name"], keep)

    def _taint_no_schedule(self, name: str) -> None:
        """doNoScheduleTaintingPass: NoSchedule taints follow the node's conditions."""
        node = self.store.get(NODES, "", name)
        if node is None:
            return
        wanted = []
        for ctype, status, key in _CONDITION_TAINTS:
            cond = condition(node, ctype)
            if cond is not None and cond.get("status") == status:
                wanted.append(key)
        if (node.get("spec") or {}).get("unschedulable"):
            wanted.append("node.kubernetes.io/unschedulable")
        taints = (node.get("spec") or {}).get("taints") or []
        keep = [t for t in taints if not (t.get("effect") == "NoSchedule"
                                          and t.get("key") in _MANAGED_NO_SCHEDULE
                                          and t.get("key") not in wanted)]
        for key in wanted:
            if not any(t.get("key") == key and t.get("effect") == "NoSchedule" for t in keep):
                keep.append({"key": key, "effect": "NoSchedule"})
        if keep != taints:
            self._set_taints(name, keep)

    def _set_taints(self, name: str, taints: list[dict[str, Any]]) -> None:
        node = self.store.get(NODES, "", name)
        if node is None:
            return
        spec = dict(node.get("spec") or {})
        if taints:
            spec["taints"] = taints
        else:
            spec.pop("taints", None)
        try:
            self.api.update({**node, "spec": spec})
        except errors.StatusError:
            self.queue.add_after(name, 1.0)


class TaintEvictionController:
    """Deletes pods from nodes with NoExecute taints they do not tolerate (for long)."""

    def __init__(self, cluster: Any, lifecycle: NodeLifecycleController) -> None:
        self.cluster = cluster
        self.api = cluster.api
        self.store = cluster.store
        self.clock = cluster.clock
        self.lifecycle = lifecycle
        self.tainted: dict[str, list[dict[str, Any]]] = {}
        self.scheduled: dict[tuple[str, str], tuple[float, Any]] = {}  # pod -> (created, timer)
        for node in self.store.iter(NODES):
            self._on_node("ADDED", node, None)
        self.store.subscribe(NODES, self._on_node)
        self.store.subscribe(PODS, self._on_pod)

    @staticmethod
    def _no_execute(node: Obj | None) -> list[dict[str, Any]]:
        if node is None:
            return []
        return [t for t in (node.get("spec") or {}).get("taints") or []
                if t.get("effect") == "NoExecute"]

    def _on_node(self, etype: str, node: Obj, old: Obj | None) -> None:
        name = node["metadata"]["name"]
        taints = [] if etype == "DELETED" else self._no_execute(node)
        if old is not None and etype != "DELETED" and taints == self._no_execute(old):
            return
        if taints:
            self.tainted[name] = taints
        else:
            self.tainted.pop(name, None)
        self.clock.call_soon(self._node_updated, name)

    def _on_pod(self, etype: str, pod: Obj, old: Obj | None) -> None:
        key = (pod["metadata"].get("namespace", ""), pod["metadata"]["name"])
        if etype == "DELETED":
            if key in self.scheduled:
                self._cancel(key)
            return
        node = pod["spec"].get("nodeName")
        if not node:
            return
        if old is not None and old["spec"].get("nodeName") == node and \
                old["spec"].get("tolerations") == pod["spec"].get("tolerations"):
            return
        if node in self.tainted:
            self.clock.call_soon(self._pod_updated, key, node)

    def _node_updated(self, name: str) -> None:
        taints = self.tainted.get(name, [])
        for pod in self.lifecycle.pods_on(name):
            key = (pod["metadata"].get("namespace", ""), pod["metadata"]["name"])
            if not taints:
                if key in self.scheduled:
                    self._cancel(key)
                continue
            self._process(key, pod, taints)

    def _pod_updated(self, key: tuple[str, str], node: str) -> None:
        pod = self.store.get(PODS, *key)
        if pod is None or pod["spec"].get("nodeName") != node or node not in self.tainted:
            return
        self._process(key, pod, self.tainted[node])

    def _process(self, key: tuple[str, str], pod: Obj, taints: list[dict[str, Any]]) -> None:
        """processPodOnNode."""
        if pod["metadata"].get("deletionTimestamp"):
            return
        tolerations = pod["spec"].get("tolerations") or []
        used = []
        for taint in taints:
            match = next((t for t in tolerations if tolerates(t, taint)), None)
            if match is None:
                self._cancel(key, event=False)
                self._schedule(key, self.clock.now, self.clock.now)
                return
            used.append(match)
        finite = [float(t["tolerationSeconds"]) for t in used
                  if t.get("tolerationSeconds") is not None]
        if not finite:
            self._cancel(key)  # every taint tolerated forever
            return
        wait = 0.0 if any(s <= 0 for s in finite) else min(finite)
        if key in self.scheduled:
            # An eviction already counting down since an earlier taint keeps its time.
            return
        self._schedule(key, self.clock.now, self.clock.now + wait)

    def _schedule(self, key: tuple[str, str], created: float, when: float) -> None:
        timer = self.clock.call_at(when, self._evict, key)
        self.scheduled[key] = (created, timer)

    def _cancel(self, key: tuple[str, str], event: bool = True) -> None:
        entry = self.scheduled.pop(key, None)
        if entry is None:
            return
        entry[1].cancel()
        if event:
            self._event(key, "Cancelling deletion of Pod")

    def _event(self, key: tuple[str, str], what: str) -> None:
        ref = {"kind": "Pod", "apiVersion": "v1",
               "metadata": {"name": key[1], "namespace": key[0], "uid": ""}}
        self.api.record_event(ref, "Normal", "TaintManagerEviction",
                              f"{what} {key[0]}/{key[1]}", TAINT_EVICTION_CONTROLLER)

    def _evict(self, key: tuple[str, str]) -> None:
        """deletePodHandler: DisruptionTarget condition, then delete."""
        self.scheduled.pop(key, None)
        if self.api.unavailable_reason or not self.lifecycle.leading():
            self.clock.call_later(1.0, self._evict, key)
            return
        self._event(key, "Marking for deletion Pod")
        pod = self.store.get(PODS, *key)
        if pod is None:
            return
        status = clone(pod.get("status") or {})
        conditions = [c for c in status.get("conditions") or []
                      if c.get("type") != "DisruptionTarget"]
        conditions.append({"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                           "lastTransitionTime": self.clock.timestamp(),
                           "reason": "DeletionByTaintManager",
                           "message": "Taint manager: deleting due to NoExecute taint"})
        status["conditions"] = conditions
        try:
            self.api.update({**pod, "status": status}, subresource="status")
            self.api.delete(PODS, key[0], key[1])
        except errors.StatusError:
            pass
