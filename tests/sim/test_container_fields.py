"""containerStatuses fields of v1.34's default-on gates: resources, volumeMounts and user."""

from __future__ import annotations

from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.resources import PODS


def _status(cluster: Cluster, name: str) -> dict:
    return cluster.store.must_get(PODS, "default", name)["status"]["containerStatuses"][0]


def _pod(name: str, container: dict, **spec: object) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.25", **container}],
                     **spec}}


def test_running_container_reports_resources_mounts_and_user() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=3)
    cluster.api.create(_pod("web", {
        "resources": {"requests": {"cpu": "0.25", "memory": "64Mi"},
                      "limits": {"memory": "128Mi", "nvidia.com/gpu": "1"}},
        "volumeMounts": [{"name": "data", "mountPath": "/data"},
                         {"name": "cfg", "mountPath": "/etc/cfg", "readOnly": True}]},
        volumes=[{"name": "data", "emptyDir": {}}, {"name": "cfg", "emptyDir": {}}],
        securityContext={"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000,
                         "supplementalGroups": [4000, 3000]}))
    cluster.advance(0.1)
    waiting = _status(cluster, "web")
    assert "resources" not in waiting and "user" not in waiting
    assert waiting["volumeMounts"][0] == {"name": "data", "mountPath": "/data"}
    cluster.advance(30)
    status = _status(cluster, "web")
    assert "running" in status["state"]
    assert status["resources"] == {"limits": {"memory": "128Mi"},
                                   "requests": {"cpu": "250m", "memory": "64Mi"}}
    assert status["volumeMounts"][:2] == [
        {"name": "data", "mountPath": "/data"},
        {"name": "cfg", "mountPath": "/etc/cfg", "readOnly": True,
         "recursiveReadOnly": "Disabled"}]
    # ServiceAccount admission's projected token volume, last.
    token_mount = status["volumeMounts"][2]
    assert token_mount["name"].startswith("kube-api-access-")
    assert token_mount["mountPath"] == "/var/run/secrets/kubernetes.io/serviceaccount"
    assert status["user"] == {"linux": {"uid": 1000, "gid": 3000,
                                        "supplementalGroups": [3000, 2000, 4000]}}
    keys = list(status)
    assert keys[keys.index("started"):] == ["started", "resources", "volumeMounts", "user"]


def test_best_effort_root_container_has_empty_resources_and_root_user() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=3)
    cluster.api.create(_pod("plain", {}, automountServiceAccountToken=False))
    cluster.advance(30)
    status = _status(cluster, "plain")
    assert status["resources"] == {}
    assert "volumeMounts" not in status
    assert status["user"] == {"linux": {"uid": 0, "gid": 0, "supplementalGroups": [0]}}


def test_a_terminated_container_keeps_user_but_not_resources() -> None:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=3)
    cluster.api.create(_pod("job", {"image": "busybox:1.36", "command": ["true"],
                                    "resources": {"requests": {"cpu": "100m"}}},
                            restartPolicy="Never"))
    cluster.advance(60)
    status = _status(cluster, "job")
    assert "terminated" in status["state"]
    assert "resources" not in status
    assert status["user"]["linux"]["uid"] == 0
