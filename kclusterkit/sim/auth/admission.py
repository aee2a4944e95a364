"""The ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount/admission.go).

On pod create: default ``serviceAccountName`` to ``default``; refuse the pod when its
service account does not exist (``pods "x" is forbidden: error looking up service account
ns/sa: serviceaccount "sa" not found``); unless automounting is off (on the pod, else on
the service account), add the projected ``kube-api-access-xxxxx`` volume (a bound token,
the cluster CA from ``kube-root-ca.crt`` and the namespace) and mount it read-only at
/var/run/secrets/kubernetes.io/serviceaccount in every container. Mirror pods are exempt.
"""

from __future__ import annotations

import random
from typing import Any

from kclusterkit.kube.meta import random_suffix
from kclusterkit.sim import errors
from kclusterkit.sim.auth.tokens import PROJECTED_EXPIRATION
from kclusterkit.sim.resources import for_plural

SERVICE_ACCOUNTS = for_plural("", "serviceaccounts")
MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
VOLUME_PREFIX = "kube-api-access-"
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"


def projected_volume(name: str) -> dict[str, Any]:
    """TokenVolumeSource in admission.go (defaultMode 0644 as v1 defaulting writes it)."""
    return {"name": name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": PROJECTED_EXPIRATION, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt",
                       "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
            "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
    ]}}


def admit_pod(store: Any, rng: random.Random, pod: dict[str, Any]) -> None:
    meta = pod.get("metadata") or {}
    spec = pod.get("spec")
    if not isinstance(spec, dict) or MIRROR_ANNOTATION in (meta.get("annotations") or {}):
        return
    name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = name
    namespace = meta.get("namespace", "")
    sa = store.get(SERVICE_ACCOUNTS, namespace, name) if isinstance(name, str) else None
    if sa is None:
        shown = meta.get("name") or meta.get("generateName") or ""
        who = f'pods "{shown}"' if shown else "pods"
        raise errors.StatusError(
            403, "Forbidden",
            f"{who} is forbidden: error looking up service account {namespace}/{name}: "
            f'serviceaccount "{name}" not found',
            {**({"name": shown} if shown else {}), "kind": "pods"})
    automount = spec.get("automountServiceAccountToken")
    if automount is None:
        automount = sa.get("automountServiceAccountToken")
    if automount is False:
        return
    containers = [c for key in ("initContainers", "containers", "ephemeralContainers")
                  for c in spec.get(key) or [] if isinstance(c, dict)]
    if any(m.get("mountPath") == MOUNT_PATH for c in containers
           for m in c.get("volumeMounts") or [] if isinstance(m, dict)):
        return  # the pod mounts something of its own there
    volumes = spec.setdefault("volumes", [])
    if not isinstance(volumes, list):
        return
    taken = {v.get("name") for v in volumes if isinstance(v, dict)}
    volume_name = VOLUME_PREFIX + random_suffix(rng.choice)
    while volume_name in taken:
        volume_name = VOLUME_PREFIX + random_suffix(rng.choice)
    volumes.append(projected_volume(volume_name))
    for c in containers:
        mounts = c.setdefault("volumeMounts", [])
        if isinstance(mounts, list):
            mounts.append({"name": volume_name, "readOnly": True, "mountPath": MOUNT_PATH})
