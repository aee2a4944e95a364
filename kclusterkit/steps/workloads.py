"""Steps that create workloads and look at their pods.

Creating is Given (the scenario owns what it creates); looking is Then with the time said
out loud. A workload's pods are the pods its selector picks, as ``kubectl`` counts them;
pods being deleted (Terminating) never count as ready.
"""

# ruff: noqa: E501  (a step's Example must stay on one line: the catalog prints it as is)
from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

import yaml

from kclusterkit import safe_yaml
from kclusterkit.driver import Observation
from kclusterkit.steps._autoscaler import autoscaler_kinds, autoscaler_note, autoscaler_objects
from kclusterkit.steps._support import (
    Obj,
    StepUsageError,
    condition,
    hold_for,
    is_ready,
    is_terminating,
    kk,
    not_found,
    owner_pods,
    plural,
    pod_table,
    step,
    wait_for,
    worker_nodes,
)

# -- building manifests ---------------------------------------------------------------
# Test images that live outside Docker Hub, by the short name specs use. "agnhost:2.53"
# pulls nothing on a real cluster (there is no docker.io/library/agnhost); the simulator
# knows both spellings, so expanding here keeps one feature file good for both.
SHORT_IMAGES = {"agnhost": "registry.k8s.io/e2e-test-images/agnhost",
                "resource-consumer": "registry.k8s.io/e2e-test-images/resource-consumer"}


def full_image(image: str) -> str:
    """``agnhost:2.53`` → ``registry.k8s.io/e2e-test-images/agnhost:2.53``; others as given."""
    if "/" in image:
        return image
    repository, sep, tag = image.partition(":")
    if repository in SHORT_IMAGES:
        return SHORT_IMAGES[repository] + sep + tag
    return image


def container_for(image_text: str, cpu: str | None = None, memory: str | None = None) -> Obj:
    """``"busybox:1.36 sh -c 'exit 1'"`` → image plus args (args replace the image's CMD,
    as ``kubectl run IMAGE -- ARGS`` does; an image's ENTRYPOINT, like agnhost's, stays)."""
    try:
        words = shlex.split(image_text)
    except ValueError as exc:
        raise StepUsageError(f'cannot read "{image_text}" as an image and arguments: {exc}'
                             ) from None
    if not words:
        raise StepUsageError("an image is needed, e.g. \"nginx:1.25\"")
    image, args = full_image(words[0]), words[1:]
    name = image.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0] or "main"
    container: Obj = {"name": name, "image": image}
    if args:
        container["args"] = args
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    if requests:
        container["resources"] = {"requests": requests}
    return container


def workload(kind: str, name: str, image_text: str, replicas: int, cpu: str | None = None,
             memory: str | None = None) -> Obj:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"containers": [container_for(image_text, cpu, memory)]},
            },
        },
    }


# -- Given: workloads ------------------------------------------------------------------
@step("given", 'a deployment "{name:Q}" running "{image:Q}" with {n:N} replica(s)')
def a_deployment(context: Any, name: str, image: str, n: int) -> None:
    """A deployment of n pods running an image (words after the image are its arguments).

    Example: Given a deployment "web" running "nginx:1.25" with 3 replicas
    """
    kk(context).driver.create(workload("Deployment", name, image, n))


@step("given", 'a deployment "{name:Q}" running "{image:Q}" with {n:N} replica(s) '
      "requesting {cpu:Cpu} CPU")
def a_deployment_requesting_cpu(context: Any, name: str, image: str, n: int, cpu: str) -> None:
    """A deployment whose pods each request this much CPU (what the scheduler counts).

    Example: Given a deployment "big" running "nginx:1.25" with 4 replicas requesting 1500m CPU
    """
    kk(context).driver.create(workload("Deployment", name, image, n, cpu=cpu))


def _millicores(quantity: object) -> int:
    text = str(quantity)
    return int(text[:-1]) if text.endswith("m") else int(float(text) * 1000)


def most_of_a_worker(driver: Any) -> str:
    """60% of the CPU the largest schedulable worker can give: one such pod fits on a worker,
    two never do, whatever the nodes' size — so a spec about room runs on any cluster."""
    workers = [n for n in worker_nodes(driver) if not (n.get("spec") or {}).get("unschedulable")]
    if not workers:
        raise StepUsageError("the cluster has no schedulable worker node to size the pods by")
    largest = max(_millicores((w.get("status") or {}).get("allocatable", {}).get("cpu", "0"))
                  for w in workers)
    return f"{largest * 6 // 10}m"


@step("given", 'a deployment "{name:Q}" running "{image:Q}" with {n:N} replica(s) '
      "each requesting most of a worker node's CPU")
def a_deployment_requesting_most_of_a_worker(context: Any, name: str, image: str,
                                             n: int) -> None:
    """A deployment whose pods each request 60% of a worker's CPU: one fits per worker.

    Example: Given a deployment "big" running "nginx:1.25" with 4 replicas each requesting most of a worker node's CPU
    """
    driver = kk(context).driver
    driver.create(workload("Deployment", name, image, n, cpu=most_of_a_worker(driver)))


@step("given", 'a deployment "{name:Q}" running "{image:Q}" with {n:N} replica(s) '
      "requesting {cpu:Cpu} CPU and {memory:Memory} memory")
def a_deployment_requesting(context: Any, name: str, image: str, n: int, cpu: str,
                            memory: str) -> None:
    """A deployment whose pods each request this much CPU and memory.

    Example: Given a deployment "api" running "nginx:1.25" with 2 replicas requesting 250m CPU and 256Mi memory
    """
    kk(context).driver.create(workload("Deployment", name, image, n, cpu=cpu, memory=memory))


@step("given", 'a replica set "{name:Q}" running "{image:Q}" with {n:N} replica(s)')
def a_replica_set(context: Any, name: str, image: str, n: int) -> None:
    """A bare ReplicaSet (no deployment above it) of n pods.

    Example: Given a replica set "cache" running "nginx:1.25" with 2 replicas
    """
    kk(context).driver.create(workload("ReplicaSet", name, image, n))


@step("given", 'a pod "{name:Q}" running "{image:Q}"')
def a_pod(context: Any, name: str, image: str) -> None:
    """A single pod with no controller: nothing replaces it.

    Example: Given a pod "client" running "busybox:1.36 sleep 3600"
    """
    kk(context).driver.create({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"containers": [container_for(image)]},
    })


def _manifests(context: Any) -> list[Obj]:
    text = context.text or ""
    try:
        docs = [doc for doc in safe_yaml.load_all(text) if doc is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _doc_string_location(context, mark.line if mark is not None else None)
        problem = exc.problem or exc.context or "invalid YAML"
        raise StepUsageError(f"{where}: the YAML doc-string is not valid YAML: {problem}"
                             ) from None
    if not docs:
        raise StepUsageError(f"{_doc_string_location(context, None)}: the step needs a YAML "
                             'manifest in a doc-string (between """ lines)')
    for doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
            raise StepUsageError(f"{_doc_string_location(context, None)}: every YAML document "
                                 "must be a Kubernetes object with apiVersion and kind")
    return docs


def _doc_string_location(context: Any, yaml_line: int | None) -> str:
    """``features/x.feature:12``: the feature line of the doc-string (or of its bad line)."""
    state = getattr(context, "kk", None)
    filename, step_line = (state.step_location if state and state.step_location
                           else ("<feature>", 0))
    # behave's Text.line is the line of the opening """; the YAML starts on the next one
    text_line = getattr(context.text, "line", 0) or step_line + 1
    if yaml_line is not None:
        return f"{filename}:{text_line + 1 + yaml_line}"
    return f"{filename}:{text_line}"


@step("given", "the following deployment:")
def the_following_deployment(context: Any) -> None:
    """A deployment written out as a YAML manifest in a doc-string.

    Example: Given the following deployment:
    """
    docs = _manifests(context)
    if len(docs) != 1 or docs[0].get("kind") != "Deployment":
        raise StepUsageError("'the following deployment:' takes exactly one Deployment; "
                             "use 'these objects:' for several")
    kk(context).driver.create(docs[0])


@step("given", "these objects:")
def these_objects(context: Any) -> None:
    """Any objects, as YAML documents (separated by ---) in a doc-string.

    Example: Given these objects:
    """
    driver = kk(context).driver
    for doc in _manifests(context):
        driver.create(doc)


# -- Then: what the pods look like -------------------------------------------------------
def _count(pods: list[Obj]) -> tuple[list[Obj], list[Obj]]:
    live = [p for p in pods if not is_terminating(p)]
    return live, [p for p in live if is_ready(p)]


def ready_pods_check(context: Any, kind_word: str, name: str,
                     predicate: Callable[[int, int], bool], wanted: str,
                     avoid_node: str | None = None) -> Callable[[], Observation]:
    driver = kk(context).driver

    def check() -> Observation:
        owner, pods = owner_pods(driver, kind_word, name)
        if owner is None:
            return not_found(kind_word, name)
        live, ready = _count(pods)
        desired = (owner.get("spec") or {}).get("replicas")
        ok = predicate(len(ready), len(live))
        note = ""
        if avoid_node is not None:
            on_node = [p["metadata"]["name"] for p in live
                       if (p.get("spec") or {}).get("nodeName") == avoid_node]
            ok = ok and not on_node
            note = (f", {len(on_node)} on node \"{avoid_node}\"" if on_node
                    else f", none on node \"{avoid_node}\"")
        seen = (f'{len(ready)} ready of {plural(len(live), "pod")} of {kind_word} "{name}" '
                f"(wants {wanted}; spec.replicas={desired}){note}\n{pod_table(pods)}"
                f"{autoscaler_note(context, kind_word, name) if not ok else ''}")
        return Observation(ok, seen, [owner, *pods, *autoscaler_objects(context, kind_word, name)])

    return check


@step("then", 'deployment "{name:Q}" has {n:N} ready pod(s) within {d:Duration}',
      any_keyword=True)
def deployment_has_ready_pods(context: Any, name: str, n: int, d: float) -> None:
    """Eventually exactly n pods of the deployment are Ready (terminating pods not counted).

    Example: Then deployment "web" has 3 ready pods within 30 seconds
    """
    wait_for(context, f'deployment "{name}" to have {plural(n, "ready pod")}',
             ready_pods_check(context, "deployment", name, lambda r, _: r == n, f"{n} ready"),
             d, kinds=autoscaler_kinds(context, name, ("pods", "deployments")))


@step("then", 'deployment "{name:Q}" has at least {n:N} ready pod(s) within {d:Duration}',
      any_keyword=True)
def deployment_has_at_least(context: Any, name: str, n: int, d: float) -> None:
    """Eventually n or more pods of the deployment are Ready.

    Example: Then deployment "api" has at least 6 ready pods within 3 minutes
    """
    wait_for(context, f'deployment "{name}" to have at least {plural(n, "ready pod")}',
             ready_pods_check(context, "deployment", name, lambda r, _: r >= n,
                              f"at least {n} ready"),
             d, kinds=autoscaler_kinds(context, name, ("pods", "deployments")))


@step("then", 'deployment "{name:Q}" has {n:N} pod(s) within {d:Duration}', any_keyword=True)
def deployment_has_pods(context: Any, name: str, n: int, d: float) -> None:
    """Eventually exactly n pods of the deployment exist, ready or not (terminating ones
    count until they are gone).

    Example: Then deployment "web" has 0 pods within 1 minute
    """
    driver = kk(context).driver

    def check() -> Observation:
        owner, pods = owner_pods(driver, "deployment", name)
        if owner is None:
            return not_found("deployment", name)
        ok = len(pods) == n
        return Observation(ok,
                           f'{plural(len(pods), "pod")} of deployment "{name}" '
                           f'{"exists" if len(pods) == 1 else "exist"}\n{pod_table(pods)}'
                           f'{autoscaler_note(context, "deployment", name) if not ok else ""}',
                           [owner, *pods, *autoscaler_objects(context, "deployment", name)])

    wait_for(context, f'deployment "{name}" to have {plural(n, "pod")}', check, d,
             kinds=autoscaler_kinds(context, name, ("pods", "deployments")))


@step("then", 'deployment "{name:Q}" has {n:N} ready pod(s) for {d:Duration}',
      any_keyword=True)
def deployment_keeps_ready_pods(context: Any, name: str, n: int, d: float) -> None:
    """Exactly n pods of the deployment stay Ready the whole time.

    Example: Then deployment "web" has 3 ready pods for 2 minutes
    """
    hold_for(context, f'deployment "{name}" to have {plural(n, "ready pod")}',
             ready_pods_check(context, "deployment", name, lambda r, _: r == n, f"{n} ready"),
             d, kinds=autoscaler_kinds(context, name, ("pods", "deployments")))


@step("then", 'replica set "{name:Q}" has {n:N} ready pod(s) within {d:Duration}',
      any_keyword=True)
def replica_set_has_ready_pods(context: Any, name: str, n: int, d: float) -> None:
    """Eventually exactly n pods of the replica set are Ready.

    Example: Then replica set "cache" has 2 ready pods within 30 seconds
    """
    wait_for(context, f'replica set "{name}" to have {plural(n, "ready pod")}',
             ready_pods_check(context, "replica set", name, lambda r, _: r == n, f"{n} ready"),
             d, kinds=("pods", "replicasets"))


@step("then", 'deployment "{name:Q}" is available within {d:Duration}', any_keyword=True)
def deployment_is_available(context: Any, name: str, d: float) -> None:
    """Eventually the deployment is Available with every replica updated and available.

    Example: And deployment "web" is available within 1 minute
    """
    driver = kk(context).driver

    def check() -> Observation:
        owner, pods = owner_pods(driver, "deployment", name)
        if owner is None:
            return not_found("deployment", name)
        spec, status = owner.get("spec") or {}, owner.get("status") or {}
        wanted = spec.get("replicas", 1)
        available = condition(owner, "Available")
        ok = bool(available and available.get("status") == "True"
                  and status.get("availableReplicas", 0) == wanted
                  and status.get("updatedReplicas", 0) == wanted
                  and status.get("replicas", 0) == wanted)
        cond = (f"Available={available.get('status')} ({available.get('reason', '')})"
                if available else "no Available condition yet")
        seen = (f'deployment "{name}": {status.get("availableReplicas", 0)}/{wanted} available, '
                f'{status.get("updatedReplicas", 0)} updated, {cond}\n{pod_table(pods)}')
        return Observation(ok, seen, [owner, *pods])

    wait_for(context, f'deployment "{name}" to be available', check, d,
             kinds=("deployments", "pods"))
