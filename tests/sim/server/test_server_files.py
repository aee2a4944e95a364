"""What a served cluster leaves on disk: nothing once stopped, and its token readable by the
owner only while it runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from kclusterkit.sim.server import serve_in_thread
from kclusterkit.sim.server.kubeconfig import write_kubeconfig
from tests.sim.server.fakes import FakeCluster


def _ours(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("kclusterkit-"))


def test_a_stopped_server_leaves_no_keys_or_tokens_behind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    handle = serve_in_thread(cluster_factory=FakeCluster)
    try:
        assert handle.kubeconfig_path.parent == tmp_path
        assert handle.kubeconfig_path.exists()
        assert _ours(tmp_path)  # the CA folder and the kubeconfig while serving
    finally:
        handle.stop()
    assert _ours(tmp_path) == []


def test_sigterm_to_sim_serve_removes_its_files(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path),
           "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    proc = subprocess.Popen([sys.executable, "-m", "kclusterkit.sim.server",
                             "--print-kubeconfig"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        path = Path(proc.stdout.readline().strip())
        assert path.parent == tmp_path and path.name.startswith("kclusterkit-sim-")
        assert path.exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    assert _ours(tmp_path) == []


def test_an_existing_kubeconfig_is_narrowed_to_0600_before_the_token_goes_in(
        tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("old")
    path.chmod(0o644)
    write_kubeconfig(path, "https://127.0.0.1:1", "secret-token")
    assert path.stat().st_mode & 0o777 == 0o600
    assert "secret-token" in path.read_text()


def test_a_stale_default_kubeconfig_is_still_removed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kclusterkit.sim.server import runner

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    real = runner.default_kubeconfig_path
    stale: list[Path] = []

    def leftover(port: int) -> Path:  # a previous run on this port left its file behind
        path = real(port)
        path.write_text("stale")
        stale.append(path)
        return path

    monkeypatch.setattr(runner, "default_kubeconfig_path", leftover)
    serve_in_thread(cluster_factory=FakeCluster).stop()
    assert stale and not stale[0].exists()


def test_an_existing_kubeconfig_path_is_the_users_and_stays(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("old")
    handle = serve_in_thread(cluster_factory=FakeCluster, kubeconfig_path=path)
    handle.stop()
    assert path.exists()


def test_tokens_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    from kclusterkit.sim.auth import access as access_module

    seen: list[tuple[bytes, bytes]] = []
    real = access_module.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(access_module.hmac, "compare_digest", spy)
    with serve_in_thread(cluster_factory=FakeCluster) as handle:
        r = requests.get(handle.url + "/api/v1/namespaces", verify=str(handle.ca_path),
                         headers={"Authorization": "Bearer wrong"}, timeout=10)
        assert r.status_code == 401
    assert (b"wrong", handle.token.encode()) in seen
