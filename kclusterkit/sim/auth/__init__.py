"""Who may do what: authentication, RBAC authorization and service account tokens.

Upstream splits this between the API server's filters (authentication, impersonation,
authorization: k8s.io/apiserver/pkg/endpoints/filters), the token authenticators
(pkg/serviceaccount) and the RBAC authorizer (plugin/pkg/auth/authorizer/rbac). Here
``Access`` holds the three for one cluster, so the served API and the in-process driver
ask the same questions and get the same answers.
"""

from __future__ import annotations

from kclusterkit.sim.auth.access import Access
from kclusterkit.sim.auth.user import ADMIN, ANONYMOUS, UserInfo, service_account_user

__all__ = ["ADMIN", "ANONYMOUS", "Access", "UserInfo", "service_account_user"]
