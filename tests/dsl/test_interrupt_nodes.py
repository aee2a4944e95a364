"""Ctrl-C in the middle of a run that cordoned a node gives the node back uncordoned.

The cluster is a served simulator reached through a kubeconfig, as a user's cluster would
be; the run is a real behave process interrupted mid-wait.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kclusterkit.driver.kube import KubeDriver
from kclusterkit.sim.server import serve_in_thread
from tests.dsl.conftest import REPO, Project

SLOW = """
Feature: Slow
  Scenario: Cordons a node, then waits far longer than the test lets it
    Given a deployment "web" running "nginx:1.25" with 1 replica
    When I cordon node "worker-1"
    Then deployment "web" has 5 ready pods within 10 minutes
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_uncordons_the_node(project: Project, tmp_path: Path,
                                              sig: signal.Signals) -> None:
    handle = serve_in_thread(seed=1, speed=1.0, kubeconfig_path=tmp_path / "kubeconfig")
    try:
        project.file("environments/lab.yaml",
                     f"target: kubeconfig\nkubeconfig: {handle.kubeconfig_path}\n"
                     "allow_disruptive: true\n")
        project.feature(SLOW)
        watcher = KubeDriver.from_config({"kubeconfig": str(handle.kubeconfig_path)},
                                         run_id="watch")
        proc = subprocess.Popen(
            [sys.executable, "-m", "behave", "--no-color", "-f", "plain", "-D", "env=lab"],
            cwd=project.root, env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 30
            while not (watcher.get("nodes", "worker-1") or {}).get("spec", {}).get(
                    "unschedulable") and time.monotonic() < deadline:
                time.sleep(0.05)
            assert watcher.get("nodes", "worker-1")["spec"].get("unschedulable"), \
                "the run never cordoned the node"
            time.sleep(0.3)
            proc.send_signal(sig)
            out, _ = proc.communicate(timeout=30)
        finally:
            proc.kill()
        assert proc.returncode != 0, out
        assert not watcher.get("nodes", "worker-1")["spec"].get("unschedulable"), out
        watcher.close()
    finally:
        handle.stop()
