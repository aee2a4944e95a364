"""Wall time of the suite with `kclusterkit run --jobs 1` and `--jobs 2`, on the in-process
simulator and on sim-api (the served simulator through the kubernetes client).

Runs this repository's features from a temp copy (so reports/ here is left alone), each
configuration REPEAT times, and prints the best and the median. Asserts nothing; the last
line is key=value pairs. Run: PYTHONPATH=. python bench/parallel.py [--repeat N] [--only sim]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def once(project: Path, env: str, jobs: int) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "kclusterkit.cli", "run", "-e", env,
                           "--jobs", str(jobs)], cwd=project, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    took = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{env} --jobs {jobs} failed ({done.returncode}):\n{done.stdout[-2000:]}"
                 f"{done.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("sim", "sim-api"))
    args = parser.parse_args()
    print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f}")
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="kk-bench-parallel-") as tmp:
        project = Path(tmp)
        shutil.copytree(REPO / "features", project / "features")
        shutil.copy(REPO / "pyproject.toml", project / "pyproject.toml")
        for env in ("sim", "sim-api"):
            if args.only and env != args.only:
                continue
            repeat = args.repeat if env == "sim" else max(1, args.repeat // 3)
            for jobs in (1, 2):
                times = [once(project, env, jobs) for _ in range(repeat)]
                key = f"{env}.jobs{jobs}"
                figures[key] = statistics.median(times)
                print(f"{env:8} --jobs {jobs}: best {min(times):6.2f} s, median "
                      f"{statistics.median(times):6.2f} s over {repeat} run(s)")
            one, two = figures[f"{env}.jobs1"], figures[f"{env}.jobs2"]
            print(f"{env:8} speed-up with 2 jobs: {one / two:.2f}x")
    print(" ".join(f"{k}={v:.2f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
