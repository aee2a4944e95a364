"""pods/exec over the websocket channel protocol and pods/log, via kubernetes.stream."""

from __future__ import annotations

import pytest
import requests
from kubernetes import client
from kubernetes.client import ApiException
from kubernetes.stream import stream

from kclusterkit.sim.server import ServerHandle


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


def _log(served: ServerHandle, **params: object) -> requests.Response:
    # The Python client offers no sinceTime, so these go as kubectl sends them.
    return requests.get(served.url + "/api/v1/namespaces/default/pods/shell/log",
                        params={"container": "side", **params},
                        headers={"Authorization": f"Bearer {served.token}"},
                        verify=str(served.ca_path), timeout=10)


def test_logs_with_timestamps_and_since(served: ServerHandle, pod: str) -> None:
    # Upstream kubelet format: RFC3339NanoFixed, a space, the line.
    assert _log(served, tailLines=2, timestamps="true").text == (
        "2026-01-01T00:00:04.500000000Z side line 4\n"
        "2026-01-01T00:00:05.500000000Z side line 5\n")
    assert _log(served, sinceTime="2026-01-01T00:00:03Z").text == (
        "side line 3\nside line 4\nside line 5\n")
    # tailLines picks the last lines first, then sinceTime drops the older of them.
    assert _log(served, tailLines=4, sinceTime="2026-01-01T00:00:03Z").text == (
        "side line 3\nside line 4\nside line 5\n")
    assert _log(served, sinceSeconds=60, limitBytes=12).text == "side line 1\n"
    both = _log(served, sinceSeconds=5, sinceTime="2026-01-01T00:00:03Z")
    assert both.status_code == 422 and "at most one of `sinceTime`" in both.json()["message"]
    zero = _log(served, sinceSeconds=0)
    assert zero.status_code == 422
    assert "sinceSeconds: Invalid value: 0: must be greater than 0" in zero.json()["message"]
    bad = _log(served, sinceTime="yesterday")
    assert bad.status_code == 400 and "sinceTime" in bad.json()["message"]
