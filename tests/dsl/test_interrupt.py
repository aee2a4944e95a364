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
from tests.dsl.relay import Relay

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


THREE = """
Feature: Three short scenarios
  Scenario: One
    Given a deployment "web" running "nginx:1.25" with 1 replica
    Then deployment "web" has 1 ready pod within 1 minute

  Scenario: Two
    Given a deployment "web" running "nginx:1.25" with 1 replica
    Then deployment "web" has 1 ready pod within 1 minute

  Scenario: Three
    Given a deployment "web" running "nginx:1.25" with 1 replica
    Then deployment "web" has 1 ready pod within 1 minute
"""

CREATE = b"POST /api/v1/namespaces "
DELETE = b"DELETE /api/v1/namespaces/"


def _through_relay(handle, tmp_path: Path) -> tuple[Relay, Path]:
    """A kubeconfig like the served one, but pointing at a relay in front of it."""
    import yaml

    config = yaml.safe_load(handle.kubeconfig_path.read_text())
    port = int(config["clusters"][0]["cluster"]["server"].rsplit(":", 1)[1].rstrip("/"))
    relay = Relay(port)
    config["clusters"][0]["cluster"]["server"] = relay.url
    path = tmp_path / "relayed.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return relay, path


def _wait(what, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "the moment never came"
        time.sleep(0.02)


# (moment, signal): a create the server has done but not yet answered (the first, a later
# one), a wait, a delete on its way, and plain moments after the start.
MOMENTS = [
    ("first create in flight", signal.SIGINT),
    ("first create in flight", signal.SIGTERM),
    ("second create in flight", signal.SIGINT),
    ("second create in flight", signal.SIGTERM),
    ("delete in flight", signal.SIGINT),
    ("delete in flight", signal.SIGTERM),
    ("waiting", signal.SIGTERM),
    ("0.8 s in", signal.SIGINT),
    ("1.6 s in", signal.SIGTERM),
    ("2.4 s in", signal.SIGINT),
]


@pytest.mark.parametrize("moment,sig", MOMENTS, ids=[f"{m}-{s.name}" for m, s in MOMENTS])
def test_an_interrupt_at_any_moment_leaves_no_namespace(project: Project, tmp_path: Path,
                                                        moment: str, sig: signal.Signals) -> None:
    handle = serve_in_thread(seed=1, speed=10.0, kubeconfig_path=tmp_path / "kubeconfig",
                             tls=False)
    relay, relayed = _through_relay(handle, tmp_path)
    try:
        api = client.CoreV1Api(config.new_client_from_config(str(handle.kubeconfig_path)))
        project.file("environments/lab.yaml", f"target: kubeconfig\nkubeconfig: {relayed}\n")
        project.feature(THREE)
        if moment == "first create in flight":
            relay.hold(CREATE, 2.0)
        elif moment == "delete in flight":
            relay.hold(DELETE, 2.0)
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "behave", "--no-color", "-f", "plain", "-D", "env=lab"],
            cwd=project.root, env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            if moment.endswith("in flight"):
                if moment.startswith("second"):
                    _wait(lambda: _managed(api))
                    relay.hold(CREATE, 2.0)
                _wait(relay.held.is_set)
            elif moment == "waiting":
                _wait(lambda: _managed(api))
                time.sleep(0.2)
            else:
                pause = float(moment.split()[0]) - (time.monotonic() - started)
                time.sleep(max(pause, 0.0))
            proc.send_signal(sig)
            out, _ = proc.communicate(timeout=30)
        finally:
            proc.kill()
        left = [name for name, terminating in _managed(api) if not terminating]
        assert left == [], f"namespaces left behind: {left}\n{out}"
    finally:
        relay.stop()
        handle.stop()
