"""The ClusterRole aggregation controller (pkg/controller/clusterroleaggregation).

A ClusterRole with an ``aggregationRule`` has its rules written by this controller: the
rules of every ClusterRole its selectors match, in name order, without duplicates. That is
how ``admin``, ``edit`` and ``view`` get their rules from the ``system:aggregate-to-*`` roles,
and how a CRD's author extends them with a labelled ClusterRole.
"""

from __future__ import annotations

from kclusterkit.kube.meta import Obj, clone, selector_matches
from kclusterkit.sim import errors
from kclusterkit.sim.api import Api
from kclusterkit.sim.controllers.util import RetryingQueue
from kclusterkit.sim.resources import for_plural

CLUSTER_ROLES = for_plural("rbac.authorization.k8s.io", "clusterroles")


class ClusterRoleAggregationController:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store
        self.queue = RetryingQueue(api.clock, self.sync)
        self.store.subscribe(CLUSTER_ROLES, self._on_role)
        for role in list(self.store.iter(CLUSTER_ROLES)):
            if role.get("aggregationRule"):
                self.sync(role["metadata"]["name"])

    def _on_role(self, etype: str, obj: Obj, old: Obj | None) -> None:
        # Any change may feed an aggregated role: enqueue them all (upstream does the same).
        for role in self.store.iter(CLUSTER_ROLES):
            if role.get("aggregationRule"):
                self.queue.add(role["metadata"]["name"])

    def sync(self, name: str) -> None:
        role = self.store.get(CLUSTER_ROLES, "", name)
        if role is None or not role.get("aggregationRule"):
            return
        selectors = (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or []
        rules: list[Obj] = []
        for selector in selectors:
            matched = sorted((r for r in self.store.iter(CLUSTER_ROLES)
                              if r["metadata"]["name"] != name
                              and selector_matches(selector, r["metadata"].get("labels"))),
                             key=lambda r: r["metadata"]["name"])
            for other in matched:
                for rule in other.get("rules") or []:
                    if rule not in rules:
                        rules.append(clone(rule))
        if (role.get("rules") or []) == rules:
            return
        try:
            self.api.update({**clone(role), "rules": rules})
        except errors.StatusError as exc:
            if exc.code == 409:
                self.queue.add(name)
            elif exc.code != 404:
                raise
