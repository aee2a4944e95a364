"""The official Python client's create-from-YAML helper against a served simulator, for the
kinds the client's own e2e tests create that way: Jobs, DaemonSets, ReplicationControllers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config, utils, watch

from kclusterkit.sim.cluster import Cluster
from kclusterkit.sim.server import ServerHandle
from tests.driver.served import served_cluster

MANIFESTS = """\
apiVersion: batch/v1
kind: Job
metadata: {name: pi}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: pi, image: "busybox:1.36", command: [sh, -c, "echo 3.14159"]}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: a, image: "busybox:1.36", command: [sleep, "3600"]}]}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: old}
spec:
  replicas: 2
  selector: {app: old}
  template:
    metadata: {labels: {app: old}}
    spec: {containers: [{name: nginx, image: "nginx:1.25"}]}
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    yield from served_cluster(tmp_path_factory, lambda: Cluster(seed=1))


def test_create_from_yaml_makes_jobs_daemonsets_and_replication_controllers(
        served: ServerHandle, tmp_path: Path) -> None:
    api = config.new_client_from_config(str(served.kubeconfig_path))
    path = tmp_path / "all.yaml"
    path.write_text(MANIFESTS)
    created = utils.create_from_yaml(api, str(path), namespace="default")
    kinds = sorted(obj.kind for group in created for obj in group)
    assert kinds == ["DaemonSet", "Job", "ReplicationController"]
    batch, apps, core = client.BatchV1Api(api), client.AppsV1Api(api), client.CoreV1Api(api)
    w = watch.Watch()
    for event in w.stream(batch.list_namespaced_job, "default", timeout_seconds=30):
        if (event["object"].status.succeeded or 0) == 1:
            w.stop()
    assert batch.read_namespaced_job("pi", "default").status.succeeded == 1
    for event in w.stream(core.list_namespaced_replication_controller, "default",
                          timeout_seconds=30):
        if (event["object"].status.ready_replicas or 0) == 2:
            w.stop()
    assert core.read_namespaced_replication_controller("old", "default").status \
        .ready_replicas == 2
    ds = apps.read_namespaced_daemon_set("agent", "default")
    assert ds.status.desired_number_scheduled == 2  # the two workers (control plane tainted)
