"""`kclusterkit run --jobs N` and `--shard I/N`: the same scenarios, each once, same results.

The project here is this repository's own features (a copy, run in a temp folder with the
library's steps), on the in-process simulator.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kclusterkit.parallel import SplitError, buckets, parse_shard, scenarios
from kclusterkit.report.agree import read_results
from tests.users.conftest import REPO


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kclusterkit.cli", "run", *args], cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
                          text=True, timeout=300)


# However many scenarios the project's features hold (every helper adds some).
TOTAL = len(scenarios([str(REPO / "features")]))


def allure_names(folder: Path) -> list[str]:
    return sorted(json.loads(p.read_text())["fullName"] for p in folder.glob("*-result.json"))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("parallel")
    shutil.copytree(REPO / "features", root / "features")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.fixture(scope="module")
def single(project: Path) -> dict:
    done = run(project)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    shutil.copytree(project / "reports", project / "single")
    return read_results(project / "single" / "junit")


def test_jobs_merge_into_one_runs_report(project: Path, single: dict) -> None:
    done = run(project, "--jobs", "2")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert f"{TOTAL} scenarios in 2 jobs" in done.stdout
    assert read_results(project / "reports" / "junit") == single
    assert allure_names(project / "reports" / "allure-results") == \
        allure_names(project / "single" / "allure-results")
    assert len(allure_names(project / "reports" / "allure-results")) == len(single) == TOTAL


def test_shards_together_are_the_whole_run(project: Path, single: dict) -> None:
    parts = []
    for i in (1, 2):  # as two CI jobs would, each keeping its reports/ as an artifact
        shutil.rmtree(project / "reports", ignore_errors=True)
        done = run(project, "--shard", f"{i}/2")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr
        shutil.copytree(project / "reports", project / f"shard{i}")
        parts.append(project / f"shard{i}")
    one, two = read_results(parts[0] / "junit"), read_results(parts[1] / "junit")
    assert not set(one) & set(two)
    assert len(one) + len(two) == TOTAL
    merged = subprocess.run([sys.executable, "-m", "kclusterkit.cli", "merge", "shard1",
                             "shard2", "--into", "merged", "--features", "features"],
                            cwd=project, env={**os.environ, "PYTHONPATH": str(REPO)},
                            capture_output=True, text=True, timeout=60)
    assert merged.returncode == 0, merged.stderr
    assert f"{TOTAL} scenarios from 2 folders" in merged.stdout
    assert read_results(project / "merged" / "junit") == single
    assert allure_names(project / "merged" / "allure-results") == \
        allure_names(project / "single" / "allure-results")


def test_the_split_is_deterministic_and_complete() -> None:
    locations = scenarios([str(REPO / "features")])
    assert scenarios([str(REPO / "features")]) == locations
    split = buckets(locations, 3)
    assert sorted(sum(split, [])) == sorted(locations)
    assert split[0][:2] == [locations[0], locations[3]]


@pytest.mark.parametrize("text", ["3/2", "0/2", "a/b", "2"])
def test_a_bad_shard_is_refused(text: str) -> None:
    with pytest.raises(SplitError, match="--shard"):
        parse_shard(text)
