"""Run behave on a throwaway project, as a user would, and return what they would see."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

ENVIRONMENT_PY = "from kclusterkit.hooks import *  # noqa: F401,F403\n"
LIBRARY_PY = "from kclusterkit.steps import *  # noqa: F401,F403\n"
# A project's pyproject.toml that writes Allure results and JUnit under reports/.
REPORTING_PYPROJECT = """
[tool.behave]
format = ["allure"]
outfiles = ["reports/allure-results"]
junit = true
junit_directory = "reports/junit"

[tool.behave.formatters]
allure = "allure_behave.formatter:AllureFormatter"
"""
SIM_YAML = "target: sim\nseed: 1\ncluster:\n  control_plane_nodes: 1\n  worker_nodes: 2\n"


@dataclass
class Run:
    code: int
    out: str


class Project:
    def __init__(self, root: Path):
        self.root = root
        (root / "steps").mkdir()
        (root / "features").mkdir()
        (root / "environments").mkdir()
        (root / "environment.py").write_text(ENVIRONMENT_PY)
        (root / "steps" / "library.py").write_text(LIBRARY_PY)
        (root / "environments" / "sim.yaml").write_text(SIM_YAML)

    def feature(self, text: str, name: str = "test.feature") -> Path:
        path = self.root / "features" / name
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    def file(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    def behave(self, *args: str) -> Run:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        proc = subprocess.run(
            [sys.executable, "-m", "behave", "--no-color", "-f", "plain", *args],
            cwd=self.root, env=env, capture_output=True, text=True, timeout=120)
        return Run(proc.returncode, proc.stdout + proc.stderr)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)
