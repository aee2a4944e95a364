"""What access control costs each request: authentication, impersonation and RBAC.

Times the served API's per-request work (``Access.authenticate`` + ``request_attributes``
+ ``Access.check``) for the admin token, a service account token and an impersonated
service account, against a cluster with N extra RoleBindings in the request's namespace.
Prints figures, asserts nothing; the last line is key=value pairs.
Run: PYTHONPATH=. python bench/access.py [--bindings N --requests N]
"""

from __future__ import annotations

import argparse
import time

from kclusterkit.sim.auth.access import request_attributes
from kclusterkit.sim.cluster import Cluster, ClusterSpec

RBAC = "rbac.authorization.k8s.io/v1"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bindings", type=int, default=200)
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=1)
    api, access = cluster.api, cluster.access
    access.admin_token = "admin-token-for-the-bench"
    api.create({"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "reader", "namespace": "default"}})
    for i in range(args.bindings):
        api.create({"apiVersion": RBAC, "kind": "RoleBinding",
                    "metadata": {"name": f"b{i}", "namespace": "default"},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                "name": "view"},
                    "subjects": [{"kind": "User", "name": f"user-{i}"}]})
    api.create({"apiVersion": RBAC, "kind": "RoleBinding",
                "metadata": {"name": "reader", "namespace": "default"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                            "name": "view"},
                "subjects": [{"kind": "ServiceAccount", "name": "reader",
                              "namespace": "default"}]})
    sa_token, _ = access.issue_token("default", "reader")
    cases = {
        "admin": ("Bearer admin-token-for-the-bench", {}),
        "serviceaccount": (f"Bearer {sa_token}", {}),
        "impersonated": ("Bearer admin-token-for-the-bench",
                         {"Impersonate-User": "system:serviceaccount:default:reader"}),
    }
    figures = {}
    for name, (header, extra) in cases.items():
        start = time.perf_counter()
        for _ in range(args.requests):
            user = access.impersonate(access.authenticate(header), extra)
            access.check(request_attributes(user, "GET", "/api/v1/namespaces/default/pods", {}))
        micros = (time.perf_counter() - start) / args.requests * 1e6
        figures[name] = micros
        print(f"{name:15} {micros:8.1f} µs per request ({args.bindings} other RoleBindings)")
    print(" ".join(f"{k}_us={v:.1f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
