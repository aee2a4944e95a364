"""kclusterkit as a user gets it: the built wheel, installed outside the repository.

Building the wheel takes ~2 s; a fresh venv with its dependencies would take a minute and
the network, so the wheel is installed with ``pip install --no-deps --target`` into a temp
folder that goes first on PYTHONPATH (its dependencies come from the test's own
interpreter). The commands then run from temp folders that hold only what a user has, and
every test checks it ran the installed copy, not the repository's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WHERE = "import kclusterkit; print(kclusterkit.__file__)"


@dataclass
class Installed:
    wheel: Path
    site: Path

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(self.site)}

    def names(self) -> list[str]:
        with zipfile.ZipFile(self.wheel) as wheel:
            return wheel.namelist()

    def kclusterkit(self, *args: str, cwd: Path,
                    timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kclusterkit.cli", *args], cwd=cwd,
                              env=self.env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    source.mkdir()
    # a copy, so the build never sees stale build/ output or anything but what ships
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "kclusterkit", source / "kclusterkit",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir",
                    str(root / "dist"), str(source)], check=True, capture_output=True)
    wheel = next((root / "dist").glob("kclusterkit-*.whl"))
    site = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(site), str(wheel)], check=True, capture_output=True)
    where = subprocess.run([sys.executable, "-c", WHERE],
                           env={**os.environ, "PYTHONPATH": str(site)}, cwd=root,
                           capture_output=True,
                           text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(site), where
    return Installed(wheel, site)
