"""`kclusterkit sim serve` as a process: a real cluster, kubeconfig out, clean SIGTERM exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from kubernetes import client, config


def test_serve_process_round_trip(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kclusterkit.sim.server", "--print-kubeconfig", "--workers", "3",
         "--speed", "20", "--kubeconfig", str(kubeconfig)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == str(kubeconfig)
        api = config.new_client_from_config(str(kubeconfig))
        nodes = client.CoreV1Api(api).list_node().items
        workers = [n for n in nodes
                   if "node-role.kubernetes.io/control-plane" not in (n.metadata.labels or {})]
        assert len(nodes) == 4 and len(workers) == 3
        assert oct(kubeconfig.stat().st_mode & 0o777) == "0o600"
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(15)
    assert code == 0, proc.stderr.read() if proc.stderr else ""
