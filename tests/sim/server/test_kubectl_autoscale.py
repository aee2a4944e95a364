"""``kubectl autoscale`` against a served simulator: it posts autoscaling/v1 (protobuf).

The server serves HorizontalPodAutoscalers in autoscaling/v2 (stored, preferred) and
autoscaling/v1 (converted as upstream's pkg/apis/autoscaling/v1/conversion.go does).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kclusterkit.sim.server import ServerHandle
from tests.sim.server.kubectl import Kube, served_for_kubectl
from tests.sim.server.kubectl import kubectl as run_kubectl

WEB = (Path(__file__).resolve().parents[3] / "examples" / "web.yaml").read_text()
V1 = "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers"


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kube]:
    yield from served_for_kubectl(tmp_path_factory, "kubectl-autoscale", speed=20.0,
                                  files={"web.yaml": WEB})


def kubectl(kube: Kube, *args: str) -> str:
    return run_kubectl(kube, *args, stderr=False, timeout=60)


def _raw(served: ServerHandle, method: str, path: str, **kwargs: object) -> requests.Response:
    return requests.request(method, served.url + path,
                            headers={"Authorization": f"Bearer {served.token}"},
                            verify=str(served.ca_path), timeout=10, **kwargs)  # type: ignore[arg-type]


def test_kubectl_autoscale_then_get_hpa(kube: Kube) -> None:
    handle, _ = kube
    kubectl(kube, "apply", "-f", "web.yaml")
    out = kubectl(kube, "autoscale", "deployment", "web", "--min=2", "--max=5",
                  "--cpu-percent=50")
    assert out.strip() == "horizontalpodautoscaler.autoscaling/web autoscaled"
    table = kubectl(kube, "get", "hpa").splitlines()
    assert table[0].split() == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS",
                                "REPLICAS", "AGE"]
    assert table[1].split()[:6] == ["web", "Deployment/web", "cpu:", "<unknown>/50%", "2", "5"]
    stored = json.loads(kubectl(kube, "get", "hpa", "web", "-o", "json"))
    assert stored["apiVersion"] == "autoscaling/v2"
    assert stored["spec"]["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]
    assert "generateName" not in stored["metadata"]  # protobuf's empty strings are omitted
    v1 = _raw(handle, "GET", f"{V1}/web").json()
    assert v1["apiVersion"] == "autoscaling/v1"
    assert v1["spec"] == {"scaleTargetRef": {"kind": "Deployment", "name": "web",
                                             "apiVersion": "apps/v1"},
                          "minReplicas": 2, "maxReplicas": 5,
                          "targetCPUUtilizationPercentage": 50}


def test_v1_is_discovered_listed_watched_and_written(kube: Kube) -> None:
    handle, _ = kube
    group = _raw(handle, "GET", "/apis/autoscaling").json()
    assert [v["version"] for v in group["versions"]] == ["v2", "v1"]
    assert group["preferredVersion"]["version"] == "v2"
    names = [r["name"] for r in _raw(handle, "GET", "/apis/autoscaling/v1").json()["resources"]]
    assert names == ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]
    body = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "v1-made"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                        "name": "web"},
                     "minReplicas": 1, "maxReplicas": 3}}
    created = _raw(handle, "POST", V1, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["apiVersion"] == "autoscaling/v1"
    # no target in v1: the stored v2 object has upstream's implicit CPU at 80%
    v2 = _raw(handle, "GET", "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/"
                             "v1-made").json()
    assert v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 80
    listed = _raw(handle, "GET", V1).json()
    assert listed["kind"] == "HorizontalPodAutoscalerList"
    assert {i["apiVersion"] for i in listed["items"]} == {"autoscaling/v1"}
    watched = _raw(handle, "GET", V1 + "?watch=true&timeoutSeconds=1", stream=True)
    events = [json.loads(line) for line in watched.iter_lines() if line]
    assert {e["object"]["apiVersion"] for e in events} == {"autoscaling/v1"}
    assert {e["object"]["metadata"]["name"] for e in events} >= {"web", "v1-made"}
    wrong = _raw(handle, "POST", V1, json={**body, "apiVersion": "autoscaling/v2"})
    assert wrong.status_code == 400
    assert _raw(handle, "DELETE", f"{V1}/v1-made").status_code == 200
