"""Turning what a scenario saw into attachments a person reads after a failure.

Three things answer "what happened?": the objects the failed check last looked at (YAML,
as kubectl prints them), the cluster's events (a table, oldest first) and a timeline of
every wait in the scenario (what it observed, when it changed, in cluster time).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from kclusterkit.redact import redact_object
from kclusterkit.steps.types import format_duration

Obj = dict[str, Any]


def objects_yaml(objects: Sequence[Obj]) -> str:
    """The objects as a multi-document YAML stream (managedFields dropped, like kubectl)."""
    docs = []
    for obj in objects:
        shown = dict(obj)
        meta = dict(shown.get("metadata") or {})
        meta.pop("managedFields", None)
        shown["metadata"] = meta
        docs.append(redact_object(shown))  # Secret values and issued tokens: ***
    return yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False)


def events_table(events: Sequence[Obj]) -> str:
    """Events as ``kubectl get events`` lays them out, oldest first."""
    if not events:
        return "(no events)"
    rows = [("LAST SEEN", "TYPE", "REASON", "OBJECT", "COUNT", "MESSAGE")]
    for event in events:
        involved = event.get("involvedObject") or {}
        rows.append((
            event.get("lastTimestamp") or event.get("eventTime") or "",
            event.get("type", ""),
            event.get("reason", ""),
            f"{(involved.get('kind') or '').lower()}/{involved.get('name', '')}",
            str(event.get("count") or 1),
            (event.get("message") or "").replace("\n", " "),
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, row[-1]]))
    return "\n".join(lines)


def timeline_text(waits: Sequence[Any], origin: float = 0.0) -> str:
    """Every wait of a scenario: the step, its outcome, and each change it observed."""
    if not waits:
        return "(no waits)"
    out = []
    for wait in waits:
        result = wait.result
        if result is None:
            outcome = "interrupted"
        elif wait.mode == "now":
            outcome = "held" if result.ok else "did not hold"
        elif wait.mode == "for":
            outcome = "held throughout" if result.ok else \
                f"broke after {format_duration((result.failed_at or wait.started) - wait.started)}"
        else:
            outcome = (f"held after {format_duration(result.waited)}" if result.ok
                       else f"timed out after {format_duration(result.waited)}")
        out.append(f"{wait.step or wait.expected}  [{outcome}]")
        shown = None
        for when, seen in wait.timeline:
            first = seen.splitlines()[0] if seen else ""
            if first != shown:  # the details below the first line may change alone
                out.append(f"  t={format_duration(max(when - origin, 0.0)):>8}  {first}")
                shown = first
    return "\n".join(out)
