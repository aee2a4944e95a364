"""The scale-out scenario in process: wall time for its cluster time, and where it goes.

Runs features/autoscaling.feature's scale-out scenario ("Scale out under load and back in
once the load is gone": 200 requests per second at 5m CPU each, an autoscaler between 2
and 10 at 50%, the load held for minutes at 10 pods, stopped, and the scale-in after the
five-minute stabilization window) with behave on the in-process simulator, once per
--runs, and prints the scenario's wall time (behave's step durations, background
included; not behave's start-up or imports), its cluster time, the requests its load made
and the slowest steps. The issue's goal is under 1 s of wall time for its 10+ minutes of
cluster time. Figures only, no assertions.

    PYTHONPATH=. python bench/autoscale.py [--runs 3] [--seed 1]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FEATURE = ROOT / "features" / "autoscaling.feature"
SCENARIO = "Scale out under load and back in once the load is gone"


def run_once(seed: int) -> tuple[float, list[tuple[float, str]], float, int, float]:
    """(wall seconds, [(seconds, step)], cluster seconds, requests, CPU seconds) of one
    behave run: the steps' wall time, and the process's CPU time over the scenario (the
    figure to trust on a machine other processes load)."""
    from behave.__main__ import main as behave_main

    from kclusterkit import hooks

    seen: dict[str, float | int] = {}
    original_before, original = hooks.before_scenario, hooks.after_scenario

    def before_scenario(context: Any, scenario: Any) -> None:
        original_before(context, scenario)
        seen["cpu0"] = time.process_time()

    def after_scenario(context: Any, scenario: Any) -> None:
        seen["cpu"] = time.process_time() - float(seen.get("cpu0", 0.0))
        state = getattr(context, "kk", None)
        driver = getattr(state, "driver", None)
        if driver is not None:
            seen["cluster"] = driver.now()
            loads = (state.memo or {}).get("loads") or {}
            seen["requests"] = sum(len(entry.load.records) for entry in loads.values())
        return original(context, scenario)

    hooks.before_scenario, hooks.after_scenario = before_scenario, after_scenario
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        args = ["--no-junit", "--no-capture", "-D", f"seed={seed}", "-n", SCENARIO,
                "-f", "json", "-o", str(out), str(FEATURE)]
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                code = behave_main(args)
        finally:
            hooks.before_scenario, hooks.after_scenario = original_before, original
        if code != 0:
            raise SystemExit(f"the scenario failed (behave exit {code}); run: behave "
                             f'{FEATURE.relative_to(ROOT)} -n "{SCENARIO}"')
        report = json.loads(out.read_text())
    steps = [(float((s.get("result") or {}).get("duration", 0.0)), f'{s["keyword"]} {s["name"]}')
             for feature in report for element in feature.get("elements", [])
             if element.get("type") == "scenario" for s in element.get("steps", [])]
    return (sum(d for d, _ in steps), steps, float(seen.get("cluster", 0.0)),
            int(seen.get("requests", 0)), float(seen.get("cpu", 0.0)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    import os

    os.chdir(ROOT)  # behave finds environment.py and steps/ from here
    walls, cpus = [], []
    steps: list[tuple[float, str]] = []
    cluster, requests = 0.0, 0
    for _ in range(max(1, args.runs)):
        wall, steps, cluster, requests, cpu = run_once(args.seed)
        walls.append(wall)
        cpus.append(cpu)
    best, median = min(walls), statistics.median(walls)
    print(f'scenario "{SCENARIO}" in process, seed {args.seed}, {len(walls)} run(s)')
    print(f"cluster time {cluster:.0f} s ({cluster / 60:.1f} min), {requests} requests under "
          f"load")
    print(f"wall time: best {best:.3f} s, median {median:.3f} s "
          f"({best / max(cluster / 60, 1e-9):.3f} s per cluster minute)")
    print(f"CPU time of the scenario (hooks included): best {min(cpus):.3f} s, median "
          f"{statistics.median(cpus):.3f} s")
    print("slowest steps (last run):")
    for duration, name in sorted(steps, reverse=True)[:5]:
        print(f"  {duration:7.3f} s  {name}")
    print(f"wall_s={best:.3f} median_s={median:.3f} cpu_s={min(cpus):.3f} "
          f"cluster_s={cluster:.0f} requests={requests}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
