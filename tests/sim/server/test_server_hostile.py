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
