"""The authenticated user as upstream's user.Info: name, uid, groups, extra.

Names and groups from k8s.io/apiserver/pkg/authentication/user/user.go and
pkg/serviceaccount/util.go (``system:serviceaccount:NS:NAME`` in ``system:serviceaccounts``
and ``system:serviceaccounts:NS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

SYSTEM_PRIVILEGED_GROUP = "system:masters"
ALL_AUTHENTICATED = "system:authenticated"
ALL_UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS_NAME = "system:anonymous"
SA_PREFIX = "system:serviceaccount:"
SA_GROUP = "system:serviceaccounts"
# kubeadm (>= 1.29) writes admin.conf for this user in this group, bound to cluster-admin
# by the ClusterRoleBinding of the same name (cmd/kubeadm/app/constants).
KUBEADM_ADMINS_GROUP = "kubeadm:cluster-admins"


@dataclass(frozen=True)
class UserInfo:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    @property
    def service_account(self) -> tuple[str, str] | None:
        """(namespace, name) when this is a service account's identity."""
        return split_service_account(self.name)

    def describe(self) -> str:
        """How escalation errors name a user: ``user "bob" (groups=["a" "b"])``."""
        groups = " ".join(f'"{g}"' for g in self.groups)
        return f'user "{self.name}" (groups=[{groups}])'


def split_service_account(name: str) -> tuple[str, str] | None:
    if not name.startswith(SA_PREFIX):
        return None
    ns, sep, sa = name[len(SA_PREFIX):].partition(":")
    if not sep or not ns or not sa or ":" in sa:
        return None
    return ns, sa


def service_account_groups(namespace: str) -> tuple[str, ...]:
    return (SA_GROUP, f"{SA_GROUP}:{namespace}")


def service_account_user(namespace: str, name: str, uid: str = "") -> UserInfo:
    return UserInfo(f"{SA_PREFIX}{namespace}:{name}",
                    (*service_account_groups(namespace), ALL_AUTHENTICATED), uid)


ADMIN = UserInfo("kubernetes-admin", (KUBEADM_ADMINS_GROUP, ALL_AUTHENTICATED))
ANONYMOUS = UserInfo(ANONYMOUS_NAME, (ALL_UNAUTHENTICATED,))
