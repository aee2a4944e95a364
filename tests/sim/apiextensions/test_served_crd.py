"""A CRD's API over HTTP: discovery, CRUD, watch, patch types, subresources, tables."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from kclusterkit.sim.server import ServerHandle, serve_in_thread
from tests.sim.apiextensions.test_crd import CRD

BASE = "/apis/stable.example.com/v1"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    path: Path = tmp_path_factory.mktemp("crd") / "config"
    handle = serve_in_thread(seed=2, speed=50.0, kubeconfig_path=path)
    yield handle
    handle.stop()


def call(served: ServerHandle, method: str, path: str, body: Any = None,
         ctype: str = "application/json", **headers: str) -> requests.Response:
    return requests.request(method, served.url + path, verify=str(served.ca_path), timeout=10,
                            data=None if body is None else json.dumps(body),
                            headers={"Authorization": f"Bearer {served.token}",
                                     "Content-Type": ctype, **headers})


def established(served: ServerHandle) -> None:
    for _ in range(100):
        got = call(served, "GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                   "crontabs.stable.example.com").json()
        if any(c["type"] == "Established" and c["status"] == "True"
               for c in (got.get("status") or {}).get("conditions") or []):
            return
        time.sleep(0.05)
    raise AssertionError("the CRD was not Established")


@pytest.fixture(scope="module")
def crd(served: ServerHandle) -> ServerHandle:
    assert call(served, "GET", BASE).status_code == 404  # nothing served before the CRD
    made = call(served, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                copy.deepcopy(CRD))
    assert made.status_code == 201, made.text
    established(served)
    return served


def test_discovery_lists_the_group_and_the_resource(crd: ServerHandle) -> None:
    groups = call(crd, "GET", "/apis").json()["groups"]
    assert {"name": "stable.example.com",
            "versions": [{"groupVersion": "stable.example.com/v1", "version": "v1"}],
            "preferredVersion": {"groupVersion": "stable.example.com/v1", "version": "v1"}
            } in groups
    assert call(crd, "GET", "/apis/stable.example.com").json()["name"] == "stable.example.com"
    resources = {r["name"]: r for r in call(crd, "GET", BASE).json()["resources"]}
    assert resources["crontabs"] == {
        "name": "crontabs", "singularName": "crontab", "namespaced": True, "kind": "CronTab",
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update",
                  "watch"], "shortNames": ["ct"], "categories": ["all"]}
    assert resources["crontabs/scale"]["kind"] == "Scale"
    assert resources["crontabs/status"]["verbs"] == ["get", "patch", "update"]


def test_crud_watch_and_tables(crd: ServerHandle) -> None:
    path = f"{BASE}/namespaces/default/crontabs"
    body = {"apiVersion": "stable.example.com/v1", "kind": "CronTab",
            "metadata": {"name": "w"}, "spec": {"cronSpec": "* * * * *", "replicas": 1}}
    made = call(crd, "POST", path, body)
    assert made.status_code == 201 and made.json()["spec"]["image"] == "busybox"
    listed = call(crd, "GET", path).json()
    assert listed["kind"] == "CronTabList" and [o["metadata"]["name"]
                                                for o in listed["items"]] == ["w"]
    rv = listed["metadata"]["resourceVersion"]
    merged = call(crd, "PATCH", f"{path}/w", {"spec": {"replicas": 2}},
                  "application/merge-patch+json")
    assert merged.status_code == 200 and merged.json()["spec"]["replicas"] == 2
    jsonpatch = call(crd, "PATCH", f"{path}/w", [{"op": "replace", "path": "/spec/replicas",
                                                  "value": 3}], "application/json-patch+json")
    assert jsonpatch.json()["spec"]["replicas"] == 3
    smp = call(crd, "PATCH", f"{path}/w", {"spec": {"replicas": 4}},
               "application/strategic-merge-patch+json")
    assert smp.status_code == 415 and smp.json()["reason"] == "UnsupportedMediaType"
    watch = requests.get(crd.url + path, params={"watch": "1", "resourceVersion": rv,
                                                 "timeoutSeconds": "1"},
                         headers={"Authorization": f"Bearer {crd.token}"},
                         verify=str(crd.ca_path), timeout=10)
    events = [json.loads(line) for line in watch.text.splitlines() if line]
    assert [(e["type"], e["object"]["spec"]["replicas"]) for e in events] == [
        ("MODIFIED", 2), ("MODIFIED", 3)]
    table = call(crd, "GET", path, Accept="application/json;as=Table;v=v1;g=meta.k8s.io").json()
    # No additionalPrinterColumns: Name and the default Age column.
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Age"]
    assert table["rows"][0]["cells"][0] == "w"
    bad = call(crd, "POST", path, {**body, "metadata": {"name": "v"},
                                   "spec": {"replicas": -1}})
    assert bad.status_code == 422
    assert bad.json()["details"]["causes"][0] == {
        "reason": "FieldValueInvalid", "field": "spec.replicas",
        "message": "Invalid value: -1: spec.replicas in body should be greater than or equal "
                   "to 0"}
    assert call(crd, "DELETE", f"{path}/w").status_code == 200


def test_apiservices_are_served_as_a_table(crd: ServerHandle) -> None:
    table = call(crd, "GET", "/apis/apiregistration.k8s.io/v1/apiservices",
                 Accept="application/json;as=Table;v=v1;g=meta.k8s.io").json()
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Service", "Available",
                                                                "Age"]
    rows = {r["cells"][0]: r["cells"][1:3] for r in table["rows"]}
    assert rows["v1.stable.example.com"] == ["Local", "True"]


def test_pruned_fields_are_reported_as_fieldvalidation_asks(crd: ServerHandle) -> None:
    path = f"{BASE}/namespaces/default/crontabs"
    body = {"apiVersion": "stable.example.com/v1", "kind": "CronTab",
            "metadata": {"name": "p"}, "spec": {"cronSpec": "*", "colour": "blue"}}
    warned = call(crd, "POST", path, body)
    assert warned.status_code == 201
    assert warned.headers["Warning"] == '299 - "unknown field \\"spec.colour\\""'
    assert "colour" not in warned.json()["spec"]
    strict = call(crd, "POST", path + "?fieldValidation=Strict",
                  {**body, "metadata": {"name": "q"}})
    assert (strict.status_code, strict.json()["message"]) == (
        400, 'strict decoding error: unknown field "spec.colour"')
