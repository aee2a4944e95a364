"""Hostile and careless input to the served API: upstream's 4xx Status, never a 500 or a
stall (issue 14)."""

from __future__ import annotations

from typing import Any

import requests

from kclusterkit.sim.server import ServerHandle
from tests.test_safe_yaml import bomb


def raw(served: ServerHandle, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {served.token}", **kwargs.pop("headers", {})}
    return requests.request(method, served.url + path, headers=headers,
                            verify=str(served.ca_path), timeout=30, **kwargs)


def test_an_alias_bomb_in_an_apply_body_is_refused(served: ServerHandle) -> None:
    body = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n" + "".join(
        "  " + line + "\n" for line in bomb().splitlines())
    r = raw(served, "PATCH", "/api/v1/namespaces/default/configmaps/lol?fieldManager=x"
            "&dryRun=All", data=body, headers={"Content-Type": "application/apply-patch+yaml"})
    assert r.status_code == 400, r.text[:300]
    assert r.json()["reason"] == "BadRequest"
    assert "excessive aliasing" in r.json()["message"]
    assert len(r.content) < 2000


NS = "/api/v1/namespaces/default"


def status(r: requests.Response, code: int) -> dict[str, Any]:
    assert r.status_code == code, r.text[:300]
    body = r.json()
    assert body["kind"] == "Status" and body["code"] == code
    return body


def test_a_continue_token_whose_start_is_not_a_string_is_a_400(served: ServerHandle) -> None:
    import base64
    import json

    token = base64.urlsafe_b64encode(json.dumps(
        {"v": "meta.k8s.io/v1", "rv": 1, "start": 5}).encode()).decode()
    body = status(raw(served, "GET", f"{NS}/configmaps?limit=1&continue={token}"), 400)
    assert body["message"].startswith("continue key is not valid")


def test_deep_json_and_yaml_are_400s(served: ServerHandle) -> None:
    deep_json = "[" * 100_000 + "]" * 100_000
    body = status(raw(served, "POST", f"{NS}/configmaps", data=deep_json,
                      headers={"Content-Type": "application/json"}), 400)
    assert "exceeded max depth" in body["message"]
    shallow_enough_for_python = '{"a":' * 500 + "1" + "}" * 500
    body = status(raw(served, "POST", f"{NS}/configmaps", data=shallow_enough_for_python,
                      headers={"Content-Type": "application/json"}), 400)
    assert "exceeded max depth" in body["message"]
    body = status(raw(served, "POST", f"{NS}/configmaps", data="[" * 20_000 + "]" * 20_000,
                      headers={"Content-Type": "application/yaml"}), 400)
    assert "exceeded max depth" in body["message"]


def test_watch_parameters_are_checked_before_the_stream_starts(served: ServerHandle) -> None:
    body = status(raw(served, "GET", f"{NS}/configmaps?watch=1&timeoutSeconds=abc"), 400)
    assert "timeoutSeconds" in body["message"]
    status(raw(served, "GET", f"{NS}/configmaps?watch=1&resourceVersion=abc"), 400)
    status(raw(served, "GET", f"{NS}/configmaps?watch=1&fieldSelector=spec.foo%3Dbar"), 400)


def test_selectors_upstream_refuses_are_400s(served: ServerHandle) -> None:
    body = status(raw(served, "GET", f"{NS}/pods?labelSelector=a%3D%3D%3Db"), 400)
    assert body["message"] == "unable to parse requirement: found '=', expected: identifier"
    body = status(raw(served, "GET", f"{NS}/pods?fieldSelector=%3D%3D"), 400)
    assert body["message"] == "field label not supported: "
    body = status(raw(served, "GET", f"{NS}/pods?fieldSelector=spec.foo%3Dbar"), 400)
    assert body["message"] == "field label not supported: spec.foo"
    body = status(raw(served, "GET", f"{NS}/configmaps?fieldSelector=data.a%3Db"), 400)
    assert body["message"] == ('"data.a" is not a known field selector: only "metadata.name", '
                               '"metadata.namespace"')
    ok = raw(served, "GET", f"{NS}/pods?fieldSelector=spec.host%3Dnode-1,status.phase!%3DX")
    assert ok.status_code == 200, ok.text


def test_apply_may_not_rename_and_put_needs_a_numeric_resource_version(
        served: ServerHandle) -> None:
    apply = {"Content-Type": "application/apply-patch+yaml"}
    body = status(raw(served, "PATCH", f"{NS}/configmaps/a?fieldManager=x", headers=apply,
                      data="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"), 400)
    assert body["message"] == "the name of the object (b) does not match the name on the URL (a)"
    created = raw(served, "POST", f"{NS}/configmaps", json={"metadata": {"name": "rv"}})
    assert created.status_code == 201
    obj = created.json()
    obj["metadata"]["resourceVersion"] = "abc"
    body = status(raw(served, "PUT", f"{NS}/configmaps/rv", json=obj), 400)
    assert body["message"] == ('resourceVersion: Invalid value: "abc": strconv.ParseUint: '
                               'parsing "abc": invalid syntax')


def test_a_watch_from_a_future_version_sends_nothing_at_or_before_it(
        served: ServerHandle) -> None:
    import json
    import threading

    first = raw(served, "POST", f"{NS}/configmaps", json={"metadata": {"name": "w0"}})
    floor = int(first.json()["metadata"]["resourceVersion"]) + 2

    def writes() -> None:
        for i in range(1, 5):
            raw(served, "POST", f"{NS}/configmaps", json={"metadata": {"name": f"w{i}"}})

    r = raw(served, "GET", f"{NS}/configmaps?watch=1&resourceVersion={floor}&timeoutSeconds=2",
            stream=True)
    assert r.status_code == 200
    threading.Timer(0.3, writes).start()
    versions = [int(json.loads(line)["object"]["metadata"]["resourceVersion"])
                for line in r.iter_lines() if line]
    assert versions and min(versions) > floor, versions


def test_405_and_413_are_status_objects(served: ServerHandle) -> None:
    r = raw(served, "POST", f"{NS}/configmaps/x", json={})
    status(r, 405)
    assert r.headers["Allow"] == "GET, PUT, PATCH, DELETE"
    r = raw(served, "PUT", f"{NS}/configmaps", json={})
    status(r, 405)
    assert r.headers["Allow"] == "GET, POST, DELETE"
    big = {"metadata": {"name": "big"}, "data": {"a": "x" * (3 * 2**20)}}
    body = status(raw(served, "POST", f"{NS}/configmaps", json=big), 413)
    assert body["reason"] == "RequestEntityTooLarge"
    assert body["message"] == "Request entity too large: limit is 3145728"


def test_a_numeric_name_is_refused_and_lists_keep_working(served: ServerHandle) -> None:
    body = status(raw(served, "POST", f"{NS}/configmaps", json={"metadata": {"name": 5}}), 400)
    assert body["message"].endswith("json: cannot unmarshal number into Go struct field "
                                    "ObjectMeta.metadata.name of type string")
    assert raw(served, "GET", "/api/v1/configmaps").status_code == 200
    body = status(raw(served, "POST", f"{NS}/pods", json={
        "metadata": {"name": "p"}, "spec": {"containers": ["nginx"]}}), 400)
    assert "PodSpec.spec.containers of type v1.Container" in body["message"]
    deployment = {"metadata": {"name": "d"}, "spec": {
        "selector": {"matchLabels": {"app": "d"}}, "template": {
            "metadata": {"labels": {"app": "d"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    created = raw(served, "POST", "/apis/apps/v1/namespaces/default/deployments", json=deployment)
    assert created.status_code == 201, created.text
    body = status(raw(served, "PUT", "/apis/apps/v1/namespaces/default/deployments/d/scale",
                      json={"metadata": {"name": "d"}, "spec": {"replicas": 10**12}}), 400)
    assert body["message"].startswith("Scale in version")


def test_an_unknown_field_named_with_control_characters_still_gets_an_answer(
        served: ServerHandle) -> None:
    # Found by schemathesis: the Warning header echoed the field name and the server
    # dropped the connection instead of answering.
    r = raw(served, "POST", f"{NS}/configmaps",
            json={"metadata": {"name": "warned"}, "bad\nfield\x00": 1})
    assert r.status_code == 201, r.text
    assert r.headers["Warning"] == '299 - "unknown field \\"bad field \\""'
