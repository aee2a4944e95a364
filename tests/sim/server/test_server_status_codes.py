"""Every error Status the served API answers carries ``code`` equal to the HTTP status
(metav1.Status.Code, which clients such as kubectl and client-go read), over a sample
of the server's refusals: routing, decoding, admission, conflicts, apply, auth."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from kclusterkit.sim.server import ServerHandle
from tests.sim.server.test_server_hostile import raw

NS = "/api/v1/namespaces/default"
APPLY = {"Content-Type": "application/apply-patch+yaml"}
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: coded}\ndata: {a: '1'}\n"

SAMPLE: list[tuple[str, str, str, dict[str, Any], int]] = [
    ("unknown path", "GET", "/apis/nope.example/v1/things", {}, 404),
    ("missing object", "GET", f"{NS}/configmaps/absent", {}, 404),
    ("wrong method", "PUT", f"{NS}/configmaps", {"json": {}}, 405),
    ("undecodable body", "POST", f"{NS}/configmaps", {"data": b"{nope"}, 400),
    ("invalid object", "POST", f"{NS}/configmaps",
     {"json": {"metadata": {"name": "Bad_Name"}}}, 422),
    ("unknown patch type", "PATCH", f"{NS}/configmaps/coded",
     {"data": b"{}", "headers": {"Content-Type": "text/plain"}}, 415),
    ("apply without a manager", "PATCH", f"{NS}/configmaps/coded",
     {"data": CM, "headers": APPLY}, 422),
    ("force on a merge patch", "PATCH", f"{NS}/configmaps/coded?force=true",
     {"data": b"{}", "headers": {"Content-Type": "application/merge-patch+json"}}, 422),
    ("a manager name too long", "POST", f"{NS}/configmaps?fieldManager={'m' * 129}",
     {"json": {"metadata": {"name": "long"}}}, 422),
    ("apply conflict", "PATCH", f"{NS}/configmaps/coded?fieldManager=other",
     {"data": CM.replace("'1'", "'2'"), "headers": APPLY}, 409),
    ("already exists", "POST", f"{NS}/configmaps", {"json": {"metadata": {"name": "coded"}}},
     409),
    ("stale update", "PUT", f"{NS}/configmaps/coded",
     {"json": {"metadata": {"name": "coded", "resourceVersion": "1"}}}, 409),
    ("bad selector", "GET", f"{NS}/pods?labelSelector=a%20in", {}, 400),
]


@pytest.fixture(scope="module")
def applied(served: ServerHandle) -> ServerHandle:
    r = raw(served, "PATCH", f"{NS}/configmaps/coded?fieldManager=first", data=CM,
            headers=APPLY)
    assert r.status_code == 201, r.text
    return served


@pytest.mark.parametrize("what,method,path,kwargs,code", SAMPLE, ids=[s[0] for s in SAMPLE])
def test_error_statuses_carry_their_code(applied: ServerHandle, what: str, method: str,
                                         path: str, kwargs: dict[str, Any], code: int) -> None:
    r = raw(applied, method, path, **kwargs)
    assert r.status_code == code, r.text[:300]
    body = r.json()
    assert (body["kind"], body["status"], body["code"]) == ("Status", "Failure", code)


def test_an_unauthenticated_request_carries_401(served: ServerHandle) -> None:
    r = requests.get(served.url + f"{NS}/pods", headers={"Authorization": "Bearer wrong"},
                     verify=str(served.ca_path), timeout=30)
    assert r.status_code == 401 and r.json()["code"] == 401


@pytest.mark.parametrize("managed,code", [
    ([{"operation": "Update", "fieldsV1": {"f:data": 1}}], 200),
    ([{"operation": "Update", "fieldsV1": {"f:data": {"nope": {}}}}], 200),
    ([None], 200),
    ([{"operation": "Apply", "manager": 7}], 400),  # not a ManagedFieldsEntry: the decoder's
    ("not a list", 400),
])
def test_undecodable_managed_fields_in_a_write_keep_the_live_ones(applied: ServerHandle,
                                                                  managed: Any,
                                                                  code: int) -> None:
    live = raw(applied, "GET", f"{NS}/configmaps/coded").json()
    live["metadata"]["managedFields"] = managed
    r = raw(applied, "PUT", f"{NS}/configmaps/coded?fieldManager=editor", json=live)
    assert r.status_code == code, r.text[:300]
    if code == 200:  # decodeLiveOrNew: what cannot be decoded leaves the live entries
        owners = {e["manager"] for e in r.json()["metadata"]["managedFields"]}
        assert "first" in owners
    else:
        assert r.json()["code"] == code
