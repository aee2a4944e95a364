"""Attachments: readable events, kubectl-like YAML, and a timeline of the waits."""

from __future__ import annotations

import yaml

from kclusterkit.driver import Observation, WaitResult
from kclusterkit.report.attachments import events_table, objects_yaml, timeline_text
from kclusterkit.steps._support import WaitRecord


def test_objects_yaml_drops_managed_fields_and_keeps_order() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "a", "managedFields": [{"manager": "x"}]}, "spec": {}}
    text = objects_yaml([pod, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}}])
    docs = list(yaml.safe_load_all(text))
    assert [d["kind"] for d in docs] == ["Pod", "Node"]
    assert "managedFields" not in docs[0]["metadata"]
    assert text.startswith("apiVersion: v1\nkind: Pod\n")
    assert pod["metadata"]["managedFields"]  # the caller's object is untouched


def test_events_table_lines_up_columns() -> None:
    events = [
        {"lastTimestamp": "2026-01-01T00:00:05Z", "type": "Normal", "reason": "Scheduled",
         "involvedObject": {"kind": "Pod", "name": "web-1"}, "count": 1,
         "message": "Successfully assigned default/web-1 to worker-1"},
        {"lastTimestamp": "2026-01-01T00:00:09Z", "type": "Warning", "reason": "BackOff",
         "involvedObject": {"kind": "Pod", "name": "web-22"}, "count": 3,
         "message": "Back-off restarting failed container"},
    ]
    lines = events_table(events).splitlines()
    assert lines[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "COUNT", "MESSAGE"]
    assert lines[2].split()[:5] == ["2026-01-01T00:00:09Z", "Warning", "BackOff", "pod/web-22", "3"]
    assert lines[1].index("Scheduled") == lines[2].index("BackOff")
    assert events_table([]) == "(no events)"


def test_timeline_shows_outcome_and_changes() -> None:
    ok = WaitRecord('Then deployment "web" has 3 ready pods within 30 seconds', "x", "within",
                    10.0, WaitResult(True, 12.0, Observation(True, "3 ready")),
                    [(10.0, "1 ready\n  table"), (15.0, "2 ready"), (22.0, "3 ready")])
    broke = WaitRecord("Then it holds for 1 minute", "y", "for", 22.0,
                       WaitResult(False, 5.0, Observation(False, "no"), failed_at=27.0),
                       [(22.0, "yes"), (27.0, "no")])
    text = timeline_text([ok, broke], origin=10.0)
    assert text.splitlines() == [
        'Then deployment "web" has 3 ready pods within 30 seconds  [held after 12s]',
        "  t=      0s  1 ready",
        "  t=      5s  2 ready",
        "  t=     12s  3 ready",
        "Then it holds for 1 minute  [broke after 5s]",
        "  t=     12s  yes",
        "  t=     17s  no",
    ]
