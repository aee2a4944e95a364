"""Traffic as people read it after a run: who answered how many requests, and when it failed.

A spread assertion or a zero-drop rollout is judged on hundreds of requests; the report
shows them as a table (CSV, so it opens anywhere) and as charts drawn as plain SVG text —
no plotting library, nothing to install, and the same bytes for the same seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from kclusterkit.driver import Request

FAILED = "(failed)"
UNKNOWN = "(answer names no pod)"

_FONT = 'font-family="sans-serif" font-size="12"'
_OK_COLOUR = "#4c9f70"
_FAIL_COLOUR = "#d9534f"


def per_pod(requests: Sequence[Request]) -> dict[str, int]:
    """Requests answered per pod (sorted by name), then failures and unattributed answers."""
    counts: dict[str, int] = {}
    failed = unknown = 0
    for request in requests:
        if not request.ok:
            failed += 1
        elif request.pod is None:
            unknown += 1
        else:
            counts[request.pod] = counts.get(request.pod, 0) + 1
    out = dict(sorted(counts.items()))
    if unknown:
        out[UNKNOWN] = unknown
    if failed:
        out[FAILED] = failed
    return out


def counts_csv(counts: Mapping[str, int], total: int | None = None) -> str:
    total = sum(counts.values()) if total is None else total
    lines = ["pod,requests,share"]
    for pod, n in counts.items():
        share = f"{100.0 * n / total:.1f}%" if total else "-"
        lines.append(f"{pod},{n},{share}")
    return "\n".join(lines) + "\n"


def failures_by_kind(requests: Sequence[Request]) -> dict[str, int]:
    out: dict[str, int] = {}
    for request in requests:
        if not request.ok:
            why = request.error or f"HTTP {request.status}"
            out[why] = out.get(why, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def bar_chart_svg(counts: Mapping[str, int], title: str) -> str:
    """Horizontal bars, one per pod (failures in red)."""
    rows = list(counts.items()) or [("(no requests)", 0)]
    label_w = min(max(len(name) for name, _ in rows) * 7 + 10, 320)
    bar_w, row_h, top = 360, 22, 30
    width = label_w + bar_w + 60
    height = top + row_h * len(rows) + 10
    most = max((n for _, n in rows), default=0) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}">',
             f'<text x="8" y="18" {_FONT} font-weight="bold">{escape(title)}</text>']
    for i, (name, n) in enumerate(rows):
        y = top + i * row_h
        length = round(bar_w * n / most, 1)
        colour = _FAIL_COLOUR if name == FAILED else _OK_COLOUR
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" {_FONT}>'
                     f"{escape(name)}</text>")
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{length}" height="{row_h - 6}" '
                     f'fill="{colour}"/>')
        parts.append(f'<text x="{label_w + length + 4}" y="{y + 15}" {_FONT}>{n}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def buckets(requests: Sequence[Request], start: float, end: float, count: int = 60
            ) -> tuple[float, list[tuple[int, int]]]:
    """(bucket width in seconds, [(ok, failed) per bucket]) over [start, end]."""
    span = max(end - start, 1e-9)
    count = max(1, count)
    width = span / count
    out = [[0, 0] for _ in range(count)]
    for request in requests:
        if request.at < start or request.at > end:
            continue
        index = min(int((request.at - start) / width), count - 1)
        out[index][0 if request.ok else 1] += 1
    return width, [(ok, bad) for ok, bad in out]


def failures_svg(requests: Sequence[Request], start: float, end: float, title: str,
                 count: int = 60) -> str:
    """Requests over cluster time as stacked columns: answered (green) under failed (red)."""
    width_s, columns = buckets(requests, start, end, count)
    plot_w, plot_h, left, top = 600, 180, 50, 30
    width, height = left + plot_w + 20, top + plot_h + 40
    most = max((ok + bad for ok, bad in columns), default=0) or 1
    col_w = plot_w / len(columns)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}">',
             f'<text x="8" y="18" {_FONT} font-weight="bold">{escape(title)}</text>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
             'stroke="#333"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333"/>',
             f'<text x="{left - 6}" y="{top + 10}" text-anchor="end" {_FONT}>{most}</text>',
             f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" {_FONT}>0</text>']
    for i, (ok, bad) in enumerate(columns):
        x = round(left + i * col_w, 2)
        ok_h = round(plot_h * ok / most, 2)
        bad_h = round(plot_h * bad / most, 2)
        if ok:
            parts.append(f'<rect x="{x}" y="{round(top + plot_h - ok_h, 2)}" '
                         f'width="{round(col_w, 2)}" height="{ok_h}" fill="{_OK_COLOUR}"/>')
        if bad:
            parts.append(f'<rect x="{x}" y="{round(top + plot_h - ok_h - bad_h, 2)}" '
                         f'width="{round(col_w, 2)}" height="{bad_h}" fill="{_FAIL_COLOUR}"/>')
    total_failed = sum(bad for _, bad in columns)
    parts.append(f'<text x="{left}" y="{top + plot_h + 18}" {_FONT}>0s</text>')
    parts.append(f'<text x="{left + plot_w}" y="{top + plot_h + 18}" text-anchor="end" {_FONT}>'
                 f"{end - start:.0f}s (cluster time; {width_s:.1f}s per column)</text>")
    parts.append(f'<text x="{left}" y="{top + plot_h + 34}" {_FONT}>'
                 f"{sum(ok for ok, _ in columns)} answered, {total_failed} failed</text>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def attach_spread(requests: Sequence[Request], name: str) -> None:
    """Attach the per-pod table and bar chart to the current Allure step (if any)."""
    try:
        import allure
    except ImportError:  # pragma: no cover - allure-behave is a dependency
        return
    counts = per_pod(requests)
    allure.attach(counts_csv(counts, len(requests)), name=f"{name}: requests per pod",
                  attachment_type=allure.attachment_type.CSV)
    allure.attach(bar_chart_svg(counts, f"{name}: requests per pod"),
                  name=f"{name}: requests per pod (chart)",
                  attachment_type=allure.attachment_type.SVG)


def attach_timeline(requests: Sequence[Request], start: float, end: float, name: str) -> None:
    """Attach the failures-over-time chart (and the failures by kind) to the current step."""
    try:
        import allure
    except ImportError:  # pragma: no cover
        return
    allure.attach(failures_svg(requests, start, end, f"{name}: requests over time"),
                  name=f"{name}: failures over time (chart)",
                  attachment_type=allure.attachment_type.SVG)
    kinds = failures_by_kind(requests)
    if kinds:
        allure.attach("failures,reason\n" + "".join(f"{n},{why}\n" for why, n in kinds.items()),
                      name=f"{name}: failures by reason",
                      attachment_type=allure.attachment_type.CSV)
