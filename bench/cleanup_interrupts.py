"""Interrupt runs against a cluster at random moments and count the namespaces they leak.

Serves a simulated cluster over HTTP (TLS, token: the kubeconfig path a real cluster takes)
in this process, then repeats: start a run of ``features/self_healing.feature`` on target
``kubeconfig`` — alternately through ``kclusterkit run`` and plain ``behave`` — and, at a
moment drawn from a seeded random source, interrupt it the way a person does:

- Ctrl-C: SIGINT to the run's whole process group (what a terminal sends);
- ``kill``: SIGTERM to the process that was started (the wrapper, or behave).

After the started process has exited, and again once every process of its group has
(a wrapper's child may outlive it), every namespace of the run that is not being deleted
is a leak. An orphan still running 60 s later (a wrapper that did not pass SIGTERM on) is
SIGKILLed — no cleanup survives that — and its leaks are counted apart.

With ``--latency S`` the run reaches the cluster through a relay that delays every answer
by S seconds (a slow link): requests are then on their way for longer, and more moments
fall inside one — a namespace created but not yet answered, a delete not yet through.

    PYTHONPATH=. python bench/cleanup_interrupts.py [--runs 20] [--seed 1] [--latest 6]
        [--latency 0.2]

The last line is ``key=value`` pairs (runs, leaked_runs, leaked_namespaces, orphans …);
figures only, no assertions.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _project(root: Path, kubeconfig: Path) -> None:
    (root / "steps").mkdir(parents=True)
    (root / "features").mkdir()
    (root / "environments").mkdir()
    (root / "environment.py").write_text("from kclusterkit.hooks import *  # noqa: F401,F403\n")
    (root / "steps" / "library.py").write_text("from kclusterkit.steps import *  # noqa\n")
    shutil.copy(REPO / "features" / "self_healing.feature", root / "features")
    (root / "environments" / "lab.yaml").write_text(
        f"target: kubeconfig\nkubeconfig: {kubeconfig}\n")


def _slow_link(kubeconfig: Path, path: Path, latency: float) -> tuple[object, Path]:
    """A relay (the tests' own) delaying every answer, and a kubeconfig pointing at it."""
    import yaml

    sys.path.insert(0, str(REPO))
    from tests.dsl.relay import Relay

    data = yaml.safe_load(kubeconfig.read_text())
    server = data["clusters"][0]["cluster"]["server"]
    relay = Relay(int(server.rsplit(":", 1)[1].rstrip("/")), latency=latency)
    data["clusters"][0]["cluster"]["server"] = server.rsplit(":", 1)[0] + f":{relay.port}"
    path.write_text(yaml.safe_dump(data))
    return relay, path


def _left(api: object) -> list[str]:
    items = api.list_namespace(label_selector="kclusterkit.io/managed=true").items  # type: ignore[attr-defined]
    return sorted(ns.metadata.name for ns in items if ns.metadata.deletion_timestamp is None)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str] | None = None) -> int:
    from kubernetes import client, config

    from kclusterkit.sim.server import serve_in_thread

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--earliest", type=float, default=0.3,
                        help="earliest interrupt, seconds after the start")
    parser.add_argument("--latest", type=float, default=6.0,
                        help="latest interrupt, seconds after the start")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds each answer of the cluster is delayed (a slow link)")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="kk-bench-cleanup-"))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    relays: list = []
    leaked_runs = leaked_namespaces = orphans = late_leaks = killed = killed_leaks = 0
    try:
        for i in range(args.runs):
            via = "kclusterkit run" if i % 2 == 0 else "behave"
            how = rng.choice(["ctrl-c", "kill"])
            at = rng.uniform(args.earliest, args.latest)
            handle = serve_in_thread(seed=1, speed=10.0, kubeconfig_path=work / f"k{i}")
            root = work / f"p{i}"
            try:
                api = client.CoreV1Api(config.new_client_from_config(str(handle.kubeconfig_path)))
                kubeconfig = handle.kubeconfig_path
                if args.latency:
                    relay, kubeconfig = _slow_link(handle.kubeconfig_path, work / f"r{i}",
                                                   args.latency)
                    relays.append(relay)
                _project(root, kubeconfig)
                command = ([sys.executable, "-m", "kclusterkit.cli", "run", "-e", "lab", "--",
                            "--no-color", "-f", "plain"] if via == "kclusterkit run" else
                           [sys.executable, "-m", "behave", "--no-color", "-f", "plain",
                            "-D", "env=lab"])
                started = time.monotonic()
                proc = subprocess.Popen(command, cwd=root, env=env, start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(max(0.0, at - (time.monotonic() - started)))
                if how == "ctrl-c":
                    os.killpg(proc.pid, signal.SIGINT)
                else:
                    proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    pass
                exited = time.monotonic() - started
                left_at_exit = _left(api)
                deadline = time.monotonic() + 60
                orphan = _group_alive(proc.pid)
                while _group_alive(proc.pid) and time.monotonic() < deadline:
                    time.sleep(0.1)
                was_killed = _group_alive(proc.pid)
                if was_killed:  # an orphan still running its scenarios: a SIGKILL leaks
                    os.killpg(proc.pid, signal.SIGKILL)
                    time.sleep(0.5)
                left = _left(api)
                orphans += orphan
                killed += was_killed
                late_leaks += bool(left) and not left_at_exit
                if left and was_killed:
                    killed_leaks += 1
                elif left:
                    leaked_runs += 1
                    leaked_namespaces += len(left)
                print(f"run {i + 1:2d}: {via:15s} {how:6s} at {at:4.1f}s  exited after "
                      f"{exited:4.1f}s rc={proc.returncode}  left at exit {len(left_at_exit)}, "
                      f"after the group {len(left)}{'  (orphan outlived it)' if orphan else ''}"
                      f"{'  (orphan SIGKILLed after 60 s)' if was_killed else ''}"
                      f"{'  ' + ', '.join(left) if left else ''}", flush=True)
            finally:
                handle.stop()
    finally:
        for relay in relays:
            relay.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"runs={args.runs} seed={args.seed} latency={args.latency:g} leaked_runs={leaked_runs} "
          f"leaked_namespaces={leaked_namespaces} orphans={orphans} "
          f"orphans_killed_after_60s={killed} runs_leaked_by_that_kill={killed_leaks} "
          f"leaks_only_after_orphans={late_leaks}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
