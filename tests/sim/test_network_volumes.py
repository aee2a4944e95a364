"""Network-attached volumes (the ``longhorn`` class): attach/detach with VolumeAttachments,
one node at a time for ReadWriteOnce, files that follow the pod, and online expansion."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kclusterkit.sim import errors
from kclusterkit.sim.cluster import Cluster
from kclusterkit.sim.controllers.attachdetach import attachment_name
from kclusterkit.sim.resources import EVENTS, NODES, PODS, PVCS, PVS, VOLUMEATTACHMENTS
from tests.sim.test_storage import claim, events, pod


def on_node(manifest: dict[str, Any], node: str) -> dict[str, Any]:
    manifest["spec"]["nodeName"] = node
    return manifest


def exec_out(cluster: Cluster, name: str, script: str) -> str:
    return cluster.nodes.exec("default", name, ["sh", "-c", script])[1]


@pytest.fixture
def cluster() -> Cluster:
    return Cluster(seed=3)


def test_the_network_class_binds_at_once_without_node_affinity(cluster: Cluster) -> None:
    cluster.api.create(claim("data", cls="longhorn"))
    cluster.advance(5)
    got = cluster.store.get(PVCS, "default", "data")
    assert got["status"]["phase"] == "Bound"
    pv = cluster.store.get(PVS, "", got["spec"]["volumeName"])
    assert pv["spec"]["csi"]["driver"] == "driver.longhorn.io"
    assert "nodeAffinity" not in pv["spec"]
    assert pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == \
        "driver.longhorn.io"


def test_a_rwo_volume_is_attached_to_one_node_at_a_time(cluster: Cluster) -> None:
    workers = sorted(n["metadata"]["name"] for n in cluster.store.iter(NODES)
                     if "node-role.kubernetes.io/control-plane" not in n["metadata"]["labels"])
    cluster.api.create(claim("data", cls="longhorn"))
    cluster.advance(5)
    pv_name = cluster.store.get(PVCS, "default", "data")["spec"]["volumeName"]
    cluster.api.create(on_node(pod("first", "data"), workers[0]))
    cluster.advance(30)
    assert cluster.store.get(PODS, "default", "first")["status"]["phase"] == "Running"
    vas = list(cluster.store.iter(VOLUMEATTACHMENTS))
    assert [va["metadata"]["name"] for va in vas] == [
        attachment_name(pv_name, "driver.longhorn.io", workers[0])]
    assert vas[0]["status"] == {"attached": True}
    assert vas[0]["metadata"]["finalizers"] == ["external-attacher/driver-longhorn-io"]
    node = cluster.store.get(NODES, "", workers[0])
    assert node["status"]["volumesAttached"] == [
        {"name": f"kubernetes.io/csi/driver.longhorn.io^{pv_name}", "devicePath": ""}]
    exec_out(cluster, "first", "echo hello > /data/probe.txt")

    cluster.api.create(on_node(pod("second", "data"), workers[1]))
    cluster.advance(60)
    second = cluster.store.get(PODS, "default", "second")
    assert second["status"]["phase"] == "Pending"
    waiting = second["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] == "ContainerCreating"
    assert ("FailedAttachVolume", f'Multi-Attach error for volume "{pv_name}" Volume is '
            "already used by pod(s) first") in events(cluster, "second")
    cluster.advance(90)  # past the kubelet's 2 min 3 s wait
    assert any(r == "FailedMount" and "unattached volumes=[data]" in m
               for r, m in events(cluster, "second"))

    cluster.api.delete(PODS, "default", "first")
    cluster.advance(60)
    assert cluster.store.get(PODS, "default", "second")["status"]["phase"] == "Running"
    assert [va["spec"]["nodeName"] for va in cluster.store.iter(VOLUMEATTACHMENTS)] == \
        [workers[1]]
    assert "volumesAttached" not in cluster.store.get(NODES, "", workers[0])["status"]
    assert exec_out(cluster, "second", "cat /data/probe.txt") == "hello\n"
    assert sum(1 for r, _ in events(cluster, "second") if r == "FailedAttachVolume") == 1


def test_a_local_volume_stays_on_its_node(cluster: Cluster) -> None:
    cluster.api.create(claim("data"))
    cluster.api.create(pod("first", "data"))
    cluster.advance(30)
    first = cluster.store.get(PODS, "default", "first")
    node = first["spec"]["nodeName"]
    other = next(n["metadata"]["name"] for n in cluster.store.iter(NODES)
                 if n["metadata"]["name"] != node
                 and "node-role.kubernetes.io/control-plane" not in n["metadata"]["labels"])
    second = pod("second", "data")
    required = {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "kubernetes.io/hostname", "operator": "In", "values": [other]}]}]}
    second["spec"]["affinity"] = {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": required}}
    cluster.api.create(second)
    cluster.advance(30)
    got = cluster.store.get(PODS, "default", "second")
    assert "nodeName" not in got["spec"]
    assert not list(cluster.store.iter(VOLUMEATTACHMENTS))


def test_online_expansion(cluster: Cluster) -> None:
    cluster.api.create(claim("data", cls="longhorn"))
    cluster.api.create(pod("app", "data"))
    cluster.advance(30)
    got = copy.deepcopy(cluster.store.get(PVCS, "default", "data"))
    got["spec"]["resources"]["requests"]["storage"] = "2Gi"
    cluster.api.update(got)
    cluster.advance(0.5)
    mid = cluster.store.get(PVCS, "default", "data")
    assert [c["type"] for c in mid["status"]["conditions"]] == ["Resizing"]
    assert mid["status"]["capacity"]["storage"] == "1Gi"
    cluster.advance(30)
    done = cluster.store.get(PVCS, "default", "data")
    assert done["status"]["capacity"]["storage"] == "2Gi"
    assert "conditions" not in done["status"]
    pv = cluster.store.get(PVS, "", done["spec"]["volumeName"])
    assert pv["spec"]["capacity"]["storage"] == "2Gi"
    pv_name = pv["metadata"]["name"]
    assert [r for r, _ in events(cluster, "data") if r in (
        "ExternalExpanding", "Resizing", "FileSystemResizeRequired",
        "FileSystemResizeSuccessful")] == ["ExternalExpanding", "Resizing",
                                           "FileSystemResizeRequired",
                                           "FileSystemResizeSuccessful"]
    node = cluster.store.get(PODS, "default", "app")["spec"]["nodeName"]
    assert ("FileSystemResizeSuccessful", f'MountVolume.NodeExpandVolume succeeded for volume '
            f'"{pv_name}" {node}') in events(cluster, "app")
    smaller = copy.deepcopy(cluster.store.get(PVCS, "default", "data"))
    smaller["spec"]["resources"]["requests"]["storage"] = "1Gi"
    with pytest.raises(errors.StatusError) as info:
        cluster.api.update(smaller)
    assert info.value.code == 422
    assert "spec.resources.requests.storage: Forbidden: field can not be less than " \
           "status.capacity" in info.value.message


def test_the_default_class_refuses_expansion(cluster: Cluster) -> None:
    cluster.api.create(claim("data"))
    cluster.api.create(pod("app", "data"))
    cluster.advance(30)
    got = copy.deepcopy(cluster.store.get(PVCS, "default", "data"))
    got["spec"]["resources"]["requests"]["storage"] = "2Gi"
    with pytest.raises(errors.StatusError) as info:
        cluster.api.update(got)
    assert info.value.code == 403
    assert "only dynamically provisioned pvc can be resized and the storageclass that " \
           "provisions the pvc must support resize" in info.value.message
    assert not [e for e in cluster.store.iter(EVENTS, "default")
                if e["reason"] == "ExternalExpanding"]


def test_a_local_volume_does_not_mount_on_another_node(cluster: Cluster) -> None:
    """A pod placed by hand (nodeName) on another node than its local volume's stays
    ContainerCreating: the mount's node-affinity check fails there."""
    cluster.api.create(claim("data"))
    cluster.api.create(pod("first", "data"))
    cluster.advance(30)
    node = cluster.store.get(PODS, "default", "first")["spec"]["nodeName"]
    pv_name = cluster.store.get(PVCS, "default", "data")["spec"]["volumeName"]
    other = next(n["metadata"]["name"] for n in cluster.store.iter(NODES)
                 if n["metadata"]["name"] != node
                 and "node-role.kubernetes.io/control-plane" not in n["metadata"]["labels"])
    cluster.api.create(on_node(pod("second", "data"), other))
    cluster.advance(30)
    second = cluster.store.get(PODS, "default", "second")
    assert second["status"]["phase"] == "Pending"
    assert ("FailedMount", f'MountVolume.NodeAffinity check failed for volume "{pv_name}" : '
            "no matching NodeSelectorTerms") in events(cluster, "second")
