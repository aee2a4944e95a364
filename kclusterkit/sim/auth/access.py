"""One cluster's access control: who a request is, whom it acts as, and whether it may.

The API server's filter chain, in upstream's order (k8s.io/apiserver/pkg/server/config.go
DefaultBuildHandlerChain): authentication (the admin token, service account tokens,
anonymous), impersonation (``Impersonate-User``/``-Group`` headers, each checked with the
``impersonate`` verb: filters/impersonation.go), then authorization (RBAC, see ``rbac``) of
the request's attributes (request/requestinfo.go).
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Mapping
from typing import Any

from kclusterkit.sim import errors
from kclusterkit.sim.auth import tokens
from kclusterkit.sim.auth.rbac import (
    Attributes,
    Authorizer,
    Decision,
    forbidden_status_message,
)
from kclusterkit.sim.auth.user import (
    ADMIN,
    ALL_AUTHENTICATED,
    ALL_UNAUTHENTICATED,
    ANONYMOUS,
    ANONYMOUS_NAME,
    UserInfo,
    service_account_groups,
    service_account_user,
    split_service_account,
)
from kclusterkit.sim.resources import PODS, for_plural

SERVICE_ACCOUNTS = for_plural("", "serviceaccounts")
# requestinfo.go: the verbs a method maps to; namespaces' own subresources.
_METHOD_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "GET": "get",
                 "HEAD": "get", "DELETE": "delete"}
_NAMESPACE_SUBRESOURCES = ("status", "finalize")


def unauthorized() -> errors.StatusError:
    return errors.StatusError(401, "Unauthorized", "Unauthorized")


class Access:
    """Authentication, impersonation and RBAC over one cluster's store and clock."""

    def __init__(self, cluster: Any, seed: int = 0) -> None:
        self.store = cluster.store
        self.clock = cluster.clock
        self.authorizer = Authorizer(self.store)
        # The served simulator sets the admin token (and an unguessable signing key); the
        # in-process cluster has no bearer tokens but the ones TokenRequest issues.
        self.admin_token: str | None = None
        self.signing_key = hashlib.sha256(f"kclusterkit-sa-signing:{seed}".encode()).digest()
        self.anonymous_enabled = True  # --anonymous-auth defaults to true
        # The ServiceAccount admission plugin is on, as in every kube-apiserver by default.
        self.service_account_admission = True
        # Admission's random names (kube-api-access-xxxxx), apart from the cluster's stream.
        self.rng = random.Random(f"kclusterkit-access:{seed}")

    # -- authentication ----------------------------------------------------------------
    def authenticate(self, authorization: str | None) -> UserInfo:
        """The user behind an ``Authorization`` header; 401 for a token nobody issued."""
        if not authorization:
            if not self.anonymous_enabled:
                raise unauthorized()
            return ANONYMOUS
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise unauthorized()
        if self.admin_token is not None and hmac.compare_digest(
                token.encode(), self.admin_token.encode()):
            return ADMIN
        user = self.token_user(token)
        if user is None:
            raise unauthorized()
        return user

    def is_admin(self, user: UserInfo) -> bool:
        return user == ADMIN

    def token_user(self, token: str) -> UserInfo | None:
        """A service account token's user while its account (and bound pod) live."""
        claims = tokens.verify(self.signing_key, token)
        if claims is None:
            return None
        now = self.unix_now()
        try:
            if not (claims["nbf"] <= now + 60 and now < claims["exp"]):  # 60 s leeway
                return None
            private = claims["kubernetes.io"]
            ns = private["namespace"]
            sa_ref = private["serviceaccount"]
        except (KeyError, TypeError):
            return None
        sa = self.store.get(SERVICE_ACCOUNTS, ns, sa_ref.get("name", ""))
        if sa is None or sa["metadata"]["uid"] != sa_ref.get("uid"):
            return None
        pod_ref = private.get("pod")
        if pod_ref is not None:
            pod = self.store.get(PODS, ns, pod_ref.get("name", ""))
            if pod is None or pod["metadata"]["uid"] != pod_ref.get("uid") \
                    or pod["metadata"].get("deletionTimestamp"):
                return None
        return service_account_user(ns, sa["metadata"]["name"], sa["metadata"]["uid"])

    def issue_token(self, namespace: str, name: str, *,
                    expiration: int = tokens.DEFAULT_EXPIRATION, audiences: list[str] | None = None,
                    pod: dict[str, Any] | None = None
                    ) -> tuple[str, float]:
        """TokenRequest: a token for the service account, bound to ``pod`` when given."""
        sa = self.store.get(SERVICE_ACCOUNTS, namespace, name)
        if sa is None:
            raise errors.not_found("serviceaccounts", "", name)
        claims = tokens.claims_for(self.unix_now(), expiration, audiences or [], namespace, sa,
                                   pod)
        return tokens.issue(self.signing_key, claims), self.clock.now + expiration

    def unix_now(self) -> float:
        """Cluster time as Unix seconds: what a token's iat/nbf/exp count in."""
        return float(self.clock.epoch.timestamp() + self.clock.now)

    # -- impersonation -----------------------------------------------------------------
    def impersonate(self, user: UserInfo, headers: Mapping[str, str] | Any) -> UserInfo:
        """filters/impersonation.go: act as another user when allowed to."""
        getall = getattr(headers, "getall", None)
        name = headers.get("Impersonate-User")
        groups = list(getall("Impersonate-Group", [])) if getall else \
            ([headers["Impersonate-Group"]] if headers.get("Impersonate-Group") else [])
        uid = headers.get("Impersonate-Uid") or ""
        if not name:
            if groups or uid:
                raise errors.bad_request(
                    "requested [" + ", ".join(
                        f"{{Group  {g}  authentication.k8s.io/v1  }}" for g in groups)
                    + "] without impersonating a user")
            return user
        sa = split_service_account(name)
        if sa is not None:
            self._may_impersonate(user, "serviceaccounts", sa[1], sa[0], "")
        else:
            self._may_impersonate(user, "users", name, "", "")
        for group in groups:  # only the groups asked for: a service account's are implied
            self._may_impersonate(user, "groups", group, "", "")
        if sa is not None and not groups:
            groups = list(service_account_groups(sa[0]))
        if uid:
            self._may_impersonate(user, "uids", uid, "", "authentication.k8s.io")
        if name == ANONYMOUS_NAME:
            if ALL_UNAUTHENTICATED not in groups:
                groups.append(ALL_UNAUTHENTICATED)
        elif ALL_AUTHENTICATED not in groups and ALL_UNAUTHENTICATED not in groups:
            groups.append(ALL_AUTHENTICATED)
        return UserInfo(name, tuple(groups), uid)

    def _may_impersonate(self, user: UserInfo, resource: str, name: str, namespace: str,
                         group: str) -> None:
        attrs = Attributes(user, "impersonate", True, namespace, group, "", resource, "", name)
        decision = self.authorizer.authorize(attrs)
        if not decision.allowed:
            raise self.forbidden(attrs, decision)

    # -- authorization -----------------------------------------------------------------
    def authorize(self, attrs: Attributes) -> Decision:
        return self.authorizer.authorize(attrs)

    def check(self, attrs: Attributes) -> Decision:
        """Authorize or raise upstream's 403."""
        decision = self.authorizer.authorize(attrs)
        if not decision.allowed:
            raise self.forbidden(attrs, decision)
        return decision

    @staticmethod
    def forbidden(attrs: Attributes, decision: Decision) -> errors.StatusError:
        details: dict[str, Any] = {}
        if attrs.resource_request:
            details = {"name": attrs.name, **({"group": attrs.api_group} if attrs.api_group
                                               else {}), "kind": attrs.resource}
            if not attrs.name:
                details.pop("name")
        return errors.StatusError(403, "Forbidden",
                                  forbidden_status_message(attrs, decision.reason), details)


def request_attributes(user: UserInfo, method: str, path: str,
                       query: Mapping[str, str]) -> Attributes:
    """requestinfo.go NewRequestInfo: the verb and resource a URL and method name."""
    verb = _METHOD_VERBS.get(method.upper(), method.lower())
    parts = [p for p in path.split("/") if p]
    resource_path = len(parts) >= 3 and (parts[0] == "api" or (parts[0] == "apis"
                                                                and len(parts) >= 4))
    if not resource_path:
        return Attributes(user, _nonresource_verb(method), False, path=path or "/")
    if parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    else:
        group, version, rest = parts[1], parts[2], parts[3:]
    watch = False
    if rest and rest[0] == "watch":
        watch, rest = True, rest[1:]
    namespace = ""
    if rest and rest[0] == "namespaces":
        if len(rest) > 1:
            namespace = rest[1]
            if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
                rest = rest[2:]
    resource = rest[0] if rest else ""
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    if not name and verb == "get":
        verb = "list"
    if not name and verb == "delete":
        verb = "deletecollection"
    if watch or (verb in ("list", "get") and query.get("watch") in ("1", "true")):
        verb = "watch"
    if verb == "list" and query.get("fieldSelector", "").startswith("metadata.name=") \
            and "," not in query.get("fieldSelector", ""):
        name = query["fieldSelector"].split("=", 1)[1]  # requestinfo: a list of one name
    return Attributes(user, verb, True, namespace, group, version, resource, sub, name, path)


def _nonresource_verb(method: str) -> str:
    return {"GET": "get", "HEAD": "head", "POST": "post", "PUT": "put", "PATCH": "patch",
            "DELETE": "delete"}.get(method.upper(), method.lower())
