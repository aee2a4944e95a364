"""Privilege escalation prevention for RBAC writes (pkg/registry/rbac/{role,clusterrole,
rolebinding,clusterrolebinding}/policybased and rbac/escalation_check.go).

A user may write a Role or ClusterRole only with rules they hold themselves, unless they may
``escalate`` it; and bind a role only when they hold its rules in the binding's namespace,
unless they may ``bind`` it. Only a user with full authority may set an aggregationRule.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.sim import errors
from kclusterkit.sim.auth.access import Access
from kclusterkit.sim.auth.bootstrap import rule
from kclusterkit.sim.auth.rbac import CLUSTER_ROLES, ROLES, Attributes, format_rule
from kclusterkit.sim.auth.user import UserInfo
from kclusterkit.sim.resources import Resource

RBAC = "rbac.authorization.k8s.io"
FULL_AUTHORITY = [rule(["*"], ["*"], ["*"]), rule(["*"], urls=["*"])]


def _forbidden(res: Resource, name: str, text: str) -> errors.StatusError:
    return errors.StatusError(403, "Forbidden", f'{res.key} "{name}" is forbidden: {text}',
                              {"name": name, "group": RBAC, "kind": res.plural})


def _not_held(access: Access, user: UserInfo, namespace: str, rules: list[Any]) -> str | None:
    missing = access.authorizer.uncovered(user, namespace, rules)
    if not missing:
        return None
    _, errs = access.authorizer.rules_for(user, namespace)
    text = (f"{user.describe()} is attempting to grant RBAC permissions not currently held:\n"
            + "\n".join(format_rule(m) for m in missing))
    if errs:
        text += "; resolution errors: [" + ", ".join(errs) + "]"
    return text


def check(access: Access, user: UserInfo, res: Resource, obj: Any) -> None:
    """Refuse a create or update of an RBAC object that would grant more than ``user`` holds."""
    if res.group != RBAC or not isinstance(obj, dict):
        return
    meta = obj.get("metadata") or {}
    name = str(meta.get("name") or "")
    namespace = str(meta.get("namespace") or "") if res.namespaced else ""
    if res.plural in ("roles", "clusterroles"):
        if access.authorize(Attributes(user, "escalate", True, namespace, RBAC, "", res.plural,
                                       "", name)).allowed:
            return
        if res.plural == "clusterroles" and obj.get("aggregationRule"):
            if _not_held(access, user, "", FULL_AUTHORITY):
                raise _forbidden(res, name, "must have cluster-admin privileges to use the "
                                            "aggregationRule")
            return
        text = _not_held(access, user, namespace, list(obj.get("rules") or []))
        if text:
            raise _forbidden(res, name, text)
        return
    if res.plural in ("rolebindings", "clusterrolebindings"):
        ref = obj.get("roleRef") or {}
        kind, role_name = ref.get("kind"), str(ref.get("name") or "")
        plural = "clusterroles" if kind == "ClusterRole" else "roles"
        if access.authorize(Attributes(user, "bind", True, namespace if plural == "roles"
                                       else namespace, RBAC, "", plural, "", role_name)).allowed:
            return
        role = (access.store.get(CLUSTER_ROLES, "", role_name) if plural == "clusterroles"
                else access.store.get(ROLES, namespace, role_name))
        if role is None:
            raise _forbidden(res, name, f'{plural[:-1]}.{RBAC} "{role_name}" not found')
        text = _not_held(access, user, namespace, list(role.get("rules") or []))
        if text:
            raise _forbidden(res, name, text)
