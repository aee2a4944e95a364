"""``kubectl drain`` as a driver operation, on any target, through the Driver interface.

Draining is client-side logic in upstream too (staging/src/k8s.io/kubectl/pkg/drain:
drain.go, filters.go, cordon.go), so it lives here once and every driver runs it the same
way, in cluster time:

1. cordon the node (``spec.unschedulable``);
2. list the pods bound to it and filter them as kubectl's filters do, in kubectl's order:
   pods already being deleted are skipped; DaemonSet pods are skipped with
   ``--ignore-daemonsets`` (an error without it; a pod whose DaemonSet is gone is deleted
   only with ``--force``); mirror pods are skipped; pods with emptyDir volumes need
   ``--delete-emptydir-data``; pods that declare no controller need ``--force``. Any
   error refuses the whole drain before a pod is evicted, with kubectl's wording;
3. evict each pod through the Eviction API; a 429 (a PodDisruptionBudget forbids it for
   now) is retried after 5 seconds, as kubectl does, until the timeout;
4. wait until every evicted pod is gone (or replaced by a pod of another uid), looking
   again every second as kubectl's waitForDelete polls.

What kubectl prints is kept as ``DrainResult.log``, one line each, in its words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kclusterkit.driver.base import Driver, Observation
from kclusterkit.errors import ApiError, ClusterError, ClusterTimeout
from kclusterkit.kube.meta import labels_match, parse_label_selector

Obj = dict[str, Any]

EVICTION_RETRY = 5.0  # drain.go: "(will retry after 5s)"
DELETE_POLL = 1.0  # waitForDelete's interval
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
DAEMONSET_FATAL = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
DAEMONSET_WARNING = "ignoring DaemonSet-managed Pods"
LOCAL_STORAGE_FATAL = "Pods with local storage (use --delete-emptydir-data to override)"
LOCAL_STORAGE_WARNING = "deleting Pods with local storage"
UNMANAGED_FATAL = "Pods that declare no controller (use --force to override)"
UNMANAGED_WARNING = "deleting Pods that declare no controller"


class DrainRefused(ClusterError):
    """kubectl drain's filters found pods it may not delete; nothing was evicted."""


@dataclass
class DrainResult:
    node: str
    evicted: list[str] = field(default_factory=list)  # namespace/name
    skipped: list[str] = field(default_factory=list)
    refusals: int = 0  # 429s the budgets answered
    log: list[str] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0


def _controller(pod: Obj) -> dict[str, Any] | None:
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def _key(pod: Obj) -> str:
    meta = pod["metadata"]
    return f"{meta.get('namespace', '')}/{meta['name']}"


def plan(driver: Driver, pods: list[Obj], *, ignore_daemonsets: bool, force: bool,
         delete_emptydir_data: bool) -> tuple[list[Obj], list[str], dict[str, list[str]]]:
    """kubectl's filters: (pods to evict, skipped, {warning: pods}); raises DrainRefused."""
    evict: list[Obj] = []
    skipped: list[str] = []
    warnings: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    for pod in pods:
        meta = pod["metadata"]
        key = _key(pod)
        if meta.get("deletionTimestamp"):
            skipped.append(key)  # skipDeletedFilter (with the default skip-wait of 0)
            continue
        ref = _controller(pod)
        if ref is not None and ref.get("kind") == "DaemonSet":
            if driver.get("daemonsets", ref.get("name", ""), meta.get("namespace")) is None:
                if force:
                    warnings.setdefault(f'daemonsets.apps "{ref.get("name")}" not found',
                                        []).append(key)
                    evict.append(pod)
                else:
                    errors.setdefault(f'daemonsets.apps "{ref.get("name")}" not found',
                                      []).append(key)
                continue
            if not ignore_daemonsets:
                errors.setdefault(DAEMONSET_FATAL, []).append(key)
            else:
                warnings.setdefault(DAEMONSET_WARNING, []).append(key)
                skipped.append(key)
            continue
        if MIRROR_ANNOTATION in (meta.get("annotations") or {}):
            skipped.append(key)
            continue
        phase = (pod.get("status") or {}).get("phase")
        terminal = phase in ("Succeeded", "Failed")
        if not terminal and any("emptyDir" in v for v in pod["spec"].get("volumes") or []):
            if not delete_emptydir_data:
                errors.setdefault(LOCAL_STORAGE_FATAL, []).append(key)
                continue
            warnings.setdefault(LOCAL_STORAGE_WARNING, []).append(key)
        if not terminal and ref is None:
            if not force:
                errors.setdefault(UNMANAGED_FATAL, []).append(key)
                continue
            warnings.setdefault(UNMANAGED_WARNING, []).append(key)
        evict.append(pod)
    if errors:
        parts = [f"cannot delete {msg}: {', '.join(keys)}" for msg, keys in errors.items()]
        raise DrainRefused(parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]")
    return evict, skipped, warnings


def drain_node(driver: Driver, node: str, *, ignore_daemonsets: bool = True,
               force: bool = False, delete_emptydir_data: bool = True,
               timeout: float = 600.0, pod_selector: str | None = None,
               observe: Callable[[], None] | None = None) -> DrainResult:
    """``pod_selector`` is ``--pod-selector``: only the pods it matches are considered."""

    result = DrainResult(node, started=driver.now())
    deadline = result.started + timeout

    def watching() -> Observation:
        if observe is not None:
            observe()
        return Observation(True, "")

    current = driver.get("nodes", node)
    if current is None:
        raise ApiError(404, "NotFound", f'nodes "{node}" not found')
    if (current.get("spec") or {}).get("unschedulable"):
        result.log.append(f"node/{node} already cordoned")
    else:
        driver.set_node_unschedulable(node, True)
        result.log.append(f"node/{node} cordoned")
    wanted = parse_label_selector(pod_selector) if pod_selector else None
    pods = [p for p in driver.list("pods", namespace="")
            if (p.get("spec") or {}).get("nodeName") == node
            and (wanted is None or labels_match(p["metadata"].get("labels"), wanted))]
    evict, result.skipped, warnings = plan(driver, pods, ignore_daemonsets=ignore_daemonsets,
                                           force=force,
                                           delete_emptydir_data=delete_emptydir_data)
    if warnings:
        result.log.append("Warning: " + "; ".join(f"{msg}: {', '.join(keys)}"
                                                  for msg, keys in warnings.items()))
    pending = {_key(p): p for p in evict}
    done: dict[str, Obj] = {}
    for key in pending:
        result.log.append(f"evicting pod {key}")
    while pending:
        for key, pod in list(pending.items()):
            meta = pod["metadata"]
            try:
                driver.evict(meta["name"], meta.get("namespace", ""))
            except ApiError as exc:
                if exc.code == 404:
                    del pending[key]
                    continue
                if exc.code != 429:
                    raise
                result.refusals += 1
                result.log.append(f'error when evicting pods/"{meta["name"]}" -n '
                                  f'"{meta.get("namespace", "")}" (will retry after 5s): '
                                  f"{exc.message}")
                continue
            del pending[key]
            done[key] = pod
        if observe is not None:
            observe()
        if not pending:
            break
        if driver.now() + EVICTION_RETRY > deadline:
            raise ClusterTimeout(_timed_out(result, timeout, pending))
        driver.hold(watching, EVICTION_RETRY, kinds=("pods",))
        for key in pending:
            result.log.append(f"evicting pod {key}")
    _wait_for_delete(driver, result, done, deadline, timeout, watching)
    result.log.append(f"node/{node} drained")
    result.finished = driver.now()
    return result


def _wait_for_delete(driver: Driver, result: DrainResult, done: dict[str, Obj],
                     deadline: float, timeout: float,
                     watching: Callable[[], Observation]) -> None:
    """waitForDelete: each evicted pod is gone, or its name now holds another pod."""
    remaining = dict(done)
    while True:
        for key, pod in list(remaining.items()):
            meta = pod["metadata"]
            now = driver.get("pods", meta["name"], meta.get("namespace", ""))
            if now is None or now["metadata"].get("uid") != meta.get("uid"):
                del remaining[key]
                result.evicted.append(key)
                result.log.append(f"pod/{meta['name']} evicted")
        if not remaining:
            return
        if driver.now() >= deadline:
            raise ClusterTimeout(_timed_out(result, timeout, remaining))
        driver.hold(watching, min(DELETE_POLL, max(deadline - driver.now(), 0.0)),
                    kinds=("pods",))


def _timed_out(result: DrainResult, timeout: float, left: dict[str, Obj]) -> str:
    return (f'unable to drain node "{result.node}": global timeout reached: '
            f"{timeout:g}s; pods left: {', '.join(sorted(left))}\n" + "\n".join(result.log))
