"""Traffic attachments: the per-pod table and the SVG charts people read in the report."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from kclusterkit.driver import Request
from kclusterkit.report.traffic import (
    FAILED,
    UNKNOWN,
    bar_chart_svg,
    buckets,
    counts_csv,
    failures_by_kind,
    failures_svg,
    per_pod,
)

SVG = "{http://www.w3.org/2000/svg}"


def ok(at: float, pod: str | None) -> Request:
    return Request(at, True, 200, pod, None)


def refused(at: float) -> Request:
    return Request(at, False, None, None, "connection refused")


REQUESTS = [ok(0.0, "web-b"), ok(0.5, "web-a"), ok(1.0, "web-b"), refused(1.5),
            Request(2.0, False, 503, "web-a", None), ok(3.0, None)]


def test_per_pod_counts_pods_then_unattributed_then_failures() -> None:
    assert per_pod(REQUESTS) == {"web-a": 1, "web-b": 2, UNKNOWN: 1, FAILED: 2}


def test_csv_has_shares_of_the_total() -> None:
    text = counts_csv({"web-a": 1, "web-b": 3})
    assert text.splitlines() == ["pod,requests,share", "web-a,1,25.0%", "web-b,3,75.0%"]


def test_failures_are_grouped_by_reason_most_first() -> None:
    assert failures_by_kind(REQUESTS + [refused(4.0)]) == {"connection refused": 2,
                                                          "HTTP 503": 1}


def test_bar_chart_is_svg_with_one_bar_per_row_scaled_to_the_largest() -> None:
    svg = bar_chart_svg({"web-a": 50, "web-<b>": 100, FAILED: 25}, 'requests to "web"')
    root = ET.fromstring(svg)  # well-formed, names escaped
    bars = root.findall(f"{SVG}rect")
    widths = [float(b.get("width")) for b in bars]
    assert widths[1] == 360 and widths[0] == 180 and widths[2] == 90
    assert bars[2].get("fill") == "#d9534f"  # failures in red
    assert "web-<b>" in [t.text for t in root.findall(f"{SVG}text")]


def test_buckets_split_the_span_and_ignore_requests_outside_it() -> None:
    width, columns = buckets(REQUESTS + [refused(10.0)], 0.0, 4.0, count=4)
    assert width == 1.0
    assert columns == [(2, 0), (1, 1), (0, 1), (1, 0)]


def test_failures_chart_stacks_failed_on_answered_and_says_the_totals() -> None:
    svg = failures_svg(REQUESTS, 0.0, 4.0, "rollout", count=4)
    root = ET.fromstring(svg)
    reds = [r for r in root.findall(f"{SVG}rect") if r.get("fill") == "#d9534f"]
    assert len(reds) == 2
    texts = " ".join(t.text or "" for t in root.findall(f"{SVG}text"))
    assert "4 answered, 2 failed" in texts
