"""The bootstrap RBAC policy the API server reconciles at start
(plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go and controller_policy.go), plus
kubeadm's ``kubeadm:cluster-admins`` binding for the admin kubeconfig's user.

The user-facing roles ``admin``, ``edit`` and ``view`` carry no rules of their own: they
aggregate the ``system:aggregate-to-*`` roles by label, as upstream, so a ClusterRole labelled
``rbac.authorization.k8s.io/aggregate-to-view: "true"`` extends ``view`` (and ``edit`` and
``admin``). Kept to the resources this simulator serves plus the ones every cluster has.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]
READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]
READ_WRITE = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]
LABEL = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AUTOUPDATE = {"rbac.authorization.kubernetes.io/autoupdate": "true"}
AGG = "rbac.authorization.k8s.io/aggregate-to-"


def rule(verbs: list[str], groups: list[str] | None = None, resources: list[str] | None = None,
         urls: list[str] | None = None, names: list[str] | None = None) -> Obj:
    out: Obj = {"verbs": list(verbs)}
    if urls is not None:
        out["nonResourceURLs"] = list(urls)
        return out
    out["apiGroups"] = list(groups or [""])
    out["resources"] = list(resources or [])
    if names:
        out["resourceNames"] = list(names)
    return out


def _events() -> Obj:
    return rule(["create", "update", "patch"], ["", "events.k8s.io"], ["events"])


def _view_rules() -> list[Obj]:
    return [
        rule(READ, [""], ["pods", "replicationcontrollers", "replicationcontrollers/scale",
                          "serviceaccounts", "services", "services/status", "endpoints",
                          "persistentvolumeclaims", "persistentvolumeclaims/status",
                          "configmaps"]),
        rule(READ, [""], ["limitranges", "resourcequotas", "bindings", "events", "pods/status",
                          "resourcequotas/status", "namespaces/status",
                          "replicationcontrollers/status", "pods/log"]),
        rule(READ, [""], ["namespaces"]),
        rule(READ, ["discovery.k8s.io"], ["endpointslices"]),
        rule(READ, ["apps"], ["controllerrevisions", "daemonsets", "daemonsets/status",
                              "deployments", "deployments/scale", "deployments/status",
                              "replicasets", "replicasets/scale", "replicasets/status",
                              "statefulsets", "statefulsets/scale", "statefulsets/status"]),
        rule(READ, ["autoscaling"], ["horizontalpodautoscalers",
                                     "horizontalpodautoscalers/status"]),
        rule(READ, ["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
        rule(READ, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
        rule(READ, ["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"]),
    ]


def _edit_rules() -> list[Obj]:
    return [
        rule(["impersonate"], [""], ["serviceaccounts"]),
        rule(WRITE, [""], ["pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"]),
        rule(["create"], [""], ["pods/eviction"]),
        rule(WRITE, [""], ["replicationcontrollers", "replicationcontrollers/scale",
                           "serviceaccounts", "services", "services/proxy",
                           "persistentvolumeclaims", "configmaps", "secrets", "events"]),
        rule(["create"], [""], ["serviceaccounts/token"]),
        rule(WRITE, ["apps"], ["daemonsets", "deployments", "deployments/rollback",
                               "deployments/scale", "replicasets", "replicasets/scale",
                               "statefulsets", "statefulsets/scale"]),
        rule(WRITE, ["autoscaling"], ["horizontalpodautoscalers"]),
        rule(WRITE, ["batch"], ["cronjobs", "jobs"]),
        rule(WRITE, ["policy"], ["poddisruptionbudgets"]),
        rule(WRITE, ["networking.k8s.io"], ["ingresses", "networkpolicies"]),
        rule(READ, [""], ["pods/attach", "pods/proxy", "pods/exec", "pods/portforward",
                          "secrets", "services/proxy"]),
    ]


def _admin_rules() -> list[Obj]:
    return [
        rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
        rule(READ_WRITE, ["rbac.authorization.k8s.io"], ["rolebindings", "roles"]),
    ]


def _cluster_role(name: str, rules: list[Obj] | None, labels: dict[str, str] | None = None,
                  aggregate: str | None = None) -> Obj:
    meta: Obj = {"name": name, "labels": {**LABEL, **(labels or {})},
                 "annotations": dict(AUTOUPDATE)}
    role: Obj = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                 "metadata": meta, "rules": rules or []}
    if aggregate:
        role["aggregationRule"] = {"clusterRoleSelectors": [
            {"matchLabels": {f"{AGG}{aggregate}": "true"}}]}
    return role


def _binding(name: str, role: str, subjects: list[tuple[str, str]],
             labels: dict[str, str] | None = None) -> Obj:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": name, "labels": dict(LABEL if labels is None else labels),
                     "annotations": dict(AUTOUPDATE) if labels is None else {}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": role},
        "subjects": [_subject(kind, name) for kind, name in subjects],
    }


def _subject(kind: str, name: str) -> Obj:
    if kind == "ServiceAccount":
        ns, _, sa = name.partition("/")
        return {"kind": "ServiceAccount", "name": sa, "namespace": ns}
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name}


def cluster_roles() -> list[Obj]:
    health = ["/healthz", "/livez", "/readyz", "/version", "/version/"]
    return [
        _cluster_role("cluster-admin", [rule(["*"], ["*"], ["*"]), rule(["*"], urls=["*"])]),
        _cluster_role("system:discovery", [rule(["get"], urls=[
            "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
            "/openapi/*", "/readyz", "/version", "/version/"])]),
        _cluster_role("system:monitoring", [rule(["get"], urls=[
            "/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/metrics/slis",
            "/readyz", "/readyz/*"])]),
        _cluster_role("system:public-info-viewer", [rule(["get"], urls=health)]),
        _cluster_role("system:basic-user", [
            rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
            rule(["create"], ["authorization.k8s.io"],
                 ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
        ]),
        _cluster_role("admin", [], aggregate="admin"),
        _cluster_role("edit", [], {f"{AGG}admin": "true"}, aggregate="edit"),
        _cluster_role("view", [], {f"{AGG}edit": "true"}, aggregate="view"),
        _cluster_role("system:aggregate-to-admin", _admin_rules(), {f"{AGG}admin": "true"}),
        _cluster_role("system:aggregate-to-edit", _edit_rules(),
                      {f"{AGG}admin": "true", f"{AGG}edit": "true"}),
        _cluster_role("system:aggregate-to-view", _view_rules(),
                      {f"{AGG}admin": "true", f"{AGG}edit": "true", f"{AGG}view": "true"}),
        _cluster_role("system:auth-delegator", [
            rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
        ]),
        _cluster_role("system:node", [
            rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            rule(["create"], ["authorization.k8s.io"],
                 ["localsubjectaccessreviews", "subjectaccessreviews"]),
            rule(READ, [""], ["services"]),
            rule(["create", "get", "list", "watch"], [""], ["nodes"]),
            rule(["patch", "update"], [""], ["nodes/status"]),
            rule(["patch", "update"], [""], ["nodes"]),
            rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
            rule(READ, [""], ["pods"]),
            rule(["create", "delete"], [""], ["pods"]),
            rule(["patch", "update"], [""], ["pods/status"]),
            rule(["create"], [""], ["pods/eviction"]),
            rule(["get"], [""], ["configmaps", "secrets"]),
            rule(["get"], [""], ["persistentvolumeclaims", "persistentvolumes"]),
            rule(["get"], [""], ["endpoints"]),
            rule(["create"], [""], ["serviceaccounts/token"]),
            rule(["create", "delete", "get", "patch", "update"], ["coordination.k8s.io"],
                 ["leases"]),
        ]),
        _cluster_role("system:node-proxier", [
            rule(["list", "watch"], [""], ["endpoints", "services"]),
            rule(["get", "list", "watch"], [""], ["nodes"]),
            _events(),
            rule(["list", "watch"], ["discovery.k8s.io"], ["endpointslices"]),
        ]),
        _cluster_role("system:kube-scheduler", [
            _events(),
            rule(["create"], ["coordination.k8s.io"], ["leases"]),
            rule(["get", "update"], ["coordination.k8s.io"], ["leases"],
                 names=["kube-scheduler"]),
            rule(["delete", "get", "list", "watch"], [""], ["pods"]),
            rule(["create"], [""], ["bindings", "pods/binding"]),
            rule(["patch", "update"], [""], ["pods/status"]),
            rule(READ, [""], ["nodes", "persistentvolumeclaims", "persistentvolumes",
                              "replicationcontrollers", "services", "namespaces"]),
            rule(READ, ["apps"], ["replicasets", "statefulsets"]),
            rule(READ, ["policy"], ["poddisruptionbudgets"]),
            rule(READ, ["storage.k8s.io"], ["csidrivers", "csinodes", "csistoragecapacities",
                                            "storageclasses", "volumeattachments"]),
            rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
        ]),
        _cluster_role("system:kube-controller-manager", [
            _events(),
            rule(["create"], ["coordination.k8s.io"], ["leases"]),
            rule(["get", "update"], ["coordination.k8s.io"], ["leases"],
                 names=["kube-controller-manager"]),
            rule(["create"], [""], ["secrets", "serviceaccounts"]),
            rule(["delete"], [""], ["secrets"]),
            rule(["get"], [""], ["configmaps", "namespaces", "secrets", "serviceaccounts"]),
            rule(["update"], [""], ["secrets", "serviceaccounts"]),
            rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
            rule(["list", "watch"], ["*"], ["*"]),
            rule(["create"], [""], ["serviceaccounts/token"]),
        ]),
    ]


def cluster_role_bindings() -> list[Obj]:
    return [
        _binding("cluster-admin", "cluster-admin", [("Group", "system:masters")]),
        _binding("system:discovery", "system:discovery", [("Group", "system:authenticated")]),
        _binding("system:monitoring", "system:monitoring", [("Group", "system:monitoring")]),
        _binding("system:basic-user", "system:basic-user", [("Group", "system:authenticated")]),
        _binding("system:public-info-viewer", "system:public-info-viewer",
                 [("Group", "system:authenticated"), ("Group", "system:unauthenticated")]),
        _binding("system:node", "system:node", []),
        _binding("system:node-proxier", "system:node-proxier",
                 [("User", "system:kube-proxy")]),
        _binding("system:kube-scheduler", "system:kube-scheduler",
                 [("User", "system:kube-scheduler")]),
        _binding("system:kube-controller-manager", "system:kube-controller-manager",
                 [("User", "system:kube-controller-manager")]),
        # kubeadm: kube-proxy runs as the kube-system/kube-proxy service account
        # (cmd/kubeadm/app/phases/addons/proxy) and nodes in system:nodes get system:node
        # through the Node authorizer; the binding above keeps upstream's empty subjects.
        _binding("kubeadm:node-proxier", "system:node-proxier",
                 [("ServiceAccount", "kube-system/kube-proxy")], labels={}),
        _binding("kubeadm:cluster-admins", "cluster-admin",
                 [("Group", "kubeadm:cluster-admins")], labels={}),
    ]


def reconcile(api: Any) -> None:
    """Create the bootstrap roles and bindings that are missing (the RBAC PostStartHook)."""
    from kclusterkit.sim.resources import for_kind

    for obj in (*cluster_roles(), *cluster_role_bindings()):
        res = for_kind(obj["apiVersion"], obj["kind"])
        if api.store.get(res, "", obj["metadata"]["name"]) is None:
            api.create(obj)
