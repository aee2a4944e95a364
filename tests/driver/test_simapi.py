"""The served simulator a sim-api run starts never outlives the run, however the run ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PARENT = """
import sys
from kclusterkit.config import load_environment
from kclusterkit.driver.simapi import serve
from pathlib import Path
served = serve(load_environment("sim-api", Path(sys.argv[1])), 3, 100.0)
print(served.process.pid, served.folder, flush=True)
sys.stdin.read()  # until killed
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by init) counts as gone
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[1].startswith("Z"))


def test_a_run_killed_outright_takes_its_served_cluster_and_its_kubeconfig_along() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(ROOT)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert parent.stdout is not None
    pid_text, folder_text = parent.stdout.readline().split()
    server, folder = int(pid_text), Path(folder_text)
    try:
        assert _alive(server)
        assert [p.name for p in folder.iterdir()] == ["kubeconfig"]  # no cluster file left
        parent.send_signal(signal.SIGKILL)  # no cleanup of its own runs
        parent.wait(10)
        deadline = time.monotonic() + 15
        while _alive(server) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(server), "the served cluster outlived the run that started it"
        assert not (folder / "kubeconfig").exists()
    finally:
        if _alive(server):
            os.kill(server, signal.SIGKILL)
        if folder.exists():
            for p in folder.iterdir():
                p.unlink()
            folder.rmdir()
