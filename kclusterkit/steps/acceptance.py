"""Steps of the acceptance pack: is a freshly provisioned cluster fit for use?

They look at the whole cluster rather than one workload: every node's kubelet, the system
pods, the pod network between every pair of nodes (a probe pod pinned to each node, as a
DaemonSet would place them, asking every other one over HTTP with busybox ``wget``), pod
DNS records, a default StorageClass that binds a claim, and the API server's latency under
a short burst, judged against the upstream SLO (p99 of read-only calls ≤ 1 s; see
kubernetes/community sig-scalability/slos/api_call_latency.md). What a cluster lacks (no
pods in kube-system, no default StorageClass) skips the check with the reason, never a pass.
"""

from __future__ import annotations

import time
from typing import Any

from kclusterkit.driver import NotSupported, Observation
from kclusterkit.driver.base import Obj
from kclusterkit.steps._support import check_now, kk, step, wait_for
from kclusterkit.steps.workloads import container_for

PROBE_LABEL = "kclusterkit.io/probe"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
SYSTEM_NAMESPACE = "kube-system"


def _name(obj: Obj) -> str:
    return obj["metadata"]["name"]


def _probes(context: Any, prefix: str) -> list[Obj]:
    pods = kk(context).driver.list("pods", labels=f"{PROBE_LABEL}={prefix}")
    return sorted(pods, key=_name)


def _note(context: Any, detail: str) -> None:
    """What a passed check found, for the summary table of `kclusterkit accept`."""
    context.scenario.kk_detail = detail


def _phase_table(pods: list[Obj]) -> str:
    return "\n".join(f"{_name(p)}  {(p.get('spec') or {}).get('nodeName', '-')}  "
                     f"{(p.get('status') or {}).get('phase', '-')}" for p in pods)


@step("then", "every node reports its kubelet version")
def kubelet_versions(context: Any) -> None:
    """Every node's kubelet has registered and reports its version (status.nodeInfo).

    Example: Then every node reports its kubelet version
    """
    driver = kk(context).driver

    def check() -> Observation:
        nodes = driver.list("nodes")
        versions = {_name(n): ((n.get("status") or {}).get("nodeInfo") or {})
                    .get("kubeletVersion", "") for n in nodes}
        seen = "\n".join(f"{name}  kubelet {v or '(none)'}" for name, v in versions.items())
        return Observation(bool(nodes) and all(versions.values()), seen or "no nodes", nodes)

    seen = check_now(context, "every node to report its kubelet version", check)
    versions = sorted({((n.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")
                       for n in seen.objects})
    _note(context, f"{len(seen.objects)} nodes Ready, kubelet {', '.join(versions)}")


@step("then", "every system pod is running within {d:Duration}")
def system_pods_running(context: Any, d: float) -> None:
    """Every pod in kube-system is Running (or Succeeded, for finished jobs); a cluster
    that runs no pods there (its control plane and DNS are not pods) skips the check.

    Example: Then every system pod is running within 2 minutes
    """
    driver = kk(context).driver
    if not driver.list("pods", SYSTEM_NAMESPACE):
        raise NotSupported(f"no pods in {SYSTEM_NAMESPACE}: control plane and DNS do not "
                           "run as pods here")

    def check() -> Observation:
        pods = driver.list("pods", SYSTEM_NAMESPACE)
        bad = [p for p in pods
               if (p.get("status") or {}).get("phase") not in ("Running", "Succeeded")]
        return Observation(not bad, f"{len(pods) - len(bad)} of {len(pods)} system pods "
                           f"running\n{_phase_table(bad)}", pods)

    seen = wait_for(context, f"every pod in {SYSTEM_NAMESPACE} to be running", check, d,
                    kinds=("pods",))
    _note(context, f"{len(seen.objects)} pods running in {SYSTEM_NAMESPACE}")


@step("given", 'a probe pod "{prefix:Q}" running "{image:Q}" on every node')
def probe_on_every_node(context: Any, prefix: str, image: str) -> None:
    """One pod per node, pinned to it by nodeName (as a DaemonSet places its pods) and
    tolerating every taint, so control-plane nodes are probed too. Named PREFIX-<node>.

    Example: Given a probe pod "server" running "agnhost:2.53 netexec" on every node
    """
    driver = kk(context).driver
    for node in sorted(driver.list("nodes"), key=_name):
        driver.create({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"{prefix}-{_name(node)}",
                         "labels": {PROBE_LABEL: prefix}},
            "spec": {"nodeName": _name(node), "tolerations": [{"operator": "Exists"}],
                     "containers": [container_for(image)]},
        })


@step("then", 'every probe pod "{prefix:Q}" is running within {d:Duration}', any_keyword=True)
def probes_running(context: Any, prefix: str, d: float) -> None:
    """Every probe pod of that name is Running with an IP.

    Example: And every probe pod "server" is running within 2 minutes
    """
    nodes = len(kk(context).driver.list("nodes"))

    def check() -> Observation:
        pods = _probes(context, prefix)
        up = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"
              and (p.get("status") or {}).get("podIP")]
        return Observation(len(up) == nodes == len(pods),
                           f"{len(up)} of {nodes} running\n{_phase_table(pods)}", pods)

    wait_for(context, f'a running probe pod "{prefix}" on each of {nodes} nodes', check, d,
             kinds=("pods",))


@step("then", 'every probe pod "{client:Q}" reaches every probe pod "{server:Q}" on port {port:d}')
def every_pair_talks(context: Any, client: str, server: str, port: int) -> None:
    """The network plugin carries traffic between pods on every pair of nodes (a node with
    itself included): each client pod GETs each server pod's IP with busybox wget, and the
    answer must name that server pod (agnhost netexec's /hostname does).

    Example: Then every probe pod "c" reaches every probe pod "s" on port 8080
    """
    driver = kk(context).driver
    clients, servers = _probes(context, client), _probes(context, server)

    def check() -> Observation:
        lines, failed = [], 0
        for c in clients:
            for s in servers:
                ip = (s.get("status") or {}).get("podIP")
                result = driver.exec(_name(c), ["wget", "-qO-", "-T", "2",
                                                f"http://{ip}:{port}/hostname"])
                ok = result.exit_code == 0 and result.stdout.strip() == _name(s)
                failed += not ok
                answer = (result.stdout.strip() or result.stderr.strip()
                          or f"exit {result.exit_code}")
                lines.append(f"{c['spec']['nodeName']} -> {s['spec']['nodeName']} "
                             f"({ip}): {'ok' if ok else 'FAILED'} {answer}")
        pairs = len(clients) * len(servers)
        return Observation(bool(pairs) and not failed,
                           f"{pairs - failed} of {pairs} node pairs answered\n" + "\n".join(lines),
                           clients + servers)

    seen = check_now(context, "an answer between pods on every pair of nodes", check)
    _note(context, seen.seen.splitlines()[0])


@step("then", 'in pod "{pod:Q}" the DNS name of every probe pod "{prefix:Q}" resolves to its IP')
def pod_dns(context: Any, pod: str, prefix: str) -> None:
    """Cluster DNS answers pod A records: a-b-c-d.<namespace>.pod.cluster.local.

    Example: Then in pod "c-worker-1" the DNS name of every probe pod "s" resolves to its IP
    """
    driver = kk(context).driver
    targets = _probes(context, prefix)

    def check() -> Observation:
        lines, failed = [], 0
        for target in targets:
            ip = (target.get("status") or {}).get("podIP") or ""
            name = f"{ip.replace('.', '-')}.{driver.namespace}.pod.cluster.local"
            result = driver.exec(pod, ["nslookup", name])
            ok = result.exit_code == 0 and f"Address: {ip}" in result.stdout
            failed += not ok
            lines.append(f"{name}: {'ok' if ok else 'FAILED ' + result.stdout.strip()[-80:]}")
        return Observation(bool(targets) and not failed, "\n".join(lines), targets)

    check_now(context, "every pod's DNS name to resolve to its IP", check)
    _note(context, f"{len(targets)} pod names resolved")


def _internal_ip(node: Obj) -> str:
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") == "InternalIP":
            return address.get("address", "")
    return ""


@step("then", 'from pod "{pod:Q}" the NodePort of service "{service:Q}" on every node '
              'answers "{text:Q}"')
def node_port_from_pod(context: Any, pod: str, service: str, text: str) -> None:
    """kube-proxy serves the Service on its NodePort at every node's InternalIP; the GETs
    are made with busybox wget from inside the cluster (this machine need not reach the
    nodes' addresses).

    Example: Then from pod "c" the NodePort of service "web" on every node answers "Welcome"
    """
    driver = kk(context).driver
    svc = driver.get("services", service)
    ports = [p.get("nodePort") for p in ((svc or {}).get("spec") or {}).get("ports") or []]
    if not svc or not ports or not ports[0]:
        raise AssertionError(f'service "{service}" has no NodePort')

    def check() -> Observation:
        nodes = sorted(driver.list("nodes"), key=_name)
        lines, failed = [], 0
        for node in nodes:
            url = f"http://{_internal_ip(node)}:{ports[0]}/"
            result = driver.exec(pod, ["wget", "-qO-", "-T", "5", url])
            ok = result.exit_code == 0 and text in result.stdout
            failed += not ok
            why = "" if ok else f" ({(result.stderr.strip() or 'body lacks it')[:80]})"
            lines.append(f"{_name(node)}: GET {url} {'ok' if ok else 'FAILED'}{why}")
        return Observation(bool(nodes) and not failed, "\n".join(lines), nodes)

    seen = check_now(context, f'"{text}" from the NodePort on every node', check)
    _note(context, f"NodePort {ports[0]} answered on {len(seen.objects)} nodes")


@step("given", "the cluster has a default StorageClass")
def default_storage_class(context: Any) -> None:
    """A StorageClass annotated as the default; without one the check is skipped.

    Example: Given the cluster has a default StorageClass
    """
    classes = kk(context).driver.list("storageclasses", "")
    default = [c for c in classes
               if (c["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true"]
    if not default:
        raise NotSupported(f"no default StorageClass (no {DEFAULT_CLASS})")


@step("when", 'I claim {size} of storage as "{name:Q}" for pod "{pod:Q}"')
def claim_storage(context: Any, size: str, name: str, pod: str) -> None:
    """A PersistentVolumeClaim of the default class and a busybox pod that mounts it
    (a WaitForFirstConsumer class binds only once a pod uses the claim).

    Example: When I claim 1Gi of storage as "data" for pod "writer"
    """
    driver = kk(context).driver
    driver.create({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                   "metadata": {"name": name},
                   "spec": {"accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": size}}}})
    container = container_for("busybox:1.36 sleep 3600")
    container["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    driver.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod},
                   "spec": {"containers": [container],
                            "volumes": [{"name": "data",
                                         "persistentVolumeClaim": {"claimName": name}}]}})


@step("then", 'claim "{name:Q}" is Bound within {d:Duration}')
def claim_bound(context: Any, name: str, d: float) -> None:
    """The claim got a volume.

    Example: Then claim "data" is Bound within 2 minutes
    """
    driver = kk(context).driver

    def check() -> Observation:
        claim = driver.get("persistentvolumeclaims", name)
        phase = ((claim or {}).get("status") or {}).get("phase", "(no claim)")
        return Observation(phase == "Bound", f'claim "{name}" is {phase}',
                           [claim] if claim else [])

    wait_for(context, f'claim "{name}" to be Bound', check, d,
             kinds=("persistentvolumeclaims",))
    _note(context, f'claim "{name}" Bound')


@step("when", "I make {n:d} API requests in a burst")
def api_burst(context: Any, n: int) -> None:
    """n read-only calls (list pods of the scenario's namespace), one right after another,
    each timed on the wall clock as a client sees it.

    Example: When I make 100 API requests in a burst
    """
    driver = kk(context).driver
    latencies = []
    for _ in range(n):
        started = time.perf_counter()
        driver.list("pods")
        latencies.append(time.perf_counter() - started)
    context.kk_latencies = latencies


@step("then", "the 99th percentile of their latency is at most {ms:d} ms")
def api_p99(context: Any, ms: int) -> None:
    """The burst's p99 latency (nearest rank) against a bound; the upstream SLO for
    read-only calls is 1000 ms.

    Example: Then the 99th percentile of their latency is at most 1000 ms
    """
    latencies = sorted(getattr(context, "kk_latencies", None) or [])

    def check() -> Observation:
        if not latencies:
            return Observation(False, "no requests were made (When I make N API requests …)")
        p99 = latencies[max(0, -(-99 * len(latencies) // 100) - 1)] * 1000
        return Observation(p99 <= ms, f"p99 {p99:.1f} ms, max {latencies[-1] * 1000:.1f} ms "
                           f"over {len(latencies)} requests")

    seen = check_now(context, f"p99 latency at most {ms} ms", check)
    _note(context, seen.seen)
