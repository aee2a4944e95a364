"""The RBAC authorizer, after plugin/pkg/auth/authorizer/rbac (rbac.go, subject_locator.go)
and pkg/registry/rbac/validation (rule.go: the rules a user holds; policy_comparator.go:
Covers, the escalation check).

A request is allowed when any rule of any role bound to the user (ClusterRoleBindings
everywhere, RoleBindings in the request's namespace) allows it; members of
``system:masters`` are allowed everything before RBAC is asked (the privileged-group
authorizer upstream puts first in the chain). RBAC never denies: "no" is "no rule allows".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kclusterkit.sim.auth.user import SYSTEM_PRIVILEGED_GROUP, UserInfo, split_service_account
from kclusterkit.sim.resources import for_plural
from kclusterkit.sim.store import Store

Obj = dict[str, Any]
ROLES = for_plural("rbac.authorization.k8s.io", "roles")
CLUSTER_ROLES = for_plural("rbac.authorization.k8s.io", "clusterroles")
ROLE_BINDINGS = for_plural("rbac.authorization.k8s.io", "rolebindings")
CLUSTER_ROLE_BINDINGS = for_plural("rbac.authorization.k8s.io", "clusterrolebindings")


@dataclass(frozen=True)
class Attributes:
    """authorizer.AttributesRecord: what one request wants to do."""

    user: UserInfo
    verb: str
    resource_request: bool = True
    namespace: str = ""
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    # (binding kind, binding namespace/name, role kind, role name) of every binding that
    # applied to the user: what an access check prints when it fails.
    bindings: tuple[tuple[str, str, str, str], ...] = ()


def has(values: Any, wanted: str) -> bool:
    values = values or []
    return "*" in values or wanted in values


def _resource_matches(rule: Obj, resource: str, subresource: str) -> bool:
    """rbac/v1 ResourceMatches: ``*``, ``pods``, ``pods/log``, ``*/scale``."""
    combined = f"{resource}/{subresource}" if subresource else resource
    for r in rule.get("resources") or []:
        if r == "*" or r == combined:
            return True
        if subresource and r.startswith("*/") and r[2:] == subresource:
            return True
    return False


def _url_matches(rule: Obj, path: str) -> bool:
    for url in rule.get("nonResourceURLs") or []:
        if url == "*" or url == path:
            return True
        if url.endswith("*") and path.startswith(url[:-1]):
            return True
    return False


def rule_allows(attrs: Attributes, rule: Obj) -> bool:
    """rbac.go RuleAllows."""
    if not isinstance(rule, dict) or not has(rule.get("verbs"), attrs.verb):
        return False
    if attrs.resource_request:
        names = rule.get("resourceNames") or []
        return (has(rule.get("apiGroups"), attrs.api_group)
                and _resource_matches(rule, attrs.resource, attrs.subresource)
                and (not names or attrs.name in names))
    return _url_matches(rule, attrs.path)


def subject_matches(subject: Obj, user: UserInfo, binding_namespace: str) -> bool:
    """rbac.go appliesToUser."""
    kind = subject.get("kind")
    if kind == "User":
        return bool(user.name == subject.get("name"))
    if kind == "Group":
        return subject.get("name") in user.groups
    if kind == "ServiceAccount":
        sa = split_service_account(user.name)
        ns = subject.get("namespace") or binding_namespace
        return sa is not None and sa == (ns, subject.get("name"))
    return False


class Authorizer:
    """RBAC over the store's Roles and Bindings, as they are at the moment of asking."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- the rules a user holds --------------------------------------------------------
    def _role_rules(self, ref: Obj, namespace: str) -> tuple[list[Obj] | None, str]:
        kind, name = ref.get("kind"), ref.get("name", "")
        if kind == "ClusterRole":
            role = self.store.get(CLUSTER_ROLES, "", name)
            missing = f'clusterrole.rbac.authorization.k8s.io "{name}" not found'
        else:
            role = self.store.get(ROLES, namespace, name)
            missing = f'role.rbac.authorization.k8s.io "{name}" not found'
        if role is None:
            return None, missing
        return list(role.get("rules") or []), ""

    def _bindings(self, user: UserInfo, namespace: str
                  ) -> Iterator[tuple[Obj, str, list[Obj] | None, str]]:
        """(binding, its kind, the role's rules or None, error) for each binding of user."""
        for binding in self.store.iter(CLUSTER_ROLE_BINDINGS):
            if any(subject_matches(s, user, "") for s in binding.get("subjects") or []):
                rules, err = self._role_rules(binding.get("roleRef") or {}, "")
                yield binding, "ClusterRoleBinding", rules, err
        if not namespace:
            return
        for binding in self.store.iter(ROLE_BINDINGS, namespace):
            if any(subject_matches(s, user, namespace) for s in binding.get("subjects") or []):
                rules, err = self._role_rules(binding.get("roleRef") or {}, namespace)
                yield binding, "RoleBinding", rules, err

    def rules_for(self, user: UserInfo, namespace: str) -> tuple[list[Obj], list[str]]:
        """rule.go RulesFor: every rule the user holds in ``namespace``, and lookup errors."""
        rules: list[Obj] = []
        errors: list[str] = []
        for _binding, _kind, found, err in self._bindings(user, namespace):
            if found is None:
                errors.append(err)
            else:
                rules.extend(found)
        return rules, errors

    # -- the decision ------------------------------------------------------------------
    def authorize(self, attrs: Attributes) -> Decision:
        if SYSTEM_PRIVILEGED_GROUP in attrs.user.groups:
            return Decision(True, "")
        seen: list[tuple[str, str, str, str]] = []
        errors: list[str] = []
        namespace = attrs.namespace if attrs.resource_request else ""
        for binding, kind, rules, err in self._bindings(attrs.user, namespace):
            meta = binding["metadata"]
            ref = binding.get("roleRef") or {}
            where = f"{meta['namespace']}/{meta['name']}" if kind == "RoleBinding" \
                else meta["name"]
            seen.append((kind, where, str(ref.get("kind", "")), str(ref.get("name", ""))))
            if rules is None:
                errors.append(err)
                continue
            for rule in rules:
                if rule_allows(attrs, rule):
                    # rbac.go authorizingVisitor.String()
                    ns_part = f' in {meta["namespace"]}' if kind == "RoleBinding" else ""
                    return Decision(True, f'RBAC: allowed by {kind} "{meta["name"]}"{ns_part} '
                                          f'of {ref.get("kind")} "{ref.get("name")}" to '
                                          f'{_subject_kind(attrs.user)} "{attrs.user.name}"',
                                    tuple(seen))
        reason = f"RBAC: [{', '.join(errors)}]" if len(errors) > 1 else \
            (f"RBAC: {errors[0]}" if errors else "")
        return Decision(False, reason, tuple(seen))

    def allowed(self, user: UserInfo, verb: str, resource: str, *, group: str = "",
                namespace: str = "", name: str = "", subresource: str = "") -> bool:
        return self.authorize(Attributes(user, verb, True, namespace, group, "", resource,
                                         subresource, name)).allowed

    # -- escalation --------------------------------------------------------------------
    def uncovered(self, user: UserInfo, namespace: str, wanted: list[Obj]) -> list[Obj]:
        """policy_comparator.go Covers: the parts of ``wanted`` the user does not hold."""
        if SYSTEM_PRIVILEGED_GROUP in user.groups:
            return []
        held, _ = self.rules_for(user, namespace)
        missing: list[Obj] = []
        for rule in wanted:
            for atom in _atoms(rule):
                if not any(_covers(h, atom) for h in held):
                    missing.append(atom)
        return missing


def _subject_kind(user: UserInfo) -> str:
    return "ServiceAccount" if split_service_account(user.name) else "User"


def _atoms(rule: Obj) -> Iterator[Obj]:
    """One verb × group × resource × name (or verb × URL) per atom, as BreakdownRule."""
    if not isinstance(rule, dict):
        return
    for verb in rule.get("verbs") or []:
        for group in rule.get("apiGroups") or []:
            for resource in rule.get("resources") or []:
                names = rule.get("resourceNames") or [None]
                for name in names:
                    atom: Obj = {"verbs": [verb], "apiGroups": [group], "resources": [resource]}
                    if name is not None:
                        atom["resourceNames"] = [name]
                    yield atom
        for url in rule.get("nonResourceURLs") or []:
            yield {"verbs": [verb], "nonResourceURLs": [url]}


def _covers(owner: Obj, atom: Obj) -> bool:
    """ruleCovers: the owner's rule holds the atom (``*`` only covered by ``*``)."""
    if not isinstance(owner, dict) or not has(owner.get("verbs"), atom["verbs"][0]):
        return False
    if "nonResourceURLs" in atom:
        url = atom["nonResourceURLs"][0]
        for own in owner.get("nonResourceURLs") or []:
            if own == url or own == "*" or (own.endswith("*") and url.startswith(own[:-1])):
                return True
        return False
    if not has(owner.get("apiGroups"), atom["apiGroups"][0]):
        return False
    resource = atom["resources"][0]
    owned = owner.get("resources") or []
    sub = resource.split("/", 1)[1] if "/" in resource else ""
    if not ("*" in owned or resource in owned or (sub and f"*/{sub}" in owned)):
        return False
    names = owner.get("resourceNames") or []
    return not names or bool(atom.get("resourceNames")) and atom["resourceNames"][0] in names


def format_rule(rule: Obj) -> str:
    """How upstream prints a missing rule in an escalation error (rbac/v1 CompactString)."""
    parts = []
    for key, label in (("apiGroups", "APIGroups"), ("resources", "Resources"),
                       ("resourceNames", "ResourceNames"), ("nonResourceURLs", "NonResourceURLs"),
                       ("verbs", "Verbs")):
        if rule.get(key):
            parts.append(f"{label}:[" + " ".join(f'"{v}"' for v in rule[key]) + "]")
    return "{" + ", ".join(parts) + "}"


def forbidden_message(attrs: Attributes) -> str:
    """responsewriters/errors.go forbiddenMessage."""
    if not attrs.resource_request:
        return f'User "{attrs.user.name}" cannot {attrs.verb} path "{attrs.path}"'
    resource = attrs.resource + (f"/{attrs.subresource}" if attrs.subresource else "")
    if attrs.namespace:
        return (f'User "{attrs.user.name}" cannot {attrs.verb} resource "{resource}" in API '
                f'group "{attrs.api_group}" in the namespace "{attrs.namespace}"')
    return (f'User "{attrs.user.name}" cannot {attrs.verb} resource "{resource}" in API group '
            f'"{attrs.api_group}" at the cluster scope')


def forbidden_status_message(attrs: Attributes, reason: str) -> str:
    """apierrors.NewForbidden over forbiddenMessage, with the authorizer's reason appended."""
    text = forbidden_message(attrs)
    if reason:
        text = f"{text}: {reason}"
    if not attrs.resource_request:
        return f"forbidden: {text}"
    qualified = attrs.resource + (f".{attrs.api_group}" if attrs.api_group else "")
    if attrs.name:
        return f'{qualified} "{attrs.name}" is forbidden: {text}'
    return f"{qualified} is forbidden: {text}"
