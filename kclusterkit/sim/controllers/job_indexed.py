"""Indexed Jobs, following pkg/controller/job/indexed_job_utils.go.

An Indexed Job's pods each carry a completion index, ``0 … completions-1``: in the
``batch.kubernetes.io/job-completion-index`` annotation and label, in the pod's hostname
(``<job>-<index>``), its generated name (``<job>-<index>-``) and, through the downward API,
the ``JOB_COMPLETION_INDEX`` environment variable of every container. The Job succeeds once
every index has a succeeded pod; the succeeded indexes are kept compressed in
``status.completedIndexes`` ("1,3-5": runs of three or more with a dash, pairs as "1,2").
"""

from __future__ import annotations

from typing import Any

from kclusterkit.kube.meta import Obj

COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX"


def is_indexed(job: Obj) -> bool:
    return (job.get("spec") or {}).get("completionMode") == "Indexed"


def pod_index(pod: Obj) -> int | None:
    """getCompletionIndex: the annotation (the label as fallback), None when unusable."""
    meta = pod.get("metadata") or {}
    for source in (meta.get("annotations") or {}, meta.get("labels") or {}):
        value = source.get(COMPLETION_INDEX)
        if value is not None:
            try:
                index = int(value)
            except (TypeError, ValueError):
                return None
            return index if index >= 0 else None
    return None


def parse_indexes(text: str | None, completions: int) -> set[int]:
    """parseIndexesFromString: "1,3-5" → {1, 3, 4, 5}, ignoring what is out of range."""
    out: set[int] = set()
    for part in (text or "").split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        try:
            lo, hi = int(first), int(last or first)
        except ValueError:
            continue
        out.update(i for i in range(lo, hi + 1) if 0 <= i < completions)
    return out


def format_indexes(indexes: set[int]) -> str:
    """orderedIntervals.String."""
    parts: list[str] = []
    ordered = sorted(indexes)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        first, last = ordered[i], ordered[j]
        if last == first:
            parts.append(str(first))
        elif last == first + 1:
            parts.append(f"{first},{last}")
        else:
            parts.append(f"{first}-{last}")
        i = j + 1
    return ",".join(parts)


def first_pending(count: int, completions: int, completed: set[int],
                  active: set[int]) -> list[int]:
    """firstPendingIndexes: the lowest indexes neither succeeded nor running."""
    out: list[int] = []
    for index in range(completions):
        if len(out) >= count:
            break
        if index not in completed and index not in active:
            out.append(index)
    return out


def index_pod(job_name: str, meta: dict[str, Any], spec: dict[str, Any], index: int) -> None:
    """What createPods does to an Indexed Job's pod template for one index."""
    meta["generateName"] = f"{job_name}-{index}-"
    meta.setdefault("annotations", {})[COMPLETION_INDEX] = str(index)
    meta.setdefault("labels", {})[COMPLETION_INDEX] = str(index)
    spec["hostname"] = f"{job_name}-{index}"
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or ():
            env = container.setdefault("env", [])
            if any(e.get("name") == COMPLETION_INDEX_ENV for e in env):
                continue
            env.append({"name": COMPLETION_INDEX_ENV, "valueFrom": {"fieldRef": {
                "apiVersion": "v1",
                "fieldPath": f"metadata.annotations['{COMPLETION_INDEX}']"}}})
