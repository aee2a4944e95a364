"""kubectl cordon, drain and uncordon against a served simulator, as on a real cluster.

The drain meets a PodDisruptionBudget that allows one disruption: kubectl must be told
"Cannot evict pod as it would violate the pod's disruption budget." (429), retry after 5 s
and finish once the evicted pod's replacement is Ready elsewhere; DaemonSet pods stay.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sim.server.kubectl import Kube, kubectl, served_for_kubectl

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: nginx, image: "nginx:1.25"}]}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {app: web}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: a, image: "busybox:1.36", command: [sleep, "3600"]}]}
"""


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kube]:
    yield from served_for_kubectl(tmp_path_factory, "kubectl-drain", speed=20.0,
                                  files={"web.yaml": MANIFEST})


def pods_on(kube: Kube, node: str, app: str) -> list[str]:
    out = kubectl(kube, "get", "pods", "-l", f"app={app}", "--field-selector",
                  f"spec.nodeName={node}", "-o", "jsonpath={.items[*].metadata.name}")
    return out.split()


def test_drain_honours_the_budget_and_uncordon_undoes_the_cordon(
        kube: Kube) -> None:
    kubectl(kube, "apply", "-f", "web.yaml")
    kubectl(kube, "rollout", "status", "deployment/web", "--timeout=60s")
    kubectl(kube, "rollout", "status", "daemonset/agent", "--timeout=60s")
    assert len(pods_on(kube, "worker-1", "web")) == 2
    pdb = kubectl(kube, "get", "pdb", "web")
    assert pdb.split()[:9] == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED",
                               "DISRUPTIONS", "AGE", "web"]
    assert pdb.split()[9:12] == ["N/A", "1", "1"]

    assert "node/worker-1 cordoned" in kubectl(kube, "cordon", "worker-1")
    assert "Ready,SchedulingDisabled" in kubectl(kube, "get", "node", "worker-1")
    taints = kubectl(kube, "get", "node", "worker-1", "-o", "jsonpath={.spec.taints}")
    assert "node.kubernetes.io/unschedulable" in taints

    drained = kubectl(kube, "drain", "worker-1", "--ignore-daemonsets", "--timeout=60s")
    assert "ignoring DaemonSet-managed Pods: default/agent-" in drained
    assert 'error when evicting pods/"web-' in drained
    assert "(will retry after 5s): Cannot evict pod as it would violate the pod's " \
           "disruption budget." in drained
    assert "node/worker-1 drained" in drained
    assert pods_on(kube, "worker-1", "web") == []
    assert len(pods_on(kube, "worker-1", "agent")) == 1

    assert "node/worker-1 uncordoned" in kubectl(kube, "uncordon", "worker-1")
    assert "SchedulingDisabled" not in kubectl(kube, "get", "node", "worker-1")


def test_drain_refuses_a_bare_pod_without_force(kube: Kube) -> None:
    kubectl(kube, "run", "bare", "--image=nginx:1.25",
            '--overrides={"spec":{"nodeName":"worker-2"}}')
    out = kubectl(kube, "drain", "worker-2", "--ignore-daemonsets", "--timeout=10s", ok=False)
    assert "cannot delete Pods that declare no controller (use --force to override): " \
           "default/bare" in out
    kubectl(kube, "uncordon", "worker-2")
