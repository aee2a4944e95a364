"""kubectl get hpa's TARGETS cell, as upstream's formatHPAMetrics prints it."""

from __future__ import annotations

from kclusterkit.sim.server.hpa_table import format_metrics

CPU = {"type": "Resource", "resource": {"name": "cpu", "target": {
    "type": "Utilization", "averageUtilization": 50}}}
PODS = {"type": "Pods", "pods": {"metric": {"name": "pps"},
                                 "target": {"type": "AverageValue", "averageValue": "1k"}}}
EXTERNAL = {"type": "External", "external": {"metric": {"name": "queue"},
                                             "target": {"type": "AverageValue",
                                                        "averageValue": "30"}}}
OBJECT = {"type": "Object", "object": {"metric": {"name": "rps"}, "describedObject": {
    "kind": "Ingress", "name": "main"}, "target": {"type": "Value", "value": "10k"}}}


def test_failed_metrics_keep_their_place_and_show_unknown() -> None:
    statuses = [{"type": ""}, {"type": "Resource", "resource": {
        "name": "cpu", "current": {"averageUtilization": 61, "averageValue": "61m"}}}]
    assert format_metrics([PODS, CPU], statuses) == "<unknown>/1k, cpu: 61%/50%"
    assert format_metrics([EXTERNAL, OBJECT], [{"type": ""}, {"type": ""}]) == \
        "<unknown>/30 (avg), <unknown>/10k"
    assert format_metrics([OBJECT, PODS, CPU], []) == \
        "<unknown>/10k, <unknown>/1k + 1 more..."


def test_known_values_of_custom_and_external_metrics() -> None:
    statuses = [{"type": "Pods", "pods": {"metric": {"name": "pps"},
                                          "current": {"averageValue": "1500m"}}},
                {"type": "External", "external": {"metric": {"name": "queue"},
                                                  "current": {"averageValue": "12"}}}]
    assert format_metrics([PODS, EXTERNAL], statuses) == "1500m/1k, 12/30 (avg)"
