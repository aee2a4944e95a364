"""APIService objects (apiregistration.k8s.io/v1): which group versions the server serves.

kube-aggregator's autoregister controller creates one APIService per built-in group
version at start (label ``kube-aggregator.kubernetes.io/automanaged: onstart``, no
``spec.service``: served locally), with the priorities of pkg/controlplane/apiserver/
aggregator.go's apiVersionPriorities; its crdRegistrationController does the same for
every CRD group version (``automanaged: "true"``, groupPriorityMinimum 1000,
versionPriority 100) and removes it with the last CRD serving it. The availability
controller reports local ones ``Available`` True ``Local`` "Local APIServices are always
available". metrics-server's APIService (``v1beta1.metrics.k8s.io``) is what its manifest
creates: served by the ``kube-system/metrics-server`` Service, Available ``Passed``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj
from kclusterkit.sim import errors
from kclusterkit.sim.apiextensions.crd import CRDS
from kclusterkit.sim.controllers.util import RetryingQueue
from kclusterkit.sim.resources import RESOURCES, for_plural
from kclusterkit.sim.strategy import Strategy, register_strategy

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api

APISERVICES = for_plural("apiregistration.k8s.io", "apiservices")
AUTOMANAGED = "kube-aggregator.kubernetes.io/automanaged"
# aggregator.go apiVersionPriorities: group → (groupPriorityMinimum, versionPriority).
PRIORITIES: dict[tuple[str, str], tuple[int, int]] = {
    ("", "v1"): (18000, 1),
    ("apps", "v1"): (17800, 15),
    ("events.k8s.io", "v1"): (17750, 15),
    ("authentication.k8s.io", "v1"): (17700, 15),
    ("authorization.k8s.io", "v1"): (17600, 15),
    ("autoscaling", "v1"): (17500, 15),
    ("autoscaling", "v2"): (17500, 30),
    ("batch", "v1"): (17400, 15),
    ("certificates.k8s.io", "v1"): (17300, 15),
    ("networking.k8s.io", "v1"): (17200, 15),
    ("policy", "v1"): (17100, 15),
    ("rbac.authorization.k8s.io", "v1"): (17000, 15),
    ("storage.k8s.io", "v1"): (16800, 15),
    ("apiextensions.k8s.io", "v1"): (16700, 15),
    ("admissionregistration.k8s.io", "v1"): (16700, 15),
    ("scheduling.k8s.io", "v1"): (16600, 15),
    ("coordination.k8s.io", "v1"): (16500, 15),
    ("node.k8s.io", "v1"): (16300, 15),
    ("discovery.k8s.io", "v1"): (16200, 15),
    ("flowcontrol.apiserver.k8s.io", "v1"): (16100, 21),
    ("apiregistration.k8s.io", "v1"): (18000, 15),
}
LOCAL = {"type": "Available", "status": "True", "reason": "Local",
         "message": "Local APIServices are always available"}


def name_of(group: str, version: str) -> str:
    return f"{version}.{group}"


def local_apiservice(group: str, version: str, automanaged: str, now: str,
                     priorities: tuple[int, int]) -> Obj:
    return {
        "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
        "metadata": {"name": name_of(group, version), "labels": {AUTOMANAGED: automanaged}},
        "spec": {"group": group, "version": version, "groupPriorityMinimum": priorities[0],
                 "versionPriority": priorities[1]},
        "status": {"conditions": [{**LOCAL, "lastTransitionTime": now}]},
    }


def metrics_apiservice(now: str) -> Obj:
    return {
        "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
        "metadata": {"name": "v1beta1.metrics.k8s.io",
                     "labels": {"k8s-app": "metrics-server"}},
        "spec": {"service": {"name": "metrics-server", "namespace": "kube-system",
                             "port": 443},
                 "group": "metrics.k8s.io", "version": "v1beta1",
                 "insecureSkipTLSVerify": True, "groupPriorityMinimum": 100,
                 "versionPriority": 100},
        "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Passed",
                                   "message": "all checks passed",
                                   "lastTransitionTime": now}]},
    }


class AutoRegistration:
    """The autoregister and crdRegistration controllers of one API server."""

    def __init__(self, api: Api, *, metrics: bool = True) -> None:
        self.api = api
        now = api.clock.timestamp()
        seen: set[tuple[str, str]] = set()
        for res in RESOURCES:
            gv = (res.group, res.version)
            if gv in seen:
                continue
            seen.add(gv)
            self._ensure(local_apiservice(res.group, res.version, "onstart", now,
                                          PRIORITIES.get(gv, (1000, 100))))
        if metrics:
            self._ensure(metrics_apiservice(now))
        # Reconciled after the CRD write that triggered it, not inside it.
        self.queue = RetryingQueue(api.clock, self._sync_group)
        api.store.subscribe(CRDS, self._on_crd)

    def _ensure(self, obj: Obj) -> None:
        if self.api.store.get(APISERVICES, "", obj["metadata"]["name"]) is None:
            status = obj.pop("status")
            created = self.api.create(obj)
            created["status"] = status
            self.api.update(created, subresource="status")

    def _on_crd(self, etype: str, obj: Obj, old: Obj | None) -> None:
        self.queue.add((obj.get("spec") or {}).get("group", ""))

    def _sync_group(self, key: object) -> None:
        group = str(key)
        wanted = self._crd_group_versions(group)
        now = self.api.clock.timestamp()
        for version in sorted(wanted):
            self._ensure(local_apiservice(group, version, "true", now, (1000, 100)))
        for svc in list(self.api.store.iter(APISERVICES)):
            spec: dict[str, Any] = svc.get("spec") or {}
            if spec.get("group") == group and spec.get("version") not in wanted and \
                    (svc["metadata"].get("labels") or {}).get(AUTOMANAGED) == "true":
                try:
                    self.api.delete(APISERVICES, "", svc["metadata"]["name"])
                except errors.StatusError as exc:
                    if exc.code != 404:
                        raise

    def _crd_group_versions(self, group: str) -> set[str]:
        out: set[str] = set()
        for crd in self.api.store.iter(CRDS):
            spec = crd.get("spec") or {}
            if spec.get("group") != group or crd["metadata"].get("deletionTimestamp"):
                continue
            out.update(v.get("name", "") for v in spec.get("versions") or []
                       if isinstance(v, dict) and v.get("served"))
        return out


class APIServiceStrategy(Strategy):
    """apiservice strategy.go: status is the availability controller's, not the creator's."""

    def prepare_create(self, api: Api, obj: Obj) -> None:
        obj.pop("status", None)


register_strategy(APISERVICES, APIServiceStrategy())
