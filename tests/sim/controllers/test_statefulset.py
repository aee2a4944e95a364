"""The StatefulSet controller on a whole simulated cluster: names, order, claims, DNS,
scale-in retention and rolling updates with a partition."""

from __future__ import annotations

from typing import Any

from kclusterkit.sim.cluster import Cluster
from kclusterkit.sim.resources import (
    EVENTS,
    PODS,
    PVCS,
    REPLICATIONCONTROLLERS,
    STATEFULSETS,
)


def web(replicas: int = 3, policy: str = "OrderedReady", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": replicas, "serviceName": "web", "podManagementPolicy": policy,
                     "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                         "containers": [{"name": "nginx", "image": "nginx:1.25",
                                         "volumeMounts": [{"name": "data",
                                                           "mountPath": "/data"}]}]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                         "accessModes": ["ReadWriteOnce"],
                         "resources": {"requests": {"storage": "1Gi"}}}}], **spec}}


def start(sts: dict[str, Any]) -> Cluster:
    cluster = Cluster(seed=5)
    cluster.api.create({"apiVersion": "v1", "kind": "Service",
                        "metadata": {"name": "web", "namespace": "default"},
                        "spec": {"clusterIP": "None", "selector": {"app": "web"},
                                 "ports": [{"port": 80}]}})
    cluster.api.create(sts)
    return cluster


def pods(cluster: Cluster) -> dict[str, Any]:
    return {p["metadata"]["name"]: p for p in cluster.store.iter(PODS, "default")}


def creation_order(cluster: Cluster) -> list[str]:
    return [e["message"] for e in sorted(cluster.store.iter(EVENTS, "default"),
                                         key=lambda e: int(e["metadata"]["resourceVersion"]))
            if e["involvedObject"]["kind"] == "StatefulSet"
            and e["reason"] in ("SuccessfulCreate", "SuccessfulDelete")]


def test_ordered_ready_starts_one_pod_at_a_time_with_its_claim() -> None:
    cluster = start(web())
    cluster.advance(1)
    assert set(pods(cluster)) == {"web-0"}
    cluster.advance(60)
    assert creation_order(cluster) == [
        "create Claim data-web-0 Pod web-0 in StatefulSet web success",
        "create Pod web-0 in StatefulSet web successful",
        "create Claim data-web-1 Pod web-1 in StatefulSet web success",
        "create Pod web-1 in StatefulSet web successful",
        "create Claim data-web-2 Pod web-2 in StatefulSet web success",
        "create Pod web-2 in StatefulSet web successful"]
    web0 = pods(cluster)["web-0"]
    assert web0["spec"]["hostname"] == "web-0" and web0["spec"]["subdomain"] == "web"
    assert web0["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "web-0"
    assert web0["metadata"]["labels"]["apps.kubernetes.io/pod-index"] == "0"
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "data-web-0"}} in \
        web0["spec"]["volumes"]
    status = cluster.store.get(STATEFULSETS, "default", "web")["status"]
    assert status["readyReplicas"] == 3 and status["currentRevision"] == status["updateRevision"]
    code, out, _ = cluster.nodes.exec("default", "web-0",
                                      ["nslookup", "web-2.web.default.svc.cluster.local"])
    assert code == 0 and pods(cluster)["web-2"]["status"]["podIP"] in out


def test_parallel_starts_all_at_once() -> None:
    cluster = start(web(policy="Parallel"))
    cluster.advance(1)
    assert set(pods(cluster)) == {"web-0", "web-1", "web-2"}


def test_a_replaced_pod_keeps_its_claim_and_files() -> None:
    cluster = start(web(replicas=1))
    cluster.advance(30)
    assert cluster.nodes.exec("default", "web-0",
                              ["sh", "-c", "echo kept > /data/f"])[0] == 0
    uid = pods(cluster)["web-0"]["metadata"]["uid"]
    cluster.api.delete(PODS, "default", "web-0")
    cluster.advance(60)
    assert pods(cluster)["web-0"]["metadata"]["uid"] != uid
    assert cluster.nodes.exec("default", "web-0", ["cat", "/data/f"])[:2] == (0, "kept\n")


def test_scale_in_removes_the_highest_ordinal_and_keeps_claims() -> None:
    cluster = start(web())
    cluster.advance(60)
    cluster.api.patch(STATEFULSETS, "default", "web", {"spec": {"replicas": 1}},
                      "application/merge-patch+json")
    cluster.advance(120)
    assert set(pods(cluster)) == {"web-0"}
    assert creation_order(cluster)[-2:] == ["delete Pod web-2 in StatefulSet web successful",
                                            "delete Pod web-1 in StatefulSet web successful"]
    assert {c["metadata"]["name"] for c in cluster.store.iter(PVCS, "default")} == {
        "data-web-0", "data-web-1", "data-web-2"}


def test_scale_in_with_delete_retention_removes_the_claims() -> None:
    cluster = start(web(persistentVolumeClaimRetentionPolicy={"whenScaled": "Delete",
                                                              "whenDeleted": "Retain"}))
    cluster.advance(60)
    cluster.api.patch(STATEFULSETS, "default", "web", {"spec": {"replicas": 1}},
                      "application/merge-patch+json")
    cluster.advance(180)
    assert {c["metadata"]["name"] for c in cluster.store.iter(PVCS, "default")} == {"data-web-0"}


def test_rolling_update_stops_at_the_partition() -> None:
    cluster = start(web(updateStrategy={"type": "RollingUpdate",
                                        "rollingUpdate": {"partition": 1}}))
    cluster.advance(60)
    cluster.api.patch(STATEFULSETS, "default", "web", {"spec": {"template": {"spec": {
        "containers": [{"name": "nginx", "image": "nginx:1.26"}]}}}},
        "application/strategic-merge-patch+json")
    cluster.advance(240)
    images = {name: p["spec"]["containers"][0]["image"] for name, p in pods(cluster).items()}
    assert images == {"web-0": "nginx:1.25", "web-1": "nginx:1.26", "web-2": "nginx:1.26"}
    status = cluster.store.get(STATEFULSETS, "default", "web")["status"]
    assert status["updatedReplicas"] == 2
    assert status["currentRevision"] != status["updateRevision"]


def test_a_replication_controller_keeps_its_pods() -> None:
    cluster = Cluster(seed=5)
    created = cluster.api.create({
        "apiVersion": "v1", "kind": "ReplicationController",
        "metadata": {"name": "rc", "namespace": "default"},
        "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "rc"}},
                                             "spec": {"containers": [{"name": "c",
                                                                      "image": "nginx:1.25"}]}}}})
    assert created["spec"]["selector"] == {"app": "rc"}
    cluster.advance(30)
    owned = [p for p in pods(cluster).values()
             if p["metadata"]["ownerReferences"][0]["kind"] == "ReplicationController"]
    assert len(owned) == 2
    cluster.api.delete(PODS, "default", owned[0]["metadata"]["name"])
    cluster.advance(30)
    status = cluster.store.get(REPLICATIONCONTROLLERS, "default", "rc")["status"]
    assert status["replicas"] == 2 and status["readyReplicas"] == 2
    assert any(e["source"]["component"] == "replication-controller"
               for e in cluster.store.iter(EVENTS, "default"))
