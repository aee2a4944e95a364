"""Ctrl-C in the middle of a run against a cluster leaves nothing behind.

The cluster here is a served simulator reached through a kubeconfig, exactly as a user's
kind or cloud cluster would be; the run is a real behave process interrupted mid-wait.
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
from tests.dsl.conftest import REPO, Project

SLOW = """
Feature: Slow
  Scenario: Waits far longer than the test lets it
    Given a deployment "web" running "nginx:1.25" with 2 replicas
    Then deployment "web" has 5 ready pods within 10 minutes
"""


def _managed(api: client.CoreV1Api) -> list[tuple[str, bool]]:
    """kclusterkit's namespaces still there, and whether each is already terminating."""
    spaces = api.list_namespace(label_selector="kclusterkit.io/managed=true").items
    return [(ns.metadata.name, ns.metadata.deletion_timestamp is not None) for ns in spaces]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_leaves_no_namespace(project: Project, tmp_path: Path,
                                                sig: signal.Signals) -> None:
    handle = serve_in_thread(seed=1, speed=1.0, kubeconfig_path=tmp_path / "kubeconfig")
    try:
        api = client.CoreV1Api(config.new_client_from_config(str(handle.kubeconfig_path)))
        project.file("environments/lab.yaml",
                     f"target: kubeconfig\nkubeconfig: {handle.kubeconfig_path}\n")
        project.feature(SLOW)
        proc = subprocess.Popen(
            [sys.executable, "-m", "behave", "--no-color", "-f", "plain", "-D", "env=lab"],
            cwd=project.root, env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 30
            while not _managed(api) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _managed(api), "the run never created its namespace"
            time.sleep(0.5)  # well inside the 10-minute wait
            proc.send_signal(sig)
            out, _ = proc.communicate(timeout=30)
        finally:
            proc.kill()
        assert proc.returncode != 0, out
        left = [name for name, terminating in _managed(api) if not terminating]
        assert left == [], f"namespaces left behind: {left}\n{out}"
    finally:
        handle.stop()
