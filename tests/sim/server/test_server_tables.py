"""kubectl's columns, computed as pkg/printers/internalversion/printers.go does."""

from __future__ import annotations

from datetime import UTC, datetime

from kclusterkit.sim.server.tables import (
    human_duration,
    pod_status,
    print_deployment,
    print_event,
    print_pod,
    print_service,
)

NOW = datetime(2026, 1, 1, 1, 0, 0, tzinfo=UTC)


def _pod(status: dict, **meta: object) -> dict:
    return {"metadata": {"name": "p", "creationTimestamp": "2026-01-01T00:58:00Z", **meta},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}]}, "status": status}


def running(name: str, ready: bool = True, restarts: int = 0, **extra: object) -> dict:
    return {"name": name, "ready": ready, "restartCount": restarts,
            "state": {"running": {"startedAt": "2026-01-01T00:58:10Z"}}, **extra}


def test_human_duration() -> None:
    assert [human_duration(s) for s in (5, 119, 125, 600, 7200, 8 * 3600 + 60, 3 * 86400)] == [
        "5s", "119s", "2m5s", "10m", "120m", "8h", "3d"]


def test_pod_status_column() -> None:
    assert pod_status(_pod({"phase": "Pending", "containerStatuses": [
        {"name": "a", "ready": False, "restartCount": 0,
         "state": {"waiting": {"reason": "ContainerCreating"}}}]}))[0] == "ContainerCreating"
    crash = _pod({"phase": "Running", "containerStatuses": [
        running("a"),
        {"name": "b", "ready": False, "restartCount": 4,
         "state": {"waiting": {"reason": "CrashLoopBackOff"}},
         "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-01-01T00:59:30Z"}}}]})
    assert print_pod(crash, NOW)[1:4] == ["1/2", "CrashLoopBackOff", "4 (30s ago)"]
    done = _pod({"phase": "Succeeded", "containerStatuses": [
        {"name": "a", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]})
    assert pod_status(done)[0] == "Completed"
    leaving = _pod({"phase": "Running", "containerStatuses": [running("a"), running("b")]},
                   deletionTimestamp="2026-01-01T00:59:59Z")
    assert print_pod(leaving, NOW)[1:3] == ["2/2", "Terminating"]
    init = _pod({"phase": "Pending", "initContainerStatuses": [
        {"name": "i", "state": {"waiting": {"reason": "PodInitializing"}}}]})
    init["spec"]["initContainers"] = [{"name": "i"}]
    assert pod_status(init)[0] == "Init:0/1"
    oom = _pod({"phase": "Running", "containerStatuses": [
        running("a"), {"name": "b", "state": {"terminated": {"exitCode": 137,
                                                             "reason": "OOMKilled"}}}]})
    assert pod_status(oom)[0] == "OOMKilled"


def test_other_printers() -> None:
    deploy = {"metadata": {"name": "web", "creationTimestamp": "2026-01-01T00:00:00Z"},
              "spec": {"replicas": 3, "selector": {"matchLabels": {"z": "1", "app": "web"}},
                       "template": {"spec": {"containers": [{"name": "n", "image": "nginx"}]}}},
              "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}}
    assert print_deployment(deploy, NOW) == ["web", "2/3", 3, 2, "60m", "n", "nginx",
                                             "app=web,z=1"]
    svc = {"metadata": {"name": "s", "creationTimestamp": "2026-01-01T00:59:00Z"},
           "spec": {"type": "NodePort", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                    "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]}}
    assert print_service(svc, NOW)[1:6] == ["NodePort", "10.96.0.10", "<none>",
                                            "80:30080/TCP", "60s"]
    event = {"metadata": {"name": "e1"}, "type": "Normal", "reason": "Scheduled",
             "message": "ok ", "firstTimestamp": "2026-01-01T00:59:50Z",
             "lastTimestamp": "2026-01-01T00:59:55Z", "count": 2,
             "involvedObject": {"kind": "Pod", "name": "p"},
             "source": {"component": "default-scheduler"}}
    assert print_event(event, NOW) == ["5s", "Normal", "Scheduled", "pod/p", "",
                                       "default-scheduler", "ok", "10s", 2, "e1"]


def test_daemonset_and_lease_columns() -> None:
    from kclusterkit.sim.server.tables import print_daemonset, print_lease

    ds = {"metadata": {"name": "kube-proxy", "creationTimestamp": "2026-01-01T00:58:00Z"},
          "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
                   "template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"},
                                         "containers": [{"name": "kube-proxy",
                                                         "image": "kube-proxy:v1"}]}}},
          "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3,
                     "numberReady": 2, "updatedNumberScheduled": 3, "numberAvailable": 2}}
    assert print_daemonset(ds, NOW)[:8] == ["kube-proxy", 3, 3, 2, 3, 2,
                                            "kubernetes.io/os=linux", "2m"]
    lease = {"metadata": {"name": "kube-scheduler", "creationTimestamp": "2026-01-01T00:00:00Z"},
             "spec": {"holderIdentity": "control-plane_1234"}}
    assert print_lease(lease, NOW) == ["kube-scheduler", "control-plane_1234", "60m"]
