"""How many replicas a resource metric asks for: upstream's replica calculator.

pkg/controller/podautoscaler/replica_calculator.go (GetResourceReplicas,
GetRawResourceReplicas, calcPlainMetricReplicas, groupPods, calculatePodRequests) and
metrics/utilization.go (GetResourceUtilizationRatio, GetMetricUsageRatio). Figures are in
milli-units as upstream (CPU millicores, memory milli-bytes), utilization an int32 percent.
Errors carry upstream's messages, which the controller puts into conditions and events.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from kclusterkit.kube.meta import Obj
from kclusterkit.kube.quantity import QuantityError, parse_quantity


class MetricsError(Exception):
    """The replica count could not be computed (upstream returns an error)."""


@dataclass
class PodMetric:
    value: int  # milli-units
    timestamp: float
    window: float


def _milli(value: Any) -> int:
    try:
        return int(math.ceil(parse_quantity(value) * 1000))
    except QuantityError:
        return 0


def _condition(pod: Obj, ctype: str) -> dict[str, Any] | None:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return cond
    return None


def group_pods(pods: list[Obj], metrics: dict[str, PodMetric], resource: str,
               cpu_initialization_period: float, initial_readiness_delay: float, now: float,
               parse_time: Any) -> tuple[int, set[str], set[str], set[str]]:
    """groupPods: (ready count, unready, missing, ignored) pod names."""
    ready = 0
    unready: set[str] = set()
    missing: set[str] = set()
    ignored: set[str] = set()
    for pod in pods:
        name = pod["metadata"]["name"]
        phase = (pod.get("status") or {}).get("phase")
        if pod["metadata"].get("deletionTimestamp") or phase == "Failed":
            ignored.add(name)
            continue
        # Pending pods are ignored.
        if phase == "Pending":
            unready.add(name)
            continue
        metric = metrics.get(name)
        if metric is None:
            missing.add(name)
            continue
        if resource == "cpu":
            cond = _condition(pod, "Ready")
            start = (pod.get("status") or {}).get("startTime")
            if cond is None or not start:
                is_unready = True
            else:
                started = parse_time(start)
                transition = parse_time(cond.get("lastTransitionTime")) \
                    if cond.get("lastTransitionTime") else started
                if started + cpu_initialization_period > now:
                    # Pod still within possible initialisation period: ignore the sample
                    # if the pod is unready or one window of metric wasn't collected since
                    # the last state transition.
                    is_unready = cond.get("status") == "False" or \
                        metric.timestamp < transition + metric.window
                else:
                    # Ignore the metric if the pod is unready and it has never been ready.
                    is_unready = cond.get("status") == "False" and \
                        started + initial_readiness_delay > transition
            if is_unready:
                unready.add(name)
                continue
        ready += 1
    return ready, unready, missing, ignored


def pod_requests(pods: list[Obj], resource: str, container: str = "") -> dict[str, int]:
    """calculatePodRequests: each pod's request in milli-units (sum over its containers,
    or the named container's)."""
    out: dict[str, int] = {}
    for pod in pods:
        total = 0
        for c in (pod.get("spec") or {}).get("containers") or []:
            if container and c.get("name") != container:
                continue
            requests = (c.get("resources") or {}).get("requests") or {}
            if resource not in requests:
                raise MetricsError(f"missing request for {resource} in container "
                                   f"{c.get('name')} of Pod {pod['metadata']['name']}")
            total += _milli(requests[resource])
        out[pod["metadata"]["name"]] = total
    return out


def utilization_ratio(metrics: dict[str, PodMetric], requests: dict[str, int],
                      target: int) -> tuple[float, int, int]:
    """GetResourceUtilizationRatio: (usage ratio, utilization %, raw average)."""
    total = requests_total = entries = 0
    for name, metric in metrics.items():
        if name in requests:
            total += metric.value
            requests_total += requests[name]
            entries += 1
    if requests_total == 0:
        raise MetricsError("no metrics returned matched known pods")
    utilization = int((total * 100) / requests_total)
    return utilization / target, utilization, total // entries


def resource_replicas(current: int, target_utilization: int, resource: str, pods: list[Obj],
                      metrics: dict[str, PodMetric], tolerance: float, cpu_init: float,
                      readiness_delay: float, now: float, parse_time: Any,
                      container: str = "") -> tuple[int, int, int]:
    """GetResourceReplicas: (replicas, utilization %, raw average usage in milli-units)."""
    if not pods:
        raise MetricsError("no pods returned by selector while calculating replica count")
    metrics = dict(metrics)
    ready, unready, missing, ignored = group_pods(pods, metrics, resource, cpu_init,
                                                  readiness_delay, now, parse_time)
    for name in ignored | unready:
        metrics.pop(name, None)
    if not metrics:
        raise MetricsError("did not receive metrics for targeted pods (pods might be unready)")
    requests = pod_requests(pods, resource, container)
    ratio, utilization, raw = utilization_ratio(metrics, requests, target_utilization)
    scale_up_with_unready = bool(unready) and ratio > 1.0
    if not scale_up_with_unready and not missing:
        if abs(1.0 - ratio) <= tolerance:
            return current, utilization, raw
        return int(math.ceil(ratio * ready)), utilization, raw
    if missing:
        if ratio < 1.0:
            # Pods without metrics are assumed at 100% of their request (or the target).
            fallback = max(100, target_utilization)
            for name in missing:
                metrics[name] = PodMetric(requests[name] * fallback // 100, now, 0.0)
        elif ratio > 1.0:
            for name in missing:
                metrics[name] = PodMetric(0, now, 0.0)
    if scale_up_with_unready:
        for name in unready:
            metrics[name] = PodMetric(0, now, 0.0)
    new_ratio, _, _ = utilization_ratio(metrics, requests, target_utilization)
    if abs(1.0 - new_ratio) <= tolerance or (ratio < 1.0 < new_ratio) or \
            (ratio > 1.0 > new_ratio):
        return current, utilization, raw
    new_replicas = int(math.ceil(new_ratio * len(metrics)))
    if (new_ratio < 1.0 and new_replicas > current) or (new_ratio > 1.0 and new_replicas < current):
        return current, utilization, raw
    return new_replicas, utilization, raw


def raw_resource_replicas(current: int, target_usage: int, resource: str, pods: list[Obj],
                          metrics: dict[str, PodMetric], tolerance: float, cpu_init: float,
                          readiness_delay: float, now: float, parse_time: Any
                          ) -> tuple[int, int]:
    """GetRawResourceReplicas → calcPlainMetricReplicas: (replicas, average usage)."""
    if not pods:
        raise MetricsError("no pods returned by selector while calculating replica count")
    metrics = dict(metrics)
    ready, unready, missing, ignored = group_pods(pods, metrics, resource, cpu_init,
                                                  readiness_delay, now, parse_time)
    for name in ignored | unready:
        metrics.pop(name, None)
    if not metrics:
        raise MetricsError("did not receive metrics for targeted pods (pods might be unready)")

    def ratio_of(values: dict[str, PodMetric]) -> tuple[float, int]:
        total = sum(m.value for m in values.values())
        average = total // len(values)
        return (total / len(values)) / target_usage, average

    ratio, usage = ratio_of(metrics)
    scale_up_with_unready = bool(unready) and ratio > 1.0
    if not scale_up_with_unready and not missing:
        if abs(1.0 - ratio) <= tolerance:
            return current, usage
        return int(math.ceil(ratio * ready)), usage
    if missing:
        for name in missing:
            metrics[name] = PodMetric(target_usage if ratio < 1.0 else 0, now, 0.0)
    if scale_up_with_unready:
        for name in unready:
            metrics[name] = PodMetric(0, now, 0.0)
    new_ratio, _ = ratio_of(metrics)
    if abs(1.0 - new_ratio) <= tolerance or (ratio < 1.0 < new_ratio) or \
            (ratio > 1.0 > new_ratio):
        return current, usage
    new_replicas = int(math.ceil(new_ratio * len(metrics)))
    if (new_ratio < 1.0 and new_replicas > current) or (new_ratio > 1.0 and new_replicas < current):
        return current, usage
    return new_replicas, usage
