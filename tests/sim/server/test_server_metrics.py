"""metrics.k8s.io and the HPA through the served simulator, read by the real kubectl:
``kubectl top pods/nodes`` and ``kubectl get hpa`` print figures that move under load."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest

from tests.sim.server.kubectl import Kube, kubectl, served_for_kubectl

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  annotations: {kclusterkit.io/request-cpu: 20m, kclusterkit.io/request-duration: 1s}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: [netexec]
        resources: {requests: {cpu: 100m}}
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec:
  selector: {app: api}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 2
  maxReplicas: 10
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
---
apiVersion: v1
kind: Pod
metadata: {name: load}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: load
    image: busybox:1.36
    command: [sh, -c, "while true; do wget -qO- -T 2 http://api/; sleep 0.1; done"]
"""


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kube]:
    yield from served_for_kubectl(tmp_path_factory, "kubectl-top", speed=50.0,
                                  files={"app.yaml": APP})


def until(kube: Kube, check: object, *args: str, wall: float = 30) -> str:
    deadline = time.monotonic() + wall
    out = ""
    while time.monotonic() < deadline:
        out = kubectl(kube, *args, ok=None)
        if check(out):  # type: ignore[operator]
            return out
        time.sleep(0.3)
    raise AssertionError(f"kubectl {' '.join(args)} never matched; last:\n{out}")


def test_top_and_hpa_move_under_load(kube: Kube) -> None:
    groups = json.loads(kubectl(kube, "get", "--raw", "/apis"))
    assert "metrics.k8s.io" in [g["name"] for g in groups["groups"]]
    kubectl(kube, "apply", "-f", "app.yaml")
    hpa = kubectl(kube, "get", "hpa", "api")
    assert hpa.split()[:7] == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS",
                               "REPLICAS", "AGE"]
    assert "Deployment/api" in hpa and "cpu: <unknown>/50%" in hpa
    nodes = until(kube, lambda o: "worker-1" in o and "%" in o, "top", "nodes")
    assert nodes.split()[:5] == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    pods = until(kube, lambda o: o.count("api-") == 2, "top", "pods", "-l", "app=api")
    assert pods.split()[:3] == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    # The figure appears (the first one is above the target, but at speed 50 on a busy
    # machine the autoscaler may have acted on it before kubectl looks; the scale-out below
    # is what shows it was)
    busy = until(kube, lambda o: re.search(r"cpu: \d+%/50%", o) is not None,
                 "get", "hpa", "api")
    assert "Deployment/api" in busy
    # 200m of work over pods of 100m at a 50% target: at least 4 (the wall clock's timing
    # of the load against the pods' start decides whether a capped first proposal of 5 wins)
    until(kube, lambda o: o.split()[-2:-1] and o.split()[-2].isdigit()
          and int(o.split()[-2]) >= 4, "get", "hpa", "api", "--no-headers")
    raw = json.loads(kubectl(kube, "get", "--raw",
                             "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/load"))
    assert raw["kind"] == "PodMetrics" and raw["window"] == "15s"
    missing = kubectl(kube, "get", "--raw",
                      "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope", ok=False)
    assert "NotFound" in missing or "not found" in missing


def test_the_metrics_api_refuses_what_metrics_server_refuses(
        kube: Kube) -> None:
    import requests

    handle, _ = kube

    def raw(method: str, path: str) -> requests.Response:
        return requests.request(method, handle.url + path, verify=str(handle.ca_path),
                                headers={"Authorization": f"Bearer {handle.token}"}, timeout=30)

    base = "/apis/metrics.k8s.io/v1beta1"
    assert raw("GET", base).json()["resources"][1]["kind"] == "PodMetrics"
    for method, path, code in (("POST", f"{base}/namespaces/default/pods", 405),
                               ("DELETE", f"{base}/nodes/worker-1", 405),
                               ("GET", f"{base}/namespaces/default/pods?labelSelector=a%3D%3D%3D",
                                400),
                               ("GET", "/apis/metrics.k8s.io/v2/nodes", 404),
                               ("GET", f"{base}/namespaces/default/deployments", 404),
                               ("GET", f"{base}/nodes/nope", 404)):
        r = raw(method, path)
        assert r.status_code == code, (method, path, r.text[:200])
        assert r.json()["kind"] == "Status" and r.json()["code"] == code


def test_an_invalid_autoscaler_is_refused_with_the_field(kube: Kube) -> None:
    handle, root = kube
    (root / "bad-hpa.yaml").write_text(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: bad}\n"
        "spec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}\n"
        "  minReplicas: 5\n  maxReplicas: 2\n")
    out = kubectl(kube, "apply", "-f", "bad-hpa.yaml", ok=False)
    assert "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`" \
        in out, out
