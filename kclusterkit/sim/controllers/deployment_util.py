"""Pure helpers of the Deployment controller, after pkg/controller/deployment/util.

Everything here computes on plain dicts without touching the API, so the arithmetic that
decides rollout pace (fenceposts, proportions, saturation) can be tested on its own.
"""

from __future__ import annotations

import json
from typing import Any

from kclusterkit.kube.meta import Obj, clone
from kclusterkit.sim.controllers.util import creation_key

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
HASH_LABEL = "pod-template-hash"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
DEPRECATED_ROLLBACK_TO = "deprecated.deployment.rollback.to"
MAX_REV_HISTORY_CHARS = 2000

# Condition reasons (deployment_util.go).
REPLICASET_UPDATED = "ReplicaSetUpdated"
FAILED_RS_CREATE = "ReplicaSetCreateError"
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"

_SKIP_ANNOTATIONS = {LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
                     DEPRECATED_ROLLBACK_TO}
MAX_INT32 = 2**31 - 1

# rand.SafeEncodeString's alphabet (no vowels, no confusable characters).
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


# -- hashing --------------------------------------------------------------------------


def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for byte in data:
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode(text: str) -> str:
    return "".join(_ALPHANUMS[ord(ch) % len(_ALPHANUMS)] for ch in text)


def compute_hash(template: Obj, collision_count: int | None) -> str:
    """controller.ComputeHash: fnv32a of the template (+ collisionCount), safe-encoded.

    Upstream hashes the Go struct as printed by spew; that byte stream cannot be reproduced
    from JSON, so the template is hashed as canonical JSON (sorted keys) instead. Hashes
    have upstream's shape and stability, not its exact values.
    """
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count is not None:
        data += (collision_count & 0xFFFFFFFF).to_bytes(4, "little") + b"\0\0\0\0"
    return safe_encode(str(fnv32a(data)))


# -- int-or-percent -------------------------------------------------------------------


def scaled_value(value: Any, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        percent = int(text[:-1])
        product = percent * total
        return -(-product // 100) if round_up else product // 100
    return int(text)


def is_rolling(d: Obj) -> bool:
    return ((d["spec"].get("strategy") or {}).get("type") or "RollingUpdate") == "RollingUpdate"


def replicas_of(obj: Obj) -> int:
    value = obj["spec"].get("replicas")
    return 1 if value is None else int(value)


def resolve_fenceposts(d: Obj) -> tuple[int, int]:
    rolling = (d["spec"].get("strategy") or {}).get("rollingUpdate") or {}
    desired = replicas_of(d)
    surge = scaled_value(rolling.get("maxSurge", 0), desired, True)
    unavailable = scaled_value(rolling.get("maxUnavailable", 0), desired, False)
    if surge == 0 and unavailable == 0:
        # Rounding down may make both zero: allow one unavailable, as upstream.
        unavailable = 1
    return surge, unavailable


def max_surge(d: Obj) -> int:
    return resolve_fenceposts(d)[0] if is_rolling(d) else 0


def max_unavailable(d: Obj) -> int:
    if not is_rolling(d) or replicas_of(d) == 0:
        return 0
    return min(resolve_fenceposts(d)[1], replicas_of(d))


# -- replica sets ---------------------------------------------------------------------


def revision(rs: Obj | None) -> int:
    if rs is None:
        return 0
    value = (rs["metadata"].get("annotations") or {}).get(REVISION)
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


def max_revision(rss: list[Obj]) -> int:
    return max((revision(rs) for rs in rss), default=0)


def _normalised(value: Any) -> Any:
    """Semantic equality treats nil and empty maps and slices alike."""
    if isinstance(value, dict):
        out = {k: _normalised(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_normalised(v) for v in value]
    return value


def template_without_hash(template: Obj | None) -> Any:
    t = clone(template or {})
    labels = (t.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return _normalised(t)


def equal_ignore_hash(t1: Obj | None, t2: Obj | None) -> bool:
    return template_without_hash(t1) == template_without_hash(t2)


def by_creation(rss: list[Obj]) -> list[Obj]:
    return sorted(rss, key=creation_key)


def find_new_rs(d: Obj, rss: list[Obj]) -> Obj | None:
    """The oldest ReplicaSet whose template equals the Deployment's, ignoring the hash."""
    wanted = template_without_hash(d["spec"].get("template"))
    for rs in by_creation(rss):
        if template_without_hash(rs["spec"].get("template")) == wanted:
            return rs
    return None


def find_old_rss(d: Obj, rss: list[Obj]) -> tuple[list[Obj], list[Obj]]:
    new = find_new_rs(d, rss)
    all_old = [rs for rs in rss if new is None or rs["metadata"]["uid"] != new["metadata"]["uid"]]
    return [rs for rs in all_old if replicas_of(rs) != 0], all_old


def active(rss: list[Obj | None]) -> list[Obj]:
    """FilterActiveReplicaSets: spec.replicas > 0."""
    return [rs for rs in rss if rs is not None and replicas_of(rs) > 0]


def spec_total(rss: list[Obj | None]) -> int:
    return sum(replicas_of(rs) for rs in rss if rs is not None)


def status_total(rss: list[Obj | None], field: str) -> int:
    return sum((rs.get("status") or {}).get(field, 0) for rs in rss if rs is not None)


def find_active_or_latest(new: Obj | None, olds: list[Obj]) -> Obj | None:
    if new is None and not olds:
        return None
    olds_newest_first = sorted(olds, key=creation_key, reverse=True)
    live = active([*olds_newest_first, new])
    if not live:
        return new if new is not None else olds_newest_first[0]
    return live[0] if len(live) == 1 else None


def annotation_int(rs: Obj, key: str) -> int | None:
    value = (rs["metadata"].get("annotations") or {}).get(key)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def is_saturated(d: Obj, rs: Obj | None) -> bool:
    if rs is None:
        return False
    desired = annotation_int(rs, DESIRED_REPLICAS)
    want = replicas_of(d)
    return (desired is not None and replicas_of(rs) == want and desired == want
            and (rs.get("status") or {}).get("availableReplicas", 0) == want)


def new_rs_new_replicas(d: Obj, all_rss: list[Obj | None], new: Obj) -> int:
    if is_rolling(d):
        rolling = (d["spec"].get("strategy") or {}).get("rollingUpdate") or {}
        surge = scaled_value(rolling.get("maxSurge", 0), replicas_of(d), True)
        current = spec_total(all_rss)
        max_total = replicas_of(d) + surge
        if current >= max_total:
            return replicas_of(new)
        scale_up = min(max_total - current, replicas_of(d) - replicas_of(new))
        return replicas_of(new) + scale_up
    return replicas_of(d)


def round_to_int32(value: float) -> int:
    return int(value - 0.5) if value < 0 else int(value + 0.5)


def get_proportion(rs: Obj | None, d: Obj, to_add: int, added: int) -> int:
    if rs is None or replicas_of(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = _replica_set_fraction(rs, d)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def _replica_set_fraction(rs: Obj, d: Obj) -> int:
    if replicas_of(d) == 0:
        return -replicas_of(rs)
    deployment_replicas = replicas_of(d) + max_surge(d)
    annotated = annotation_int(rs, MAX_REPLICAS)
    if annotated is None:
        annotated = (d.get("status") or {}).get("replicas", 0)
    if not annotated:
        return 0
    new_size = replicas_of(rs) * deployment_replicas / annotated
    return round_to_int32(new_size) - replicas_of(rs)


def set_replicas_annotations(rs: Obj, desired: int, maximum: int) -> bool:
    annotations = rs["metadata"].setdefault("annotations", {})
    changed = False
    for key, value in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(maximum))):
        if annotations.get(key) != value:
            annotations[key] = value
            changed = True
    return changed


def replicas_annotations_need_update(rs: Obj, desired: int, maximum: int) -> bool:
    annotations = rs["metadata"].get("annotations") or {}
    return annotations.get(DESIRED_REPLICAS) != str(desired) or \
        annotations.get(MAX_REPLICAS) != str(maximum)


def set_new_rs_annotations(d: Obj, rs: Obj, new_revision: str, exists: bool) -> bool:
    """SetNewReplicaSetAnnotations: copy the Deployment's annotations, bump the revision and
    remember the numbers a reused ReplicaSet served before in revision-history."""
    annotations = rs["metadata"].setdefault("annotations", {})
    changed = False
    for key, value in sorted((d["metadata"].get("annotations") or {}).items()):
        if key in _SKIP_ANNOTATIONS or annotations.get(key) == value:
            continue
        annotations[key] = value
        changed = True
    old_revision = annotations.get(REVISION)
    had_revision = old_revision is not None
    try:
        old_int = int(old_revision) if old_revision else 0
    except ValueError:
        return False
    new_int = int(new_revision)
    if old_int < new_int:
        annotations[REVISION] = new_revision
        changed = True
    if had_revision and old_int < new_int:
        history = annotations.get(REVISION_HISTORY, "")
        if not history:
            annotations[REVISION_HISTORY] = old_revision
        else:
            parts = history.split(",")
            total = len(history) + len(old_revision) + 1
            start = 0
            while total > MAX_REV_HISTORY_CHARS and start < len(parts):
                total -= len(parts[start]) + 1
                start += 1
            if total <= MAX_REV_HISTORY_CHARS:
                annotations[REVISION_HISTORY] = ",".join([*parts[start:], old_revision])
    if not exists and set_replicas_annotations(rs, replicas_of(d), replicas_of(d) + max_surge(d)):
        changed = True
    return changed


# -- status and conditions ------------------------------------------------------------


def get_condition(status: dict[str, Any], ctype: str) -> dict[str, Any] | None:
    for cond in status.get("conditions") or ():
        if cond.get("type") == ctype:
            return cond
    return None


def new_condition(now: str, ctype: str, status: str, reason: str, message: str) -> dict[str, Any]:
    return {"type": ctype, "status": status, "lastUpdateTime": now, "lastTransitionTime": now,
            "reason": reason, "message": message}


def set_condition(status: dict[str, Any], cond: dict[str, Any]) -> None:
    """SetDeploymentCondition: same status and reason is a no-op; a status change moves
    lastTransitionTime."""
    current = get_condition(status, cond["type"])
    if current is not None and current["status"] == cond["status"] \
            and current.get("reason") == cond["reason"]:
        return
    cond = dict(cond)
    if current is not None and current["status"] == cond["status"]:
        cond["lastTransitionTime"] = current.get("lastTransitionTime")
    remove_condition(status, cond["type"])
    status.setdefault("conditions", []).append(cond)


def remove_condition(status: dict[str, Any], ctype: str) -> None:
    kept = [c for c in status.get("conditions") or () if c.get("type") != ctype]
    if kept:
        status["conditions"] = kept
    else:
        status.pop("conditions", None)


def has_progress_deadline(d: Obj) -> bool:
    value = d["spec"].get("progressDeadlineSeconds")
    return value is not None and value != MAX_INT32


def has_revision_history_limit(d: Obj) -> bool:
    value = d["spec"].get("revisionHistoryLimit")
    return value is not None and value != MAX_INT32


def deployment_complete(d: Obj, status: dict[str, Any]) -> bool:
    want = replicas_of(d)
    return (status.get("updatedReplicas", 0) == want and status.get("replicas", 0) == want
            and status.get("availableReplicas", 0) == want
            and status.get("observedGeneration", 0) >= d["metadata"].get("generation", 0))


def deployment_progressing(d: Obj, new: dict[str, Any]) -> bool:
    old = d.get("status") or {}
    old_old = old.get("replicas", 0) - old.get("updatedReplicas", 0)
    new_old = new.get("replicas", 0) - new.get("updatedReplicas", 0)
    return (new.get("updatedReplicas", 0) > old.get("updatedReplicas", 0)
            or new_old < old_old
            or new.get("readyReplicas", 0) > old.get("readyReplicas", 0)
            or new.get("availableReplicas", 0) > old.get("availableReplicas", 0))


def ordered_status(status: dict[str, Any]) -> dict[str, Any]:
    """DeploymentStatus field order; zero values omitted (omitempty)."""
    out: dict[str, Any] = {}
    for field in ("observedGeneration", "replicas", "updatedReplicas", "readyReplicas",
                  "availableReplicas", "unavailableReplicas", "conditions", "collisionCount"):
        value = status.get(field)
        if value or (field == "collisionCount" and value is not None):
            out[field] = value
    return out
