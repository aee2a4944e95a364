"""Images: the registry's answers and what each image's main process does."""

from __future__ import annotations

import pytest

from kclusterkit.sim import images
from kclusterkit.sim.resources import PODS


@pytest.mark.parametrize(("image", "normalized"), [
    ("nginx:1.25", "docker.io/library/nginx:1.25"),
    ("nginx", "docker.io/library/nginx:latest"),
    ("myorg/app:2", "docker.io/myorg/app:2"),
    ("registry.k8s.io/e2e-test-images/agnhost:2.53",
     "registry.k8s.io/e2e-test-images/agnhost:2.53"),
    ("localhost:5000/app:dev", "localhost:5000/app:dev"),
])
def test_references_are_normalized_like_containerd(image: str, normalized: str) -> None:
    assert images.parse_image(image).normalized == normalized


def test_missing_tags_and_configured_missing_images_do_not_exist() -> None:
    assert images.image_exists("nginx:1.25")
    assert images.image_exists("anything/else:3.1")
    assert not images.image_exists("nginx:0.0-missing")
    assert not images.image_exists("nginx:DoesNotExist")
    assert not images.image_exists("busybox:nonexistent-1")
    assert not images.image_exists("myorg/app:1", ("docker.io/myorg/app:1",))
    assert images.image_exists("myorg/app:2", ("myorg/app:1",))


@pytest.mark.parametrize("image", [
    "nginx", "nginx:1", "nginx:1.7.9", "nginx:1.14.2", "nginx:1.25", "nginx:1.29.1",
    "nginx:stable", "nginx:mainline", "nginx:alpine", "nginx:perl", "nginx:stable-alpine",
    "nginx:1.25-alpine", "nginx:1.27.3-bookworm-perl", "nginx:1.25-alpine-slim",
    "nginx:alpine3.20-perl", "docker.io/library/nginx:1.26",
    "busybox", "busybox:1.28", "busybox:1.36.1", "busybox:1.36-musl", "busybox:stable-glibc",
    "busybox:uclibc",
    "agnhost:2.53", "registry.k8s.io/e2e-test-images/agnhost:2.21",
    "registry.k8s.io/pause:3.10", "mysql:8.0", "mysql:8.0.39-oracle", "mysql:5.7",
    "mysql:8.4", "mysql:9.1", "mysql:lts", "redis:7", "redis:7.2.5-alpine", "postgres:16",
    "postgres:16.4-bookworm", "postgres:9.6", "httpd:2.4", "httpd:2.4.62-alpine",
    "alpine:3.20", "mariadb:11.4",
    "nginx@sha256:" + "0123456789abcdef" * 4,
])
def test_real_looking_tags_of_modelled_images_pull(image: str) -> None:
    assert images.known_image(image)
    assert images.image_exists(image)


@pytest.mark.parametrize("image", [
    "nginx:does-not-exist", "nginx:0.0-missing", "nginx:99.99", "nginx:2", "nginx:1.25.99",
    "nginx:1.25-foo", "nginx:latest-alpine", "busybox:9.9", "busybox:1.36-alpine",
    "agnhost:2.999", "agnhost:latest", "registry.k8s.io/e2e-test-images/agnhost:3.0",
    "registry.k8s.io/pause:9.9", "mysql:7.0", "redis:99", "postgres:99", "httpd:3.0",
    "nginx@sha256:abc",
])
def test_invented_tags_of_modelled_images_do_not_pull(image: str) -> None:
    assert not images.image_exists(image)


def test_unknown_repositories_serve_any_tag_but_a_missing_one() -> None:
    for image in ("myorg/app:whatever", "quay.io/team/nginx:99.99",
                  "registry.k8s.io/e2e-test-images/nginx:1.14-4", "localhost:5000/busybox:9.9"):
        assert not images.known_image(image)
        assert images.image_exists(image)
    assert not images.image_exists("myorg/app:v1-doesnotexist")


def test_a_missing_tag_fails_with_containerds_not_found() -> None:
    full = "docker.io/library/nginx:does-not-exist"
    assert images.pull_error("nginx:does-not-exist") == (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{full}": '
        f'failed to resolve reference "{full}": {full}: not found')


def test_image_ids_are_stable_digests() -> None:
    assert images.image_id("nginx:1.25") == images.image_id("docker.io/library/nginx:1.25")
    assert images.image_id("nginx:1.25") != images.image_id("nginx:1.24")


@pytest.mark.parametrize(("container", "runs_for", "exit_code"), [
    ({"image": "nginx:1.25"}, None, 0),
    ({"image": "busybox:1.36"}, 0.0, 0),  # sh with no terminal exits at once
    ({"image": "agnhost:2.53", "args": ["netexec", "--http-port=8080"]}, None, 0),
    ({"image": "mysql:8.0"}, 0.5, 1),
    ({"image": "mysql:8.0", "env": [{"name": "MYSQL_ROOT_PASSWORD", "value": "x"}]}, None, 0),
    ({"image": "myorg/service:1.0"}, None, 0),
])
def test_plans(container: dict, runs_for: float | None, exit_code: int) -> None:
    plan = images.plan_for(container)
    assert plan.start_error is None and plan.script is None
    assert plan.runs_for == runs_for
    assert plan.exit_code == exit_code


@pytest.mark.parametrize(("container", "script"), [
    ({"image": "busybox:1.36", "command": ["sh", "-c", "sleep 7; exit 2"]}, "sleep 7; exit 2"),
    ({"image": "busybox:1.36", "args": ["sleep", "30"]}, "sleep 30"),
    ({"image": "busybox:1.36", "command": ["false"]}, "false"),
    ({"image": "busybox:1.36", "command": ["/bin/sh", "-c", "echo 'a b'"]}, "echo 'a b'"),
    ({"image": "busybox:1.36", "command": ["echo", "a b"]}, "echo 'a b'"),
])
def test_a_script_or_applet_runs_as_a_live_process(container: dict, script: str) -> None:
    # The kubelet runs it on the cluster clock; the plan only carries it.
    plan = images.plan_for(container)
    assert plan.script == script and plan.runs_for is None and plan.start_error is None


def test_shell_processes_ignore_sigterm_and_servers_stop_at_once() -> None:
    assert images.plan_for({"image": "busybox", "command": ["sleep", "3600"]}).stop_seconds \
        is None
    nginx = images.plan_for({"image": "nginx:1.25"})
    assert nginx.stop_seconds == 0 and nginx.stop_exit_code == 0


def test_a_command_that_is_no_executable_cannot_start() -> None:
    plan = images.plan_for({"image": "busybox:1.36", "command": ["exit", "1"]})
    assert plan.start_error is not None
    assert 'exec: "exit": executable file not found in $PATH' in plan.start_error


# -- inside running pods: HTTP, exec, logs ------------------------------------------------

from kclusterkit.sim.cluster import Cluster, ClusterSpec  # noqa: E402


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
    cluster = running_cluster(first)
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
