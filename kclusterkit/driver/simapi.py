"""The ``sim-api`` target: a served simulator started for the run, then the ``kubeconfig`` path.

It exists to prove the real-cluster path end to end without a cluster, so it adds nothing
to that path: it starts ``kclusterkit sim serve`` as a process of its own (the cluster
shaped by the environment's ``cluster:`` and ``timings:``, with its seed and speed), waits
for the kubeconfig the server writes, and hands that kubeconfig, with the environment's
hook commands, to exactly the driver a real cluster gets. Faults go through those hooks
(``kclusterkit sim fault …``), traffic through a load-generator pod, cluster time through
what the server itself advertises. Nothing here imports the simulator.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import yaml

from kclusterkit.driver.errors import ClusterError
from kclusterkit.driver.kube import KubeDriver

SERVE_OPTIONS = ("speed", "port")
# Cluster seconds per wall second when the environment file does not say: waits are in
# cluster time, so a suite costs 1/100 of the time its steps name.
DEFAULT_SPEED = 100.0
START_TIMEOUT = 60.0  # wall seconds for the server to write its kubeconfig


class ServedCluster:
    """A ``kclusterkit sim serve`` process and the folder holding its kubeconfig."""

    def __init__(self, folder: Path, process: subprocess.Popen[str], kubeconfig: Path) -> None:
        self.folder = folder
        self.process = process
        self.kubeconfig = kubeconfig

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5.0)
        shutil.rmtree(self.folder, ignore_errors=True)


def _cluster_file(env: Any, folder: Path) -> Path:
    """The environment's cluster shape and timings as ``sim serve --env`` reads them."""
    shape = env.cluster
    doc = {
        "cluster": {
            "control_plane_nodes": shape.control_plane_nodes,
            "worker_nodes": shape.worker_nodes,
            "node": {"cpu": shape.node.cpu, "memory": shape.node.memory,
                     "pods": shape.node.pods},
            "network_plugin": shape.network_plugin,
            "default_storage_class": shape.default_storage_class,
            "network_storage_class": shape.network_storage_class,
            **({"zones": list(shape.zones)} if shape.zones else {}),
        },
        "timings": dict(env.timings),
    }
    path = folder / "cluster.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def serve(env: Any, seed: int, speed: float, port: int = 0,
          timeout: float = START_TIMEOUT) -> ServedCluster:
    """Start ``kclusterkit sim serve`` for ``env``; return once its kubeconfig is written."""
    folder = Path(tempfile.mkdtemp(prefix="kclusterkit-sim-api-"))
    os.chmod(folder, 0o700)
    kubeconfig = folder / "kubeconfig"
    # --exit-with-stdin: the server stops when the pipe we hold closes, so a run killed
    # outright (SIGKILL, a CI job cancelled) leaves no server behind.
    command = [sys.executable, "-m", "kclusterkit", "sim", "serve", "--print-kubeconfig",
               "--exit-with-stdin",
               "--kubeconfig", str(kubeconfig), "--seed", str(seed), "--speed", f"{speed:g}",
               "--port", str(port), "--env", str(_cluster_file(env, folder))]
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   stdin=subprocess.PIPE, text=True,
                                   start_new_session=True)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise ClusterError(f"could not start kclusterkit sim serve: {exc}") from exc
    served = ServedCluster(folder, process, kubeconfig)
    first: list[str] = []
    reader = threading.Thread(target=lambda: first.append(process.stdout.readline()),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()
    reader.join(timeout)
    if not first or not first[0].strip() or process.poll() is not None:
        served.stop(timeout=2.0)
        err = (process.stderr.read() if process.stderr else "").strip()  # type: ignore[union-attr]
        why = err.splitlines()[-1] if err else (
            f"it wrote no kubeconfig within {timeout:g} s" if not first else "it exited")
        raise ClusterError(f"kclusterkit sim serve did not start: {why}")
    # It has read its cluster file; the folder keeps only the kubeconfig, which the server
    # removes when it stops, however its parent ended.
    (folder / "cluster.yaml").unlink(missing_ok=True)
    # Its further output (none expected) must not fill a pipe and stall it.
    threading.Thread(target=_drain, args=(process,), daemon=True).start()
    return served


def _drain(process: subprocess.Popen[str]) -> None:
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            try:
                for _ in stream:
                    pass
            except (OSError, ValueError):
                pass


def from_environment(env: Any, seed: int, run_id: str | None = None) -> KubeDriver:
    """The factory's entry point for ``sim-api``: serve a simulated cluster for the run and
    return the ``kubeconfig`` target's driver on it."""
    options = dict(env.options)
    serve_options = dict(options.pop("serve", None) or {})
    unknown = sorted(set(serve_options) - set(SERVE_OPTIONS))
    if unknown:
        raise ClusterError(f"serve.{unknown[0]}: unknown option (known: "
                           f"{', '.join(SERVE_OPTIONS)})")
    for key in ("kubeconfig", "context"):
        if key in options:
            raise ClusterError(f"{key}: target sim-api serves its own cluster; remove {key}:")
    try:
        speed = float(serve_options.get("speed", DEFAULT_SPEED))
        port = int(serve_options.get("port", 0))
    except (TypeError, ValueError):
        raise ClusterError("serve.speed and serve.port: expected numbers") from None
    if speed <= 0:
        raise ClusterError(f"serve.speed: expected a number > 0, got {speed:g}")
    served = serve(env, seed, speed, port)
    try:
        driver = KubeDriver.from_config({**options, "kubeconfig": str(served.kubeconfig)},
                                        run_id=run_id, target="sim-api",
                                        on_close=served.stop)
    except BaseException:
        served.stop()
        raise
    return driver
