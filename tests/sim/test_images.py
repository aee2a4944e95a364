"""Images: the registry's answers and what each image's main process does."""

from __future__ import annotations

import pytest

from kclusterkit.sim import images


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
