"""The served cluster stays responsive whatever its controllers do (issue 14 item 1).

A 20,000-replica Deployment used to freeze the server: the clock ran every event due at one
instant in a single turn, and the ReplicaSet controller re-queues itself at the same instant
after each burst of 500 pods. Responsiveness is asserted by the work one turn may do (store
writes per event, per step), not by wall-clock time; the two timed checks below use bounds
far above what they measure (well under a second here) and only catch a freeze.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from kclusterkit.sim.cluster import Cluster
from kclusterkit.sim.controllers.replicaset import BURST_REPLICAS
from kclusterkit.sim.resources import PODS
from kclusterkit.sim.scheduler import Scheduler
from kclusterkit.sim.server import serve_in_thread
from kclusterkit.sim.server.app import SimServer


def deployment(replicas: int) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "big", "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "big"}},
                     "template": {"metadata": {"labels": {"app": "big"}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}


# A ReplicaSet sync writes its burst of pods, one SuccessfulCreate event each, and a status.
MAX_WRITES_PER_EVENT = 2 * BURST_REPLICAS + 10


def test_each_event_and_each_server_turn_does_bounded_work() -> None:
    cluster = Cluster(None, 1, epoch=datetime.now(UTC).replace(microsecond=0))
    cluster.api.create(deployment(20_000))
    clock, store = cluster.clock, cluster.store
    after_3000 = 0
    while after_3000 < 50:  # thousands of pods pending for the scheduler by then
        before = store.revision
        timer = clock._queue[0]
        clock.run_one()
        assert store.revision - before <= MAX_WRITES_PER_EVENT, timer.fn
        if getattr(timer.fn, "__name__", "") == "_cycle":
            # A status (or binding) and an event per pod the cycle tries.
            assert store.revision - before <= 2 * Scheduler.CYCLE_PODS + 10
        after_3000 += store.count(PODS) >= 3000
    server = SimServer(cluster, "token")
    for _ in range(5):
        before = store.revision
        server.step(clock.now + 60)
        # One slice may run several events, but stops at the first past its budget.
        assert store.revision - before <= 3 * MAX_WRITES_PER_EVENT
    assert store.count(PODS) < 20_000


def test_version_answers_while_20000_replicas_are_created() -> None:
    handle = serve_in_thread(seed=1, speed=1.0)
    try:
        verify = str(handle.ca_path)
        auth = {"Authorization": f"Bearer {handle.token}"}
        created = requests.post(handle.url + "/apis/apps/v1/namespaces/default/deployments",
                                json=deployment(20_000), headers=auth, verify=verify,
                                timeout=10)
        assert created.status_code == 201, created.text
        for _ in range(6):
            r = requests.get(handle.url + "/version", verify=verify, timeout=5)
            assert r.status_code == 200
            time.sleep(0.2)
        pods = handle.call(lambda c: c.store.count(PODS))
        assert 0 < pods < 20_000  # answered while the controller was still at work
    finally:
        handle.stop()


def test_sigterm_stops_sim_serve_promptly_while_it_is_busy(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    kubeconfig = tmp_path / "config"
    proc = subprocess.Popen([sys.executable, "-m", "kclusterkit.sim.server", "--print-kubeconfig",
                             "--kubeconfig", str(kubeconfig)],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        from kubernetes import client, config

        api = client.AppsV1Api(config.new_client_from_config(str(kubeconfig)))
        api.create_namespaced_deployment("default", deployment(20_000))
        time.sleep(1.0)  # the ReplicaSet is now creating pods burst after burst
    finally:
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        took = time.monotonic() - started
    assert code == 0
    assert took < 5.0, took  # the target is under a second: bench/served_responsiveness.py


