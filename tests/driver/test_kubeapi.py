from __future__ import annotations

import socket
import time

import pytest
from kube_fakeapi import FakeApi

from kclusterkit.driver.errors import ApiError, ConfigurationError, Unreachable
from kclusterkit.driver.kube import connect, load_client
from kclusterkit.driver.kubeapi import (
    Rest,
    RetryPolicy,
    api_error,
    connection_problem,
    from_api_exception,
    iter_json_lines,
)

FAST = RetryPolicy(attempts=5, max_delay=5.0, sleep=lambda s: None)


@pytest.fixture
def fake(tmp_path):
    api = FakeApi()
    yield api
    api.stop()


def _rest(fake: FakeApi, tmp_path, policy: RetryPolicy = FAST) -> Rest:
    client, name = load_client(str(fake.kubeconfig(tmp_path)))
    return Rest(client, context=name, request_timeout=5.0, policy=policy)


def test_api_error_reads_the_status_body():
    body = (b'{"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \\"x\\" is '
            b'invalid","reason":"Invalid","details":{"causes":[{"field":"spec.containers"}]},'
            b'"code":422}')
    err = api_error(422, "Unprocessable Entity", body)
    assert (err.code, err.reason, err.message) == (422, "Invalid", 'pods "x" is invalid')
    assert err.causes == [{"field": "spec.containers"}]


def test_api_error_without_a_status_body_still_says_what_happened():
    err = api_error(502, "Bad Gateway", b"<html>upstream gone</html>")
    assert (err.code, err.reason) == (502, "Bad Gateway")
    assert err.message == "502 Bad Gateway: <html>upstream gone</html>"


def test_websocket_handshake_failure_becomes_the_servers_status():
    class Exc(Exception):
        status = 0
        reason = ("Handshake status 404 Not Found -+-+- {'content-type': 'application/json'} "
                  "-+-+- b'{\"kind\":\"Status\",\"message\":\"pods \\\\\"web\\\\\" not found\","
                  "\"reason\":\"NotFound\",\"code\":404}'")
        body = None

    err = from_api_exception(Exc())
    assert (err.code, err.reason, err.message) == (404, "NotFound", 'pods "web" not found')


def test_transient_errors_are_retried_until_they_pass(fake, tmp_path):
    rest = _rest(fake, tmp_path)
    fake.fail("/api/v1/namespaces", 503, "ServiceUnavailable", times=2)
    result = rest.call("GET", "/api/v1/namespaces")
    assert result["kind"] == "NamespaceList"
    assert [p for m, p in fake.log if p == "/api/v1/namespaces"] == ["/api/v1/namespaces"] * 3


def test_retries_are_bounded_and_end_with_the_servers_error(fake, tmp_path):
    rest = _rest(fake, tmp_path, RetryPolicy(attempts=3, sleep=lambda s: None))
    fake.fail("/api/v1/namespaces", 429, "TooManyRequests", times=5)
    with pytest.raises(ApiError) as info:
        rest.call("GET", "/api/v1/namespaces")
    assert info.value.code == 429
    assert len([p for m, p in fake.log if p == "/api/v1/namespaces"]) == 3


def test_client_errors_are_not_retried(fake, tmp_path):
    rest = _rest(fake, tmp_path)
    with pytest.raises(ApiError) as info:
        rest.call("GET", "/api/v1/namespaces/missing")
    assert (info.value.code, info.value.reason) == (404, "NotFound")
    assert info.value.message == 'namespaces "missing" not found'
    assert len(fake.log) == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_server_fails_fast_with_one_line(tmp_path):
    port = _closed_port()
    path = tmp_path / "kubeconfig"
    path.write_text(f"""
apiVersion: v1
kind: Config
current-context: kind-kind
clusters: [{{name: c, cluster: {{server: "https://127.0.0.1:{port}"}}}}]
contexts: [{{name: kind-kind, context: {{cluster: c, user: u}}}}]
users: [{{name: u, user: {{token: t}}}}]
""")
    started = time.monotonic()
    with pytest.raises(Unreachable) as info:
        connect(str(path))
    assert time.monotonic() - started < 10
    assert str(info.value) == (f"cannot reach the cluster at https://127.0.0.1:{port} "
                               "(context kind-kind): connection refused")


def test_unknown_context_names_the_known_ones(fake, tmp_path):
    path = fake.kubeconfig(tmp_path, context="kind-kind")
    with pytest.raises(ConfigurationError) as info:
        connect(str(path), context="prod")
    assert str(info.value) == f"context 'prod' not found in kubeconfig {path} (contexts: kind-kind)"


def test_missing_and_malformed_kubeconfigs_say_so(tmp_path):
    with pytest.raises(ConfigurationError, match=r"kubeconfig .*/nope not found"):
        connect(str(tmp_path / "nope"))
    bad = tmp_path / "bad"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ConfigurationError, match="is not a kubeconfig"):
        connect(str(bad))
    broken = tmp_path / "broken"
    broken.write_text("clusters: [\n")
    with pytest.raises(ConfigurationError, match="is not readable YAML"):
        connect(str(broken))


def test_a_server_that_refuses_credentials_is_unreachable_with_the_reason(fake, tmp_path):
    fake.fail("/version", 401, "Unauthorized")
    with pytest.raises(Unreachable, match="refused our credentials: 401 Unauthorized"):
        connect(str(fake.kubeconfig(tmp_path)))


def test_a_token_the_server_refuses_stops_the_connect_even_though_version_answers(fake,
                                                                                  tmp_path):
    fake.fail("/api/v1/namespaces", 401, "Unauthorized")
    with pytest.raises(Unreachable) as caught:
        connect(str(fake.kubeconfig(tmp_path, context="lab")))
    assert str(caught.value) == (f"the cluster at {fake.url} (context lab) refused our "
                                 "credentials: 401 Unauthorized (check the token or "
                                 "certificate of context lab)")


def test_a_user_not_allowed_to_list_namespaces_is_still_authenticated(fake, tmp_path):
    fake.fail("/api/v1/namespaces", 403, "Forbidden")
    connect(str(fake.kubeconfig(tmp_path)))  # 403: the server knows who we are
    fake.fail("/api/v1/namespaces", 403, "Forbidden", message='namespaces is forbidden: '
              'User "system:anonymous" cannot list resource "namespaces" in API group "" at '
              'the cluster scope')
    with pytest.raises(Unreachable, match="took us for system:anonymous"):
        connect(str(fake.kubeconfig(tmp_path)))


def test_connection_problem_prefers_the_os_cause_over_urllib3_wrappers():
    import urllib3

    cause = ConnectionRefusedError(111, "Connection refused")
    wrapped = urllib3.exceptions.NewConnectionError(None, "Failed to establish")
    wrapped.__cause__ = cause
    assert connection_problem(wrapped) == "connection refused"
    assert connection_problem(urllib3.exceptions.ReadTimeoutError(None, "/", "x")) == "timed out"


def test_watch_lines_are_parsed_as_they_arrive():
    class Resp:
        chunks = [b'{"type":"ADDED","object":{"a":1}}\n{"type":"MOD', b'IFIED","object":{}}\n',
                  b""]

        def read1(self, n):
            return self.chunks.pop(0)

    events = list(iter_json_lines(Resp()))
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED"]


def test_an_alias_bomb_kubeconfig_is_refused_before_the_client_reads_it(tmp_path):
    from tests.test_safe_yaml import bomb

    path = tmp_path / "bomb"
    path.write_text("apiVersion: v1\nkind: Config\n" + bomb())
    with pytest.raises(ConfigurationError,
                       match="is not readable YAML: document contains excessive"):
        connect(str(path))
