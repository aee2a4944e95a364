"""Projected volumes (pkg/volume/projected): service account tokens, ConfigMap and Secret
keys and the downward API, gathered into one directory.

The kubelet's token manager (pkg/kubelet/token/token_manager.go) requests the
``serviceAccountToken`` source through TokenRequest, bound to the pod, and rotates it once
it is older than 80% of its lifetime (or 24 h); the file in the mounted directory changes
in place, as the atomic writer swaps it upstream.
"""

from __future__ import annotations

import base64
from typing import Any

from kclusterkit.kube.meta import Obj, dig
from kclusterkit.sim import errors
from kclusterkit.sim.resources import PODS, for_plural

ROTATE_FRACTION = 0.8
MAX_TOKEN_AGE = 24 * 3600


def _keys(obj: Obj | None, items: list[Any] | None) -> dict[str, str]:
    if obj is None:
        return {}
    data: dict[str, str] = dict(obj.get("data") or {})
    if obj.get("kind") == "Secret":
        data = {}
        for key, value in (obj.get("data") or {}).items():
            try:
                data[key] = base64.b64decode(value).decode()
            except (ValueError, UnicodeDecodeError):
                data[key] = ""
    if not items:
        return data
    return {str(i.get("path") or i.get("key")): data[i["key"]] for i in items
            if isinstance(i, dict) and i.get("key") in data}


def projected_files(cluster: Any, namespace: str, pod_name: str, volume: Obj) -> dict[str, str]:
    """The files of a projected volume, keyed ``/path``; token sources keep rotating."""
    files: dict[str, str] = {}
    pod = cluster.store.get(PODS, namespace, pod_name)
    for source in dig(volume, "projected", "sources") or []:
        if not isinstance(source, dict):
            continue
        for field, plural in (("configMap", "configmaps"), ("secret", "secrets")):
            ref = source.get(field)
            if isinstance(ref, dict):
                obj = cluster.store.get(for_plural("", plural), namespace, ref.get("name", ""))
                files.update({f"/{k}": v for k, v in _keys(obj, ref.get("items")).items()})
        downward = source.get("downwardAPI")
        if isinstance(downward, dict) and pod is not None:
            for item in downward.get("items") or []:
                path = dig(item, "fieldRef", "fieldPath") or ""
                if path.startswith("metadata."):
                    value = dig(pod, "metadata", path.split(".", 1)[1])
                    files[f"/{item.get('path')}"] = "" if value is None else str(value)
        token = source.get("serviceAccountToken")
        if isinstance(token, dict) and pod is not None:
            _token(cluster, files, pod, token)
    return files


def _token(cluster: Any, files: dict[str, str], pod: Obj, source: Obj) -> None:
    access = getattr(cluster, "access", None)
    if access is None:
        return
    meta = pod["metadata"]
    sa = dig(pod, "spec", "serviceAccountName") or "default"
    expiration = int(source.get("expirationSeconds") or 3600)
    path = f"/{source.get('path') or 'token'}"
    audience = source.get("audience")

    def refresh() -> None:
        current = cluster.store.get(PODS, meta["namespace"], meta["name"])
        if current is None or current["metadata"]["uid"] != meta["uid"]:
            return  # the pod is gone: its token dies with it
        try:
            files[path], _ = access.issue_token(meta["namespace"], sa, expiration=expiration,
                                                audiences=[audience] if audience else None,
                                                pod=current)
        except errors.StatusError:  # the service account was deleted: keep the old one
            return
        cluster.clock.call_later(min(expiration * ROTATE_FRACTION, MAX_TOKEN_AGE), refresh)

    refresh()
