"""The README's kubectl session, run with the real kubectl against a served simulator.

This is what a new user tries first; every command must work as it does on a cluster.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sim.server.kubectl import Kube, served_for_kubectl
from tests.sim.server.kubectl import kubectl as run_kubectl

WEB = (Path(__file__).resolve().parents[3] / "examples" / "web.yaml").read_text()


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kube]:
    yield from served_for_kubectl(tmp_path_factory, "kubectl", speed=20.0,
                                  files={"web.yaml": WEB})


def kubectl(kube: Kube, *args: str) -> str:
    return run_kubectl(kube, *args, stderr=False, timeout=60)


def test_the_readme_session(kube: Kube) -> None:
    nodes = kubectl(kube, "get", "nodes", "-o", "wide")
    assert nodes.split()[:5] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert nodes.count(" Ready ") == 3 and "control-plane" in nodes

    applied = kubectl(kube, "apply", "-f", "web.yaml")
    assert "deployment.apps/web created" in applied and "service/web created" in applied
    assert "successfully rolled out" in kubectl(kube, "rollout", "status", "deployment/web",
                                                "--timeout=60s")
    pods = kubectl(kube, "get", "pods", "-n", "default", "-o", "wide")
    assert pods.count("Running") == 3 and "10.244." in pods
    # kubeadm's kube-system: the static pods on the control-plane node (host network),
    # kube-proxy and kindnet on every node, CoreDNS on the workers
    system = [line.split() for line in
              kubectl(kube, "get", "pods", "-n", "kube-system", "-o", "wide").splitlines()[1:]]
    where = {row[0]: (row[2], row[5], row[6]) for row in system}
    for component in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        assert where[f"{component}-control-plane"] == ("Running", "172.18.0.2", "control-plane")
    for prefix in ("kube-proxy-", "kindnet-"):
        assert sorted(n for name, (_, _, n) in where.items() if name.startswith(prefix)) == [
            "control-plane", "worker-1", "worker-2"]
    assert sorted(n for name, (_, _, n) in where.items() if name.startswith("coredns-")) == [
        "worker-1", "worker-2"]

    described = kubectl(kube, "describe", "deployment", "web")
    assert "RollingUpdateStrategy:  25% max unavailable, 25% max surge" in described
    assert "ScalingReplicaSet" in described

    kubectl(kube, "scale", "deployment", "web", "--replicas=4")
    kubectl(kube, "set", "image", "deployment/web", "nginx=nginx:1.25")
    kubectl(kube, "rollout", "status", "deployment/web", "--timeout=60s")
    history = kubectl(kube, "rollout", "history", "deployment/web")
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]
    assert "rolled back" in kubectl(kube, "rollout", "undo", "deployment/web")
    kubectl(kube, "rollout", "status", "deployment/web", "--timeout=60s")
    images = kubectl(kube, "get", "pods", "-o", "jsonpath={.items[*].spec.containers[0].image}")
    assert set(images.split()) == {"nginx:1.24"}
    history = kubectl(kube, "rollout", "history", "deployment/web")
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["2", "3"]

    assert "docker-entrypoint" in kubectl(kube, "logs", "deploy/web")
    pod_names = kubectl(kube, "get", "pods", "-o", "jsonpath={.items[*].metadata.name}").split()
    assert kubectl(kube, "exec", "deploy/web", "--", "hostname").strip() in pod_names

    events = kubectl(kube, "get", "events")
    assert "Scaled up replica set" in events and "Started container nginx" in events
    deleted = kubectl(kube, "delete", "-f", "web.yaml")
    assert 'deployment.apps "web" deleted' in deleted
    assert kubectl(kube, "get", "deployments") == ""


def test_kubectl_create_generators_are_told_what_to_do_instead(
        kube: Kube) -> None:
    handle, root = kube
    env = {**os.environ, "KUBECONFIG": str(handle.kubeconfig_path), "HOME": str(root)}
    done = subprocess.run(["kubectl", "create", "deployment", "gen", "--image=nginx:1.25"],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode != 0
    assert "does not decode protobuf" in done.stderr and "kubectl apply -f" in done.stderr


STORAGE = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: shared}
spec:
  storageClassName: longhorn
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: user}
spec:
  containers:
  - {name: c, image: "busybox:1.36", command: [sleep, "3600"],
     volumeMounts: [{name: data, mountPath: /data}]}
  volumes: [{name: data, persistentVolumeClaim: {claimName: shared}}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: shard}
spec:
  completions: 3
  parallelism: 3
  completionMode: Indexed
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: "busybox:1.36", command: [sh, -c, "true"]}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: c, image: "busybox:1.36", command: [sleep, "3600"]}]
"""


def test_storage_and_batch_columns(kube: Kube) -> None:
    """kubectl get pvc,pv,sts,jobs,volumeattachments prints upstream's columns and states."""
    (kube.root / "storage.yaml").write_text(STORAGE)
    kubectl(kube, "apply", "-n", "default", "-f", "storage.yaml")
    kubectl(kube, "wait", "-n", "default", "--for=condition=Ready", "pod/user",
            "--timeout=60s")
    kubectl(kube, "wait", "-n", "default", "--for=condition=Complete", "job/shard",
            "--timeout=60s")
    kubectl(kube, "rollout", "status", "-n", "default", "statefulset/db", "--timeout=60s")
    out = kubectl(kube, "get", "-n", "default", "pvc,pv,sts,jobs,volumeattachments")
    headers = [block.splitlines()[0] for block in out.strip().split("\n\n")]
    assert headers[0].split() == ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS", "MODES",
                                  "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE"]
    assert headers[1].split() == ["NAME", "CAPACITY", "ACCESS", "MODES", "RECLAIM", "POLICY",
                                  "STATUS", "CLAIM", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS",
                                  "REASON", "AGE"]
    assert headers[2].split() == ["NAME", "READY", "AGE"]
    assert headers[3].split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert headers[4].split() == ["NAME", "ATTACHER", "PV", "NODE", "ATTACHED", "AGE"]
    rows = [block.splitlines()[1].split() for block in out.strip().split("\n\n")]
    assert rows[0][:2] == ["persistentvolumeclaim/shared", "Bound"]
    assert rows[0][3:6] == ["1Gi", "RWO", "longhorn"]
    assert rows[1][1:6] == ["1Gi", "RWO", "Delete", "Bound", "default/shared"]
    assert rows[2][:2] == ["statefulset.apps/db", "1/1"]
    assert rows[3][:3] == ["job.batch/shard", "Complete", "3/3"]
    assert rows[4][1] == "driver.longhorn.io" and rows[4][2] == rows[0][2]
    assert rows[4][4] == "true"
