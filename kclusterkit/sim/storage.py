"""Where persistent volumes keep their files, apart from any node or pod.

A claim's files outlive the pod that wrote them and follow the claim to whichever node
mounts it next, as a bound PersistentVolume's would. Until the simulator models
PersistentVolumes and their binder, each claim is its own volume, kept here per claim.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.kube.meta import Obj


class Storage:
    """The cluster's persistent volumes: one file tree per (namespace, claim)."""

    def __init__(self) -> None:
        self._claims: dict[tuple[str, str], dict[str, str]] = {}

    def volume_files(self, pod: Obj, volume: dict[str, Any]) -> dict[str, str] | None:
        """The files of the persistent volume ``volume`` names (keyed by path in the
        volume), or None when it is not a claim."""
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if not claim:
            return None
        key = (pod["metadata"].get("namespace", ""), claim)
        return self._claims.setdefault(key, {})
