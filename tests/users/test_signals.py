"""Signals sent to ``kclusterkit run`` reach behave once, and the command waits for its cleanup.

Before, Ctrl-C made the command exit ~0.3 s later while behave, killed with it, leaked the
scenario's namespace, and a SIGTERM left behave running as an orphan. Here the command runs
a slow scenario against a served simulator through a kubeconfig (as a kind cluster would
be reached); the signal goes to the command alone — a terminal's Ctrl-C reaches only the
command, since behave runs in a process group of its own — and when the command has
returned, behave must be gone and the namespace deleted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kubernetes import client, config

from kclusterkit.sim.server import serve_in_thread
from tests.users.conftest import REPO

SLOW = """\
Feature: Slow
  Scenario: Waits far longer than the test lets it
    Given a deployment "web" running "nginx:1.25" with 2 replicas
    Then deployment "web" has 5 ready pods within 10 minutes

  Scenario: Waits as long
    Given a deployment "web" running "nginx:1.25" with 2 replicas
    Then deployment "web" has 5 ready pods within 10 minutes
"""


def _live(api: client.CoreV1Api) -> list[str]:
    spaces = api.list_namespace(label_selector="kclusterkit.io/managed=true").items
    return [ns.metadata.name for ns in spaces if ns.metadata.deletion_timestamp is None]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


@pytest.mark.parametrize(("sig", "jobs"), [(signal.SIGINT, 1), (signal.SIGTERM, 1),
                                           (signal.SIGINT, 2), (signal.SIGTERM, 2)])
def test_the_command_passes_the_signal_on_and_waits_for_the_cleanup(
        tmp_path: Path, sig: signal.Signals, jobs: int) -> None:
    handle = serve_in_thread(seed=1, speed=1.0, kubeconfig_path=tmp_path / "kubeconfig")
    try:
        api = client.CoreV1Api(config.new_client_from_config(str(handle.kubeconfig_path)))
        (tmp_path / "environments").mkdir()
        (tmp_path / "environments" / "lab.yaml").write_text(
            f"target: kubeconfig\nkubeconfig: {handle.kubeconfig_path}\n")
        (tmp_path / "slow.feature").write_text(SLOW)
        proc = subprocess.Popen(
            [sys.executable, "-m", "kclusterkit.cli", "run", "slow.feature", "-e", "lab",
             *(["--jobs", str(jobs)] if jobs > 1 else [])],
            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 30
            while len(_live(api)) < jobs and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(_live(api)) == jobs, "the run never created its namespaces"
            behave = _children(proc.pid)
            assert len(behave) == jobs, behave
            time.sleep(0.3)
            proc.send_signal(sig)
            out, _ = proc.communicate(timeout=30)
        finally:
            proc.kill()
        assert proc.returncode != 0, out
        assert not any(_alive(pid) for pid in behave), f"behave outlived the command\n{out}"
        assert _live(api) == [], f"namespaces left behind\n{out}"
    finally:
        handle.stop()


def test_ctrl_c_during_accept_leaves_no_namespace(tmp_path: Path) -> None:
    handle = serve_in_thread(seed=1, speed=1.0, kubeconfig_path=tmp_path / "kubeconfig")
    try:
        api = client.CoreV1Api(config.new_client_from_config(str(handle.kubeconfig_path)))
        proc = subprocess.Popen(
            [sys.executable, "-m", "kclusterkit.cli", "accept", "--kubeconfig",
             str(handle.kubeconfig_path), "--tags", "@network"],
            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 30
            while not _live(api) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _live(api), "the check never created its namespace"
            time.sleep(0.3)
            proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=30)
        finally:
            proc.kill()
        assert proc.returncode != 0, out
        assert _live(api) == [], f"namespaces left behind\n{out}"
    finally:
        handle.stop()
