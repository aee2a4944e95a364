"""A scenario's timeline as a picture: what the pods did around each action and each wait.

The text timeline lists what every wait observed; this chart puts it on one cluster-time
axis — pods, ready pods and stuck pods of each workload as step lines, every When step as
a marker, every wait as a span coloured by its outcome — so "the pods came up 40 s after
the scale, and the wait gave up at 60 s" is seen at a glance. Plain SVG text like the
traffic charts: no plotting library, no fonts or scripts, the same bytes for the same seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from kclusterkit.report.traffic import _FAIL_COLOUR, _OK_COLOUR
from kclusterkit.steps.types import format_duration

TITLE = "timeline (cluster time)"
_FONT = 'font-family="sans-serif"'
_TEXT = "#333"
_GRID = "#e3e3e3"
_ACTION = "#555"
_WIDTH = 760
_LEFT, _RIGHT = 46, 18
_PLOT_W = _WIDTH - _LEFT - _RIGHT
_PANEL_H = 110
_MAX_PANELS = 4
_STEP_TEXT = 78  # characters of a step's text in the key


@dataclass(frozen=True)
class Series:
    label: str
    colour: str
    value: Callable[[Any], int | None]
    width: float = 2.0
    dash: str = ""

    @property
    def stroke(self) -> str:
        """The line's style attributes (a wide line is pale, drawn under the others)."""
        out = f'stroke="{self.colour}" stroke-width="{self.width}"'
        out += ' stroke-opacity="0.45"' if self.width > 3 else ""
        return out + (f' stroke-dasharray="{self.dash}"' if self.dash else "")


SERIES = (
    Series("desired (spec.replicas)", "#8a8a8a", lambda s: s.desired, 1.5, "6 4"),
    Series("pods", "#4a6fd1", lambda s: s.pods, 5.0),
    Series("ready", "#2a9d5c", lambda s: s.ready, 2.0),
    Series("waiting", "#e08a1e", lambda s: s.waiting, 2.0),
    Series("autoscaler wants", "#7b4fc9", lambda s: getattr(s, "wanted", None), 1.5, "2 3"),
)
# The autoscaler's CPU use (% of the pods' requests), on the panel's own right-hand scale.
CPU = Series("CPU % of request", "#c0392b", lambda s: getattr(s, "cpu", None), 1.5)
_PERCENT_STEPS = (25, 50, 100, 200, 250, 500)


def _outcome(wait: Any) -> tuple[str, bool | None]:
    """(what happened, ok) of a wait, in the text timeline's words."""
    result = wait.result
    if result is None:
        return "interrupted", None
    if wait.mode == "now":
        return ("held" if result.ok else "did not hold"), result.ok
    if wait.mode == "for":
        if result.ok:
            return "held throughout", True
        broke = (result.failed_at or wait.started) - wait.started
        return f"broke after {format_duration(broke)}", False
    waited = format_duration(result.waited)
    return (f"held after {waited}" if result.ok else f"timed out after {waited}"), result.ok


def _outcome_colour(ok: bool | None) -> str:
    return "#999" if ok is None else _OK_COLOUR if ok else _FAIL_COLOUR


def _end_of(wait: Any) -> float:
    return wait.started + (wait.result.waited if wait.result is not None else 0.0)


def nice_step(span: float, ticks: int, steps: Sequence[float]) -> float:
    """The smallest of ``steps`` (times a power of ten past the list) giving ≤ ticks ticks."""
    for step in steps:
        if span / step <= ticks:
            return step
    scale = 10 ** math.ceil(math.log10(span / ticks / steps[-1]))
    return nice_step(span / scale, ticks, steps) * scale


_TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
_COUNT_STEPS = (1, 2, 5, 10, 20, 25, 50)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _step_points(points: Sequence[tuple[float, float]], until: float) -> str:
    """A step line through (x, y) points: at most four points per half-pixel column (the
    value held, the column's lowest and highest, the value it leaves), then held until x
    ``until``."""
    out: list[tuple[float, float]] = []

    def put(x: float, y: float) -> None:
        if not out or out[-1] != (x, y):
            out.append((x, y))

    i = 0
    while i < len(points):
        x = round(points[i][0] * 2) / 2
        column = [points[i][1]]
        while i + 1 < len(points) and round(points[i + 1][0] * 2) / 2 == x:
            i += 1
            column.append(points[i][1])
        if out:
            column.insert(0, out[-1][1])  # the previous value holds until this moment
        low, high, last = min(column), max(column), column[-1]
        far, near = (low, high) if high - last < last - low else (high, low)
        for y in (column[0], far, near, last):  # out to both extremes, ending on the last
            put(x, y)
        i += 1
    if out:
        put(max(round(until * 2) / 2, out[-1][0]), out[-1][1])
    return " ".join(f"{x:g},{y:g}" for x, y in out)


@dataclass(frozen=True)
class _Frame:
    """Where things go: the time axis (origin, span) and the panels' vertical extent."""

    origin: float
    span: float
    top: float  # of the first panel
    bottom: float  # of the last panel

    def x_of(self, at: float) -> float:
        return round(_LEFT + _PLOT_W * (at - self.origin) / self.span, 1)


_MARKS_Y, _LANE_Y = 52, 58  # action numbers (rows going up); the waits lane, 10 px high
_FIRST_PANEL = 92  # each panel's header sits 8 px above it
_GAP = 34
_DASHED = f'stroke="{_ACTION}" stroke-width="1.2" stroke-dasharray="4 3"'


def timeline_svg(waits: Sequence[Any], actions: Sequence[tuple[float, str]],
                 pod_series: Mapping[str, Any], title: str = TITLE) -> str:
    """The chart: one panel per workload observed, When markers, wait spans, a key.

    ``waits`` are WaitRecords (step, mode, started, result), ``actions`` (cluster time,
    step text) of the When steps, ``pod_series`` PodSeries (samples of PodCounts,
    reasons, seen_until) per subject such as ``deployment "web"``.
    """
    subjects = [s for s in pod_series if pod_series[s].samples]
    if any(s != "pods" for s in subjects):  # bare pods only when no workload was watched
        subjects = [s for s in subjects if s != "pods"]
    subjects.sort(key=lambda s: (pod_series[s].samples[0].at, s))
    hidden = len(subjects) - _MAX_PANELS
    subjects = subjects[:_MAX_PANELS]

    moments = [w.started for w in waits] + [at for at, _ in actions]
    moments += [pod_series[s].samples[0].at for s in subjects]
    origin = min(moments, default=0.0)
    ends = [_end_of(w) for w in waits] + [at for at, _ in actions]
    ends += [pod_series[s].seen_until for s in subjects]
    span = max(max(ends, default=origin) - origin, 1.0)
    bottom = _FIRST_PANEL + (_PANEL_H + _GAP) * max(len(subjects), 1) - _GAP
    frame = _Frame(origin, span, _FIRST_PANEL, bottom)

    # the steps in scenario order, numbered: When steps (markers) and waits (spans)
    steps: list[tuple[float, int, str, Any]] = [(at, i, "action", text)
                                                for i, (at, text) in enumerate(actions)]
    steps += [(w.started, i, "wait", w) for i, w in enumerate(waits)]
    steps.sort(key=lambda s: (s[0], 0 if s[2] == "action" else 1, s[1]))
    numbered = [(number, at, kind, item)
                for number, (at, _, kind, item) in enumerate(steps, start=1)]

    legend_y = bottom + 50
    parts = [f'<text x="8" y="18" {_FONT} font-size="14" font-weight="bold" fill="{_TEXT}">'
             f"{escape(title)}</text>"]
    parts += _time_axis(frame)
    parts += _wait_spans(frame, numbered)
    drawn: set[str] = set()
    for index, subject in enumerate(subjects):
        top = _FIRST_PANEL + index * (_PANEL_H + _GAP)
        parts += _panel(frame, subject, pod_series[subject], top, drawn)
    parts += _action_markers(frame, numbered)
    legend, legend_end = _legend(drawn, legend_y)
    parts += legend
    key_y = legend_end + 28
    height = key_y + 18 * len(steps) + (18 if hidden > 0 else 4)
    parts[:0] = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
                 f'viewBox="0 0 {_WIDTH} {height}">',
                 f'<rect width="{_WIDTH}" height="{height}" fill="#fff"/>']
    parts += _key(frame, numbered, key_y)
    if hidden > 0:
        parts.append(f'<text x="{_LEFT}" y="{height - 6}" {_FONT} font-size="11" fill="#777">'
                     f"{hidden} more workload(s) observed, not drawn</text>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _time_axis(frame: _Frame) -> list[str]:
    """Vertical grid lines at round times, labelled under the last panel."""
    tick = nice_step(frame.span, 8, _TIME_STEPS)
    parts = []
    for k in range(int(frame.span / tick) + 1):
        x = frame.x_of(frame.origin + tick * k)
        parts.append(f'<line x1="{x}" y1="{frame.top}" x2="{x}" y2="{frame.bottom}" '
                     f'stroke="{_GRID}"/>')
        parts.append(f'<text x="{x}" y="{frame.bottom + 14}" text-anchor="middle" {_FONT} '
                     f'font-size="11" fill="{_TEXT}">'
                     f'{format_duration(tick * k) if k else "0"}</text>')
    parts.append(f'<text x="{_LEFT + _PLOT_W}" y="{frame.bottom + 28}" text-anchor="end" '
                 f'{_FONT} font-size="11" fill="#777">cluster time since the first step '
                 "observed</text>")
    return parts


def _wait_spans(frame: _Frame, numbered: Sequence[tuple[int, float, str, Any]]) -> list[str]:
    """Each wait as a bar in the lane on top and a pale span across the panels."""
    parts = [f'<text x="{_LEFT - 6}" y="{_LANE_Y + 9}" text-anchor="end" {_FONT} '
             f'font-size="10" fill="#777">waits</text>']
    for number, _, kind, wait in numbered:
        if kind != "wait":
            continue
        text, ok = _outcome(wait)
        colour = _outcome_colour(ok)
        x1 = frame.x_of(wait.started)
        w = max(round(frame.x_of(_end_of(wait)) - x1, 1), 2.0)
        tip = escape(f"{number}. {wait.step or wait.expected} [{text}]")
        parts.append(f'<rect x="{x1}" y="{frame.top - 4}" width="{w}" '
                     f'height="{frame.bottom - frame.top + 4}" fill="{colour}" '
                     f'fill-opacity="{0.1 if ok else 0.14}"/>')
        parts.append(f'<rect x="{x1}" y="{_LANE_Y}" width="{w}" height="10" fill="{colour}" '
                     f'data-wait="{number}"><title>{tip}</title></rect>')
        if w >= 16:
            parts.append(f'<text x="{round(x1 + w / 2, 1)}" y="{_LANE_Y + 8.5}" '
                         f'text-anchor="middle" {_FONT} font-size="9" font-weight="bold" '
                         f'fill="#fff">{number}</text>')
    return parts


def _panel(frame: _Frame, subject: str, series: Any, top: float, drawn: set[str]
           ) -> list[str]:
    """One workload: header (with the waiting reasons seen), count grid, step lines."""
    bottom = top + _PANEL_H
    samples = series.samples
    most = max((v for s in samples for v in (s.pods, s.ready, s.waiting, s.desired or 0,
                                             getattr(s, "wanted", None) or 0)),
               default=0) or 1
    step = nice_step(most, 4, _COUNT_STEPS)
    ceiling = step * math.ceil(most / step)
    reasons = ", ".join(sorted(series.reasons))
    header = escape(subject) + (f'<tspan fill="#b06a10">   waiting: {escape(reasons)}'
                                "</tspan>" if reasons else "")
    parts = [f'<g data-subject="{escape(subject)}">',
             f'<text x="{_LEFT}" y="{top - 8}" {_FONT} font-size="12" font-weight="bold" '
             f'fill="{_TEXT}">{header}</text>']
    for k in range(int(ceiling / step) + 1):
        y = round(bottom - _PANEL_H * k * step / ceiling, 1)
        parts.append(f'<line x1="{_LEFT}" y1="{y}" x2="{_LEFT + _PLOT_W}" y2="{y}" '
                     f'stroke="{_GRID}" data-count="{k * step:g}"/>')
        parts.append(f'<text x="{_LEFT - 6}" y="{y + 4}" text-anchor="end" {_FONT} '
                     f'font-size="11" fill="{_TEXT}">{k * step:g}</text>')
    parts.append(f'<line x1="{_LEFT}" y1="{top}" x2="{_LEFT}" y2="{bottom}" stroke="#999"/>')
    parts.append(f'<line x1="{_LEFT}" y1="{bottom}" x2="{_LEFT + _PLOT_W}" y2="{bottom}" '
                 'stroke="#999"/>')
    until = frame.x_of(series.seen_until)
    for line in SERIES:
        points = [(frame.x_of(s.at), round(bottom - _PANEL_H * value / ceiling, 1))
                  for s in samples if (value := line.value(s)) is not None]
        if not points or (line.label == "waiting" and not any(s.waiting for s in samples)):
            continue
        drawn.add(line.label)
        parts.append(f'<polyline fill="none" {line.stroke} stroke-linejoin="round" '
                     f'data-series="{escape(line.label)}" '
                     f'points="{_step_points(points, until)}"/>')
        if until - points[0][0] < 4:  # seen for an instant only: a dot, not a line
            opacity = ' fill-opacity="0.45"' if line.width > 3 else ""
            parts.append(f'<circle cx="{points[-1][0]}" cy="{points[-1][1]}" '
                         f'r="{max(line.width, 3)}" fill="{line.colour}"{opacity}/>')
    parts += _cpu_line(frame, series, top, until, drawn)
    parts.append("</g>")
    return parts


def _cpu_line(frame: _Frame, series: Any, top: float, until: float, drawn: set[str]
              ) -> list[str]:
    """The autoscaler's CPU use as a line on a percent scale of its own, labelled on the
    right inside the plot (a workload without an autoscaler draws nothing)."""
    samples = [(s.at, value) for s in series.samples if (value := CPU.value(s)) is not None]
    if not samples:
        return []
    bottom = top + _PANEL_H
    highest = max(100, max(v for _, v in samples))
    step = nice_step(highest, 4, _PERCENT_STEPS)
    ceiling = step * math.ceil(highest / step)
    right = _LEFT + _PLOT_W
    parts = []
    for k in range(1, int(ceiling / step) + 1):
        y = round(bottom - _PANEL_H * k * step / ceiling, 1)
        parts.append(f'<text x="{right - 2}" y="{y - 2}" text-anchor="end" {_FONT} '
                     f'font-size="9" fill="{CPU.colour}" data-percent="{k * step:g}">'
                     f"{k * step:g}%</text>")
    points = [(frame.x_of(at), round(bottom - _PANEL_H * value / ceiling, 1))
              for at, value in samples]
    drawn.add(CPU.label)
    parts.append(f'<polyline fill="none" {CPU.stroke} stroke-linejoin="round" '
                 f'data-series="{escape(CPU.label)}" points="{_step_points(points, until)}"/>')
    return parts


def _action_markers(frame: _Frame, numbered: Sequence[tuple[int, float, str, Any]]
                    ) -> list[str]:
    """Each When step: a dashed line down through every panel, its number on top (numbers
    too close together go up a row)."""
    parts: list[str] = []
    placed: list[tuple[float, int]] = []
    for number, at, kind, _ in numbered:
        if kind != "action":
            continue
        x = frame.x_of(at)
        row = 0
        while row < 2 and any(abs(x - px) < 16 and r == row for px, r in placed):
            row += 1
        placed.append((x, row))
        y = _MARKS_Y - 12 * row
        parts.append(f'<line x1="{x}" y1="{y + 3}" x2="{x}" y2="{frame.bottom}" {_DASHED} '
                     f'data-action="{number}"/>')
        parts.append(f'<text x="{x}" y="{y}" text-anchor="middle" {_FONT} font-size="11" '
                     f'font-weight="bold" fill="{_ACTION}">{number}</text>')
    return parts


def _legend(drawn: set[str], y: float) -> tuple[list[str], float]:
    """The swatches of what was drawn, in rows that fit the width; (parts, last row's y)."""
    def line_swatch(line: Series) -> Callable[[float, float], str]:
        return lambda x, y: (f'<line x1="{x}" y1="{y - 4}" x2="{x + 18}" y2="{y - 4}" '
                             f"{line.stroke}/>")

    swatches: list[tuple[Callable[[float, float], str], str]] = [
        (line_swatch(line), line.label) for line in (*SERIES, CPU) if line.label in drawn]
    swatches += [
        (lambda x, y: f'<line x1="{x}" y1="{y - 10}" x2="{x}" y2="{y + 2}" {_DASHED}/>',
         "When step"),
        (lambda x, y: f'<rect x="{x}" y="{y - 9}" width="18" height="10" '
                      f'fill="{_OK_COLOUR}"/>', "wait held"),
        (lambda x, y: f'<rect x="{x}" y="{y - 9}" width="18" height="10" '
                      f'fill="{_FAIL_COLOUR}"/>', "wait failed"),
    ]
    parts = []
    x: float = _LEFT
    for swatch, label in swatches:
        width = round(24 + 5.6 * len(label) + 16, 1)
        if x > _LEFT and x + width - 16 > _WIDTH - _RIGHT:  # next row
            x, y = _LEFT, y + 18
        parts.append(f'<g data-legend="{escape(label)}">{swatch(x, y)}'
                     f'<text x="{x + 24}" y="{y}" {_FONT} font-size="11" fill="{_TEXT}">'
                     f"{escape(label)}</text></g>")
        x += width
    return parts, y


def _key(frame: _Frame, numbered: Sequence[tuple[int, float, str, Any]], top: float
         ) -> list[str]:
    """Every numbered step: when, its text, and a wait's outcome (a failed one in red)."""
    parts = []
    for row, (number, at, kind, item) in enumerate(numbered):
        y = top + 18 * row
        when = format_duration(at - frame.origin) if at > frame.origin else "0s"
        if kind == "action":
            parts.append(f'<line x1="{_LEFT - 30}" y1="{y - 10}" x2="{_LEFT - 30}" '
                         f'y2="{y + 3}" {_DASHED}/>')
            text, colour = _short(item, _STEP_TEXT), _TEXT
        else:
            outcome, ok = _outcome(item)
            parts.append(f'<rect x="{_LEFT - 36}" y="{y - 9}" width="12" height="10" '
                         f'fill="{_outcome_colour(ok)}"/>')
            text = f"{_short(item.step or item.expected, _STEP_TEXT)}  [{outcome}]"
            colour = _FAIL_COLOUR if ok is False else _TEXT
        parts.append(f'<text x="{_LEFT - 6}" y="{y}" text-anchor="end" {_FONT} font-size="11" '
                     f'font-weight="bold" fill="{_TEXT}">{number}</text>')
        parts.append(f'<text x="{_LEFT}" y="{y}" {_FONT} font-size="11" fill="{colour}">'
                     f'<tspan fill="#777">t={when}  </tspan>{escape(text)}</text>')
    return parts


def has_pods(pod_series: Mapping[str, Any]) -> bool:
    """Whether any wait observed pods (the chart is only worth attaching then)."""
    return any(series.samples for series in pod_series.values())
