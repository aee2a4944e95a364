"""A small cluster for controller tests: clock, store, API, the controllers, a fake kubelet.

The fake kubelet binds pods to nodes, marks them Running and Ready after a delay (or stuck
in ErrImagePull for images listed as missing) and finishes graceful deletions after the
grace period, all through the API as the real kubelet does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kclusterkit.kube.meta import Obj, clone, dig
from kclusterkit.sim import kinds  # noqa: F401  (registers admission strategies)
from kclusterkit.sim.api import Api
from kclusterkit.sim.clock import Clock
from kclusterkit.sim.controllers.manager import ControllerManager
from kclusterkit.sim.resources import PODS
from kclusterkit.sim.store import ADDED, MODIFIED, Store
from kclusterkit.sim.timings import Timings


class FakeKubelet:
    def __init__(self, api: Api, nodes: tuple[str, ...] = ("node-a", "node-b"),
                 bind_delay: float = 0.5, ready_delay: float = 2.0):
        self.api = api
        self.clock = api.clock
        self.store = api.store
        self.nodes = nodes
        self.bind_delay = bind_delay
        self.ready_delay = ready_delay
        self.missing_images: set[str] = set()
        self.placement: Callable[[Obj], str] | None = None
        self.enabled = True
        self._next = 0
        self.store.subscribe(PODS, self._on_pod)

    def _on_pod(self, etype: str, pod: Obj, old: Obj | None) -> None:
        meta = pod["metadata"]
        ident = (meta["namespace"], meta["name"], meta["uid"])
        if etype == ADDED and self.enabled:
            self.clock.call_later(self.bind_delay, self._bind, *ident)
        elif etype == MODIFIED and meta.get("deletionTimestamp") and old is not None \
                and not old["metadata"].get("deletionTimestamp"):
            grace = meta.get("deletionGracePeriodSeconds", 0)
            self.clock.call_later(grace, self._finish, *ident)

    def _current(self, ns: str, name: str, uid: str) -> Obj | None:
        pod = self.store.get(PODS, ns, name)
        if pod is None or pod["metadata"]["uid"] != uid:
            return None
        return pod

    def _bind(self, ns: str, name: str, uid: str) -> None:
        pod = self._current(ns, name, uid)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return
        copy = clone(pod)
        if self.placement is not None:
            copy["spec"]["nodeName"] = self.placement(pod)
        else:
            copy["spec"]["nodeName"] = self.nodes[self._next % len(self.nodes)]
            self._next += 1
        self.api.update(copy)
        self.clock.call_later(self.ready_delay, self._start, ns, name, uid)

    def _start(self, ns: str, name: str, uid: str) -> None:
        pod = self._current(ns, name, uid)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return
        copy = clone(pod)
        image = copy["spec"]["containers"][0]["image"]
        now = self.clock.timestamp()
        if image in self.missing_images:
            copy["status"]["containerStatuses"] = [{
                "name": copy["spec"]["containers"][0]["name"], "ready": False,
                "restartCount": 0, "image": image,
                "state": {"waiting": {"reason": "ErrImagePull"}}}]
        else:
            copy["status"].update({
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now}],
                "containerStatuses": [{"name": copy["spec"]["containers"][0]["name"],
                                       "ready": True, "restartCount": 0, "image": image,
                                       "state": {"running": {"startedAt": now}}}],
            })
        self.api.update(copy, subresource="status")

    def _finish(self, ns: str, name: str, uid: str) -> None:
        if self._current(ns, name, uid) is not None:
            self.api.finish_delete(PODS, ns, name)


class Sim:
    def __init__(self) -> None:
        self.clock = Clock(seed=7)
        self.store = Store()
        self.api = Api(self.clock, self.store)
        for ns in ("default", "kube-system"):
            self.api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        self.timings = Timings()
        self.kubelet = FakeKubelet(self.api)
        self.controllers = ControllerManager(self)

    @property
    def now(self) -> float:
        return self.clock.now

    def run(self, seconds: float) -> None:
        self.clock.run_until(self.clock.now + seconds)

    def settle(self) -> None:
        self.clock.run_until(self.clock.now)

    def pods(self, ns: str = "default", *, active: bool = True, **labels: str) -> list[Obj]:
        out = []
        for pod in self.store.list(PODS, ns):
            if active and pod["metadata"].get("deletionTimestamp"):
                continue
            pod_labels = pod["metadata"].get("labels") or {}
            if all(pod_labels.get(k) == v for k, v in labels.items()):
                out.append(pod)
        return out

    def events(self, reason: str | None = None, name: str | None = None) -> list[Obj]:
        from kclusterkit.sim.resources import EVENTS

        out = [e for e in self.store.list(EVENTS)
               if (reason is None or e["reason"] == reason)
               and (name is None or e["involvedObject"]["name"] == name)]
        return sorted(out, key=lambda e: int(e["metadata"]["resourceVersion"]))


def template(app: str = "web", image: str = "nginx:1.25", **extra: Any) -> Obj:
    return {"metadata": {"labels": {"app": app}},
            "spec": {"containers": [{"name": "c", "image": image}], **extra}}


def replicaset(name: str = "web", replicas: int = 3, app: str = "web", **spec: Any) -> Obj:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
                     "template": template(app), **spec}}


def deployment(name: str = "web", replicas: int = 3, image: str = "nginx:1.25",
               **spec: Any) -> Obj:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": template(name, image), **spec}}


def status(obj: Obj, field: str) -> int:
    return dig(obj, "status", field, default=0)


@pytest.fixture
def sim() -> Sim:
    return Sim()
