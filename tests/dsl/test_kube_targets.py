"""The real-cluster targets as a user meets them: `kclusterkit run -e sim-api` drives the
served simulator through the kubernetes client, and a cluster that cannot be reached stops
the run at once with one line."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

from tests.dsl.conftest import REPO, Project, Run

SIM_API_YAML = """\
target: sim-api
seed: 1
cluster:
  control_plane_nodes: 1
  worker_nodes: 2
"""  # no serve.speed: the sim-api default (100x) is what keeps this quick


def _kclusterkit(project: Project, *args: str) -> tuple[Run, float]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "kclusterkit.cli", *args], cwd=project.root,
                          env=env, capture_output=True, text=True, timeout=120)
    return Run(proc.returncode, proc.stdout + proc.stderr), time.monotonic() - started


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_on_sim_api_waits_in_cluster_time_and_exits_when_done(project: Project):
    project.file("environments/sim-api.yaml", SIM_API_YAML)
    project.feature("""
        Feature: Through the API
          Scenario: A deployment keeps its pods
            Given a cluster with 1 control-plane node and 2 worker nodes
            And a deployment "web" running "nginx:1.25" with 2 replicas
            Then deployment "web" has 2 ready pods within 1 minute
            And deployment "web" has 2 ready pods for 2 minutes
    """)
    run, took = _kclusterkit(project, "run", "-e", "sim-api", "--", "--no-color", "-f", "plain")
    assert run.code == 0, run.out
    assert "1 scenario passed, 0 failed, 0 skipped" in run.out
    # 2 minutes of cluster time at 100x the wall clock: about 1.2 s, not 2 minutes
    assert took < 30, f"took {took:.1f}s"


def test_namespaces_kept_on_purpose_are_named_at_the_end(project: Project):
    project.file("environments/sim-api.yaml", SIM_API_YAML + "cleanup: never\n")
    project.feature("""
        Feature: Kept
          Scenario: Leaves its namespace for a look
            Given a deployment "web" running "nginx:1.25" with 1 replica
    """)
    run, _ = _kclusterkit(project, "run", "-e", "sim-api", "--", "--no-color", "-f", "plain")
    assert run.code == 0, run.out
    (line,) = [x for x in run.out.splitlines() if x.startswith("kclusterkit: kept")]
    assert re.fullmatch(r"kclusterkit: kept namespace\(s\) kk-[a-z0-9-]+-1; remove them with "
                        r"kclusterkit cleanup -e sim-api --run [a-z0-9]+", line), line


def test_a_closed_port_fails_the_run_in_seconds_with_one_line(project: Project):
    port = _closed_port()
    project.file("kubeconfig", f"""
        apiVersion: v1
        kind: Config
        current-context: lab
        clusters: [{{name: c, cluster: {{server: "https://127.0.0.1:{port}"}}}}]
        contexts: [{{name: lab, context: {{cluster: c, user: u}}}}]
        users: [{{name: u, user: {{token: t}}}}]
    """)
    project.file("environments/kubeconfig.yaml", "target: kubeconfig\nkubeconfig: kubeconfig\n")
    project.feature("""
        Feature: Never reached
          Scenario: Nothing runs
            Given a deployment "web" running "nginx:1.25" with 2 replicas
    """)
    run, took = _kclusterkit(project, "run", "-e", "kubeconfig", "--", "--no-color")
    assert run.code == 2, run.out
    assert took < 10, f"took {took:.1f}s"
    errors = [line for line in run.out.splitlines() if line.startswith("kclusterkit:")]
    assert errors == [f"kclusterkit: cannot reach the cluster at https://127.0.0.1:{port} "
                      "(context lab): connection refused"], run.out
    assert "Traceback" not in run.out


def test_a_wrong_token_stops_the_run_with_one_line_naming_context_and_server(
        project: Project, tmp_path):
    import yaml

    from kclusterkit.sim.server import serve_in_thread

    handle = serve_in_thread(seed=1, kubeconfig_path=tmp_path / "served.kubeconfig")
    try:
        config = yaml.safe_load(handle.kubeconfig_path.read_text())
        config["users"][0]["user"]["token"] = "not-the-token"
        context = config["current-context"]
        server = config["clusters"][0]["cluster"]["server"].rstrip("/")
        project.file("kubeconfig", yaml.safe_dump(config))
        project.file("environments/lab.yaml", "target: kubeconfig\nkubeconfig: kubeconfig\n")
        project.feature("""
            Feature: Never reached
              Scenario: Nothing runs
                Given a deployment "web" running "nginx:1.25" with 2 replicas
        """)
        run, took = _kclusterkit(project, "run", "-e", "lab", "--", "--no-color")
    finally:
        handle.stop()
    assert run.code == 2, run.out
    assert took < 20, f"took {took:.1f}s"
    errors = [line for line in run.out.splitlines() if line.startswith("kclusterkit:")]
    assert errors == [f"kclusterkit: the cluster at {server} (context {context}) refused our "
                      f"credentials: 401 Unauthorized (check the token or certificate of "
                      f"context {context})"], run.out
    assert "HOOK-ERROR" not in run.out and "Traceback" not in run.out
