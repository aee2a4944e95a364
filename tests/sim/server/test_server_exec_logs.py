"""pods/exec over the websocket channel protocol and pods/log, via kubernetes.stream."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client import ApiException
from kubernetes.stream import stream


@pytest.fixture(scope="module")
def pod(api_client: client.ApiClient) -> str:
    client.CoreV1Api(api_client).create_namespaced_pod("default", {
        "metadata": {"name": "shell"},
        "spec": {"containers": [{"name": "main", "image": "busybox"},
                                {"name": "side", "image": "busybox"}]}})
    return "shell"


def test_exec_output_and_exit_codes(api_client: client.ApiClient, pod: str) -> None:
    core = client.CoreV1Api(api_client)
    out = stream(core.connect_get_namespaced_pod_exec, pod, "default", command=["hostname"],
                 container="main", stderr=True, stdin=False, stdout=True, tty=False)
    assert out == "shell\n"
    resp = stream(core.connect_get_namespaced_pod_exec, pod, "default",
                  command=["sh", "-c", "exit 3"], container="main", stderr=True, stdin=False,
                  stdout=True, tty=False, _preload_content=False)
    resp.run_forever(timeout=5)
    assert resp.returncode == 3
    assert resp.read_stderr() == "bye\n"


def test_exec_needs_a_container_when_several(api_client: client.ApiClient, pod: str) -> None:
    core = client.CoreV1Api(api_client)
    with pytest.raises(ApiException) as err:
        stream(core.connect_get_namespaced_pod_exec, pod, "default", command=["hostname"],
               stderr=True, stdin=False, stdout=True, tty=False)
    # The websocket client reports a refused handshake with its HTTP status in the text.
    assert "400" in str(err.value)


def test_logs(api_client: client.ApiClient, pod: str) -> None:
    core = client.CoreV1Api(api_client)
    assert core.read_namespaced_pod_log(pod, "default", container="side",
                                        tail_lines=2) == "side line 4\nside line 5\n"
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod_log(pod, "default", container="side", previous=True)
    assert err.value.status == 400
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_pod_log(pod, "default", container="nope")
    assert missing.value.status == 400
