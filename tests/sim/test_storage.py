"""Claims, volumes and classes on a whole simulated cluster: binding, provisioning, reclaim,
protection, the scheduler's VolumeBinding and files that outlive pods."""

from __future__ import annotations

from typing import Any

import pytest

from kclusterkit.sim import errors
from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.resources import EVENTS, PODS, PVCS, PVS, STORAGECLASSES, lookup
from kclusterkit.sim.server.tables import table


def claim(name: str, size: str = "1Gi", cls: str | None = None, modes: tuple[str, ...] = (
        "ReadWriteOnce",), volume: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": list(modes),
                            "resources": {"requests": {"storage": size}}}
    if cls is not None:
        spec["storageClassName"] = cls
    if volume:
        spec["volumeName"] = volume
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": "default"}, "spec": spec}


def volume(name: str, size: str, cls: str = "", policy: str = "Retain",
           labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                     "storageClassName": cls, "persistentVolumeReclaimPolicy": policy,
                     "hostPath": {"path": f"/mnt/{name}"}}}


def pod(name: str, claim_name: str, command: str = "sleep 3600") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
                                     "command": ["sh", "-c", command],
                                     "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                     "volumes": [{"name": "data",
                                  "persistentVolumeClaim": {"claimName": claim_name}}]}}


def events(cluster: Cluster, name: str) -> list[tuple[str, str]]:
    return [(e["reason"], e["message"]) for e in cluster.store.iter(EVENTS, "default")
            if e["involvedObject"]["name"] == name]


def phase(cluster: Cluster, res: Any, name: str, ns: str = "default") -> str | None:
    obj = cluster.store.get(res, ns if res.namespaced else "", name)
    return None if obj is None else obj["status"].get("phase")


@pytest.fixture
def cluster() -> Cluster:
    return Cluster(seed=3)


def test_the_default_class_is_kinds_standard(cluster: Cluster) -> None:
    sc = cluster.store.get(STORAGECLASSES, "", "standard")
    assert sc["provisioner"] == "rancher.io/local-path"
    assert sc["volumeBindingMode"] == "WaitForFirstConsumer"
    assert sc["reclaimPolicy"] == "Delete"
    created = cluster.api.create(claim("data"))
    assert created["spec"]["storageClassName"] == "standard"
    assert created["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]


def test_without_a_default_class_a_claim_has_no_class() -> None:
    cluster = Cluster(ClusterSpec(default_storage_class=False), seed=1)
    cluster.api.create(claim("data"))
    cluster.advance(5)
    assert "storageClassName" not in cluster.store.get(PVCS, "default", "data")["spec"]
    assert ("FailedBinding", "no persistent volumes available for this claim and no storage "
            "class is set") in events(cluster, "data")
    assert phase(cluster, PVCS, "data") == "Pending"


def test_wait_for_first_consumer_then_provisioned_on_the_pods_node(cluster: Cluster) -> None:
    cluster.api.create(claim("data"))
    cluster.advance(30)
    assert phase(cluster, PVCS, "data") == "Pending"
    assert events(cluster, "data") == [
        ("WaitForFirstConsumer", "waiting for first consumer to be created before binding")]
    cluster.api.create(pod("db", "data"))
    cluster.advance(30)
    pvc = cluster.store.get(PVCS, "default", "data")
    assert pvc["status"]["phase"] == "Bound"
    pv = cluster.store.get(PVS, "", pvc["spec"]["volumeName"])
    assert pv["metadata"]["name"] == f"pvc-{pvc['metadata']['uid']}"
    node = cluster.store.get(PODS, "default", "db")["spec"]["nodeName"]
    assert pvc["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == node
    assert pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0][
        "values"] == [node]
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert pv["status"]["phase"] == "Bound"
    assert [r for r, _ in events(cluster, "data")] == [
        "WaitForFirstConsumer", "ExternalProvisioning", "Provisioning", "ProvisioningSucceeded"]
    assert phase(cluster, PODS, "db") == "Running"


def test_a_later_pod_follows_the_local_volume_to_its_node(cluster: Cluster) -> None:
    cluster.api.create(claim("data"))
    cluster.api.create(pod("first", "data"))
    cluster.advance(30)
    node = cluster.store.get(PODS, "default", "first")["spec"]["nodeName"]
    cluster.api.delete(PODS, "default", "first")
    cluster.advance(40)
    for i in range(4):
        cluster.api.create(pod(f"next-{i}", "data"))
    cluster.advance(30)
    assert {cluster.store.get(PODS, "default", f"next-{i}")["spec"]["nodeName"]
            for i in range(4)} == {node}


def test_a_missing_claim_keeps_the_pod_pending(cluster: Cluster) -> None:
    cluster.api.create(pod("db", "nothing"))
    cluster.advance(30)
    got = cluster.store.get(PODS, "default", "db")
    assert not got["spec"].get("nodeName")
    cond = next(c for c in got["status"]["conditions"] if c["type"] == "PodScheduled")
    assert cond["reason"] == "Unschedulable"
    assert cond["message"].startswith(
        '0/3 nodes are available: persistentvolumeclaim "nothing" not found. ')
    # Creating the claim lets it through.
    cluster.api.create(claim("nothing"))
    cluster.advance(60)
    assert phase(cluster, PODS, "db") == "Running"


def test_an_unbound_immediate_claim_keeps_the_pod_pending(cluster: Cluster) -> None:
    cluster.api.create({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                        "metadata": {"name": "slow"}, "provisioner": "example.com/none"})
    cluster.api.create(claim("data", cls="slow"))
    cluster.api.create(pod("db", "data"))
    cluster.advance(30)
    got = cluster.store.get(PODS, "default", "db")
    cond = next(c for c in got["status"]["conditions"] if c["type"] == "PodScheduled")
    assert cond["message"].startswith(
        "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. ")
    assert ("ExternalProvisioning", "Waiting for a volume to be created either by the external "
            "provisioner 'example.com/none' or manually by the system administrator. If volume "
            "creation is delayed, please verify that the provisioner is running and correctly "
            "registered.") in events(cluster, "data")


def test_static_volumes_bind_the_smallest_that_fits(cluster: Cluster) -> None:
    cluster.api.create(volume("big", "10Gi"))
    cluster.api.create(volume("small", "2Gi"))
    cluster.api.create(volume("tiny", "500Mi"))
    cluster.api.create(claim("data", "1Gi", cls=""))
    cluster.advance(5)
    pvc = cluster.store.get(PVCS, "default", "data")
    assert pvc["spec"]["volumeName"] == "small"
    assert pvc["status"] == {"phase": "Bound", "accessModes": ["ReadWriteOnce"],
                             "capacity": {"storage": "2Gi"}}
    assert phase(cluster, PVS, "big") == "Available"
    small = cluster.store.get(PVS, "", "small")
    assert small["spec"]["claimRef"]["uid"] == pvc["metadata"]["uid"]
    assert small["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] == "yes"


def test_a_selector_and_a_volume_name_choose_the_volume(cluster: Cluster) -> None:
    cluster.api.create(volume("a", "1Gi", labels={"tier": "gold"}))
    cluster.api.create(volume("b", "1Gi"))
    cluster.api.create(volume("c", "1Gi"))
    sel = claim("gold", cls="")
    sel["spec"]["selector"] = {"matchLabels": {"tier": "gold"}}
    cluster.api.create(sel)
    cluster.api.create(claim("named", cls="", volume="c"))
    cluster.advance(5)
    assert cluster.store.get(PVCS, "default", "gold")["spec"]["volumeName"] == "a"
    assert cluster.store.get(PVCS, "default", "named")["spec"]["volumeName"] == "c"
    assert phase(cluster, PVS, "b") == "Available"


def test_retain_keeps_a_released_volume_and_delete_removes_it(cluster: Cluster) -> None:
    cluster.api.create(volume("kept", "1Gi"))
    cluster.api.create(claim("a", cls=""))
    cluster.api.create(claim("b"))
    cluster.api.create(pod("user", "b"))
    cluster.advance(30)
    provisioned = cluster.store.get(PVCS, "default", "b")["spec"]["volumeName"]
    cluster.api.delete(PODS, "default", "user")
    cluster.advance(40)
    cluster.api.delete(PVCS, "default", "a")
    cluster.api.delete(PVCS, "default", "b")
    cluster.advance(5)
    assert cluster.store.get(PVCS, "default", "a") is None
    assert phase(cluster, PVS, "kept") == "Released"
    assert cluster.store.get(PVS, "", provisioned) is None


def test_a_claim_in_use_is_protected_until_its_pod_goes(cluster: Cluster) -> None:
    cluster.api.create(claim("data"))
    cluster.api.create(pod("db", "data"))
    cluster.advance(30)
    cluster.api.delete(PVCS, "default", "data")
    cluster.advance(30)
    pvc = cluster.store.get(PVCS, "default", "data")
    assert pvc is not None and pvc["metadata"].get("deletionTimestamp")
    cluster.api.delete(PODS, "default", "db")
    cluster.advance(40)
    assert cluster.store.get(PVCS, "default", "data") is None
    assert list(cluster.store.iter(PVS)) == []


def test_a_bound_volume_is_protected(cluster: Cluster) -> None:
    cluster.api.create(volume("v", "1Gi"))
    cluster.api.create(claim("data", cls=""))
    cluster.advance(5)
    cluster.api.delete(PVS, "", "v")
    cluster.advance(5)
    assert cluster.store.get(PVS, "", "v")["metadata"]["finalizers"] == [
        "kubernetes.io/pv-protection"]
    cluster.api.delete(PVCS, "default", "data")
    cluster.advance(5)
    assert cluster.store.get(PVS, "", "v") is None


def test_files_live_with_the_volume_not_the_pod(cluster: Cluster) -> None:
    cluster.api.create(claim("data"))
    cluster.api.create(pod("writer", "data", "echo hello > /data/probe.txt; sleep 3600"))
    cluster.advance(30)
    cluster.api.delete(PODS, "default", "writer")
    cluster.advance(40)
    cluster.api.create(pod("reader", "data"))
    cluster.advance(30)
    code, out, _ = cluster.nodes.exec("default", "reader", ["cat", "/data/probe.txt"])
    assert (code, out) == (0, "hello\n")


def test_claim_validation_names_the_fields(cluster: Cluster) -> None:
    bad = claim("bad", modes=())
    del bad["spec"]["resources"]
    with pytest.raises(errors.StatusError) as exc:
        cluster.api.create(bad)
    assert exc.value.code == 422
    assert "spec.accessModes: Required value: at least 1 access mode is required" in \
        exc.value.message
    assert "spec.resources[storage]: Required value" in exc.value.message


def test_tables_show_upstreams_columns(cluster: Cluster) -> None:
    cluster.api.create(volume("v", "2Gi"))
    cluster.api.create(claim("data", cls=""))
    cluster.advance(5)
    pvc = table(cluster, lookup("pvc"), [cluster.store.get(PVCS, "default", "data")])
    assert [c["name"] for c in pvc["columnDefinitions"]] == [
        "Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass",
        "VolumeAttributesClass", "Age", "VolumeMode"]
    assert pvc["rows"][0]["cells"] == ["data", "Bound", "v", "2Gi", "RWO", "", "<unset>", "5s",
                                       "Filesystem"]
    pv = table(cluster, lookup("pv"), [cluster.store.get(PVS, "", "v")])
    assert pv["rows"][0]["cells"][:7] == ["v", "2Gi", "RWO", "Retain", "Bound", "default/data",
                                          ""]
    sc = table(cluster, lookup("sc"), [cluster.store.get(STORAGECLASSES, "", "standard")])
    assert sc["rows"][0]["cells"][:5] == ["standard (default)", "rancher.io/local-path",
                                          "Delete", "WaitForFirstConsumer", False]


def test_a_databases_rows_outlive_its_pod(cluster: Cluster) -> None:
    def db(name: str) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": "default"},
                "spec": {"containers": [{
                    "name": "db", "image": "mysql:8.0",
                    "env": [{"name": "MYSQL_ROOT_PASSWORD", "value": "pw"}],
                    "volumeMounts": [{"name": "data", "mountPath": "/var/lib/mysql"}]}],
                    "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]}}

    cluster.api.create(claim("data"))
    cluster.api.create(db("first"))
    cluster.advance(60)
    sql = "CREATE DATABASE shop; CREATE TABLE shop.t (id INT); INSERT INTO shop.t VALUES (1)"
    assert cluster.nodes.exec("default", "first", ["mysql", "-uroot", "-ppw", "-e", sql])[0] == 0
    cluster.api.delete(PODS, "default", "first")
    cluster.advance(60)
    cluster.api.create(db("second"))
    cluster.advance(60)
    assert cluster.nodes.exec("default", "second", [
        "mysql", "-uroot", "-ppw", "-N", "-e", "SELECT COUNT(*) FROM shop.t"])[:2] == (0, "1\n")
    # The client belongs to the mysql image, not to busybox.
    cluster.api.create(pod("client", "data2"))
    cluster.api.create(claim("data2"))
    cluster.advance(60)
    assert cluster.nodes.exec("default", "client", ["mysql", "-e", "SELECT 1"])[0] == 126


def test_empty_dir_dies_with_its_pod_and_config_maps_follow_updates(cluster: Cluster) -> None:
    cluster.api.create({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "cfg", "namespace": "default"},
                        "data": {"mode": "fast", "level": "3"}})

    def scratch_pod() -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "a", "namespace": "default"},
                "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
                                         "command": ["sleep", "3600"], "volumeMounts": [
                                             {"name": "scratch", "mountPath": "/scratch"},
                                             {"name": "cfg", "mountPath": "/etc/cfg"},
                                             {"name": "one", "mountPath": "/etc/one"}]}],
                         "volumes": [{"name": "scratch", "emptyDir": {}},
                                     {"name": "cfg", "configMap": {"name": "cfg"}},
                                     {"name": "one", "configMap": {"name": "cfg", "items": [
                                         {"key": "mode", "path": "the-mode"}]}}]}}

    cluster.api.create(scratch_pod())
    cluster.advance(20)
    exec_ = cluster.nodes.exec
    assert exec_("default", "a", ["sh", "-c", "echo x > /scratch/f"])[0] == 0
    assert exec_("default", "a", ["cat", "/etc/cfg/mode"])[1] == "fast"
    assert exec_("default", "a", ["ls", "/etc/one"])[1] == "the-mode\n"
    cm = cluster.store.get(lookup("configmaps"), "default", "cfg")
    cluster.api.update({**cm, "data": {"mode": "slow", "level": "3"}})
    cluster.advance(60)
    assert exec_("default", "a", ["cat", "/etc/cfg/mode"])[1] == "slow"
    assert exec_("default", "a", ["cat", "/etc/one/the-mode"])[1] == "slow"
    cluster.api.delete(PODS, "default", "a", grace_period=0)
    cluster.advance(5)
    cluster.api.create(scratch_pod())
    cluster.advance(20)
    assert exec_("default", "a", ["cat", "/scratch/f"])[0] == 1


def test_expanding_a_claim_needs_a_class_that_allows_it(cluster: Cluster) -> None:
    cluster.api.create(claim("data"))
    cluster.api.create(pod("db", "data"))
    cluster.advance(30)
    pvc = cluster.store.get(PVCS, "default", "data")
    bigger = {**pvc, "spec": {**pvc["spec"], "resources": {"requests": {"storage": "2Gi"}}}}
    with pytest.raises(errors.StatusError) as exc:
        cluster.api.update(bigger)
    assert exc.value.code == 403
    assert exc.value.message == (
        'persistentvolumeclaims "data" is forbidden: only dynamically provisioned pvc can be '
        "resized and the storageclass that provisions the pvc must support resize")
    smaller = {**pvc, "spec": {**pvc["spec"], "resources": {"requests": {"storage": "1Mi"}}}}
    with pytest.raises(errors.StatusError) as exc:
        cluster.api.update(smaller)
    assert exc.value.code == 422
    assert "field can not be less than status.capacity" in exc.value.message
    renamed = {**pvc, "spec": {**pvc["spec"], "accessModes": ["ReadWriteMany"]}}
    with pytest.raises(errors.StatusError) as exc:
        cluster.api.update(renamed)
    assert "spec is immutable after creation" in exc.value.message
