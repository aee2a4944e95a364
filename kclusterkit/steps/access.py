"""Who may do what: service accounts, roles and bindings, and what the API server allows.

Security and platform teams state access rules as specs: "service account reader can list
pods", "… cannot delete pods", "an unauthenticated request is refused", "a pod can call the
API with its own token". The decision is the cluster's own: the simulator's RBAC
authorizer in process; a SubjectAccessReview on a real cluster, confirmed in the scenario's
namespaces by the request itself sent as that subject (impersonated, dry-run where it
writes). A failed check prints the bindings of the subject it found and their roles' rules.
Service accounts and bindings are created in the scenario's namespace only.
"""

# ruff: noqa: E501  (a step's Example must stay on one line: the catalog prints it as is)
from __future__ import annotations

import re
from typing import Any

from kclusterkit.driver import Observation
from kclusterkit.driver.base import AccessCheck, Subject
from kclusterkit.errors import ApiError
from kclusterkit.steps._support import Obj, StepUsageError, check_now, kk, step, wait_for
from kclusterkit.steps.pods_exec import is_running
from kclusterkit.steps.workloads import container_for

RBAC = "rbac.authorization.k8s.io/v1"
TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"
API_URL = "https://kubernetes.default.svc"
_VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection",
          "impersonate", "bind", "escalate", "use", "*")


# -- subjects -------------------------------------------------------------------------
def parse_subject(text: str, namespace: str) -> Subject:
    """``service account reader``, ``user alice``, ``group devs`` (also with ``:``)."""
    kind, _, name = _split_subject(text.strip().replace('"', ""))
    kind = kind.lower()
    if kind in ("service account", "serviceaccount", "sa"):
        ns, _, sa = name.rpartition("/")
        return Subject.service_account(ns or namespace, sa)
    if kind == "user":
        return Subject.user_in_groups(name)
    if kind == "group":
        return Subject("kclusterkit-member-of-" + name, (name, "system:authenticated"))
    raise StepUsageError(f"unknown subject {text!r}: write 'service account NAME', "
                         "'user NAME' or 'group NAME'")


def _split_subject(text: str) -> tuple[str, str, str]:
    for kind in ("service account", "serviceaccount", "sa", "user", "group"):
        for sep in (" ", ":"):
            if text.lower().startswith(kind + sep):
                return kind, sep, text[len(kind) + 1:].strip()
    return "", "", text


def _check_verb(verb: str) -> str:
    verb = verb.strip().lower()
    if verb not in _VERBS:
        raise StepUsageError(f"unknown verb {verb!r}: one of {', '.join(_VERBS)}")
    return verb


# -- what a failed check shows --------------------------------------------------------
def _rule_text(rule: Obj) -> str:
    verbs = ",".join(rule.get("verbs") or [])
    if rule.get("nonResourceURLs"):
        return f"{verbs} on URLs {','.join(rule['nonResourceURLs'])}"
    groups = ",".join(g or '""' for g in rule.get("apiGroups") or [])
    names = f" named {','.join(rule['resourceNames'])}" if rule.get("resourceNames") else ""
    return f"{verbs} on {','.join(rule.get('resources') or [])} (groups {groups}){names}"


def _matches(subject_ref: Obj, subject: Subject, binding_ns: str) -> bool:
    kind = subject_ref.get("kind")
    if kind == "User":
        return bool(subject_ref.get("name") == subject.user)
    if kind == "Group":
        return subject_ref.get("name") in subject.groups
    if kind == "ServiceAccount":
        ns = subject_ref.get("namespace") or binding_ns
        return subject.user == f"system:serviceaccount:{ns}:{subject_ref.get('name')}"
    return False


def bindings_found(driver: Any, subject: Subject, namespace: str) -> str:
    """The RoleBindings (in ``namespace``) and ClusterRoleBindings naming the subject, each
    with its role's rules: what a person reads to see why access is what it is."""
    lines: list[str] = []
    sources: list[tuple[str, str]] = [("RoleBinding", namespace)] if namespace else []
    sources.append(("ClusterRoleBinding", ""))
    for kind, ns in sources:
        try:
            items = driver.list(kind, ns or None)
        except ApiError as exc:
            lines.append(f"  ({kind}s: cannot list them: {exc})")
            continue
        for binding in items:
            meta = binding.get("metadata") or {}
            bns = meta.get("namespace", "")
            if not any(_matches(s, subject, bns) for s in binding.get("subjects") or []):
                continue
            ref = binding.get("roleRef") or {}
            where = f"{bns}/{meta.get('name')}" if bns else str(meta.get("name"))
            lines.append(f"  {kind} {where} -> {ref.get('kind')} {ref.get('name')}")
            role_kind = "ClusterRole" if ref.get("kind") == "ClusterRole" else "Role"
            try:
                role = driver.get(role_kind, ref.get("name", ""),
                                  None if role_kind == "ClusterRole" else bns)
            except ApiError as exc:
                lines.append(f"    (cannot read it: {exc})")
                continue
            if role is None:
                lines.append("    (the role does not exist)")
                continue
            for rule in role.get("rules") or []:
                lines.append(f"    - {_rule_text(rule)}")
    if not lines:
        return f"no RoleBinding in {namespace or 'any namespace'} and no ClusterRoleBinding names {subject.user}"
    return "bindings of " + subject.user + ":\n" + "\n".join(lines)


def _expect_access(context: Any, subject: Subject, verb: str, resource: str,
                   namespace: str | None, allowed: bool) -> None:
    state = kk(context)
    driver = state.driver
    verb = _check_verb(verb)
    ns = state.driver.namespace if namespace is None else state.namespace(namespace)
    where = f' in namespace "{ns}"'
    expected = f"{subject.user} {'may' if allowed else 'may not'} {verb} {resource}{where}"

    def check() -> Observation:
        answer: AccessCheck = driver.can(subject, verb, resource, ns)
        seen = f"{'allowed' if answer.allowed else 'denied'}"
        if answer.reason:
            seen += f" ({answer.reason})"
        if answer.allowed != allowed:
            seen += "\n" + bindings_found(driver, subject, ns)
        return Observation(answer.allowed == allowed, seen)

    check_now(context, expected, check)


# -- givens ---------------------------------------------------------------------------
def _service_account(name: str, automount: bool | None = None) -> Obj:
    sa: Obj = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}
    if automount is not None:
        sa["automountServiceAccountToken"] = automount
    return sa


def _binding(name: str, role_kind: str, role: str, sa: str) -> Obj:
    return {"apiVersion": RBAC, "kind": "RoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind,
                        "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": sa}]}


@step("given", 'a service account "{name:Q}"')
def a_service_account(context: Any, name: str) -> None:
    """A ServiceAccount in the scenario's namespace, with no roles bound to it.

    Example: Given a service account "builder"
    """
    kk(context).driver.create(_service_account(name))


@step("given", 'a service account "{name:Q}" with role "{role:Q}"')
def a_service_account_with_role(context: Any, name: str, role: str) -> None:
    """A ServiceAccount bound in the scenario's namespace to a role: a Role of that name
    if the scenario made one, else the cluster's ClusterRole (``view``, ``edit``, ``admin``).

    Example: Given a service account "reader" with role "view"
    """
    driver = kk(context).driver
    driver.create(_service_account(name))
    kind = "Role" if driver.get("Role", role) is not None else "ClusterRole"
    if kind == "ClusterRole" and driver.get("ClusterRole", role, "") is None:
        raise StepUsageError(f'no Role "{role}" in the scenario\'s namespace and no ClusterRole '
                             f'"{role}" in the cluster')
    driver.create(_binding(f"{name}-{role}".replace(":", "-"), kind, role, name))


@step("given", 'a service account "{name:Q}" with cluster role "{role:Q}" bound cluster-wide')
def a_service_account_cluster_wide(context: Any, name: str, role: str) -> None:
    """A ServiceAccount bound to a ClusterRole by a ClusterRoleBinding: the role in every
    namespace. On a real cluster the binding carries the run's labels and is removed when
    the scenario ends (or the run is interrupted).

    Example: Given a service account "auditor" with cluster role "view" bound cluster-wide
    """
    driver = kk(context).driver
    ns = driver.namespace
    driver.create(_service_account(name))
    if driver.get("ClusterRole", role, "") is None:
        raise StepUsageError(f'no ClusterRole "{role}" in the cluster')
    driver.create({"apiVersion": RBAC, "kind": "ClusterRoleBinding",
                   "metadata": {"name": f"{ns}-{name}-{role}".replace(":", "-")},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                               "name": role},
                   "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}]})


@step("given", 'a role "{name:Q}" allowing {verbs} on {resources}')
def a_role(context: Any, name: str, verbs: str, resources: str) -> None:
    """A Role in the scenario's namespace: the verbs on the resources (comma-separated;
    ``deployments.apps`` names a group, ``pods/log`` a subresource).

    Example: Given a role "pod-reader" allowing get, list, watch on pods, pods/log
    """
    verb_list = [_check_verb(v) for v in re.split(r"[,\s]+(?:and\s+)?", verbs) if v]
    rules: dict[str, list[str]] = {}
    for item in (r for r in re.split(r"[,\s]+(?:and\s+)?", resources) if r):
        base, _, sub = item.partition("/")
        plural, _, group = base.partition(".")
        rules.setdefault(group, []).append(plural + (f"/{sub}" if sub else ""))
    kk(context).driver.create({
        "apiVersion": RBAC, "kind": "Role", "metadata": {"name": name},
        "rules": [{"apiGroups": [group], "resources": res, "verbs": verb_list}
                  for group, res in rules.items()]})


@step("given", 'a pod "{name:Q}" running "{image:Q}" as service account "{sa:Q}"')
def a_pod_as(context: Any, name: str, image: str, sa: str) -> None:
    """A single pod running as the service account (its token mounted), running within
    two minutes.

    Example: Given a pod "client" running "busybox:1.36 sleep 3600" as service account "reader"
    """
    driver = kk(context).driver
    driver.create({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": name, "labels": {"app": name}},
                   "spec": {"serviceAccountName": sa, "containers": [container_for(image)]}})

    def check() -> Observation:
        pod = driver.get("pods", name)
        phase = ((pod or {}).get("status") or {}).get("phase", "absent")
        return Observation(pod is not None and is_running(pod), f'pod "{name}" is {phase}',
                           [pod] if pod else [])

    wait_for(context, f'pod "{name}" to be running', check, 120, kinds=("pods",))


# -- thens ----------------------------------------------------------------------------
@step("then", 'service account "{name:Q}" can {verb:w} {resource:S} in namespace "{ns:Q}"')
def sa_can_in(context: Any, name: str, verb: str, resource: str, ns: str) -> None:
    """The API server allows the service account (of the scenario's namespace) the verb on
    the resource in another namespace.

    Example: Then service account "reader" can list pods in namespace "kube-system"
    """
    state = kk(context)
    _expect_access(context, Subject.service_account(state.driver.namespace, name), verb, resource,
                   ns, True)


@step("then", 'service account "{name:Q}" cannot {verb:w} {resource:S} in namespace "{ns:Q}"')
def sa_cannot_in(context: Any, name: str, verb: str, resource: str, ns: str) -> None:
    """The API server refuses the service account the verb on the resource there.

    Example: Then service account "ops" cannot delete pods in namespace "kube-system"
    """
    state = kk(context)
    _expect_access(context, Subject.service_account(state.driver.namespace, name), verb, resource,
                   ns, False)


@step("then", 'service account "{name:Q}" can {verb:w} {resource:S}')
def sa_can(context: Any, name: str, verb: str, resource: str) -> None:
    """The API server allows the service account the verb on the resource in the
    scenario's namespace (``pods``, ``pods/log``, ``deployments.apps``).

    Example: Then service account "reader" can list pods
    """
    state = kk(context)
    _expect_access(context, Subject.service_account(state.driver.namespace, name), verb, resource,
                   None, True)


@step("then", 'service account "{name:Q}" cannot {verb:w} {resource:S}')
def sa_cannot(context: Any, name: str, verb: str, resource: str) -> None:
    """The API server refuses the service account the verb on the resource in the
    scenario's namespace.

    Example: Then service account "reader" cannot delete pods
    """
    state = kk(context)
    _expect_access(context, Subject.service_account(state.driver.namespace, name), verb, resource,
                   None, False)


@step("then", 'a user in group "{group:Q}" can {verb:w} {resource:S}')
def group_can(context: Any, group: str, verb: str, resource: str) -> None:
    """Any authenticated user in the group may do it in the scenario's namespace.

    Example: Then a user in group "system:authenticated" can create selfsubjectaccessreviews.authorization.k8s.io
    """
    _expect_access(context, parse_subject(f"group {group}", kk(context).driver.namespace), verb,
                   resource, None, True)


@step("then", 'a user in group "{group:Q}" cannot {verb:w} {resource:S}')
def group_cannot(context: Any, group: str, verb: str, resource: str) -> None:
    """No user gets it just by being in the group.

    Example: Then a user in group "system:authenticated" cannot list secrets
    """
    _expect_access(context, parse_subject(f"group {group}", kk(context).driver.namespace), verb,
                   resource, None, False)


@step("then", "the access rules hold")
def access_table(context: Any) -> None:
    """Every row of the table: subject, verb, resource, optional namespace, allowed
    (yes/no). Subjects: ``service account NAME``, ``user NAME``, ``group NAME``.

    Example: Then the access rules hold
    """
    table = getattr(context, "table", None)
    if table is None:
        raise StepUsageError("the step needs a table: | subject | verb | resource | allowed |")
    headings = [h.strip().lower() for h in table.headings]
    for needed in ("subject", "verb", "resource", "allowed"):
        if needed not in headings:
            raise StepUsageError(f"the table needs a {needed!r} column (it has {headings})")
    state = kk(context)
    driver = state.driver
    rows: list[tuple[str, bool, AccessCheck, Subject, str]] = []
    for row in table.rows:
        cells = {h: row[i].strip() for i, h in enumerate(headings)}
        wanted = cells["allowed"].lower()
        if wanted not in ("yes", "no", "true", "false"):
            raise StepUsageError(f"allowed must be yes or no, not {cells['allowed']!r}")
        ns = cells.get("namespace") or state.driver.namespace
        subject = parse_subject(cells["subject"], state.driver.namespace)
        verb = _check_verb(cells["verb"])
        rows.append((f"{cells['subject']} {verb} {cells['resource']} in {ns}",
                     wanted in ("yes", "true"), driver.can(subject, verb, cells["resource"], ns),
                     subject, ns))

    def check() -> Observation:
        wrong = [(text, want, got, subject, ns) for text, want, got, subject, ns in rows
                 if got.allowed != want]
        lines = [f"{'ok ' if got.allowed == want else 'NO '} {text}: "
                 f"{'allowed' if got.allowed else 'denied'}" for text, want, got, _, _ in rows]
        for _text, _want, _got, subject, ns in wrong:
            lines.append(bindings_found(driver, subject, ns))
        return Observation(not wrong, "\n".join(lines))

    check_now(context, f"all {len(rows)} access rules to hold", check)


@step("then", "an unauthenticated request to the API server is refused")
def anonymous_refused(context: Any) -> None:
    """A request without credentials gets 401 (anonymous auth off) or 403 (anonymous is
    ``system:anonymous``, whom RBAC allows almost nothing).

    Example: Then an unauthenticated request to the API server is refused
    """
    state = kk(context)
    path = f"/api/v1/namespaces/{state.driver.namespace}/pods"

    def check() -> Observation:
        status, body = state.driver.anonymous_request(path)
        return Observation(status in (401, 403), f"GET {path} without credentials: {status} "
                                                 f"{body.strip()[:300]}")

    check_now(context, "the API server to refuse it (401 or 403)", check)


def _in_pod_list(context: Any, pod: str, allowed: bool) -> None:
    state = kk(context)
    driver = state.driver
    url = f"{API_URL}/api/v1/namespaces/{state.driver.namespace}/pods"

    def check() -> Observation:
        token = driver.exec(pod, ["cat", TOKEN_PATH])
        if token.exit_code != 0:
            return Observation(False, f'pod "{pod}" has no service account token at '
                                      f"{TOKEN_PATH}: {token.stderr.strip()}")
        got = driver.exec(pod, ["wget", "-q", "-O", "-", "--no-check-certificate", "--header",
                                f"Authorization: Bearer {token.stdout.strip()}", url])
        answered = got.exit_code == 0
        refused = "403" in got.stderr
        seen = ("the pod list came back" if answered else
                f"wget exited {got.exit_code}: {got.stderr.strip()[:200]}")
        ok = answered if allowed else refused
        if not ok:
            spec = (driver.get("pods", pod) or {}).get("spec") or {}
            sa = spec.get("serviceAccountName", "default")
            seen += "\n" + bindings_found(driver, Subject.service_account(state.driver.namespace, sa),
                                          state.driver.namespace)
        return Observation(ok, seen)

    what = "answer the pod with the list" if allowed else "refuse the pod (403)"
    check_now(context, f"the API server to {what}", check)


@step("then", 'pod "{pod:Q}" can list pods with its own token')
def pod_can_list(context: Any, pod: str) -> None:
    """From inside the pod, busybox wget with the mounted service account token lists the
    pods of its namespace at https://kubernetes.default.svc.

    Example: Then pod "client" can list pods with its own token
    """
    _in_pod_list(context, pod, True)


@step("then", 'pod "{pod:Q}" cannot list pods with its own token')
def pod_cannot_list(context: Any, pod: str) -> None:
    """From inside the pod, the same call is refused with 403.

    Example: Then pod "client" cannot list pods with its own token
    """
    _in_pod_list(context, pod, False)


@step("then", 'a pod "{name:Q}" as service account "{sa:Q}" is refused because the service account does not exist')
def pod_refused_without_sa(context: Any, name: str, sa: str) -> None:
    """Creating a pod whose service account does not exist is refused by the ServiceAccount
    admission plugin (403 ``error looking up service account``).

    Example: Then a pod "ghost" as service account "nobody" is refused because the service account does not exist
    """
    state = kk(context)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": {"serviceAccountName": sa,
                    "containers": [container_for("busybox:1.36 sleep 3600")]}}

    def check() -> Observation:
        try:
            state.driver.create(pod)
        except ApiError as exc:
            ok = exc.code == 403 and "error looking up service account" in str(exc)
            return Observation(ok, f"refused: {exc.code} {exc}")
        return Observation(False, f'pod "{name}" was created')

    check_now(context, f'creating pod "{name}" to be refused: service account "{sa}" '
                       "does not exist", check)
