"""``meta.k8s.io/v1`` Table responses: the columns ``kubectl get`` prints.

kubectl renders whatever cells the server computes, so the pod STATUS column, node ROLES
and ages are worked out here exactly as pkg/printers/internalversion/printers.go does
(ages against the cluster's own clock, so a 50× sped-up cluster shows cluster ages).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from kclusterkit.kube.meta import Obj, dig, selector_string
from kclusterkit.sim.apiextensions import printer as crd_printer
from kclusterkit.sim.resources import Resource
from kclusterkit.sim.server import hpa_table

Column = tuple[str, str, int]  # (name, type, priority)
Printer = Callable[[Obj, datetime], list[Any]]

NAME_DOC = ("Name must be unique within a namespace. Is required when creating resources, "
            "although some resources may allow a client to request the generation of an "
            "appropriate name automatically. Name is primarily intended for creation "
            "idempotence and configuration definition. Cannot be updated. More info: "
            "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")
AGE_DOC = ("CreationTimestamp is a timestamp representing the server time when this object "
           "was created. It is not guaranteed to be set in happens-before order across separate "
           "operations. Clients may not set this value. It is represented in RFC3339 form and "
           "is in UTC.")


# -- formatting helpers as upstream ------------------------------------------------------
def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def parse_time(stamp: Any) -> datetime | None:
    if not stamp or not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def since(stamp: Any, now: datetime) -> str:
    when = parse_time(stamp)
    if when is None:
        return "<unknown>"
    return human_duration((now - when).total_seconds())


def age(obj: Obj, now: datetime) -> str:
    return since(dig(obj, "metadata", "creationTimestamp"), now)


def selector_text(selector: Any) -> str:
    """labels.Selector.String() of a LabelSelector: requirements sorted by key."""
    return selector_string(selector, sort=True) or "<none>"


def format_labels(labels: dict[str, str] | None) -> str:
    if not labels:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def containers_cells(spec: Any) -> list[str]:
    containers = dig(spec, "containers", default=[])
    return [",".join(c.get("name", "") for c in containers),
            ",".join(c.get("image", "") for c in containers)]


# -- pods --------------------------------------------------------------------------------
def _restartable(container: dict[str, Any] | None) -> bool:
    return bool(container) and container.get("restartPolicy") == "Always"  # type: ignore[union-attr]


def pod_status(pod: Obj) -> tuple[str, int, int, float | None, int]:
    """(STATUS, ready, total, last restart finishedAt as epoch seconds, restarts)."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    init_specs = {c["name"]: c for c in spec.get("initContainers") or [] if "name" in c}
    total = len(spec.get("containers") or []) + sum(1 for c in init_specs.values()
                                                     if _restartable(c))
    ready = restarts = sidecar_restarts = 0
    last: float | None = None
    sidecar_last: float | None = None

    def finished(cs: dict[str, Any]) -> float | None:
        when = parse_time(dig(cs, "lastState", "terminated", "finishedAt"))
        return when.timestamp() if when else None

    initializing = False
    init_statuses = status.get("initContainerStatuses") or []
    for i, cs in enumerate(init_statuses):
        restarts += cs.get("restartCount", 0)
        done = finished(cs)
        if done is not None and (last is None or done > last):
            last = done
        sidecar = _restartable(init_specs.get(cs.get("name", "")))
        if sidecar:
            sidecar_restarts += cs.get("restartCount", 0)
            if done is not None and (sidecar_last is None or done > sidecar_last):
                sidecar_last = done
        state = cs.get("state") or {}
        term, wait = state.get("terminated"), state.get("waiting")
        if term is not None and term.get("exitCode", 0) == 0:
            continue
        if sidecar and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if term is not None:
            if not term.get("reason"):
                reason = (f"Init:Signal:{term['signal']}" if term.get("signal")
                          else f"Init:ExitCode:{term.get('exitCode', 0)}")
            else:
                reason = "Init:" + term["reason"]
        elif wait is not None and wait.get("reason") and wait["reason"] != "PodInitializing":
            reason = "Init:" + wait["reason"]
        else:
            reason = f"Init:{i}/{len(spec.get('initContainers') or [])}"
        initializing = True
        break
    initialized = any(c.get("type") == "Initialized" and c.get("status") == "True"
                      for c in status.get("conditions") or [])
    if not initializing or initialized:
        restarts, last = sidecar_restarts, sidecar_last
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += cs.get("restartCount", 0)
            done = finished(cs)
            if done is not None and (last is None or done > last):
                last = done
            state = cs.get("state") or {}
            wait, term = state.get("waiting"), state.get("terminated")
            if wait is not None and wait.get("reason"):
                reason = wait["reason"]
            elif term is not None and term.get("reason"):
                reason = term["reason"]
            elif term is not None:
                reason = (f"Signal:{term['signal']}" if term.get("signal")
                          else f"ExitCode:{term.get('exitCode', 0)}")
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            pod_ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                            for c in status.get("conditions") or [])
            reason = "Running" if pod_ready else "NotReady"
    deleting = dig(pod, "metadata", "deletionTimestamp")
    if deleting and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif deleting and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    return reason, ready, total, last, restarts


def print_pod(pod: Obj, now: datetime) -> list[Any]:
    reason, ready, total, last, restarts = pod_status(pod)
    restarts_text = str(restarts)
    if restarts and last is not None:
        restarts_text = f"{restarts} ({human_duration(now.timestamp() - last)} ago)"
    status = pod.get("status") or {}
    ips = status.get("podIPs") or []
    gates = dig(pod, "spec", "readinessGates", default=[])
    gates_text = "<none>"
    if gates:
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        true = sum(1 for g in gates if conditions.get(g.get("conditionType")) == "True")
        gates_text = f"{true}/{len(gates)}"
    return [pod["metadata"]["name"], f"{ready}/{total}", reason, restarts_text, age(pod, now),
            (ips[0].get("ip") if ips else "") or "<none>",
            dig(pod, "spec", "nodeName") or "<none>",
            status.get("nominatedNodeName") or "<none>", gates_text]


# -- other kinds -------------------------------------------------------------------------
def node_roles(node: Obj) -> str:
    roles = set()
    for key, value in (dig(node, "metadata", "labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/"):
            role = key[len("node-role.kubernetes.io/"):]
            if role:
                roles.add(role)
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(roles)) or "<none>"


def print_node(node: Obj, now: datetime) -> list[Any]:
    ready = next((c for c in dig(node, "status", "conditions", default=[])
                  if c.get("type") == "Ready"), None)
    status = ["Unknown"] if ready is None else (
        ["Ready"] if ready.get("status") == "True" else ["NotReady"])
    if dig(node, "spec", "unschedulable"):
        status.append("SchedulingDisabled")
    info = dig(node, "status", "nodeInfo", default={})
    addresses = dig(node, "status", "addresses", default=[])

    def address(kind: str) -> str:
        return next((a["address"] for a in addresses if a.get("type") == kind), "<none>")

    return [node["metadata"]["name"], ",".join(status), node_roles(node), age(node, now),
            info.get("kubeletVersion", ""), address("InternalIP"), address("ExternalIP"),
            info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
            info.get("containerRuntimeVersion") or "<unknown>"]


def print_deployment(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    template = dig(spec, "template", "spec", default={})
    return [obj["metadata"]["name"],
            f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
            status.get("updatedReplicas", 0), status.get("availableReplicas", 0), age(obj, now),
            *containers_cells(template), selector_text(spec.get("selector"))]


def print_replicaset(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    template = dig(spec, "template", "spec", default={})
    return [obj["metadata"]["name"], spec.get("replicas", 0), status.get("replicas", 0),
            status.get("readyReplicas", 0), age(obj, now), *containers_cells(template),
            selector_text(spec.get("selector"))]


def print_daemonset(obj: Obj, now: datetime) -> list[Any]:
    """printDaemonSet (pkg/printers/internalversion/printers.go)."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    template = dig(spec, "template", "spec", default={})
    node_selector = ",".join(f"{k}={v}" for k, v in
                             sorted((template.get("nodeSelector") or {}).items())) or "<none>"
    return [obj["metadata"]["name"], status.get("desiredNumberScheduled", 0),
            status.get("currentNumberScheduled", 0), status.get("numberReady", 0),
            status.get("updatedNumberScheduled", 0), status.get("numberAvailable", 0),
            node_selector, age(obj, now), *containers_cells(template),
            selector_text(spec.get("selector"))]


def print_lease(obj: Obj, now: datetime) -> list[Any]:
    """printLease: who holds it (coordination.k8s.io, e.g. kube-scheduler's election)."""
    return [obj["metadata"]["name"], dig(obj, "spec", "holderIdentity", default="") or "",
            age(obj, now)]


def _port_string(ports: list[dict[str, Any]]) -> str:
    out = []
    for port in ports:
        protocol = port.get("protocol", "TCP")
        if port.get("nodePort"):
            out.append(f"{port.get('port')}:{port['nodePort']}/{protocol}")
        else:
            out.append(f"{port.get('port')}/{protocol}")
    return ",".join(out)


def _service_external_ip(svc: Obj) -> str:
    spec = svc.get("spec") or {}
    kind = spec.get("type", "ClusterIP")
    external = list(spec.get("externalIPs") or [])
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) or "<none>"
    if kind == "LoadBalancer":
        ingress = [i.get("ip") or i.get("hostname") or ""
                   for i in dig(svc, "status", "loadBalancer", "ingress", default=[])]
        result = ",".join([*ingress, *external])
        return result or "<pending>"
    if kind == "ExternalName":
        return spec.get("externalName", "")
    return "<unknown>"


def print_service(svc: Obj, now: datetime) -> list[Any]:
    spec = svc.get("spec") or {}
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return [svc["metadata"]["name"], spec.get("type", "ClusterIP"), ips[0] if ips else "<none>",
            _service_external_ip(svc), _port_string(spec.get("ports") or []) or "<none>",
            age(svc, now), format_labels(spec.get("selector"))]


def print_event(ev: Obj, now: datetime) -> list[Any]:
    first = since(ev.get("firstTimestamp"), now)
    if not ev.get("firstTimestamp"):
        first = since(ev.get("eventTime"), now)
    last = since(ev.get("lastTimestamp"), now) if ev.get("lastTimestamp") else first
    count = ev.get("count") or 1
    series = ev.get("series")
    if series:
        last = since(series.get("lastObservedTime"), now)
        count = series.get("count", count)
    involved = ev.get("involvedObject") or {}
    kind = (involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = ev.get("source") or {}
    if source.get("component"):
        source_text = source["component"] + (f", {source['host']}" if source.get("host") else "")
    else:
        parts = [ev.get("reportingComponent") or "", ev.get("reportingInstance") or ""]
        source_text = ", ".join(p for p in parts if p)
    return [last, ev.get("type", ""), ev.get("reason", ""), target,
            involved.get("fieldPath", ""), source_text, (ev.get("message") or "").strip(), first,
            count, ev["metadata"]["name"]]


def format_endpoints(subsets: list[dict[str, Any]]) -> str:
    out: list[str] = []
    count = 0
    for subset in subsets:
        for port in subset.get("ports") or [{}]:
            for address in subset.get("addresses") or []:
                if len(out) < 3:
                    ip = address.get("ip", "")
                    out.append(f"{ip}:{port['port']}" if "port" in port else ip)
                count += 1
    if not out:
        return "<none>"
    text = ",".join(out)
    return text + f" + {count - 3} more..." if count > 3 else text


def print_endpoints(ep: Obj, now: datetime) -> list[Any]:
    return [ep["metadata"]["name"], format_endpoints(ep.get("subsets") or []), age(ep, now)]


def print_namespace(ns: Obj, now: datetime) -> list[Any]:
    return [ns["metadata"]["name"], dig(ns, "status", "phase", default=""), age(ns, now)]


def print_configmap(cm: Obj, now: datetime) -> list[Any]:
    return [cm["metadata"]["name"], len(cm.get("data") or {}) + len(cm.get("binaryData") or {}),
            age(cm, now)]


def print_secret(s: Obj, now: datetime) -> list[Any]:
    return [s["metadata"]["name"], s.get("type", "Opaque"),
            len(s.get("data") or {}) + len(s.get("stringData") or {}), age(s, now)]


def print_pdb(obj: Obj, now: datetime) -> list[Any]:
    """printPodDisruptionBudget (pkg/printers/internalversion/printers.go)."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    def shown(value: Any) -> str:
        return "N/A" if value is None else str(value)
    return [obj["metadata"]["name"], shown(spec.get("minAvailable")),
            shown(spec.get("maxUnavailable")), status.get("disruptionsAllowed", 0), age(obj, now)]


def print_network_policy(obj: Obj, now: datetime) -> list[Any]:
    """printNetworkPolicy: the pod selector as a label selector string."""
    selector = (obj.get("spec") or {}).get("podSelector") or {}
    return [obj["metadata"]["name"], selector_text(selector) or "<none>", age(obj, now)]


def print_generic(obj: Obj, now: datetime) -> list[Any]:
    return [obj["metadata"]["name"], dig(obj, "metadata", "creationTimestamp", default="")]


# -- storage and the other workload kinds (printers.go) ----------------------------------
_MODE_SHORT = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"),
               ("ReadWriteOncePod", "RWOP"))


def access_modes(modes: list[str] | None) -> str:
    """helper.GetAccessModesAsString: short names in a fixed order."""
    return ",".join(short for mode, short in _MODE_SHORT if mode in (modes or ()))


def print_pv(pv: Obj, now: datetime) -> list[Any]:
    spec, status = pv.get("spec") or {}, pv.get("status") or {}
    ref = spec.get("claimRef")
    claim = f"{ref.get('namespace', '')}/{ref.get('name', '')}" if ref else ""
    phase = "Terminating" if dig(pv, "metadata", "deletionTimestamp") else status.get("phase", "")
    return [pv["metadata"]["name"], str((spec.get("capacity") or {}).get("storage", "0")),
            access_modes(spec.get("accessModes")), spec.get("persistentVolumeReclaimPolicy", ""),
            phase, claim, spec.get("storageClassName", ""),
            spec.get("volumeAttributesClassName") or "<unset>", status.get("reason", ""),
            age(pv, now), spec.get("volumeMode") or "<unset>"]


def print_pvc(pvc: Obj, now: datetime) -> list[Any]:
    spec, status = pvc.get("spec") or {}, pvc.get("status") or {}
    phase = "Terminating" if dig(pvc, "metadata", "deletionTimestamp") else status.get("phase", "")
    capacity = modes = ""
    if spec.get("volumeName"):
        modes = access_modes(status.get("accessModes"))
        capacity = str((status.get("capacity") or {}).get("storage", "0"))
    return [pvc["metadata"]["name"], phase, spec.get("volumeName", ""), capacity, modes,
            spec.get("storageClassName", ""), spec.get("volumeAttributesClassName") or "<unset>",
            age(pvc, now), spec.get("volumeMode") or "<unset>"]


def print_storageclass(sc: Obj, now: datetime) -> list[Any]:
    ann = dig(sc, "metadata", "annotations") or {}
    name = sc["metadata"]["name"]
    if "true" in (ann.get("storageclass.kubernetes.io/is-default-class"),
                  ann.get("storageclass.beta.kubernetes.io/is-default-class")):
        name += " (default)"
    return [name, sc.get("provisioner", ""), sc.get("reclaimPolicy") or "Delete",
            sc.get("volumeBindingMode") or "Immediate", bool(sc.get("allowVolumeExpansion")),
            age(sc, now)]


def print_volumeattachment(va: Obj, now: datetime) -> list[Any]:
    """printVolumeAttachment (pkg/printers/internalversion/printers.go)."""
    spec = va.get("spec") or {}
    return [va["metadata"]["name"], spec.get("attacher", ""),
            (spec.get("source") or {}).get("persistentVolumeName") or "",
            spec.get("nodeName", ""), bool((va.get("status") or {}).get("attached")),
            age(va, now)]


def print_statefulset(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [obj["metadata"]["name"],
            f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}", age(obj, now),
            *containers_cells(dig(spec, "template", "spec", default={}))]


def print_job(job: Obj, now: datetime) -> list[Any]:
    spec, status = job.get("spec") or {}, job.get("status") or {}
    succeeded = status.get("succeeded", 0)
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif (spec.get("parallelism") or 0) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    started, done = parse_time(status.get("startTime")), parse_time(status.get("completionTime"))
    duration = ""
    if started is not None:
        duration = human_duration(((done or now) - started).total_seconds())
    conditions = {c.get("type") for c in status.get("conditions") or ()
                  if c.get("status") == "True"}
    if "Complete" in conditions:
        state = "Complete"
    elif "Failed" in conditions:
        state = "Failed"
    elif dig(job, "metadata", "deletionTimestamp"):
        state = "Terminating"
    elif "Suspended" in conditions:
        state = "Suspended"
    elif "FailureTarget" in conditions:
        state = "FailureTarget"
    else:
        state = "Running"
    return [job["metadata"]["name"], state, completions, duration, age(job, now),
            *containers_cells(dig(spec, "template", "spec", default={})),
            selector_text(spec.get("selector"))]


def print_cronjob(cj: Obj, now: datetime) -> list[Any]:
    spec, status = cj.get("spec") or {}, cj.get("status") or {}
    last = since(status["lastScheduleTime"], now) if status.get("lastScheduleTime") else "<none>"
    job_spec = dig(spec, "jobTemplate", "spec", default={})
    return [cj["metadata"]["name"], spec.get("schedule", ""), spec.get("timeZone") or "<none>",
            bool(spec.get("suspend")), len(status.get("active") or ()), last, age(cj, now),
            *containers_cells(dig(job_spec, "template", "spec", default={})),
            selector_text(job_spec.get("selector"))]


def print_replicationcontroller(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [obj["metadata"]["name"], spec.get("replicas", 0), status.get("replicas", 0),
            status.get("readyReplicas", 0), age(obj, now),
            *containers_cells(dig(spec, "template", "spec", default={})),
            format_labels(spec.get("selector"))]
def print_hpa(obj: Obj, now: datetime) -> list[Any]:
    return [*hpa_table.cells(obj), age(obj, now)]


N, S, INT = "Name", "string", "integer"
TABLES: dict[str, tuple[list[Column], Printer]] = {
    "pods": ([(N, S, 0), ("Ready", S, 0), ("Status", S, 0), ("Restarts", S, 0), ("Age", S, 0),
              ("IP", S, 1), ("Node", S, 1), ("Nominated Node", S, 1), ("Readiness Gates", S, 1)],
             print_pod),
    "nodes": ([(N, S, 0), ("Status", S, 0), ("Roles", S, 0), ("Age", S, 0), ("Version", S, 0),
               ("Internal-IP", S, 1), ("External-IP", S, 1), ("OS-Image", S, 1),
               ("Kernel-Version", S, 1), ("Container-Runtime", S, 1)], print_node),
    "deployments.apps": ([(N, S, 0), ("Ready", S, 0), ("Up-to-date", INT, 0), ("Available", INT, 0),
                          ("Age", S, 0), ("Containers", S, 1), ("Images", S, 1),
                          ("Selector", S, 1)], print_deployment),
    "replicasets.apps": ([(N, S, 0), ("Desired", INT, 0), ("Current", INT, 0), ("Ready", INT, 0),
                          ("Age", S, 0), ("Containers", S, 1), ("Images", S, 1),
                          ("Selector", S, 1)], print_replicaset),
    "daemonsets.apps": ([(N, S, 0), ("Desired", INT, 0), ("Current", INT, 0), ("Ready", INT, 0),
                         ("Up-to-date", INT, 0), ("Available", INT, 0), ("Node Selector", S, 0),
                         ("Age", S, 0), ("Containers", S, 1), ("Images", S, 1),
                         ("Selector", S, 1)], print_daemonset),
    "leases.coordination.k8s.io": ([(N, S, 0), ("Holder", S, 0), ("Age", S, 0)], print_lease),
    "services": ([(N, S, 0), ("Type", S, 0), ("Cluster-IP", S, 0), ("External-IP", S, 0),
                  ("Port(s)", S, 0), ("Age", S, 0), ("Selector", S, 1)], print_service),
    "events": ([("Last Seen", S, 0), ("Type", S, 0), ("Reason", S, 0), ("Object", S, 0),
                ("Subobject", S, 1), ("Source", S, 1), ("Message", S, 0), ("First Seen", S, 1),
                ("Count", S, 1), (N, S, 1)], print_event),
    "endpoints": ([(N, S, 0), ("Endpoints", S, 0), ("Age", S, 0)], print_endpoints),
    "namespaces": ([(N, S, 0), ("Status", S, 0), ("Age", S, 0)], print_namespace),
    "configmaps": ([(N, S, 0), ("Data", INT, 0), ("Age", S, 0)], print_configmap),
    "secrets": ([(N, S, 0), ("Type", S, 0), ("Data", S, 0), ("Age", S, 0)], print_secret),
    "persistentvolumes": ([(N, S, 0), ("Capacity", S, 0), ("Access Modes", S, 0),
                           ("Reclaim Policy", S, 0), ("Status", S, 0), ("Claim", S, 0),
                           ("StorageClass", S, 0), ("VolumeAttributesClass", S, 0),
                           ("Reason", S, 0), ("Age", S, 0), ("VolumeMode", S, 1)], print_pv),
    "persistentvolumeclaims": ([(N, S, 0), ("Status", S, 0), ("Volume", S, 0), ("Capacity", S, 0),
                                ("Access Modes", S, 0), ("StorageClass", S, 0),
                                ("VolumeAttributesClass", S, 0), ("Age", S, 0),
                                ("VolumeMode", S, 1)], print_pvc),
    "storageclasses.storage.k8s.io": ([(N, S, 0), ("Provisioner", S, 0), ("ReclaimPolicy", S, 0),
                                       ("VolumeBindingMode", S, 0),
                                       ("AllowVolumeExpansion", S, 0), ("Age", S, 0)],
                                      print_storageclass),
    "statefulsets.apps": ([(N, S, 0), ("Ready", S, 0), ("Age", S, 0), ("Containers", S, 1),
                           ("Images", S, 1)], print_statefulset),
    "jobs.batch": ([(N, S, 0), ("Status", S, 0), ("Completions", S, 0), ("Duration", S, 0),
                    ("Age", S, 0), ("Containers", S, 1), ("Images", S, 1), ("Selector", S, 1)],
                   print_job),
    "cronjobs.batch": ([(N, S, 0), ("Schedule", S, 0), ("Timezone", S, 0),
                        ("Suspend", "boolean", 0),
                        ("Active", INT, 0), ("Last Schedule", S, 0), ("Age", S, 0),
                        ("Containers", S, 1), ("Images", S, 1), ("Selector", S, 1)],
                       print_cronjob),
    "replicationcontrollers": ([(N, S, 0), ("Desired", INT, 0), ("Current", INT, 0),
                                ("Ready", INT, 0), ("Age", S, 0), ("Containers", S, 1),
                                ("Images", S, 1), ("Selector", S, 1)],
                               print_replicationcontroller),
    "horizontalpodautoscalers.autoscaling": (hpa_table.COLUMNS, print_hpa),
    "poddisruptionbudgets.policy": ([(N, S, 0), ("Min Available", S, 0),
                                     ("Max Unavailable", S, 0),
                                     ("Allowed Disruptions", INT, 0), ("Age", S, 0)], print_pdb),
    "networkpolicies.networking.k8s.io": ([(N, S, 0), ("Pod-Selector", S, 0), ("Age", S, 0)],
                                          print_network_policy),
    "volumeattachments.storage.k8s.io": ([(N, S, 0), ("Attacher", S, 0), ("PV", S, 0),
                                          ("Node", S, 0), ("Attached", "boolean", 0),
                                          ("Age", S, 0)], print_volumeattachment),
}


def print_apiservice(obj: Obj, now: datetime) -> list[Any]:
    """kube-aggregator registry/apiservice/etcd/etcd.go ConvertToTable."""
    svc = dig(obj, "spec", "service")
    service = f"{svc.get('namespace', '')}/{svc.get('name', '')}" if svc else "Local"
    available = "Unknown"
    for cond in dig(obj, "status", "conditions") or []:
        if cond.get("type") == "Available":
            available = cond.get("status", "Unknown")
            if available != "True":
                available = f"{available} ({cond.get('reason', '')})"
    return [obj["metadata"]["name"], service, available, age(obj, now)]


TABLES["apiservices.apiregistration.k8s.io"] = (
    [(N, S, 0), ("Service", S, 0), ("Available", S, 0), ("Age", S, 0)], print_apiservice)

# Upstream's DefaultTableConvertor for kinds without a printer.
GENERIC: tuple[list[Column], Printer] = ([(N, S, 0), ("Created At", "date", 0)], print_generic)


def _column(name: str, ctype: str, priority: int) -> dict[str, Any]:
    col: dict[str, Any] = {"name": name, "type": ctype, "format": "name" if name == N else "",
                           "description": NAME_DOC if name == N else (
                               AGE_DOC if name in ("Age", "Created At") else name),
                           "priority": priority}
    return col


def table(cluster: Any, res: Resource, objs: list[Obj], include: str = "Metadata") -> Obj:
    columns, printer = TABLES.get(res.key, GENERIC)
    definitions = [_column(*c) for c in columns]
    custom = getattr(getattr(cluster, "api", None), "custom", None)
    served = custom.served_for(res) if custom is not None else None  # a custom resource
    if served is not None:
        definitions = crd_printer.column_definitions(served, res.version)
        printer = crd_printer.printer(served, res.version, since)
    now = cluster.clock.datetime()
    rows = []
    for obj in objs:
        row: dict[str, Any] = {"cells": printer(obj, now)}
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": obj["metadata"]}
        if res.key == "pods":
            phase = dig(obj, "status", "phase")
            if phase in ("Succeeded", "Failed"):
                message = ("The pod has completed successfully." if phase == "Succeeded"
                           else "The pod failed.")
                row["conditions"] = [{"type": "Completed", "status": "True", "reason": phase,
                                      "message": message}]
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": str(cluster.store.revision)},
            "columnDefinitions": definitions, "rows": rows}
