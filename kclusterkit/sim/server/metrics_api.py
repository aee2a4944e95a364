"""``/apis/metrics.k8s.io/v1beta1``: the resource metrics API, as metrics-server serves it.

Upstream this group is an aggregated API (an APIService pointing at metrics-server in
kube-system); clients see it in discovery beside the built-in groups and read
``PodMetrics``/``NodeMetrics`` with get and list only (``kubectl top`` lists them,
filtered by ``labelSelector``). The figures come from ``sim.metrics_server``.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.kube.meta import SelectorError, labels_match, parse_label_selector
from kclusterkit.sim import errors
from kclusterkit.sim.metrics_server import GROUP_VERSION, metrics_list

GROUP = "metrics.k8s.io"
VERSION = "v1beta1"
PREFIX = f"/apis/{GROUP}"


def group() -> dict[str, Any]:
    entry = {"groupVersion": GROUP_VERSION, "version": VERSION}
    return {"name": GROUP, "versions": [entry], "preferredVersion": entry}


def resource_list() -> dict[str, Any]:
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": GROUP_VERSION,
            "resources": [
                {"name": "nodes", "singularName": "", "namespaced": False,
                 "kind": "NodeMetrics", "verbs": ["get", "list"]},
                {"name": "pods", "singularName": "", "namespaced": True,
                 "kind": "PodMetrics", "verbs": ["get", "list"]}]}


def handles(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def _not_found(kind: str, name: str) -> errors.StatusError:
    return errors.StatusError(404, "NotFound", f'{kind}.{GROUP} "{name}" not found',
                              {"name": name, "group": GROUP, "kind": kind})


def answer(cluster: Any, method: str, path: str, query: Any) -> dict[str, Any]:
    """The JSON answer for a GET under the group; a StatusError otherwise."""
    parts = path.strip("/").split("/")[2:]  # after "apis", "metrics.k8s.io"
    if not parts:
        return {"kind": "APIGroup", "apiVersion": "v1", **group()}
    if parts[0] != VERSION:
        raise errors.StatusError(404, "NotFound",
                                 "the server could not find the requested resource", {})
    rest = parts[1:]
    if not rest:
        return resource_list()
    if method != "GET":
        raise errors.StatusError(405, "MethodNotAllowed", "the server does not allow this "
                                 "method on the requested resource", {})
    server = getattr(cluster, "metrics_server", None)
    if server is None or not server.enabled:
        raise errors.StatusError(503, "ServiceUnavailable",
                                 "the server is currently unable to handle the request", {})
    try:
        selector = parse_label_selector(query.get("labelSelector") or None)
    except SelectorError as exc:
        raise errors.bad_request(str(exc)) from None
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    if rest[0] == "nodes" and namespace is None and len(rest) <= 2:
        items = server.node_metrics()
        kind = "NodeMetrics"
    elif rest[0] == "pods" and len(rest) <= 2:
        items = server.pod_metrics(namespace)
        kind = "PodMetrics"
    else:
        raise errors.StatusError(404, "NotFound",
                                 "the server could not find the requested resource", {})
    if len(rest) == 2:
        found = [i for i in items if i["metadata"]["name"] == rest[1]]
        if not found:
            raise _not_found("nodes" if kind == "NodeMetrics" else "pods", rest[1])
        return found[0]
    items = [i for i in items
             if labels_match(i["metadata"].get("labels") or {}, selector)]
    return metrics_list(kind, items)
