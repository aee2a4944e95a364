"""What an autoscaler saw, for the failure of a wait on an autoscaled deployment.

Shared by the autoscaling steps and the workload waits (``deployment "api" has at least 6
ready pods within …``): when the deployment has an autoscaler the scenario made, a failed
wait shows the autoscaler's status, conditions, the metrics it saw and its events, as
``kubectl describe hpa`` would.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.steps._support import Obj, kk

CONSUMER_COSTS = "consumer-costs"  # memo: service name → (millicores, seconds) per request


def load_target(context: Any, service: str, url: str) -> tuple[str, str]:
    """(URL, method) of a load on the service: resource-consumer's
    ``POST /ConsumeCPU?millicores=M&durationSec=S`` when a step gave its requests a cost,
    so the workload itself burns it (on every target); the URL as given otherwise."""
    cost = kk(context).memo.get(CONSUMER_COSTS, {}).get(service)
    if cost is None:
        return url, "GET"
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    millicores, seconds = cost
    return f"{scheme}://{host}/ConsumeCPU?millicores={millicores}&durationSec={seconds}", "POST"


def _autoscaled(context: Any, kind_word: str, name: str) -> bool:
    return kind_word == "deployment" and name in kk(context).memo.get("autoscaled", ())


def autoscaler_note(context: Any, kind_word: str, name: str) -> str:
    """For a wait on an autoscaled deployment: what its autoscaler sees ("" otherwise).
    Checks ask for it only when they fail: it lists the namespace's events."""
    if not _autoscaled(context, kind_word, name):
        return ""
    driver = kk(context).driver
    return "\n" + describe_hpa(driver, driver.get("horizontalpodautoscalers", name), name)


def autoscaler_objects(context: Any, kind_word: str, name: str) -> list[Obj]:
    """The autoscaler of an autoscaled deployment, as an observed object (its YAML goes
    with a failure; the timeline chart draws its desired count and CPU use)."""
    if not _autoscaled(context, kind_word, name):
        return []
    hpa = kk(context).driver.get("horizontalpodautoscalers", name)
    return [hpa] if hpa else []


def autoscaler_kinds(context: Any, name: str, kinds: tuple[str, ...]) -> tuple[str, ...]:
    """What a wait on the deployment watches: its autoscaler too, when it has one."""
    if _autoscaled(context, "deployment", name):
        return (*kinds, "horizontalpodautoscalers")
    return kinds


def describe_hpa(driver: Any, hpa: Obj | None, name: str) -> str:
    """What ``kubectl describe hpa`` shows: the status, conditions, metrics, events."""
    if hpa is None:
        return f'no horizontal pod autoscaler "{name}"'
    status = hpa.get("status") or {}
    lines = [f'autoscaler "{name}": current {status.get("currentReplicas", 0)}, desired '
             f'{status.get("desiredReplicas", 0)} (min {hpa["spec"].get("minReplicas", 1)}, '
             f'max {hpa["spec"].get("maxReplicas")})'
             + (f', last scaled {status["lastScaleTime"]}' if status.get("lastScaleTime")
                else "")]
    metrics = status.get("currentMetrics") or []
    targets = (hpa.get("spec") or {}).get("metrics") or []
    for i, spec in enumerate(targets):
        key = {"Resource": "resource", "ContainerResource": "containerResource", "Pods": "pods",
               "Object": "object", "External": "external"}.get(spec.get("type", ""), "resource")
        source = spec.get(key) or {}
        target = source.get("target") or {}
        goal = (f"{target['averageUtilization']}%" if target.get("averageUtilization")
                is not None else str(target.get("averageValue", target.get("value", "?"))))
        current = (metrics[i].get(key) or {}).get("current") if i < len(metrics) else None
        seen = "<unknown>" if not current else (
            f"{current['averageUtilization']}% ({current.get('averageValue', '?')})"
            if current.get("averageUtilization") is not None
            else str(current.get("averageValue", current.get("value"))))
        metric = source.get("name") or (source.get("metric") or {}).get("name") \
            or spec.get("type")
        lines.append(f"  metric {metric}: {seen} / target {goal}")
    for cond in status.get("conditions") or []:
        lines.append(f"  {cond.get('type')}={cond.get('status')} {cond.get('reason')}: "
                     f"{cond.get('message', '')}")
    events = [e for e in driver.events()
              if (e.get("involvedObject") or {}).get("kind") == "HorizontalPodAutoscaler"
              and (e.get("involvedObject") or {}).get("name") == name]
    for event in events[-6:]:
        count = event.get("count") or 1
        lines.append(f"  event {event.get('type')} {event.get('reason')}"
                     f"{f' (x{count})' if count > 1 else ''}: {event.get('message', '')}")
    return "\n".join(lines)
