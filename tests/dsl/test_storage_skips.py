"""A cluster without a default StorageClass (as a real one may be): storage scenarios
skip with the reason, on the simulator in-process and through its API alike."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.dsl.conftest import REPO, Project

FEATURE = """
    Feature: Data
      Scenario: A claim of the default class
        Given a persistent volume claim "data" of 1Gi
        Then claim "data" is Bound within 1 minute

      Scenario: A claim that waits for its consumer
        Given the default StorageClass waits for the first consumer
        Then claim "data" is Bound within 1 minute
"""


@pytest.mark.parametrize("target", ["sim", "sim-api"])
def test_no_default_class_skips_with_the_reason(project: Project, target: str) -> None:
    project.file(f"environments/{target}.yaml", f"""
        target: {target}
        seed: 1
        cluster:
          default_storage_class: false
    """)
    project.feature(FEATURE)
    proc = subprocess.run([sys.executable, "-m", "kclusterkit.cli", "run", "-e", target, "--",
                           "--no-color", "-f", "plain"], cwd=project.root,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
                          text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "0 scenarios passed, 0 failed, 2 skipped" in out, out
    assert "no default StorageClass" in out, out


NETWORK_FEATURE = """
    Feature: Network volumes
      Scenario: A claim of the network-attached class
        Given the cluster has a network-attached StorageClass
        And a persistent volume claim "data" of 1Gi on the network-attached StorageClass
        Then claim "data" is Bound within 1 minute
"""


def test_no_network_class_skips_with_the_reason(project: Project) -> None:
    """A cluster with only kind's local-path class (as kind is) has no network volumes."""
    project.file("environments/sim.yaml", """
        target: sim
        seed: 1
        cluster:
          network_storage_class: false
    """)
    project.feature(NETWORK_FEATURE)
    proc = subprocess.run([sys.executable, "-m", "kclusterkit.cli", "run", "-e", "sim", "--",
                           "--no-color", "-f", "plain"], cwd=project.root,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
                          text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "0 scenarios passed, 0 failed, 1 skipped" in out, out
    assert "no network-attached StorageClass: every class provisions local volumes " \
           "(rancher.io/local-path)" in out, out
