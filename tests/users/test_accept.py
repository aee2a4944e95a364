"""`kclusterkit accept` as an operator runs it, from the installed wheel: on the simulator,
and against `kclusterkit sim serve` through nothing but its kubeconfig."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kubernetes import client, config

from tests.users.conftest import Installed

CHECKS = ["nodes", "system-pods", "network", "dns", "services", "storage", "rbac",
          "api-latency"]
SYSTEM = {"default", "kube-system", "kube-public", "kube-node-lease"}


def table(out: str) -> dict[str, str]:
    """check → result, from the summary table the command prints last."""
    lines = out.splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith("CHECK "))
    rows = {}
    for line in lines[start + 1:]:
        parts = line.split()
        if len(parts) >= 2:
            rows[parts[0]] = parts[1]
    return rows


def expected_on_the_simulator() -> dict[str, str]:
    # the simulator runs kubeadm's kube-system pods and has kind's default StorageClass
    return {c: "PASS" for c in CHECKS}


def test_accept_on_the_simulator(installed: Installed, tmp_path: Path) -> None:
    run = installed.kclusterkit("accept", "-e", "sim", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert table(run.stdout) == expected_on_the_simulator()
    assert 'claim "data" Bound' in run.stdout
    assert "9 of 9 node pairs answered" in run.stdout  # 3 nodes, each with each
    assert "3 nodes Ready, kubelet v1.34.1" in run.stdout
    junit = list((tmp_path / "reports" / "junit").glob("TESTS-*.xml"))
    assert len(junit) == 1 and f'tests="{len(CHECKS)}"' in junit[0].read_text()
    results = (tmp_path / "reports" / "allure-results").glob("*-result.json")
    assert len(list(results)) == len(CHECKS)


def test_a_failing_check_fails_the_command(installed: Installed, tmp_path: Path) -> None:
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "broken.yaml").write_text(
        "target: sim\ncluster:\n  network_plugin: false\n")  # nodes stay NotReady
    run = installed.kclusterkit("accept", "-e", "broken", "--tags", "@nodes", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert table(run.stdout) == {"nodes": "FAIL"}
    assert re.search(r"FAIL +\d+\.\ds  expected every node to be Ready within 2m", run.stdout), \
        run.stdout


def test_list_names_every_check(installed: Installed, tmp_path: Path) -> None:
    run = installed.kclusterkit("accept", "--list", cwd=tmp_path)
    assert run.returncode == 0
    assert [line.split()[0] for line in run.stdout.splitlines()] == [f"@{c}" for c in CHECKS]


@pytest.fixture
def served(installed: Installed, tmp_path: Path):
    kubeconfig = tmp_path / "served" / "kubeconfig"
    kubeconfig.parent.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "kclusterkit.cli", "sim", "serve",
                             "--kubeconfig", str(kubeconfig), "--speed", "50"],
                            cwd=kubeconfig.parent, env=installed.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not (kubeconfig.is_file() and kubeconfig.stat().st_size) and proc.poll() is None:
        assert time.monotonic() < deadline, "sim serve never wrote its kubeconfig"
        time.sleep(0.1)
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    time.sleep(0.2)
    yield kubeconfig
    proc.terminate()
    proc.wait(10)


def test_accept_against_a_served_simulator_through_its_kubeconfig(
        installed: Installed, tmp_path: Path, served: Path) -> None:
    work = tmp_path / "operator"
    work.mkdir()
    run = installed.kclusterkit("accept", "--kubeconfig", str(served), cwd=work, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert table(run.stdout) == expected_on_the_simulator()
    assert "9 of 9 node pairs answered" in run.stdout
    assert list((work / "reports" / "junit").glob("TESTS-*.xml"))
    results = (work / "reports" / "allure-results").glob("*-result.json")
    assert len(list(results)) == len(CHECKS)
    api = client.CoreV1Api(config.new_client_from_config(str(served)))
    left = [ns.metadata.name for ns in api.list_namespace().items
            if ns.metadata.name not in SYSTEM and ns.metadata.deletion_timestamp is None]
    assert left == [], run.stdout
