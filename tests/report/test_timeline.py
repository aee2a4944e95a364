"""The timeline chart: pods per workload over cluster time, When markers and wait spans."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from types import SimpleNamespace

from kclusterkit.driver import Observation, WaitResult
from kclusterkit.driver.sim import SimDriver
from kclusterkit.report.timeline import _step_points, has_pods, timeline_svg
from kclusterkit.steps import scaling, workloads
from kclusterkit.steps._support import (
    PodCounts,
    PodSeries,
    ScenarioState,
    WaitRecord,
    pod_counts,
)

SVG = "{http://www.w3.org/2000/svg}"


def pod(name: str, ready: bool = False, waiting: str | None = None,
        terminating: bool = False) -> dict:
    status: dict = {"phase": "Running" if ready else "Pending",
                    "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    if waiting:
        status["containerStatuses"] = [{"name": "c", "state": {"waiting": {"reason": waiting}}}]
    meta: dict = {"name": name}
    if terminating:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"kind": "Pod", "metadata": meta, "status": status}


def deployment(name: str, replicas: int, status_replicas: int = 0) -> dict:
    return {"kind": "Deployment", "metadata": {"name": name}, "spec": {"replicas": replicas},
            "status": {"replicas": status_replicas}}


def series(*samples: PodCounts, reasons: tuple[str, ...] = ()) -> PodSeries:
    out = PodSeries()
    for sample in samples:
        out.add(sample)
    out.reasons.update(reasons)
    return out


def waits() -> list[WaitRecord]:
    held = WaitRecord('Then deployment "web" has 3 ready pods within 1 minute', "x", "within",
                      100.0, WaitResult(True, 20.0, Observation(True, "3 ready")))
    broke = WaitRecord('Then deployment "web" has 3 ready pods for 1 minute', "y", "for", 130.0,
                       WaitResult(False, 15.0, Observation(False, "2 ready"), failed_at=145.0))
    return [held, broke]


def chart() -> ET.Element:
    pods = {
        'deployment "web"': series(PodCounts(100.0, 1, 0, 1, 3), PodCounts(110.0, 3, 1, 2, 3),
                                   PodCounts(120.0, 3, 3, 0, 3), PodCounts(145.0, 3, 2, 0, 3),
                                   reasons=("ImagePullBackOff", "Pending")),
        "pods": series(PodCounts(100.0, 1, 1, 0, None)),  # dropped: a workload was watched
    }
    actions = [(100.0, 'When I scale deployment "web" to 3 replicas'),
               (125.0, 'When I delete a pod of deployment "web"')]
    pods['deployment "web"'].seen_until = 145.0
    return ET.fromstring(timeline_svg(waits(), actions, pods))


def texts(root: ET.Element) -> str:
    return " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))


def test_the_chart_has_a_panel_per_workload_with_its_series_and_a_legend() -> None:
    root = chart()
    panels = root.findall(f"{SVG}g[@data-subject]")
    assert [p.get("data-subject") for p in panels] == ['deployment "web"']
    lines = {p.get("data-series"): p.get("points") for p in panels[0].iter(f"{SVG}polyline")}
    assert set(lines) == {"desired (spec.replicas)", "pods", "ready", "waiting"}
    legend = [g.get("data-legend") for g in root.iter(f"{SVG}g") if g.get("data-legend")]
    assert legend == ["desired (spec.replicas)", "pods", "ready", "waiting", "When step",
                      "wait held", "wait failed"]
    assert "waiting: ImagePullBackOff, Pending" in texts(root)


def test_ready_is_a_step_line_ending_where_the_waits_last_looked() -> None:
    root = chart()
    panel = root.find(f"{SVG}g[@data-subject]")
    grid = {ln.get("data-count"): float(ln.get("y1")) for ln in panel.iter(f"{SVG}line")
            if ln.get("data-count")}
    assert grid["0"] > grid["1"] > grid["2"] > grid["3"]  # 0..3 in steps of 1
    ready = next(p for p in panel.iter(f"{SVG}polyline") if p.get("data-series") == "ready")
    points = [tuple(map(float, pt.split(","))) for pt in ready.get("points").split()]
    assert [y for _, y in points] == [grid["0"], grid["0"], grid["1"], grid["1"], grid["3"],
                                      grid["3"], grid["2"]]
    xs = [x for x, _ in points]
    assert xs == sorted(xs) and xs[0] == 46 and xs[-1] == 46 + 696  # 100 s → 145 s


def test_when_steps_are_numbered_markers_and_waits_are_coloured_spans() -> None:
    root = chart()
    markers = [ln for ln in root.iter(f"{SVG}line") if ln.get("data-action")]
    assert [m.get("data-action") for m in markers] == ["1", "3"]  # scale, wait, delete, hold
    assert float(markers[0].get("x1")) == 46  # the scale happened at the first moment
    spans = {r.get("data-wait"): r.get("fill") for r in root.iter(f"{SVG}rect")
             if r.get("data-wait")}
    assert spans == {"2": "#4c9f70", "4": "#d9534f"}
    key = texts(root)
    assert 'When I delete a pod of deployment "web"' in key
    assert "has 3 ready pods for 1 minute  [broke after 15s]" in key


def test_a_step_line_keeps_at_most_four_points_per_pixel_column() -> None:
    points = [(50 + i / 100, float(i % 7)) for i in range(10_000)]  # 100 px, 200 columns
    out = _step_points(points, 200.0).split()
    assert len(out) <= 4 * 201 + 1
    assert out[-1] == "200,3"  # 9999 % 7, held to the end


def test_pod_counts_sees_ready_waiting_and_terminating_pods() -> None:
    objects = [deployment("web", 3, 3), pod("a", ready=True),
               pod("b", waiting="ImagePullBackOff"), pod("c"), pod("d", terminating=True)]
    subject, counts, reasons = pod_counts(objects, 7.0)
    assert subject == 'deployment "web"'
    assert counts == PodCounts(7.0, 4, 1, 2, 3)
    assert reasons == {"ImagePullBackOff", "Pending"}


def test_a_workload_seen_without_pods_counts_zero_only_when_it_has_none() -> None:
    assert pod_counts([deployment("web", 0, 0)], 1.0)[1] == PodCounts(1.0, 0, 0, 0, 0)
    assert pod_counts([deployment("web", 3, 3)], 1.0) is None  # its pods were not looked at
    assert pod_counts([{"kind": "Node", "metadata": {"name": "n"}}], 1.0) is None


def test_series_keep_changes_only_and_stay_small() -> None:
    kept = series(PodCounts(1.0, 1, 0, 0, 1), PodCounts(2.0, 1, 0, 0, 1),
                  PodCounts(3.0, 1, 1, 0, 1), PodCounts(3.0, 2, 1, 0, 1))
    assert kept.samples == [PodCounts(1.0, 1, 0, 0, 1), PodCounts(3.0, 2, 1, 0, 1)]
    assert kept.seen_until == 3.0
    big = PodSeries()
    for i in range(30_000):
        big.add(PodCounts(float(i), i, i, 0, 30_000))
    assert len(big.samples) <= PodSeries.MAX_SAMPLES + 1
    assert big.samples[0].at == 0.0 and big.samples[-1].ready == 29_999
    assert len(timeline_svg([], [], {"pods": big})) < 60_000


def test_thirty_thousand_pods_are_counted_not_kept() -> None:
    objects = [deployment("big", 30_000, 30_000)] + [pod(f"p{i}", ready=i % 3 > 0)
                                                     for i in range(30_000)]
    subject, counts, _ = pod_counts(objects, 0.0)
    assert counts == PodCounts(0.0, 30_000, 20_000, 10_000, 30_000)


def test_a_simulated_scale_out_charts_ready_pods_reaching_five() -> None:
    driver = SimDriver(seed=1)
    driver.open_scenario("t")
    context = SimpleNamespace(kk=ScenarioState(driver=driver, seed=1))
    state = context.kk
    workloads.a_deployment(context, name="web", image="nginx:1.25", n=2)
    workloads.deployment_is_available(context, name="web", d=60)
    state.step_text = 'When I scale deployment "web" to 5 replicas'
    scaling.scale_deployment(context, name="web", n=5)
    workloads.deployment_has_ready_pods(context, name="web", n=5, d=60)
    assert has_pods(state.pod_series)
    assert [a[1] for a in state.actions] == ['When I scale deployment "web" to 5 replicas']

    root = ET.fromstring(timeline_svg(state.waits, state.actions, state.pod_series))
    panel = root.find(f"{SVG}g[@data-subject]")
    assert panel.get("data-subject") == 'deployment "web"'
    grid = {float(ln.get("data-count")): float(ln.get("y1")) for ln in panel.iter(f"{SVG}line")
            if ln.get("data-count")}
    zero, (top_count, top_y) = grid[0.0], max(grid.items())
    ready = next(p for p in panel.iter(f"{SVG}polyline") if p.get("data-series") == "ready")
    values = [round((zero - float(pt.split(",")[1])) / (zero - top_y) * top_count)
              for pt in ready.get("points").split()]
    assert values[0] == 0 and 2 in values and values[-1] == 5
    desired = next(p for p in panel.iter(f"{SVG}polyline")
                   if p.get("data-series") == "desired (spec.replicas)")
    assert {round((zero - float(pt.split(",")[1])) / (zero - top_y) * top_count)
            for pt in desired.get("points").split()} == {2, 5}
    assert [m.get("data-action") for m in root.iter(f"{SVG}line") if m.get("data-action")] \
        == ["2"]


def test_an_autoscaled_workload_charts_its_cpu_use_and_what_the_autoscaler_wants() -> None:
    hpa = {"kind": "HorizontalPodAutoscaler", "metadata": {"name": "api"},
           "status": {"desiredReplicas": 4, "currentMetrics": [{"type": "Resource", "resource": {
               "name": "cpu", "current": {"averageUtilization": 91}}}]}}
    _, counts, _ = pod_counts([deployment("api", 2), pod("a", True), pod("b", True), hpa], 5.0)
    assert (counts.wanted, counts.cpu) == (4, 91)
    samples = series(counts, PodCounts(20.0, 4, 4, 0, 4, 4, 45), PodCounts(200.0, 4, 4, 0, 4, 4, 2))
    root = ET.fromstring(timeline_svg(waits(), [], {'deployment "api"': samples}))
    panel = root.find(f"{SVG}g[@data-subject]")
    lines = {p.get("data-series"): p.get("points") for p in panel.iter(f"{SVG}polyline")}
    assert {"autoscaler wants", "CPU % of request"} <= set(lines)
    percents = {t.get("data-percent"): float(t.get("y")) for t in panel.iter(f"{SVG}text")
                if t.get("data-percent")}
    assert list(percents) == ["25", "50", "75", "100"]  # up to 100% at least
    cpu_ys = [float(pt.split(",")[1]) for pt in lines["CPU % of request"].split()]
    assert cpu_ys[0] < percents["75"] and cpu_ys[-1] > percents["25"]  # 91% … 2%
    legend = [g for g in root.iter(f"{SVG}g") if g.get("data-legend")]
    assert "CPU % of request" in [g.get("data-legend") for g in legend]
    for g in legend:  # every swatch fits the chart's width (the legend wraps)
        text = g.find(f"{SVG}text")
        assert float(text.get("x")) + 5.6 * len(text.text or "") <= 760
