"""What the kubelet answers about running containers: HTTP they serve, exec, logs."""

from __future__ import annotations

import pytest

from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.resources import PODS


def running_cluster(*pods: dict) -> Cluster:
    cluster = Cluster(ClusterSpec(worker_nodes=1), seed=3)
    for pod in pods:
        cluster.api.create(pod)
    cluster.advance(5)
    return cluster


def pod(name: str, image: str, **container: object) -> dict:
    spec = container.pop("spec", {})
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": image, **container}], **spec}}


def test_nginx_serves_its_welcome_page_and_logs_requests() -> None:
    cluster = running_cluster(pod("web", "nginx:1.25"))
    nodes = cluster.nodes
    status, body = nodes.http_get("default", "web", 80, "/")
    assert status == 200 and "<title>Welcome to nginx!</title>" in body
    assert len(body) == 615
    status, body = nodes.http_get("default", "web", 80, "/missing")
    assert status == 404 and "nginx/1.25.5" in body
    assert nodes.http_get("default", "web", 8080, "/") is None  # nothing listens
    log = nodes.logs("default", "web").splitlines()
    assert log[-2].endswith('"GET / HTTP/1.1" 200 615 "-" "curl/8.5.0" "-"')
    assert '"GET /missing HTTP/1.1" 404' in log[-1]


def test_agnhost_netexec_answers_hostname_and_echo() -> None:
    cluster = running_cluster(pod("echo", "registry.k8s.io/e2e-test-images/agnhost:2.53",
                                  args=["netexec", "--http-port=8080"]),
                              pod("hello", "httpd:2.4"))
    nodes = cluster.nodes
    assert nodes.http_get("default", "echo", 8080, "/hostname") == (200, "echo")
    assert nodes.http_get("default", "echo", 8080, "/echo?msg=hi%20there") == (200, "hi there")
    status, body = nodes.http_get("default", "echo", 8080, "/")
    assert status == 200 and body.startswith("NOW: 2026-01-01 00:00:05")
    assert nodes.http_get("default", "hello", 80, "/") == (200, HTTPD)
    assert nodes.http_get("default", "echo", 80, "/") is None


HTTPD = "<html><body><h1>It works!</h1></body></html>\n"


def test_a_container_that_is_not_running_refuses_connections() -> None:
    cluster = running_cluster(pod("gone", "nginx:0.0-missing"))
    assert cluster.nodes.http_get("default", "gone", 80, "/") is None


def test_exec_runs_a_busybox_shell_with_files_and_environment() -> None:
    cluster = running_cluster(pod("box", "busybox:1.36", command=["sleep", "3600"],
                                  env=[{"name": "GREETING", "value": "hello"},
                                       {"name": "ME", "valueFrom": {"fieldRef": {
                                           "fieldPath": "metadata.name"}}}]))
    nodes = cluster.nodes
    code, out, err = nodes.exec("default", "box", [
        "sh", "-c", "echo $GREETING > /tmp/f && cat /tmp/f; echo $ME; hostname; "
        "mkdir -p /data/x && ls /data; nope"])
    assert (code, out, err) == (127, "hello\nbox\nbox\nx\n", "sh: nope: not found\n")
    # Files written by one exec are there for the next (same container, same run).
    assert nodes.exec("default", "box", "c", ["cat", "/tmp/f"]) == (0, "hello\n", "")
    code, _, err = nodes.exec("default", "box", ["frobnicate"])
    assert code == 126 and 'exec: "frobnicate": executable file not found' in err
    env = nodes.exec("default", "box", ["env"])[1]
    assert "KUBERNETES_SERVICE_HOST=10.96.0.1" in env and "GREETING=hello" in env


def test_exec_is_refused_in_a_container_that_is_not_running() -> None:
    cluster = running_cluster(pod("pulling", "nginx:0.0-missing"))
    with pytest.raises(Exception, match="container not found"):
        cluster.nodes.exec("default", "pulling", ["true"])


def test_pods_reach_each_other_with_wget_and_nslookup() -> None:
    cluster = running_cluster(pod("web", "nginx:1.25"),
                              pod("client", "busybox:1.36", command=["sleep", "3600"]))
    cluster.api.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                        "spec": {"selector": {"run": "none"}, "ports": [{"port": 80}]}})
    cluster.advance(1)
    nodes = cluster.nodes
    web_ip = cluster.store.get(PODS, "default", "web")["status"]["podIP"]
    code, out, _ = nodes.exec("default", "client", ["wget", "-qO-", f"http://{web_ip}/"])
    assert code == 0 and "Welcome to nginx!" in out
    code, out, _ = nodes.exec("default", "client", ["nslookup", "web"])
    assert code == 0 and "Name:\tweb.default.svc.cluster.local" in out
    code, _, err = nodes.exec("default", "client", ["nslookup", "nosuchservice"])
    assert code == 1 and "NXDOMAIN" in err


def test_a_claims_files_outlive_the_pod() -> None:
    volume = {"name": "data", "persistentVolumeClaim": {"claimName": "data"}}
    mount = [{"name": "data", "mountPath": "/var/lib/mysql"}]
    first = pod("db", "busybox:1.36", command=["sleep", "3600"], volumeMounts=mount,
                spec={"volumes": [volume]})
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
             "spec": {"accessModes": ["ReadWriteOnce"],
                      "resources": {"requests": {"storage": "1Gi"}}}}
    cluster = running_cluster(claim, first)
    nodes = cluster.nodes
    assert nodes.exec("default", "db", ["sh", "-c", "echo hello > /var/lib/mysql/probe.txt; "
                                        "echo tmp > /tmp/t"])[0] == 0
    cluster.api.delete(PODS, "default", "db", grace_period=0)
    cluster.advance(1)
    cluster.api.create(pod("db2", "busybox:1.36", command=["sleep", "3600"],
                           volumeMounts=mount, spec={"volumes": [volume]}))
    cluster.advance(5)
    assert nodes.exec("default", "db2", ["cat", "/var/lib/mysql/probe.txt"]) == \
        (0, "hello\n", "")
    assert nodes.exec("default", "db2", ["cat", "/tmp/t"])[0] == 1


def test_logs_of_the_current_and_previous_run() -> None:
    cluster = running_cluster(pod("chatty", "busybox:1.36",
                                  command=["sh", "-c", "echo starting; sleep 2; echo done"]))
    nodes = cluster.nodes
    assert nodes.logs("default", "chatty") == "starting\ndone\n"
    cluster.advance(4)
    assert nodes.logs("default", "chatty", previous=True) == "starting\ndone\n"
    with pytest.raises(Exception, match="previous terminated container"):
        running_cluster(pod("x", "nginx:1.25")).nodes.logs(
            "default", "x", previous=True)


def test_kill_1_stops_a_server_but_a_shell_ignores_sigterm() -> None:
    cluster = running_cluster(pod("web", "nginx:1.25"),
                              pod("box", "busybox:1.36", command=["sleep", "3600"]))
    nodes = cluster.nodes
    nodes.exec("default", "web", ["kill", "1"])
    nodes.exec("default", "box", ["kill", "1"])
    cluster.advance(2)

    def restarts(name: str) -> int:
        return cluster.store.get(PODS, "default", name)["status"]["containerStatuses"][0][
            "restartCount"]

    assert restarts("web") == 1
    assert restarts("box") == 0


def test_netexec_exit_endpoint_ends_the_container() -> None:
    cluster = running_cluster(pod("echo", "agnhost:2.53", args=["netexec"]))
    nodes = cluster.nodes
    assert nodes.http_get("default", "echo", 8080, "/exit?code=3") == (200, "")
    cluster.advance(0.1)
    cs = cluster.store.get(PODS, "default", "echo")["status"]["containerStatuses"][0]
    assert cs["state"]["terminated"]["exitCode"] == 3


def test_a_pod_of_an_invented_nginx_tag_never_runs_but_an_unknown_image_does() -> None:
    cluster = running_cluster(pod("bad", "nginx:does-not-exist"), pod("app", "myorg/app:7"))
    bad = cluster.store.must_get(PODS, "default", "bad")["status"]["containerStatuses"][0]
    assert bad["state"]["waiting"]["reason"] in ("ErrImagePull", "ImagePullBackOff")
    assert "docker.io/library/nginx:does-not-exist: not found" in \
        bad["state"]["waiting"]["message"]
    app = cluster.store.must_get(PODS, "default", "app")["status"]["containerStatuses"][0]
    assert "running" in app["state"]
