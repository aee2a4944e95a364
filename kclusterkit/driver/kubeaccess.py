"""Access checks on a cluster reached through a kubeconfig.

The decision comes from a SubjectAccessReview (authorization.k8s.io/v1), which any
cluster's authorizer answers without side effects. Where the check is about the scenario's
own namespaces it is then confirmed by the request itself, sent as the subject through
impersonation (``Impersonate-User``/``Impersonate-Group``) and as a dry run where the verb
writes, so a cluster whose enforcement disagrees with its reviews is caught. A kubeconfig
whose user may not impersonate makes these checks skip with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import urllib3

from kclusterkit.driver.base import AccessCheck, Subject
from kclusterkit.driver.errors import ApiError, ClusterError, NotSupported
from kclusterkit.driver.kubediscovery import UnknownKind

if TYPE_CHECKING:
    from kclusterkit.driver.kube import KubeDriver

SAR_PATH = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
SSAR_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
PROBE_NAME = "kclusterkit-access-probe"
DRY_RUN = {"dryRun": "All"}


def review(driver: KubeDriver, subject: Subject, attrs: dict[str, str]) -> AccessCheck:
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": subject.user, "groups": list(subject.groups),
                     "resourceAttributes": attrs}}
    status = (driver.rest.call("POST", SAR_PATH, body=body) or {}).get("status") or {}
    return AccessCheck(bool(status.get("allowed")), str(status.get("reason") or ""))


def _sent_groups(subject: Subject) -> tuple[str, ...]:
    """The Impersonate-Group headers: none for a service account (the API server adds its
    groups, impersonation.go) and never system:authenticated (added for any user)."""
    if subject.user.startswith("system:serviceaccount:"):
        return ()
    return tuple(g for g in subject.groups if g != "system:authenticated")


def _may_impersonate(driver: KubeDriver, subject: Subject) -> None:
    sa = subject.user.split(":") if subject.user.startswith("system:serviceaccount:") else None
    wanted = [({"verb": "impersonate", "resource": "serviceaccounts", "namespace": sa[2],
                "name": sa[3]} if sa and len(sa) == 4
               else {"verb": "impersonate", "resource": "users", "name": subject.user})]
    wanted += [{"verb": "impersonate", "resource": "groups", "name": g}
               for g in _sent_groups(subject)]
    for attrs in wanted:
        key = tuple(sorted(attrs.items()))
        cache: dict[Any, bool] = driver.__dict__.setdefault("_impersonation_ok", {})
        if key not in cache:
            body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                    "spec": {"resourceAttributes": attrs}}
            answer = driver.rest.call("POST", SSAR_PATH, body=body) or {}
            cache[key] = bool((answer.get("status") or {}).get("allowed"))
        if not cache[key]:
            raise NotSupported(f"the kubeconfig's user may not impersonate {attrs['resource']} "
                               f"{attrs['name']!r}, which checking access as "
                               f"{subject.user} needs (RBAC verb impersonate)")


def _probe(driver: KubeDriver, subject: Subject, verb: str, res: Any, ns: str, sub: str,
           name: str | None) -> bool | None:
    """Send the request as the subject; whether it got past authorization (None: no probe)."""
    headers = {"Impersonate-User": subject.user}
    target = name or PROBE_NAME
    call: tuple[str, str, Any, dict[str, str] | None, str | None]
    if verb in ("get", "list", "watch"):
        if verb == "get" or sub:
            call = ("GET", res.path(ns, target, sub or None), None, None, None)
        else:
            call = ("GET", res.path(ns), None, {"limit": "1"}, None)
    elif verb == "delete" and not sub:
        call = ("DELETE", res.path(ns, target), None, DRY_RUN, None)
    elif verb == "patch" and not sub:
        call = ("PATCH", res.path(ns, target), {}, DRY_RUN, "application/merge-patch+json")
    elif verb == "update" and not sub:
        body = {"apiVersion": res.api_version, "kind": res.kind, "metadata": {"name": target}}
        call = ("PUT", res.path(ns, target), body, DRY_RUN, None)
    elif verb == "create" and not sub:
        body = {"apiVersion": res.api_version, "kind": res.kind,
                "metadata": {"name": PROBE_NAME}}
        call = ("POST", res.path(ns), body, DRY_RUN, None)
    else:
        return None
    method, path, body, query, ctype = call
    # urllib3 sends one value per header name: the groups go as repeated headers through
    # an HTTPHeaderDict.
    extra: Any = urllib3.HTTPHeaderDict(headers)
    for group in _sent_groups(subject):
        extra.add("Impersonate-Group", group)
    try:
        driver.rest.call(method, path, query=query, body=body, content_type=ctype,
                         headers=extra)
    except ApiError as exc:
        # The authorizer's refusal names the verb (responsewriters.forbiddenMessage); other
        # 403s (admission, RBAC's escalation check) come after authorization passed.
        if exc.code == 403 and f'" cannot {method_verb(method, verb)} resource' in str(exc):
            return False
        if exc.code == 401 or (exc.code == 403 and "cannot impersonate" in str(exc)):
            raise
        return True  # 404, 409, 422 …: authorization passed, something later answered
    return True


def method_verb(method: str, verb: str) -> str:
    """The verb the API server authorizes a probe's request as (requestinfo.go)."""
    return {"DELETE": "delete", "PATCH": "patch", "POST": "create", "PUT": "update"
            }.get(method, verb)


def can(driver: KubeDriver, subject: Subject, verb: str, resource: str,
        namespace: str | None, name: str | None) -> AccessCheck:
    base, _, sub = resource.partition("/")
    try:
        res = driver.discovery.resolve(base)
        group, plural, namespaced = res.group, res.plural, res.namespaced
    except UnknownKind:
        res, namespaced = None, True
        plural, _, group = base.partition(".")
    ns = (driver.namespace if namespace is None else namespace) if namespaced else ""
    attrs = {"verb": verb, "group": group, "resource": plural, "namespace": ns}
    if sub:
        attrs["subresource"] = sub
    if name:
        attrs["name"] = name
    answer = review(driver, subject, attrs)
    if res is None or not ns or not driver.owns_namespace(ns):
        return answer  # requests only ever go to the scenario's own namespaces
    _may_impersonate(driver, subject)
    enforced = _probe(driver, subject, verb, res, ns, sub, name)
    if enforced is not None and enforced != answer.allowed:
        raise ClusterError(
            f"the cluster contradicts itself about {subject.user} {verb} {resource} in "
            f"{ns}: its SubjectAccessReview says {'allowed' if answer.allowed else 'denied'}, "
            f"the request sent as that user was {'let through' if enforced else 'refused'}")
    return answer


def anonymous_request(driver: KubeDriver, path: str) -> tuple[int, str]:
    """GET ``path`` with the kubeconfig's server and CA, without its credentials."""
    config = driver.rest.api_client.configuration
    pool = urllib3.PoolManager(
        cert_reqs="CERT_REQUIRED" if config.verify_ssl else "CERT_NONE",
        ca_certs=config.ssl_ca_cert if config.verify_ssl else None,
        assert_hostname=config.tls_server_name or None, retries=False, timeout=10.0)
    try:
        resp = pool.request("GET", config.host.rstrip("/") + path)
    except urllib3.exceptions.HTTPError as exc:
        raise ClusterError(f"cannot reach the API server at {config.host}: {exc}") from exc
    return resp.status, resp.data.decode("utf-8", "replace")


# -- cluster-scoped RBAC objects a scenario needs -----------------------------------------
RBAC_GROUP = "rbac.authorization.k8s.io"
CLUSTER_RBAC = ("clusterroles", "clusterrolebindings")
# Every cluster-scoped kind a run may write, as (group, plural): RBAC's, the
# PriorityClasses a preemption scenario defines and the CustomResourceDefinitions a
# custom_resources scenario defines.
CLUSTER_WRITABLE = (*((RBAC_GROUP, p) for p in CLUSTER_RBAC),
                    ("scheduling.k8s.io", "priorityclasses"),
                    ("apiextensions.k8s.io", "customresourcedefinitions"))
SCENARIO_LABEL = "kclusterkit.io/scenario-namespace"


def may_write_cluster_scoped(res: Any) -> bool:
    """ClusterRoles, ClusterRoleBindings, PriorityClasses and CRDs are the cluster-scoped
    objects a run may write: labelled with the run (and scenario) and removed after the
    scenario, or on SIGINT; only objects carrying the run's label are ever deleted."""
    return (res.group, res.plural) in CLUSTER_WRITABLE


def labelled(driver: KubeDriver, obj: dict[str, Any], run_label: str) -> dict[str, Any]:
    meta = dict(obj.get("metadata") or {})
    meta["labels"] = {**(meta.get("labels") or {}), run_label: driver.run_id,
                      SCENARIO_LABEL: driver.namespace}
    return {**obj, "metadata": meta}


def remove_cluster_objects(driver: KubeDriver, run_label: str, *, scenario: str | None,
                           why: str) -> None:
    """Delete the run's (or one scenario's) cluster-scoped objects (CLUSTER_WRITABLE)."""
    from kclusterkit.driver.kubeapi import NO_RETRY

    selector = f"{run_label}={driver.run_id}"
    if scenario:
        selector += f",{SCENARIO_LABEL}={scenario}"
    for group, plural in CLUSTER_WRITABLE:
        path = f"/apis/{group}/v1/{plural}"
        try:
            found = driver.rest.call("GET", path, query={"labelSelector": selector},
                                     policy=NO_RETRY, timeout=5.0)
        except ClusterError as exc:
            if isinstance(exc, ApiError) and exc.code in (403, 404):
                continue  # a kind we may not list (or the cluster lacks): we made none
            driver.log_line(f"kclusterkit: {why}: could not list the run's {plural}: {exc}")
            continue
        for item in (found or {}).get("items") or []:
            name = (item.get("metadata") or {}).get("name", "")
            try:
                driver.rest.call("DELETE", f"{path}/{name}", policy=NO_RETRY, timeout=5.0)
            except ApiError as exc:
                if exc.code != 404:
                    driver.log_line(f"kclusterkit: {why}: could not delete {plural} {name}: "
                                    f"{exc}")
            except ClusterError as exc:
                driver.log_line(f"kclusterkit: {why}: could not delete {plural} {name}: {exc}")
