"""The review APIs and TokenRequest: create-only resources nothing stores.

SelfSubjectAccessReview, SubjectAccessReview and LocalSubjectAccessReview
(pkg/registry/authorization/*), SelfSubjectRulesReview (selfsubjectrulesreview/rest.go),
TokenReview and SelfSubjectReview (pkg/registry/authentication), and the ServiceAccount
``token`` subresource (pkg/registry/core/serviceaccount/storage/token.go). ``kubectl auth
can-i`` (and ``--list``), ``kubectl auth whoami`` and ``kubectl create token`` use them.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.sim import errors
from kclusterkit.sim import validation as v
from kclusterkit.sim.auth import tokens
from kclusterkit.sim.auth.access import Access
from kclusterkit.sim.auth.rbac import Attributes
from kclusterkit.sim.auth.user import UserInfo
from kclusterkit.sim.resources import PODS, Resource

Obj = dict[str, Any]
AUTHZ = "authorization.k8s.io"
AUTHN = "authentication.k8s.io"
REVIEWS = {
    (AUTHZ, "selfsubjectaccessreviews"), (AUTHZ, "subjectaccessreviews"),
    (AUTHZ, "localsubjectaccessreviews"), (AUTHZ, "selfsubjectrulesreviews"),
    (AUTHN, "tokenreviews"), (AUTHN, "selfsubjectreviews"),
}


def handles(res: Resource) -> bool:
    return (res.group, res.plural) in REVIEWS


def _spec(body: Any) -> Obj:
    spec = body.get("spec") if isinstance(body, dict) else None
    return spec if isinstance(spec, dict) else {}


def _invalid(kind: str, group: str, causes: list[tuple[str, str, str]]) -> errors.StatusError:
    return errors.invalid(kind, group, "", causes)


def _attributes(kind: str, user: UserInfo, spec: Obj, namespace: str | None) -> Attributes:
    """authorizationutil.ResourceAttributesFrom / NonResourceAttributesFrom."""
    res_attrs = spec.get("resourceAttributes")
    non_res = spec.get("nonResourceAttributes")
    if bool(res_attrs) == bool(non_res):
        raise _invalid(kind, AUTHZ, [("FieldValueRequired", "spec.resourceAttributes",
                                      "exactly one of nonResourceAttributes or "
                                      "resourceAttributes must be specified")])
    if non_res:
        return Attributes(user, str(non_res.get("verb") or ""), False,
                          path=str(non_res.get("path") or ""))
    ns = str(res_attrs.get("namespace") or "")
    if namespace is not None:  # LocalSubjectAccessReview: the URL's namespace
        if ns and ns != namespace:
            raise _invalid(kind, AUTHZ, [("FieldValueInvalid", "spec.resourceAttributes.namespace",
                                          "must match metadata.namespace")])
        ns = namespace
    return Attributes(user, str(res_attrs.get("verb") or ""), True, ns,
                      str(res_attrs.get("group") or ""), str(res_attrs.get("version") or ""),
                      str(res_attrs.get("resource") or ""),
                      str(res_attrs.get("subresource") or ""), str(res_attrs.get("name") or ""))


def _echo(res: Resource, body: Any, status: Obj, namespace: str = "") -> Obj:
    meta = dict(body.get("metadata") or {}) if isinstance(body, dict) else {}
    meta.setdefault("creationTimestamp", None)
    if namespace:
        meta["namespace"] = namespace
    return {"kind": res.kind, "apiVersion": res.api_version, "metadata": meta,
            "spec": _spec(body), "status": status}


def create(access: Access, user: UserInfo, res: Resource, body: Any, namespace: str) -> Obj:
    """The answer to a create of one of the review resources."""
    spec = _spec(body)
    if res.plural in ("selfsubjectaccessreviews", "subjectaccessreviews",
                      "localsubjectaccessreviews"):
        subject = user
        if res.plural != "selfsubjectaccessreviews":
            name, groups = str(spec.get("user") or ""), spec.get("groups") or []
            if not name and not groups:
                raise _invalid(res.kind, AUTHZ, [("FieldValueInvalid", "spec.user",
                                                  "at least one of user or group must be "
                                                  "specified")])
            subject = UserInfo(name, tuple(str(g) for g in groups), str(spec.get("uid") or ""))
        local = namespace if res.plural == "localsubjectaccessreviews" else None
        decision = access.authorize(_attributes(res.kind, subject, spec, local))
        status: Obj = {"allowed": decision.allowed}
        if decision.reason:
            status["reason"] = decision.reason
        return _echo(res, body, status, namespace)
    if res.plural == "selfsubjectrulesreviews":
        ns = str(spec.get("namespace") or "")
        rules, errs = access.authorizer.rules_for(user, ns)
        resource_rules = [{k: r[k] for k in ("verbs", "apiGroups", "resources", "resourceNames")
                           if r.get(k) is not None} for r in rules if r.get("resources")]
        non_resource = [{"verbs": r["verbs"], "nonResourceURLs": r["nonResourceURLs"]}
                        for r in rules if r.get("nonResourceURLs")]
        out: Obj = {"resourceRules": resource_rules, "nonResourceRules": non_resource,
                    "incomplete": bool(errs)}
        if errs:
            out["evaluationError"] = ", ".join(errs)
        return _echo(res, body, out)
    if res.plural == "tokenreviews":
        token = str(spec.get("token") or "")
        found = access.token_user(token) if token else None
        if found is None and token and access.admin_token is not None:
            try:
                found = access.authenticate(f"Bearer {token}")
            except errors.StatusError:
                found = None
        review: Obj = {"authenticated": found is not None}
        if found is not None:
            review["user"] = {"username": found.name, "uid": found.uid,
                              "groups": list(found.groups)}
            review["audiences"] = spec.get("audiences") or [tokens.ISSUER]
        else:
            review["user"] = {}
            review["error"] = "invalid bearer token"
        return _echo(res, body, review)
    # selfsubjectreviews: kubectl auth whoami
    info = {"username": user.name, "groups": list(user.groups)}
    if user.uid:
        info["uid"] = user.uid
    return {"kind": res.kind, "apiVersion": res.api_version,
            "metadata": {"creationTimestamp": access.clock.timestamp()},
            "status": {"userInfo": info}}


def token_request(access: Access, namespace: str, name: str, body: Any) -> Obj:
    """POST serviceaccounts/NAME/token: a TokenRequest with the token in its status."""
    spec = dict(_spec(body))
    expiration = spec.get("expirationSeconds")
    if expiration is None:
        expiration = tokens.DEFAULT_EXPIRATION
    if not isinstance(expiration, int) or isinstance(expiration, bool):
        raise errors.bad_request("spec.expirationSeconds must be an integer")
    if expiration < tokens.MIN_EXPIRATION:
        raise errors.invalid("TokenRequest", AUTHN, name, [v.invalid(
            "spec.expirationSeconds", expiration,
            "may not specify a duration less than 10 minutes")])
    if expiration > 2 ** 32:
        raise errors.invalid("TokenRequest", AUTHN, name, [v.invalid(
            "spec.expirationSeconds", expiration,
            "may not specify a duration larger than 2^32 seconds")])
    pod = None
    ref = spec.get("boundObjectRef")
    if isinstance(ref, dict) and ref:
        if ref.get("kind") != "Pod":
            raise errors.bad_request(f"cannot bind token to object of type {ref.get('kind')}")
        pod = access.store.get(PODS, namespace, str(ref.get("name") or ""))
        if pod is None:
            raise errors.not_found("pods", "", str(ref.get("name") or ""))
        if ref.get("uid") and ref["uid"] != pod["metadata"]["uid"]:
            raise errors.StatusError(409, "Conflict",
                                     f'Operation cannot be fulfilled on pods "{ref["name"]}": '
                                     "the UID in the bound object reference "
                                     f"({ref['uid']}) does not match the UID in record. The "
                                     "object might have been deleted and then recreated")
    audiences = [str(a) for a in spec.get("audiences") or []] or [tokens.ISSUER]
    token, expires = access.issue_token(namespace, name, expiration=expiration,
                                        audiences=audiences, pod=pod)
    spec["audiences"] = audiences
    spec["expirationSeconds"] = expiration
    spec.setdefault("boundObjectRef", None)
    return {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": name, "namespace": namespace,
                         "creationTimestamp": access.clock.timestamp()},
            "spec": spec,
            "status": {"token": token,
                       "expirationTimestamp": access.clock.timestamp(expires)}}
