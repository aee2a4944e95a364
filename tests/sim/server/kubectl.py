"""The real kubectl against a served simulator, as the kubectl tests run it: a server of the
module's own, its kubeconfig, manifests in a folder that is kubectl's HOME and working
directory, and one call that fails the test with kubectl's own output."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from kclusterkit.sim.server import ServerHandle, serve_in_thread


class Kube(NamedTuple):
    handle: ServerHandle
    root: Path


def served_for_kubectl(tmp_path_factory: pytest.TempPathFactory, name: str, *, speed: float,
                       files: dict[str, str] | None = None) -> Iterator[Kube]:
    """A module fixture's body: serve, write ``files`` beside the kubeconfig, stop after."""
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not on PATH")
    root = tmp_path_factory.mktemp(name)
    handle = serve_in_thread(seed=1, speed=speed, kubeconfig_path=root / "config")
    for file, text in (files or {}).items():
        (root / file).write_text(text)
    yield Kube(handle, root)
    handle.stop()


def kubectl(kube: Kube, *args: str, ok: bool | None = True, stderr: bool = True,
            timeout: float = 90) -> str:
    """kubectl's output (stdout, then stderr unless ``stderr=False``). ``ok``: it must exit
    0 (True), must fail (False), or either (None)."""
    env = {**os.environ, "KUBECONFIG": str(kube.handle.kubeconfig_path), "HOME": str(kube.root)}
    done = subprocess.run(["kubectl", *args], capture_output=True, text=True, env=env,
                          cwd=kube.root, timeout=timeout, check=False)
    if ok is not None:
        assert (done.returncode == 0) == ok, f"kubectl {' '.join(args)} exited " \
            f"{done.returncode}:\n{done.stderr}{done.stdout}"
    return done.stdout + done.stderr if stderr else done.stdout
