"""The containerStatuses fields v1.34's default-on feature gates add, kept apart from the kubelet.

kubelet_pods.go convertToAPIContainerStatuses fills three fields behind gates that are on in v1.34:
``volumeMounts`` (RecursiveReadOnlyMounts, GA 1.33), ``resources`` for a running container
(InPlacePodVerticalScaling, beta and on since 1.33) and ``user`` (SupplementalGroupsPolicy, beta
and on since 1.33). Clients that compare status against spec see them on a real cluster.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.sim.kinds.pods import canonical_quantity

# convertContainerStatusResources copies only these from the allocation (the CRI reports cpu and
# memory; ephemeral-storage comes from the spec).
_STATUS_RESOURCES = ("cpu", "memory", "ephemeral-storage")


def volume_mounts(container: dict[str, Any]) -> list[dict[str, Any]]:
    """VolumeMountStatus per spec.volumeMounts, in spec order. A read-only mount says whether it
    is recursively read-only; containerd 2.x on a current kernel supports it, so IfPossible
    resolves to Enabled (resolveRecursiveReadOnly)."""
    out: list[dict[str, Any]] = []
    for vol in container.get("volumeMounts") or []:
        if not isinstance(vol, dict):
            continue
        status: dict[str, Any] = {"name": vol.get("name", ""),
                                  "mountPath": vol.get("mountPath", "")}
        if vol.get("readOnly"):
            status["readOnly"] = True
            rro = vol.get("recursiveReadOnly") or "Disabled"
            status["recursiveReadOnly"] = "Enabled" if rro in ("Enabled", "IfPossible") \
                else "Disabled"
        out.append(status)
    return out


def resources(container: dict[str, Any]) -> dict[str, Any]:
    """status.resources of a running container: the allocated requests and limits (cpu, memory,
    ephemeral-storage) as the API prints them; ``{}`` for a container without any.

    Upstream reads cpu/memory back from the CRI (cgroup shares and quota), which round-trips
    ordinary values unchanged; we copy the spec (a knowing simplification)."""
    spec = container.get("resources") or {}
    out: dict[str, Any] = {}
    for section in ("limits", "requests"):
        values = spec.get(section) or {}
        kept = {k: canonical_quantity(values[k]) for k in _STATUS_RESOURCES if k in values}
        if kept:
            out[section] = kept
    return out


def user(pod_spec: dict[str, Any], container: dict[str, Any]) -> dict[str, Any]:
    """status.user as containerd 2.x reports it for a created container.

    uid/gid come from securityContext.runAsUser/runAsGroup (container over pod), else the image
    default; every image the simulator knows runs as root (0:0). supplementalGroups is the primary
    gid, then fsGroup, then pod supplementalGroups, as kuberuntime's security context and
    containerd's ensureAdditionalGids build it. Group memberships from the image's /etc/group are
    not modelled (a knowing difference for images whose root is in extra groups)."""
    pod_sc = pod_spec.get("securityContext") or {}
    sc = container.get("securityContext") or {}

    def pick(key: str) -> int:
        value = sc.get(key, pod_sc.get(key))
        return int(value) if isinstance(value, int) else 0

    uid, gid = pick("runAsUser"), pick("runAsGroup")
    groups = [gid]
    extra = ([pod_sc["fsGroup"]] if isinstance(pod_sc.get("fsGroup"), int) else []) + \
        [g for g in pod_sc.get("supplementalGroups") or [] if isinstance(g, int)]
    for g in extra:
        if g not in groups:
            groups.append(g)
    return {"linux": {"uid": uid, "gid": gid, "supplementalGroups": groups}}
