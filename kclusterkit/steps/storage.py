"""Steps about data that outlives pods: claims, volumes and StatefulSets.

A claim is asked of the cluster's default StorageClass (or a named one); on a real
cluster without a default class, the scenario skips with that reason (see "the cluster
has a default StorageClass"). Claims, pods and StatefulSets live in the scenario's
namespace and go with it; volumes follow their class's reclaim policy.
"""

# ruff: noqa: E501  (a step's Example must stay on one line: the catalog prints it as is)
from __future__ import annotations

from typing import Any

from kclusterkit.driver import Observation
from kclusterkit.errors import ApiError, NotSupported
from kclusterkit.kube.quantity import parse_quantity
from kclusterkit.steps._support import (
    Obj,
    StepUsageError,
    check_now,
    hold_for,
    is_ready,
    is_terminating,
    kk,
    owner_pods,
    pod_table,
    step,
    wait_for,
)
from kclusterkit.steps.discovery import in_namespace, nslookup_addresses
from kclusterkit.steps.pods_exec import ExecRecord, argv_of, is_running, the_pod_of
from kclusterkit.steps.workloads import container_for, workload

DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"


def require_default_class(context: Any) -> Obj:
    """The cluster's default StorageClass; skip the scenario when there is none."""
    classes = kk(context).driver.list("storageclasses", "")
    default = [c for c in classes
               if (c["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true"]
    if not default:
        raise NotSupported(f"no default StorageClass (no {DEFAULT_CLASS} annotation): "
                           "claims would stay Pending")
    return default[0]


def claim_manifest(name: str, size: str, storage_class: str | None = None,
                   mode: str = "ReadWriteOnce") -> Obj:
    spec: Obj = {"accessModes": [mode], "resources": {"requests": {"storage": size}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": spec}


def _claim_events(driver: Any, name: str) -> list[Obj]:
    return [e for e in driver.events()
            if (e.get("involvedObject") or {}).get("kind") == "PersistentVolumeClaim"
            and (e.get("involvedObject") or {}).get("name") == name]


def _claim_seen(driver: Any, name: str) -> tuple[Obj | None, str]:
    claim = driver.get("persistentvolumeclaims", name)
    if claim is None:
        return None, f'claim "{name}" does not exist'
    phase = (claim.get("status") or {}).get("phase", "")
    events = _claim_events(driver, name)
    last = events[-1] if events else None
    why = f'; last event {last.get("reason")}: {last.get("message")}' if last else ""
    return claim, f'claim "{name}" is {phase}{why}'


# -- Given ---------------------------------------------------------------------------------
@step("given", "the default StorageClass waits for the first consumer")
def default_class_waits(context: Any) -> None:
    """The default StorageClass binds with WaitForFirstConsumer (kind's, most clouds');
    the scenario skips on a cluster whose default binds at once, or that has none.

    Example: Given the default StorageClass waits for the first consumer
    """
    default = require_default_class(context)
    mode = default.get("volumeBindingMode") or "Immediate"
    if mode != "WaitForFirstConsumer":
        raise NotSupported(f'the default StorageClass "{default["metadata"]["name"]}" binds '
                           f"with {mode}, not WaitForFirstConsumer")


@step("given", 'a persistent volume claim "{name:Q}" of {size:Memory}')
def a_claim(context: Any, name: str, size: str) -> None:
    """A ReadWriteOnce claim of the default StorageClass (skips without one).

    Example: Given a persistent volume claim "data" of 1Gi
    """
    require_default_class(context)
    kk(context).driver.create(claim_manifest(name, size))


@step("given", 'a persistent volume claim "{name:Q}" of {size:Memory} with storage class "{cls:Q}"')
def a_claim_of_class(context: Any, name: str, size: str, cls: str) -> None:
    """A ReadWriteOnce claim of a named StorageClass ("" for none: only a matching volume
    made by hand can bind it).

    Example: Given a persistent volume claim "data" of 1Gi with storage class "fast"
    """
    kk(context).driver.create(claim_manifest(name, size, cls))


def mount_claim(obj: Obj, claim: str, path: str) -> Obj:
    spec = obj["spec"]["template"]["spec"]
    for container in spec["containers"]:
        container.setdefault("volumeMounts", []).append({"name": "data", "mountPath": path})
    spec.setdefault("volumes", []).append(
        {"name": "data", "persistentVolumeClaim": {"claimName": claim}})
    return obj


def _with_env(obj: Obj, image: str) -> Obj:
    """What a database image refuses to start without, so a spec can say just "mysql"."""
    family = image.split()[0].rsplit("/", 1)[-1].split(":", 1)[0]
    env = {"mysql": [{"name": "MYSQL_ROOT_PASSWORD", "value": "kclusterkit"}],
           "mariadb": [{"name": "MARIADB_ROOT_PASSWORD", "value": "kclusterkit"}],
           "postgres": [{"name": "POSTGRES_PASSWORD", "value": "kclusterkit"}]}.get(family)
    if env:
        for container in obj["spec"]["template"]["spec"]["containers"]:
            container.setdefault("env", []).extend(env)
    return obj


@step("given", 'a deployment "{name:Q}" running "{image:Q}" with {n:N} replica(s), mounting claim "{claim:Q}" at "{path:Q}"')
def a_deployment_with_claim(context: Any, name: str, image: str, n: int, claim: str,
                            path: str) -> None:
    """A deployment whose pods mount the claim (a database image gets its root password
    variable set to "kclusterkit", as it refuses to start without one).

    Example: Given a deployment "db" running "mysql:8.0" with 1 replica, mounting claim "data" at "/var/lib/mysql"
    """
    obj = mount_claim(workload("Deployment", name, image, n), claim, path)
    obj["spec"]["strategy"] = {"type": "Recreate"}  # a ReadWriteOnce claim: one pod at a time
    kk(context).driver.create(_with_env(obj, image))


def headless_service(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"clusterIP": "None", "selector": {"app": name},
                     "ports": [{"name": "web", "port": 80}]}}


def stateful_set(name: str, image: str, n: int, size: str | None = None,
                 path: str | None = None, policy: str = "OrderedReady") -> Obj:
    obj = workload("StatefulSet", name, image, n)
    obj["spec"]["serviceName"] = name
    obj["spec"]["podManagementPolicy"] = policy
    if size and path:
        for container in obj["spec"]["template"]["spec"]["containers"]:
            container["volumeMounts"] = [{"name": "data", "mountPath": path}]
        obj["spec"]["volumeClaimTemplates"] = [{
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": size}}}}]
    return _with_env(obj, image)


@step("given", 'a stateful set "{name:Q}" running "{image:Q}" with {n:N} replica(s)')
def a_stateful_set(context: Any, name: str, image: str, n: int) -> None:
    """A StatefulSet (OrderedReady) and its headless Service of the same name.

    Example: Given a stateful set "web" running "nginx:1.25" with 3 replicas
    """
    driver = kk(context).driver
    driver.create(headless_service(name))
    driver.create(stateful_set(name, image, n))


@step("given", 'a stateful set "{name:Q}" running "{image:Q}" with {n:N} replica(s) started in parallel')
def a_parallel_stateful_set(context: Any, name: str, image: str, n: int) -> None:
    """A StatefulSet with podManagementPolicy Parallel, and its headless Service.

    Example: Given a stateful set "web" running "nginx:1.25" with 3 replicas started in parallel
    """
    driver = kk(context).driver
    driver.create(headless_service(name))
    driver.create(stateful_set(name, image, n, policy="Parallel"))


@step("given", 'a stateful set "{name:Q}" running "{image:Q}" with {n:N} replica(s), each with a claim of {size:Memory} mounted at "{path:Q}"')
def a_stateful_set_with_claims(context: Any, name: str, image: str, n: int, size: str,
                               path: str) -> None:
    """A StatefulSet whose claim template "data" gives each pod its own claim
    (data-NAME-0, data-NAME-1 …) of the default StorageClass (skips without one).

    Example: Given a stateful set "db" running "nginx:1.25" with 3 replicas, each with a claim of 1Gi mounted at "/data"
    """
    require_default_class(context)
    driver = kk(context).driver
    driver.create(headless_service(name))
    driver.create(stateful_set(name, image, n, size, path))


# -- When ----------------------------------------------------------------------------------
@step("when", 'I scale stateful set "{name:Q}" to {n:N} replica(s)')
def scale_stateful_set(context: Any, name: str, n: int) -> None:
    """Set the stateful set's replica count (as kubectl scale does).

    Example: When I scale stateful set "web" to 1 replica
    """
    kk(context).driver.scale("statefulset", name, n)


@step("when", 'I delete claim "{name:Q}"')
def delete_claim(context: Any, name: str) -> None:
    """Delete the PersistentVolumeClaim (it stays Terminating while a pod uses it).

    Example: When I delete claim "data"
    """
    kk(context).driver.delete("persistentvolumeclaims", name)


# -- Then: claims ----------------------------------------------------------------------------
@step("then", 'claim "{name:Q}" stays Pending for {d:Duration}', any_keyword=True)
def claim_stays_pending(context: Any, name: str, d: float) -> None:
    """The claim gets no volume the whole time (its last event says why).

    Example: Then claim "data" stays Pending for 1 minute
    """
    driver = kk(context).driver

    def check() -> Observation:
        claim, seen = _claim_seen(driver, name)
        phase = ((claim or {}).get("status") or {}).get("phase")
        return Observation(phase == "Pending", seen, [claim] if claim else [])

    hold_for(context, f'claim "{name}" to stay Pending', check, d,
             kinds=("persistentvolumeclaims", "events"))


@step("then", 'claim "{name:Q}" is Pending with event "{reason:Q}" within {d:Duration}', any_keyword=True)
def claim_pending_because(context: Any, name: str, reason: str, d: float) -> None:
    """The claim is Pending and has an event with this reason (e.g. WaitForFirstConsumer,
    ProvisioningFailed, FailedBinding).

    Example: Then claim "data" is Pending with event "WaitForFirstConsumer" within 30 seconds
    """
    driver = kk(context).driver

    def check() -> Observation:
        claim, seen = _claim_seen(driver, name)
        phase = ((claim or {}).get("status") or {}).get("phase")
        reasons = [e.get("reason") for e in _claim_events(driver, name)]
        return Observation(phase == "Pending" and reason in reasons,
                           f"{seen}\nevents: {', '.join(map(str, reasons)) or 'none'}",
                           [claim] if claim else [])

    wait_for(context, f'claim "{name}" to be Pending with event {reason}', check, d,
             kinds=("persistentvolumeclaims", "events"))


@step("then", 'claim "{name:Q}" no longer exists within {d:Duration}', any_keyword=True)
def claim_gone(context: Any, name: str, d: float) -> None:
    """The claim has been deleted (its protection finalizer let it go).

    Example: Then claim "data" no longer exists within 1 minute
    """
    driver = kk(context).driver

    def check() -> Observation:
        claim, seen = _claim_seen(driver, name)
        return Observation(claim is None, seen, [claim] if claim else [])

    wait_for(context, f'claim "{name}" to be gone', check, d,
             kinds=("persistentvolumeclaims",))


@step("then", 'claim "{name:Q}" is still Terminating for {d:Duration}', any_keyword=True)
def claim_protected(context: Any, name: str, d: float) -> None:
    """The deleted claim stays (Terminating) the whole time: a pod still uses it.

    Example: Then claim "data" is still Terminating for 30 seconds
    """
    driver = kk(context).driver

    def check() -> Observation:
        claim, seen = _claim_seen(driver, name)
        ok = claim is not None and is_terminating(claim)
        return Observation(ok, seen + (" (Terminating)" if ok else ""),
                           [claim] if claim else [])

    hold_for(context, f'claim "{name}" to stay Terminating', check, d,
             kinds=("persistentvolumeclaims",))


@step("then", 'the volume of claim "{name:Q}" is on the node of the pod of deployment "{deployment:Q}"')
def volume_on_pods_node(context: Any, name: str, deployment: str) -> None:
    """The claim's volume is pinned (required node affinity) to the node its pod runs on,
    or has no node affinity at all (network storage).

    Example: Then the volume of claim "data" is on the node of the pod of deployment "db"
    """
    driver = kk(context).driver

    def check() -> Observation:
        claim = driver.get("persistentvolumeclaims", name)
        volume_name = ((claim or {}).get("spec") or {}).get("volumeName")
        if not volume_name:
            return Observation(False, f'claim "{name}" has no volume')
        volume = driver.get("persistentvolumes", volume_name, "")
        pod = the_pod_of(driver, deployment)
        if volume is None or pod is None:
            return Observation(False, f'volume "{volume_name}" or the pod is missing')
        node = (pod.get("spec") or {}).get("nodeName")
        terms = (((volume.get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}
                 ).get("nodeSelectorTerms") or []
        nodes = [v for t in terms for e in t.get("matchExpressions") or ()
                 if e.get("key") == "kubernetes.io/hostname" for v in e.get("values") or ()]
        ok = not terms or node in nodes
        return Observation(ok, f'volume "{volume_name}" is for node(s) '
                               f'{", ".join(nodes) or "any"}; the pod runs on {node}',
                           [volume, pod])

    check_now(context, f'the volume of claim "{name}" to be where the pod runs', check)


# -- Then: data inside the pods ---------------------------------------------------------------
@step("then", 'in the pod of deployment "{name:Q}" the command "{command:Q}" prints "{text:Q}" within {d:Duration}', any_keyword=True)
def command_prints_within(context: Any, name: str, command: str, text: str, d: float) -> None:
    """Eventually the command, run in the deployment's running pod, exits 0 and prints the
    text (a database that is still starting is asked again).

    Example: Then in the pod of deployment "db" the command "mysql -uroot -pkclusterkit -N -e 'SELECT COUNT(*) FROM shop.orders'" prints "2" within 3 minutes
    """
    driver = kk(context).driver
    driver.require("exec", "running a command in a pod")
    argv = argv_of(command)

    def check() -> Observation:
        pod = the_pod_of(driver, name)
        if pod is None:
            return Observation(False, f'deployment "{name}" has no running pod')
        pod_name = pod["metadata"]["name"]
        record = ExecRecord(pod_name, command, driver.exec(pod_name, argv))
        return Observation(record.result.exit_code == 0 and text in record.result.stdout,
                           record.describe(), [pod])

    wait_for(context, f'"{command}" in the pod of deployment "{name}" to print "{text}"',
             check, d, kinds=("pods",))


# -- Then: pods that wait for their storage ----------------------------------------------------
def _scheduling_message(pod: Obj) -> str:
    for cond in (pod.get("status") or {}).get("conditions") or ():
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return cond.get("message") or cond.get("reason") or ""
    return ""


@step("then", 'the pod of deployment "{name:Q}" stays Pending for {d:Duration}', any_keyword=True)
def deployment_pod_stays_pending(context: Any, name: str, d: float) -> None:
    """No pod of the deployment runs the whole time (e.g. its claim is missing).

    Example: Then the pod of deployment "db" stays Pending for 1 minute
    """
    driver = kk(context).driver

    def check() -> Observation:
        owner, pods = owner_pods(driver, "deployment", name)
        running = [p for p in pods if is_running(p)]
        why = "; ".join(sorted({_scheduling_message(p) for p in pods} - {""}))
        return Observation(owner is not None and bool(pods) and not running,
                           f"{pod_table(pods)}\n{why}".strip(), pods)

    hold_for(context, f'the pod of deployment "{name}" to stay Pending', check, d,
             kinds=("pods",))


@step("then", 'the pod of deployment "{name:Q}" is unschedulable because "{text:Q}" within {d:Duration}', any_keyword=True)
def deployment_pod_unschedulable(context: Any, name: str, text: str, d: float) -> None:
    """The deployment's pod is Pending and the scheduler's message (PodScheduled=False)
    contains the text.

    Example: Then the pod of deployment "db" is unschedulable because "not found" within 1 minute
    """
    driver = kk(context).driver

    def check() -> Observation:
        _, pods = owner_pods(driver, "deployment", name)
        messages = [_scheduling_message(p) for p in pods]
        return Observation(any(text in m for m in messages),
                           f"{pod_table(pods)}\nscheduler says: "
                           f"{'; '.join(m for m in messages if m) or 'nothing'}", pods)

    wait_for(context, f'the pod of deployment "{name}" to be unschedulable because "{text}"',
             check, d, kinds=("pods",))


# -- Then: stateful sets ---------------------------------------------------------------------
def _stateful_pods(driver: Any, name: str) -> tuple[Obj | None, list[Obj]]:
    return owner_pods(driver, "stateful set", name)


@step("then", 'stateful set "{name:Q}" has {n:N} ready pod(s) within {d:Duration}', any_keyword=True)
def stateful_set_ready(context: Any, name: str, n: int, d: float) -> None:
    """Eventually exactly n pods of the stateful set are Ready.

    Example: Then stateful set "web" has 3 ready pods within 2 minutes
    """
    driver = kk(context).driver

    def check() -> Observation:
        owner, pods = _stateful_pods(driver, name)
        if owner is None:
            return Observation(False, f'stateful set "{name}" does not exist')
        ready = [p for p in pods if is_ready(p) and not is_terminating(p)]
        return Observation(len(ready) == n and len(pods) == n,
                           f"{len(ready)} ready of {len(pods)}\n{pod_table(pods)}",
                           [owner, *pods])

    wait_for(context, f'stateful set "{name}" to have {n} ready pods', check, d,
             kinds=("pods", "statefulsets"))


@step("then", 'the pods of stateful set "{name:Q}" are named "{names:Q}"')
def stateful_pod_names(context: Any, name: str, names: str) -> None:
    """The stateful set's pods carry exactly these names (comma-separated).

    Example: Then the pods of stateful set "web" are named "web-0, web-1, web-2"
    """
    driver = kk(context).driver
    wanted = sorted(n.strip() for n in names.split(",") if n.strip())

    def check() -> Observation:
        _, pods = _stateful_pods(driver, name)
        seen = sorted(p["metadata"]["name"] for p in pods if not is_terminating(p))
        return Observation(seen == wanted, f"pods: {', '.join(seen) or 'none'}", pods)

    check_now(context, f"the pods to be {', '.join(wanted)}", check)


@step("then", 'the pods of stateful set "{name:Q}" started one after another in order')
def stateful_started_in_order(context: Any, name: str) -> None:
    """Each pod NAME-i was created only after NAME-(i-1) was Ready (OrderedReady).

    Example: Then the pods of stateful set "web" started one after another in order
    """
    driver = kk(context).driver

    def stamp(text: str | None) -> str:
        return text or ""

    def check() -> Observation:
        _, pods = _stateful_pods(driver, name)
        by_ordinal = sorted(pods, key=lambda p: int(p["metadata"]["name"].rsplit("-", 1)[1]))
        lines, ok = [], bool(by_ordinal)
        for before, after in zip(by_ordinal, by_ordinal[1:], strict=False):
            ready_at = next((c.get("lastTransitionTime") for c in
                             (before.get("status") or {}).get("conditions") or ()
                             if c.get("type") == "Ready" and c.get("status") == "True"), None)
            created = after["metadata"].get("creationTimestamp")
            good = ready_at is not None and stamp(created) >= stamp(ready_at)
            ok = ok and good
            lines.append(f'{after["metadata"]["name"]} created {created}; '
                         f'{before["metadata"]["name"]} ready since {ready_at}'
                         f'{"" if good else "  <- out of order"}')
        return Observation(ok, "\n".join(lines) or "no pods", pods)

    check_now(context, f'the pods of stateful set "{name}" to have started in order', check)


@step("then", 'pod "{pod:Q}" of stateful set "{name:Q}" keeps its claim within {d:Duration}', any_keyword=True)
def stateful_pod_keeps_claim(context: Any, pod: str, name: str, d: float) -> None:
    """The pod (again) runs and mounts the claim data-POD, bound to the same volume it was
    bound to when the step started.

    Example: Then pod "web-0" of stateful set "web" keeps its claim within 2 minutes
    """
    driver = kk(context).driver
    claim_name = f"data-{pod}"
    first = driver.get("persistentvolumeclaims", claim_name)
    volume = ((first or {}).get("spec") or {}).get("volumeName")
    if not volume:
        raise StepUsageError(f'claim "{claim_name}" is not bound to a volume yet')

    def check() -> Observation:
        current = driver.get("pods", pod)
        claim = driver.get("persistentvolumeclaims", claim_name)
        now_volume = ((claim or {}).get("spec") or {}).get("volumeName")
        mounts = [v.get("persistentVolumeClaim", {}).get("claimName")
                  for v in ((current or {}).get("spec") or {}).get("volumes") or ()]
        ok = current is not None and is_running(current) and claim_name in mounts \
            and now_volume == volume
        return Observation(ok, f'pod "{pod}" mounts {mounts}; claim "{claim_name}" → '
                               f'{now_volume} (was {volume})\n'
                               f'{pod_table([current] if current else [])}',
                           [o for o in (current, claim) if o])

    wait_for(context, f'pod "{pod}" to run again with claim "{claim_name}" on volume {volume}',
             check, d, kinds=("pods", "persistentvolumeclaims"))


@step("then", 'claims "{names:Q}" exist')
def claims_exist(context: Any, names: str) -> None:
    """Each of these claims (comma-separated) exists now.

    Example: Then claims "data-web-0, data-web-1, data-web-2" exist
    """
    driver = kk(context).driver
    wanted = [n.strip() for n in names.split(",") if n.strip()]

    def check() -> Observation:
        missing = [n for n in wanted if driver.get("persistentvolumeclaims", n) is None]
        return Observation(not missing, f"missing: {', '.join(missing)}" if missing
                           else "all exist")

    check_now(context, f"claims {', '.join(wanted)} to exist", check)


@step("then", 'in pod "{pod:Q}" the name "{name:Q}" resolves to the IP of pod "{target:Q}" within {d:Duration}', any_keyword=True)
def name_resolves_to_pod(context: Any, pod: str, name: str, target: str, d: float) -> None:
    """Inside the pod, DNS answers the name with the other pod's IP (per-pod DNS of a
    stateful set through its headless service; {namespace} allowed in the name).

    Example: Then in pod "web-0" the name "web-1.web.{namespace}.svc.cluster.local" resolves to the IP of pod "web-1" within 30 seconds
    """
    driver = kk(context).driver
    driver.require("exec", "looking a name up inside a pod")
    name = in_namespace(context, name)

    def check() -> Observation:
        other = driver.get("pods", target)
        ip = ((other or {}).get("status") or {}).get("podIP")
        result = driver.exec(pod, ["nslookup", name])
        found = nslookup_addresses(result.stdout) if result.exit_code == 0 else []
        return Observation(bool(ip) and ip in found,
                           f"pod {target} has IP {ip}; answers: {', '.join(found) or 'none'}"
                           f"\n{result.stdout}{result.stderr}")

    wait_for(context, f'"{name}" to resolve to the IP of pod "{target}"', check, d,
             kinds=("pods", "endpoints"))




# -- network-attached volumes and expansion ----------------------------------------------
NETWORK_CLASS = "network-attached StorageClass"
# Provisioners whose volumes live on one node's disk: never "network-attached".
LOCAL_PROVISIONERS = frozenset({
    "rancher.io/local-path", "kubernetes.io/no-provisioner", "hostpath.csi.k8s.io",
    "k8s.io/minikube-hostpath", "microk8s.io/hostpath", "openebs.io/local",
    "local.csi.openebs.io", "topolvm.io", "kubernetes.io/host-path"})


def _network_class(context: Any) -> Obj:
    return kk(context).remembered("network-attached StorageClass (say 'Given the cluster has "
                                  "a network-attached StorageClass' first)",
                                  kk(context).memo.get(NETWORK_CLASS))


@step("given", "the cluster has a network-attached StorageClass")
def has_network_class(context: Any) -> None:
    """A StorageClass whose volumes can be attached to any node (a CSI driver's, not a
    node's local disk): the one named by ``-D network_storage_class=NAME``, else the first
    non-default class (then the default) whose provisioner is not a local one. The scenario
    skips when there is none.

    Example: Given the cluster has a network-attached StorageClass
    """
    classes = kk(context).driver.list("storageclasses", "")
    wanted = getattr(getattr(context, "config", None), "userdata", {}).get(
        "network_storage_class")
    if wanted:
        found = [c for c in classes if c["metadata"]["name"] == wanted]
        if not found:
            raise NotSupported(f'no StorageClass "{wanted}" (named by network_storage_class)')
    else:
        found = sorted((c for c in classes if c.get("provisioner") not in LOCAL_PROVISIONERS),
                       key=lambda c: ((c["metadata"].get("annotations") or {}).get(
                           DEFAULT_CLASS) == "true", c["metadata"]["name"]))
        if not found:
            provisioners = sorted({c.get("provisioner", "") for c in classes})
            raise NotSupported("no network-attached StorageClass: every class provisions "
                               f"local volumes ({', '.join(provisioners) or 'no classes'})")
    kk(context).memo[NETWORK_CLASS] = found[0]


@step("given", "the network-attached StorageClass allows volume expansion")
def network_class_expands(context: Any) -> None:
    """The remembered network-attached class sets ``allowVolumeExpansion: true``; the
    scenario skips otherwise.

    Example: Given the network-attached StorageClass allows volume expansion
    """
    cls = _network_class(context)
    if not cls.get("allowVolumeExpansion"):
        raise NotSupported(f'StorageClass "{cls["metadata"]["name"]}" does not allow volume '
                           "expansion")


@step("given", 'a persistent volume claim "{name:Q}" of {size:Memory} on the network-attached StorageClass')
def a_network_claim(context: Any, name: str, size: str) -> None:
    """A ReadWriteOnce claim of the network-attached class found earlier.

    Example: Given a persistent volume claim "data" of 1Gi on the network-attached StorageClass
    """
    cls = _network_class(context)
    kk(context).driver.create(claim_manifest(name, size, cls["metadata"]["name"]))


def _pod_with_claim(name: str, image: str, claim: str, path: str) -> Obj:
    obj = mount_claim({"spec": {"template": {"spec": {"containers": [container_for(image)]}}}},
                      claim, path)
    return _with_env({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": name, "labels": {"app": name}},
                      "spec": obj["spec"]["template"]["spec"]}, image)


@step("given", 'a pod "{name:Q}" running "{image:Q}", mounting claim "{claim:Q}" at "{path:Q}"')
def a_pod_with_claim(context: Any, name: str, image: str, claim: str, path: str) -> None:
    """A single pod (no controller) that mounts the claim.

    Example: Given a pod "writer" running "busybox:1.36 sleep 3600", mounting claim "data" at "/data"
    """
    kk(context).driver.create(_pod_with_claim(name, image, claim, path))


@step("given", 'a pod "{name:Q}" running "{image:Q}", mounting claim "{claim:Q}" at "{path:Q}", on another node than pod "{other:Q}"')
def a_pod_with_claim_elsewhere(context: Any, name: str, image: str, claim: str, path: str,
                               other: str) -> None:
    """A pod that mounts the claim and must run on a different node than the other pod
    (a required node affinity on ``kubernetes.io/hostname``).

    Example: Given a pod "reader" running "busybox:1.36 sleep 3600", mounting claim "data" at "/data", on another node than pod "writer"
    """
    driver = kk(context).driver
    first = driver.get("pods", other)
    node = ((first or {}).get("spec") or {}).get("nodeName")
    if not node:
        raise StepUsageError(f'pod "{other}" is not on a node yet: wait for it to run first '
                             f'(e.g. Then pod "{other}" is running within 2 minutes)')
    others = [n["metadata"]["name"] for n in driver.list("nodes", "")
              if n["metadata"]["name"] != node and not (n.get("spec") or {}).get("unschedulable")
              and not any(t.get("effect") in ("NoSchedule", "NoExecute")
                          for t in (n.get("spec") or {}).get("taints") or ())]
    if not others:
        raise NotSupported(f'no schedulable node other than "{node}" (where pod "{other}" '
                           "runs): the scenario needs two")
    obj = _pod_with_claim(name, image, claim, path)
    obj["spec"]["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "NotIn", "values": [node]}]}]}}}
    driver.create(obj)


def _pod_events(driver: Any, name: str, reason: str) -> list[Obj]:
    return [e for e in driver.events()
            if (e.get("involvedObject") or {}).get("kind") == "Pod"
            and (e.get("involvedObject") or {}).get("name") == name
            and e.get("reason") == reason]


@step("then", 'pod "{name:Q}" waits with a Multi-Attach error within {d:Duration}', any_keyword=True)
def pod_multi_attach(context: Any, name: str, d: float) -> None:
    """Eventually the pod is still ContainerCreating and the attach/detach controller said
    its volume is attached to another node (FailedAttachVolume: ``Multi-Attach error for
    volume "pvc-…" Volume is already used by pod(s) …``).

    Example: Then pod "reader" waits with a Multi-Attach error within 1 minute
    """
    driver = kk(context).driver

    def check() -> Observation:
        pod = driver.get("pods", name)
        if pod is None:
            return Observation(False, f'pod "{name}" does not exist')
        events = [e for e in _pod_events(driver, name, "FailedAttachVolume")
                  if "Multi-Attach error for volume" in (e.get("message") or "")]
        why = (f'; FailedAttachVolume: {events[-1].get("message")}' if events
               else "; no Multi-Attach error event yet")
        return Observation(bool(events) and not is_running(pod), pod_table([pod]) + why, [pod])

    wait_for(context, f'pod "{name}" to wait with a Multi-Attach error', check, d,
             kinds=("pods", "events"))


@step("when", 'I resize claim "{name:Q}" to {size:Memory}')
def resize_claim(context: Any, name: str, size: str) -> None:
    """Ask for a new size: raise (or lower) the claim's ``spec.resources.requests.storage``.

    Example: When I resize claim "data" to 2Gi
    """
    kk(context).driver.patch("persistentvolumeclaims", name,
                             {"spec": {"resources": {"requests": {"storage": size}}}})


@step("then", 'claim "{name:Q}" is resized to {size:Memory} within {d:Duration}', any_keyword=True)
def claim_resized(context: Any, name: str, size: str, d: float) -> None:
    """Eventually the claim's ``status.capacity`` is the size and no resize condition
    (Resizing, FileSystemResizePending) is left: the volume and its filesystem grew.

    Example: Then claim "data" is resized to 2Gi within 2 minutes
    """
    driver = kk(context).driver
    want = parse_quantity(size)

    def check() -> Observation:
        claim, seen = _claim_seen(driver, name)
        if claim is None:
            return Observation(False, seen)
        status = claim.get("status") or {}
        have = (status.get("capacity") or {}).get("storage")
        conditions = [c.get("type") for c in status.get("conditions") or ()
                      if c.get("status") == "True"]
        ok = have is not None and parse_quantity(have) == want and not (
            {"Resizing", "FileSystemResizePending"} & set(conditions))
        return Observation(ok, f"{seen}; capacity {have}; conditions {conditions or 'none'}",
                           [claim])

    wait_for(context, f'claim "{name}" to be resized to {size}', check, d,
             kinds=("persistentvolumeclaims", "events"))


@step("then", 'resizing claim "{name:Q}" to {size:Memory} is refused with "{text:Q}"')
def resize_refused(context: Any, name: str, size: str, text: str) -> None:
    """The API server refuses the new size, with the text in its message (e.g. shrinking:
    ``field can not be less than status.capacity``).

    Example: Then resizing claim "data" to 1Gi is refused with "can not be less than status.capacity"
    """
    driver = kk(context).driver

    def check() -> Observation:
        try:
            driver.patch("persistentvolumeclaims", name,
                         {"spec": {"resources": {"requests": {"storage": size}}}})
        except ApiError as exc:
            return Observation(text in str(exc), f"refused: {exc}")
        return Observation(False, f'claim "{name}" was resized to {size}: not refused')

    check_now(context, f'resizing claim "{name}" to {size} to be refused with "{text}"', check)
