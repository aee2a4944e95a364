"""``kubectl get hpa``'s columns: upstream's printHorizontalPodAutoscaler and formatHPAMetrics
(pkg/printers/internalversion/printers.go): TARGETS reads ``cpu: 51%/50%`` (or
``<unknown>`` before the controller has a figure), ``<current>/<target>`` for Pods metrics and
``<current>/<target> (avg)`` for Object and External average values, at most two metrics then
``+ N more...``.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.kube.meta import Obj

COLUMNS = [("Name", "string", 0), ("Reference", "string", 0), ("Targets", "string", 0),
           ("MinPods", "string", 0), ("MaxPods", "integer", 0), ("Replicas", "integer", 0),
           ("Age", "string", 0)]


def format_metrics(specs: list[Any], statuses: list[Any]) -> str:
    if not specs:
        return "<none>"
    out: list[str] = []
    for i, spec in enumerate(specs):
        status = statuses[i] if i < len(statuses) and isinstance(statuses[i], dict) else {}
        kind = spec.get("type")
        if kind in ("Resource", "ContainerResource"):
            key = "resource" if kind == "Resource" else "containerResource"
            source = spec.get(key) or {}
            target = source.get("target") or {}
            current_status = ((status.get(key) or {}).get("current") or {})
            name = source.get("name", "")
            if target.get("averageValue") is not None:
                current = current_status.get("averageValue", "<unknown>") \
                    if status.get(key) else "<unknown>"
                out.append(f"{name}: {current}/{target['averageValue']}")
            else:
                current = "<unknown>"
                if current_status.get("averageUtilization") is not None:
                    current = f"{current_status['averageUtilization']}%"
                goal = "<auto>"
                if target.get("averageUtilization") is not None:
                    goal = f"{target['averageUtilization']}%"
                out.append(f"{name}: {current}/{goal}")
        elif kind == "Pods":
            current = ((status.get("pods") or {}).get("current") or {}).get("averageValue")
            target = ((spec.get("pods") or {}).get("target") or {}).get("averageValue", "")
            out.append(f"{current if status.get('pods') else '<unknown>'}/{target}")
        elif kind in ("Object", "External"):
            key = kind.lower()
            target = (spec.get(key) or {}).get("target") or {}
            current = (status.get(key) or {}).get("current") or {}
            if target.get("averageValue") is not None:
                seen = current.get("averageValue") if status.get(key) else None
                out.append(f"{seen or '<unknown>'}/{target['averageValue']} (avg)")
            else:
                seen = current.get("value") if status.get(key) else None
                out.append(f"{seen or '<unknown>'}/{target.get('value', '')}")
        else:
            out.append("<unknown type>")
    if len(out) > 2:
        return f"{', '.join(out[:2])} + {len(out) - 2} more..."
    return ", ".join(out)


def cells(obj: Obj) -> list[Any]:
    """Every cell but AGE (the table module adds it)."""
    spec = obj.get("spec") or {}
    ref = spec.get("scaleTargetRef") or {}
    status = obj.get("status") or {}
    low = spec.get("minReplicas")
    return [obj["metadata"]["name"], f"{ref.get('kind', '')}/{ref.get('name', '')}",
            format_metrics(spec.get("metrics") or [], status.get("currentMetrics") or []),
            "<unset>" if low is None else str(low), spec.get("maxReplicas", 0),
            status.get("currentReplicas", 0)]
