"""Steps that expose workloads through Services and look at what a Service routes to.

Every traffic, discovery and canary scenario starts with a Service, and every one of them
must mean the same on a real cluster: so a Service is created as ``kubectl expose`` would
make it (the deployment's selector, a port, a target port), a NodePort is reached on the
nodes' own addresses from outside the cluster, and "a pod of deployment X" follows
ownerReferences (deployment → ReplicaSet → pod) as kubectl does, so a canary whose pods
carry the stable deployment's labels is never counted as the stable one.
"""

# ruff: noqa: E501  (a step's Example must stay on one line: the catalog prints it as is)
from __future__ import annotations

from typing import Any

from kclusterkit.driver import Driver, Observation
from kclusterkit.steps._support import (
    Obj,
    StepUsageError,
    is_ready,
    is_terminating,
    kk,
    owner_pods,
    plural,
    pod_table,
    step,
    wait_for,
    worker_nodes,
)
from kclusterkit.steps.workloads import workload

# The port a well-known image listens on when the pod spec declares none (what a person
# would pass to ``kubectl expose --target-port``).
_IMAGE_PORTS = {"nginx": 80, "httpd": 80, "caddy": 80, "traefik": 80, "redis": 6379,
                "mysql": 3306, "postgres": 5432, "memcached": 11211}
_AGNHOST_PORTS = {"netexec": 8080, "serve-hostname": 9376, "test-webserver": 80, "porter": 8080}


# -- ownership ---------------------------------------------------------------------------
def deployment_pods(driver: Driver, name: str) -> tuple[Obj | None, list[Obj]]:
    """The deployment and its pods, following controller ownerReferences."""
    return owner_pods(driver, "deployment", name)


def live_ready(pods: list[Obj]) -> list[Obj]:
    return [p for p in pods if is_ready(p) and not is_terminating(p)]


def must_get(driver: Driver, kind: str, name: str) -> Obj:
    obj = driver.get(kind, name)
    if obj is None:
        raise StepUsageError(f'{kind.rstrip("s")} "{name}" does not exist')
    return obj


# -- services --------------------------------------------------------------------------
def image_port(container: Obj) -> int | None:
    """The port a container serves on: declared in its spec, or its image's well-known one."""
    for port in container.get("ports") or []:
        if port.get("containerPort"):
            return int(port["containerPort"])
    image = (container.get("image") or "").rsplit("/", 1)[-1].split(":", 1)[0]
    args = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
    if image == "agnhost":
        for i, arg in enumerate(args):
            if arg.startswith("--http-port=") or arg.startswith("--port="):
                return int(arg.split("=", 1)[1])
            if arg in ("--http-port", "--port") and i + 1 < len(args):
                return int(args[i + 1])
        sub = next((a for a in args if not a.startswith("-")), "")
        return _AGNHOST_PORTS.get(sub)
    return _IMAGE_PORTS.get(image)


def service_manifest(name: str, selector: dict[str, str], port: int, target: int,
                     service_type: str = "ClusterIP") -> Obj:
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"type": service_type, "selector": dict(selector),
                 "ports": [{"name": "http", "protocol": "TCP", "port": port,
                            "targetPort": target}]},
    }


def _expose(driver: Driver, service: str, deployment: str, port: int | None,
            target: int | None, service_type: str) -> Obj:
    dep = must_get(driver, "deployments", deployment)
    selector = ((dep.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    if not selector:
        raise StepUsageError(f'deployment "{deployment}" has no matchLabels selector to expose')
    if target is None:
        containers = ((dep["spec"].get("template") or {}).get("spec") or {}).get("containers")
        target = image_port((containers or [{}])[0])
        if target is None:
            raise StepUsageError(
                f'cannot tell which port deployment "{deployment}" serves on; say it: '
                f'Given a service "{service}" on port 80 targeting port 8080 of deployment '
                f'"{deployment}"')
    return driver.create(service_manifest(service, selector, port or target, target,
                                          service_type))


def service_url(driver: Driver, name: str) -> str:
    """The URL a pod would use for the service: ``http://NAME:PORT/PATH``. The path is
    agnhost's ``/hostname`` when the service's pods run agnhost (its answer names the pod,
    which is how a real cluster tells who answered), ``/`` otherwise."""
    service = must_get(driver, "services", name)
    ports = (service.get("spec") or {}).get("ports") or []
    if not ports:
        raise StepUsageError(f'service "{name}" has no ports')
    path = "/"
    selector = (service.get("spec") or {}).get("selector") or {}
    if selector:
        labels = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        for pod in driver.list("pods", labels=labels):
            images = [c.get("image") or "" for c in pod["spec"].get("containers") or []]
            if any("agnhost" in image for image in images):
                path = "/hostname"
                break
    return f"http://{name}:{ports[0]['port']}{path}"


def endpoint_pods(driver: Driver, service: str) -> tuple[list[str], list[str]]:
    """(ready, not ready) pod names behind the service, from its Endpoints object."""
    endpoints = driver.get("endpoints", service)
    ready: list[str] = []
    unready: list[str] = []
    for subset in (endpoints or {}).get("subsets") or []:
        for key, out in (("addresses", ready), ("notReadyAddresses", unready)):
            for address in subset.get(key) or []:
                ref = address.get("targetRef") or {}
                out.append(ref.get("name") or address.get("ip", "?"))
    return sorted(set(ready)), sorted(set(unready))


# -- Given: services -----------------------------------------------------------------------
@step("given", 'a service "{name:Q}" on port {port:N} targeting port {target:N} of deployment "{deployment:Q}"')
def a_service(context: Any, name: str, port: int, target: int, deployment: str) -> None:
    """A ClusterIP service selecting the deployment's pods, from its port to theirs.

    Example: Given a service "echo" on port 80 targeting port 8080 of deployment "echo"
    """
    _expose(kk(context).driver, name, deployment, port, target, "ClusterIP")


@step("given", 'a service "{name:Q}" exposing deployment "{deployment:Q}"')
def a_service_exposing(context: Any, name: str, deployment: str) -> None:
    """A ClusterIP service on the port the deployment's image serves (as kubectl expose).

    Example: Given a service "web" exposing deployment "web"
    """
    _expose(kk(context).driver, name, deployment, None, None, "ClusterIP")


@step("given", 'a service "{name:Q}" exposing deployment "{deployment:Q}" on a NodePort')
def a_node_port_service(context: Any, name: str, deployment: str) -> None:
    """A NodePort service for the deployment (remembered as "that NodePort").

    Example: Given a service "web" exposing deployment "web" on a NodePort
    """
    state = kk(context)
    _expose(state.driver, name, deployment, None, None, "NodePort")
    state.memo["node_port_service"] = name


@step("when", 'I deploy "{image:Q}" as "{name:Q}" with {n:N} replica(s) and expose it on a NodePort')
def deploy_and_expose(context: Any, image: str, name: str, n: int) -> None:
    """Create a deployment and a NodePort service of the same name (remembered as "that NodePort").

    Example: When I deploy "nginx:1.25" as "hello" with 2 replicas and expose it on a NodePort
    """
    state = kk(context)
    state.driver.create(workload("Deployment", name, image, n))
    _expose(state.driver, name, name, None, None, "NodePort")
    state.memo["node_port_service"] = name


# -- Then: what a service routes to --------------------------------------------------------
def _node_address(node: Obj) -> str | None:
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") == "InternalIP":
            return address.get("address")
    return None


@step("then", 'an HTTP GET on that NodePort of every worker node returns {status:N} and "{text:Q}" within {d:Duration}', any_keyword=True)
def node_port_answers(context: Any, status: int, text: str, d: float) -> None:
    """From outside the cluster, GET / on the remembered NodePort of every worker node answers.

    Example: Then an HTTP GET on that NodePort of every worker node returns 200 and "Welcome to nginx!" within 1 minute
    """
    state = kk(context)
    name = state.remembered("NodePort (expose a deployment on a NodePort first)",
                            state.memo.get("node_port_service"))
    driver = state.driver
    service = must_get(driver, "services", name)
    node_port = ((service.get("spec") or {}).get("ports") or [{}])[0].get("nodePort")
    if not node_port:
        raise StepUsageError(f'service "{name}" has no node port')

    def check() -> Observation:
        workers = worker_nodes(driver)
        lines, ok = [], bool(workers)
        for node in workers:
            address = _node_address(node)
            if address is None:
                ok = False
                lines.append(f"  {node['metadata']['name']}: no InternalIP")
                continue
            url = f"http://{address}:{node_port}/"
            answer = driver.request_from_outside(url)
            good = answer.status == status and text in answer.body
            ok = ok and good
            said = (f"{answer.status}, body {'contains' if text in answer.body else 'lacks'} "
                    f'"{text}"') if answer.status is not None else answer.error
            lines.append(f"  {node['metadata']['name']}: GET {url} -> {said}")
        return Observation(ok, f"{plural(len(workers), 'worker node')}\n" + "\n".join(lines), workers)

    wait_for(context, f'an HTTP GET on node port {node_port} of every worker node to return '
             f'{status} and "{text}"', check, d, kinds=("nodes", "pods", "endpoints"))


@step("then", 'service "{name:Q}" has {n:N} ready endpoint(s) within {d:Duration}', any_keyword=True)
def service_ready_endpoints(context: Any, name: str, n: int, d: float) -> None:
    """Eventually exactly n ready pods stand behind the service (its Endpoints).

    Example: Then service "echo" has 2 ready endpoints within 1 minute
    """
    driver = kk(context).driver

    def check() -> Observation:
        ready, unready = endpoint_pods(driver, name)
        return Observation(len(ready) == n,
                           f'service "{name}": ready {", ".join(ready) or "none"}; '
                           f'not ready {", ".join(unready) or "none"}')

    wait_for(context, f'service "{name}" to have {plural(n, "ready endpoint")}', check, d,
             kinds=("endpoints", "pods"))


@step("then", 'service "{name:Q}" routes only to pods of deployment "{deployment:Q}" within {d:Duration}', any_keyword=True)
def service_routes_only_to(context: Any, name: str, deployment: str, d: float) -> None:
    """Eventually every ready endpoint of the service is a pod of this deployment (and there is one).

    Example: Then service "web" routes only to pods of deployment "web" within 1 minute
    """
    driver = kk(context).driver

    def check() -> Observation:
        ready, _ = endpoint_pods(driver, name)
        _, pods = deployment_pods(driver, deployment)
        own = {p["metadata"]["name"] for p in pods}
        strangers = [p for p in ready if p not in own]
        return Observation(bool(ready) and not strangers,
                           f'service "{name}" routes to {", ".join(ready) or "no pod"}'
                           + (f'; not of deployment "{deployment}": {", ".join(strangers)}'
                              if strangers else "") + f"\n{pod_table(pods)}", pods)

    wait_for(context, f'service "{name}" to route only to pods of deployment "{deployment}"',
             check, d, kinds=("endpoints", "pods"))

