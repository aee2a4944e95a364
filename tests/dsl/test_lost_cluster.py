"""A cluster that stops answering mid-run ends the run at once, and says what it left.

The served simulator sits behind a relay that, on cue, stops forwarding anything and
leaves new connections unanswered: what a SIGSTOPped or partitioned API server looks like
to a client. The run must stop after the first scenario that finds it gone (the rest not
run), and name every namespace it could not delete with the command that removes them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kubernetes import client, config

from kclusterkit.sim.server import serve_in_thread
from tests.dsl.conftest import REPO, Project
from tests.dsl.test_interrupt import _managed, _through_relay, _wait

SCENARIO = """
  Scenario: {name}
    Given a deployment "web" running "nginx:1.25" with 1 replica
    Then deployment "web" has 3 ready pods within {within}
"""


@pytest.mark.parametrize("where", ["in a wait", "in a request"])
def test_a_cluster_that_stops_answering_stops_the_run_and_names_what_it_left(
        project: Project, tmp_path: Path, where: str) -> None:
    handle = serve_in_thread(seed=1, speed=10.0, kubeconfig_path=tmp_path / "kubeconfig",
                             tls=False)
    relay, relayed = _through_relay(handle, tmp_path)
    try:
        api = client.CoreV1Api(config.new_client_from_config(str(handle.kubeconfig_path)))
        project.file("environments/lab.yaml",
                     f"target: kubeconfig\nkubeconfig: {relayed}\nrequest_timeout: 2\n")
        # the first scenario fails quickly (3 of 1 replicas never come); the second is
        # where the cluster goes away: during its 10-minute wait, or at its first request
        within = {"One": "2 seconds", "Two": "10 minutes", "Three": "2 seconds",
                  "Four": "2 seconds"}
        project.feature("Feature: Four scenarios\n" + "".join(
            SCENARIO.format(name=name, within=w) for name, w in within.items()))
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "behave", "--no-color", "-f", "plain", "-D", "env=lab"],
            cwd=project.root, env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            if where == "in a wait":
                _wait(lambda: any(name.endswith("-2") for name, _ in _managed(api)))
                time.sleep(1.0)  # the deployment is made; the wait has begun
                relay.freeze()
            else:  # the second scenario's deployment is made, its answer never comes
                relay.freeze_after(b"POST /apis/apps/v1/namespaces/", nth=2)
            out, _ = proc.communicate(timeout=90)
        finally:
            proc.kill()
        took = time.monotonic() - started
        left = [name for name, terminating in _managed(api) if not terminating]
    finally:
        relay.stop()
        handle.stop()
    assert proc.returncode != 0, out
    assert took < 60, f"took {took:.0f}s\n{out}"
    stops = [line for line in out.splitlines() if "stopping the run" in line]
    assert len(stops) == 1, out
    assert stops[0].startswith(f"kclusterkit: cannot reach the cluster at {relay.url} "), out
    # Three and Four are not run (behave says skipped or untested), and nothing passed
    summary = re.search(r"^0 scenarios passed, (\d+) failed, (\d+) skipped(?:, (\d+) "
                        r"untested)?$", out, re.M)
    assert summary, out
    assert int(summary[2]) + int(summary[3] or 0) >= 2, out
    # whatever is still there is named, with the command that removes it
    assert left, "the relay was frozen before the scenario's namespace could be deleted"
    (line,) = [x for x in out.splitlines() if x.startswith("kclusterkit: could not delete")]
    for name in left:
        assert name in line, out
    assert re.search(r"remove them with kclusterkit cleanup -e lab --run [a-z0-9]+$", line), line
