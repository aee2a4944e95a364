"""Steps about elastic scaling with the load: what requests cost, the HorizontalPodAutoscaler,
and what metrics-server reports (CPU and memory use, OOMKilled containers).

An autoscaler acts on the resource metrics API (metrics.k8s.io, served by metrics-server):
a cluster without it cannot autoscale, so the steps that need it skip the scenario with
that reason. A request's cost is the workload's own on a real cluster: upstream's HPA e2e
tests use resource-consumer, which burns what each ``POST /ConsumeCPU?millicores=M&
durationSec=S`` asks, so for that image the load asks for the cost and every target
agrees. Any other image is told its cost with the simulator's ``kclusterkit.io/
request-cpu`` / ``request-duration`` annotations (README, "Resource use in the simulator"),
which a real cluster ignores, so those steps skip there. A failed autoscaling wait shows
the autoscaler's status, conditions, the metrics it saw and its events.
"""

# ruff: noqa: E501  (a step's Example must stay on one line: the catalog prints it as is)
from __future__ import annotations

from typing import Any

from kclusterkit.driver import Observation
from kclusterkit.errors import NotSupported
from kclusterkit.kube.quantity import cpu_millis, memory_bytes
from kclusterkit.steps._autoscaler import CONSUMER_COSTS, describe_hpa
from kclusterkit.steps._support import (
    Obj,
    StepUsageError,
    check_now,
    is_ready,
    is_terminating,
    kk,
    not_found,
    owner_pods,
    plural,
    pod_table,
    step,
    wait_for,
)
from kclusterkit.steps.workloads import workload

REQUEST_CPU = "kclusterkit.io/request-cpu"
REQUEST_DURATION = "kclusterkit.io/request-duration"
MEMORY_GROWTH = "kclusterkit.io/memory-growth"
HPA_KINDS = ("horizontalpodautoscalers", "deployments", "pods")


# -- preflight ----------------------------------------------------------------------------
def require_metrics(context: Any) -> None:
    """Skip the scenario unless the cluster serves metrics.k8s.io (once per scenario)."""
    state = kk(context)
    if state.memo.get("metrics-served"):
        return
    try:
        state.driver.resource_metrics("nodes")
    except NotSupported as exc:
        raise NotSupported(f"autoscaling needs the resource metrics API: {exc}") from None
    state.memo["metrics-served"] = True


def _annotate(context: Any, name: str, annotations: dict[str, str]) -> None:
    driver = kk(context).driver
    if driver.get("deployments", name) is None:
        raise StepUsageError(f'deployment "{name}" does not exist')
    driver.patch("deployments", name, {"metadata": {"annotations": annotations}})


def _simulated_only(context: Any, what: str) -> None:
    """What a workload costs is its own on a real cluster: the simulator's annotations
    change nothing there, so a scenario that relies on them is skipped with that reason."""
    if kk(context).driver.seed is None:
        raise NotSupported(f"{what} is set with the simulator's kclusterkit.io annotations; "
                           "on a real cluster the workload's own behaviour decides it")


def _seconds_text(seconds: float) -> str:
    return f"{seconds:g}s"


# -- Given: what the workload costs ------------------------------------------------------
@step("given", 'each request to "{name:Q}" costs {cpu:Cpu} CPU for {d:Duration}')
def request_costs(context: Any, name: str, cpu: str, d: float) -> None:
    """Each request the deployment's pods serve keeps this much CPU busy for this long.
    A resource-consumer workload is asked for it by the load (POST /ConsumeCPU), on any
    cluster; any other image is told with the simulator's annotation (skipped on a real
    cluster, where a workload's cost is its own).

    Example: Given each request to "api" costs 5m CPU for 1 second
    """
    if d <= 0:
        raise StepUsageError("a request's CPU cost needs a duration above zero")
    if _runs_resource_consumer(context, name):
        _consumer_cost(context, name, cpu, d)
        return
    _simulated_only(context, "a request's CPU cost")
    _annotate(context, name, {REQUEST_CPU: cpu, REQUEST_DURATION: _seconds_text(d)})


def _runs_resource_consumer(context: Any, name: str) -> bool:
    deployment = kk(context).driver.get("deployments", name)
    containers = (((deployment or {}).get("spec") or {}).get("template") or {}).get(
        "spec", {}).get("containers") or []
    return any("/resource-consumer:" in (c.get("image") or "") or
               (c.get("image") or "").startswith("resource-consumer:") for c in containers)


def _consumer_cost(context: Any, name: str, cpu: str, d: float) -> None:
    """resource-consumer burns what each request asks (``POST /ConsumeCPU``), on a real
    cluster as in the simulator: the load on the service will ask for this cost (whole
    millicores and seconds, as its handler's Atoi wants)."""
    millicores = cpu_millis(cpu)
    if millicores < 1 or d != int(d):
        raise StepUsageError(f"resource-consumer takes whole millicores and seconds: "
                             f"{cpu} CPU for {d:g}s cannot be asked of it")
    kk(context).memo.setdefault(CONSUMER_COSTS, {})[name] = (millicores, int(d))


@step("given", 'the memory of deployment "{name:Q}" grows by {memory:Memory} per second')
def memory_grows(context: Any, name: str, memory: str) -> None:
    """The deployment's containers leak memory at this rate (the simulator's annotation on
    the Deployment), until their memory limit kills them.

    Example: Given the memory of deployment "leaky" grows by 2Mi per second
    """
    _simulated_only(context, "a memory leak on cue")
    _annotate(context, name, {MEMORY_GROWTH: memory})


@step("given", 'a deployment "{name:Q}" running "{image:Q}" with {n:N} replica(s) limited to {memory:Memory} memory')
def a_deployment_limited(context: Any, name: str, image: str, n: int, memory: str) -> None:
    """A deployment whose containers request and are limited to this much memory.

    Example: Given a deployment "leaky" running "agnhost:2.53 netexec" with 1 replica limited to 64Mi memory
    """
    manifest = workload("Deployment", name, image, n, memory=memory)
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    container["resources"]["limits"] = {"memory": memory}
    kk(context).driver.create(manifest)


# -- Given: the autoscaler ---------------------------------------------------------------
def _hpa(name: str, low: int, high: int, metrics: list[Obj]) -> Obj:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                        "name": name},
                     "minReplicas": low, "maxReplicas": high, "metrics": metrics}}


def _utilization(resource: str, percent: int) -> Obj:
    if percent <= 0:
        raise StepUsageError(f"a {resource} target must be above 0%, got {percent}%")
    return {"type": "Resource", "resource": {"name": resource, "target": {
        "type": "Utilization", "averageUtilization": percent}}}


def _autoscale(context: Any, name: str, low: int, high: int, metrics: list[Obj]) -> None:
    if low < 1 or high < low:
        raise StepUsageError(f"autoscaling needs 1 <= minimum <= maximum, got {low} and {high}")
    require_metrics(context)
    state = kk(context)
    state.driver.create(_hpa(name, low, high, metrics))
    state.memo.setdefault("autoscaled", set()).add(name)


@step("given", 'deployment "{name:Q}" is autoscaled between {low:N} and {high:N} replicas at {cpu:N}% CPU')
def autoscaled_cpu(context: Any, name: str, low: int, high: int, cpu: int) -> None:
    """A HorizontalPodAutoscaler (autoscaling/v2) keeps the deployment between the two
    counts, aiming at this average CPU use as a share of the pods' requests.

    Example: Given deployment "api" is autoscaled between 2 and 10 replicas at 50% CPU
    """
    _autoscale(context, name, low, high, [_utilization("cpu", cpu)])


@step("given", 'deployment "{name:Q}" is autoscaled between {low:N} and {high:N} replicas at {cpu:N}% CPU and {memory:N}% memory')
def autoscaled_cpu_memory(context: Any, name: str, low: int, high: int, cpu: int,
                          memory: int) -> None:
    """The same on two metrics: the higher replica count of the two wins.

    Example: Given deployment "api" is autoscaled between 2 and 10 replicas at 50% CPU and 80% memory
    """
    _autoscale(context, name, low, high, [_utilization("cpu", cpu),
                                          _utilization("memory", memory)])


@step("given", 'deployment "{name:Q}" is autoscaled between {low:N} and {high:N} replicas at {memory:Memory} memory per pod')
def autoscaled_memory_value(context: Any, name: str, low: int, high: int, memory: str) -> None:
    """An autoscaler aiming at an average memory use per pod (an AverageValue target).

    Example: Given deployment "cache" is autoscaled between 1 and 5 replicas at 200Mi memory per pod
    """
    _autoscale(context, name, low, high, [{"type": "Resource", "resource": {
        "name": "memory", "target": {"type": "AverageValue", "averageValue": memory}}}])


def _pods_check(context: Any, name: str, wanted: Any, words: str) -> Any:
    driver = kk(context).driver

    def check() -> Observation:
        owner, pods = owner_pods(driver, "deployment", name)
        if owner is None:
            return not_found("deployment", name)
        ready = [p for p in pods if is_ready(p) and not is_terminating(p)]
        hpa = driver.get("horizontalpodautoscalers", name)
        ok = wanted(len(ready))
        seen = (f'{len(ready)} of {plural(len(pods), "pod")} of deployment "{name}" ready '
                f'(wants {words}; spec.replicas={(owner.get("spec") or {}).get("replicas")})\n'
                f"{pod_table(pods)}")
        if not ok:  # the autoscaler's story (its events too) is for a failure's message
            seen += "\n" + describe_hpa(driver, hpa, name)
        return Observation(ok, seen, [owner, *pods, *([hpa] if hpa else [])])

    return check


# -- Then -----------------------------------------------------------------------------------
@step("then", 'deployment "{name:Q}" has at most {n:N} ready pod(s) within {d:Duration}', any_keyword=True)
def at_most_ready(context: Any, name: str, n: int, d: float) -> None:
    """Eventually no more than n pods of the deployment are Ready (with the autoscaler's
    view when the wait fails).

    Example: Then deployment "api" has at most 3 ready pods within 10 minutes
    """
    wait_for(context, f'deployment "{name}" to have at most {plural(n, "ready pod")}',
             _pods_check(context, name, lambda r: r <= n, f"at most {n} ready"), d,
             kinds=HPA_KINDS)


@step("then", 'deployment "{name:Q}" stays between {low:N} and {high:N} ready pods for {d:Duration}', any_keyword=True)
def stays_between(context: Any, name: str, low: int, high: int, d: float) -> None:
    """The deployment keeps between low and high Ready pods the whole time.

    Example: Then deployment "api" stays between 2 and 3 ready pods for 2 minutes
    """
    from kclusterkit.steps._support import hold_for

    hold_for(context, f'deployment "{name}" to keep between {low} and {high} ready pods',
             _pods_check(context, name, lambda r: low <= r <= high,
                         f"between {low} and {high} ready"), d, kinds=HPA_KINDS)


@step("then", 'the autoscaler of deployment "{name:Q}" wants {n:N} replica(s) within {d:Duration}', any_keyword=True)
def autoscaler_wants(context: Any, name: str, n: int, d: float) -> None:
    """Eventually the autoscaler's desired replica count is n.

    Example: Then the autoscaler of deployment "api" wants 4 replicas within 2 minutes
    """
    driver = kk(context).driver

    def check() -> Observation:
        hpa = driver.get("horizontalpodautoscalers", name)
        desired = ((hpa or {}).get("status") or {}).get("desiredReplicas")
        return Observation(desired == n, describe_hpa(driver, hpa, name), [hpa] if hpa else [])

    wait_for(context, f'the autoscaler of deployment "{name}" to want {plural(n, "replica")}',
             check, d, kinds=("horizontalpodautoscalers",))


@step("then", 'the autoscaler of deployment "{name:Q}" is limited by its maximum within {d:Duration}', any_keyword=True)
def autoscaler_limited(context: Any, name: str, d: float) -> None:
    """Eventually the autoscaler says it would go higher than its maximum
    (ScalingLimited=True, TooManyReplicas).

    Example: Then the autoscaler of deployment "api" is limited by its maximum within 3 minutes
    """
    driver = kk(context).driver

    def check() -> Observation:
        hpa = driver.get("horizontalpodautoscalers", name)
        limited = next((c for c in ((hpa or {}).get("status") or {}).get("conditions") or []
                        if c.get("type") == "ScalingLimited"), {})
        ok = limited.get("status") == "True" and limited.get("reason") == "TooManyReplicas"
        return Observation(ok, describe_hpa(driver, hpa, name), [hpa] if hpa else [])

    wait_for(context, f'the autoscaler of deployment "{name}" to be held at its maximum',
             check, d, kinds=("horizontalpodautoscalers",))


def _usage_table(metrics: list[Obj]) -> str:
    if not metrics:
        return "  (no pod metrics yet: metrics-server reports a pod after two scrapes)"
    return "\n".join(f"  {m['metadata']['name']}: " + ", ".join(
        f"{c['name']} cpu {c['usage'].get('cpu')} memory {c['usage'].get('memory')}"
        for c in m.get("containers") or []) for m in metrics)


@step("then", 'a pod of deployment "{name:Q}" uses more than {cpu:Cpu} CPU within {d:Duration}', any_keyword=True)
def pod_cpu_above(context: Any, name: str, cpu: str, d: float) -> None:
    """Eventually metrics-server reports a pod of the deployment using more CPU than this
    (remembered as "that pod").

    Example: Then a pod of deployment "api" uses more than 40m CPU within 2 minutes
    """
    require_metrics(context)
    state = kk(context)
    driver = state.driver
    limit = cpu_millis(cpu)
    found: list[str] = []

    def check() -> Observation:
        _, pods = owner_pods(driver, "deployment", name)
        names = {p["metadata"]["name"] for p in pods}
        metrics = [m for m in driver.resource_metrics("pods") if m["metadata"]["name"] in names]
        over = [m["metadata"]["name"] for m in metrics
                if sum(cpu_millis(c["usage"].get("cpu", "0")) for c in m["containers"]) > limit]
        found[:] = over
        return Observation(bool(over), f'CPU use of the pods of deployment "{name}":\n'
                           f"{_usage_table(metrics)}", pods)

    wait_for(context, f'a pod of deployment "{name}" to use more than {cpu} CPU', check, d,
             kinds=("pods",))
    _remember_pod(context, found[0])


@step("then", 'pod "{name:Q}" uses more than {cpu:Cpu} CPU within {d:Duration}', any_keyword=True)
def named_pod_cpu_above(context: Any, name: str, cpu: str, d: float) -> None:
    """Eventually metrics-server reports the pod using more CPU than this (all its
    containers together).

    Example: Then pod "worker" uses more than 200m CPU within 1 minute
    """
    require_metrics(context)
    driver = kk(context).driver
    limit = cpu_millis(cpu)

    def check() -> Observation:
        pod = driver.get("pods", name)
        if pod is None:
            return Observation(False, f'pod "{name}" does not exist')
        metrics = [m for m in driver.resource_metrics("pods") if m["metadata"]["name"] == name]
        used = sum(cpu_millis(c["usage"].get("cpu", "0")) for m in metrics
                   for c in m["containers"])
        return Observation(bool(metrics) and used > limit,
                           f'CPU use of pod "{name}":\n{_usage_table(metrics)}', [pod])

    wait_for(context, f'pod "{name}" to use more than {cpu} CPU', check, d, kinds=("pods",))


@step("then", 'every pod of deployment "{name:Q}" uses less than {cpu:Cpu} CPU within {d:Duration}', any_keyword=True)
def pods_cpu_below(context: Any, name: str, cpu: str, d: float) -> None:
    """Eventually metrics-server reports every pod of the deployment under this CPU use.

    Example: Then every pod of deployment "api" uses less than 10m CPU within 2 minutes
    """
    require_metrics(context)
    driver = kk(context).driver
    limit = cpu_millis(cpu)

    def check() -> Observation:
        _, pods = owner_pods(driver, "deployment", name)
        names = {p["metadata"]["name"] for p in pods}
        metrics = [m for m in driver.resource_metrics("pods") if m["metadata"]["name"] in names]
        ok = bool(metrics) and all(
            sum(cpu_millis(c["usage"].get("cpu", "0")) for c in m["containers"]) < limit
            for m in metrics)
        return Observation(ok, f'CPU use of the pods of deployment "{name}":\n'
                           f"{_usage_table(metrics)}", pods)

    wait_for(context, f'every pod of deployment "{name}" to use less than {cpu} CPU', check, d,
             kinds=("pods",))


@step("then", 'a pod of deployment "{name:Q}" uses more than {memory:Memory} memory within {d:Duration}', any_keyword=True)
def pod_memory_above(context: Any, name: str, memory: str, d: float) -> None:
    """Eventually metrics-server reports a pod of the deployment using more memory than
    this (remembered as "that pod").

    Example: Then a pod of deployment "leaky" uses more than 32Mi memory within 1 minute
    """
    require_metrics(context)
    driver = kk(context).driver
    limit = memory_bytes(memory)
    found: list[str] = []

    def check() -> Observation:
        _, pods = owner_pods(driver, "deployment", name)
        names = {p["metadata"]["name"] for p in pods}
        metrics = [m for m in driver.resource_metrics("pods") if m["metadata"]["name"] in names]
        over = [m["metadata"]["name"] for m in metrics
                if sum(memory_bytes(c["usage"].get("memory", "0")) for c in m["containers"])
                > limit]
        found[:] = over
        return Observation(bool(over), f'memory use of the pods of deployment "{name}":\n'
                           f"{_usage_table(metrics)}", pods)

    wait_for(context, f'a pod of deployment "{name}" to use more than {memory} memory', check,
             d, kinds=("pods",))
    _remember_pod(context, found[0])


def _remember_pod(context: Any, pod_name: str) -> None:
    from kclusterkit.steps._support import Ref

    state = kk(context)
    pod = state.driver.get("pods", pod_name) or {"metadata": {}}
    state.that_pod = Ref("pod", pod_name, pod["metadata"].get("uid", ""),
                         pod["metadata"].get("namespace"))


def _oom_killed(pod: Obj) -> bool:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        for state in ((status.get("state") or {}), (status.get("lastState") or {})):
            if (state.get("terminated") or {}).get("reason") == "OOMKilled":
                return True
    return False


@step("then", 'the container of a pod of deployment "{name:Q}" is OOMKilled within {d:Duration}', any_keyword=True)
def container_oom_killed(context: Any, name: str, d: float) -> None:
    """Eventually a container of the deployment's pods was killed for going over its memory
    limit (reason OOMKilled, exit code 137; remembered as "that pod").

    Example: Then the container of a pod of deployment "leaky" is OOMKilled within 2 minutes
    """
    driver = kk(context).driver
    found: list[str] = []

    def check() -> Observation:
        owner, pods = owner_pods(driver, "deployment", name)
        if owner is None:
            return not_found("deployment", name)
        killed = [p["metadata"]["name"] for p in pods if _oom_killed(p)]
        found[:] = killed
        return Observation(bool(killed), f'pods of deployment "{name}":\n{pod_table(pods)}',
                           [owner, *pods])

    wait_for(context, f'a container of deployment "{name}" to be OOMKilled', check, d,
             kinds=("pods",))
    _remember_pod(context, found[0])


@step("then", "that pod's container was OOMKilled with exit code 137")
def that_pod_oom_exit(context: Any) -> None:
    """The remembered pod's container last ended OOMKilled with exit code 137 (128 + SIGKILL).

    Example: Then that pod's container was OOMKilled with exit code 137
    """
    state = kk(context)
    ref = state.remembered("pod referred to as 'that pod'", state.that_pod)

    def check() -> Observation:
        pod = state.driver.get("pods", ref.name)
        if pod is None:
            return Observation(False, f'pod "{ref.name}" no longer exists')
        ends = []
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            for key in ("state", "lastState"):
                term = (status.get(key) or {}).get("terminated")
                if term:
                    ends.append((term.get("reason"), term.get("exitCode")))
        return Observation(("OOMKilled", 137) in ends,
                           f'pod "{ref.name}" container ends: {ends or "none"}', [pod])

    check_now(context, "that pod's container to have been OOMKilled with exit code 137", check)
