"""Steps that check, from inside a pod, how it finds Services: DNS names and environment.

A pod finds a Service by name through cluster DNS, or through the ``<NAME>_SERVICE_HOST``
variables the kubelet sets in pods created after the Service. Both are checked the way a
person would, by exec in the pod (``nslookup NAME``, ``env``), so the steps mean the same on
a real cluster. The scenario's namespace differs per target (``default`` on the simulator,
a fresh one per scenario on a real cluster): write ``{namespace}`` in a name to stand for it.
"""

# ruff: noqa: E501  (a step's Example must stay on one line: the catalog prints it as is)
from __future__ import annotations

import re
from typing import Any

from kclusterkit.driver import Observation
from kclusterkit.steps._support import StepUsageError, check_now, kk, step
from kclusterkit.steps.pods_exec import ExecRecord, _running_pod
from kclusterkit.steps.services import must_get

_ADDRESS = re.compile(r"^Address(?:\s+\d+)?:\s*(\S+)")


def nslookup_addresses(output: str) -> list[str]:
    """The answer addresses of busybox/bind ``nslookup`` output (the server block skipped)."""
    addresses: list[str] = []
    for block in re.split(r"\n\s*\n", output):
        if not re.search(r"^Name:", block, re.M):
            continue
        for line in block.splitlines():
            match = _ADDRESS.match(line.strip())
            if match:
                addresses.append(match.group(1))
    return addresses


def in_namespace(context: Any, name: str) -> str:
    return name.replace("{namespace}", kk(context).driver.namespace)


def cluster_ip(context: Any, service: str) -> str:
    """The cluster IP of ``service``, or of ``namespace/service`` in another namespace
    (``default/kubernetes``: the classic DNS smoke test looks at the API's own service)."""
    driver = kk(context).driver
    if "/" in service:
        namespace, name = service.split("/", 1)
        namespace = kk(context).namespace(namespace)  # a namespace the scenario made
        svc = driver.get("services", name, namespace=namespace)
        if svc is None:
            raise StepUsageError(f'service "{name}" does not exist in namespace "{namespace}"')
    else:
        svc = must_get(driver, "services", service)
    ip = (svc.get("spec") or {}).get("clusterIP")
    if not ip or ip == "None":
        raise StepUsageError(f'service "{service}" has no cluster IP')
    return ip


def _lookup(context: Any, pod: str, name: str) -> ExecRecord:
    state = kk(context)
    state.driver.require("exec", "looking a name up inside a pod")
    _running_pod(state.driver, pod)
    return ExecRecord(pod, f"nslookup {name}", state.driver.exec(pod, ["nslookup", name]))


@step("then", 'in pod "{pod:Q}" the name "{name:Q}" resolves to the cluster IP of service "{service:Q}"')
def name_resolves_to_service(context: Any, pod: str, name: str, service: str) -> None:
    """Inside the pod, DNS answers the name with the service's cluster IP ({namespace} allowed
    in the name; a service of another namespace is written "namespace/name").

    Example: Then in pod "client" the name "echo.{namespace}.svc.cluster.local" resolves to the cluster IP of service "echo"
    """
    name = in_namespace(context, name)
    wanted = cluster_ip(context, service)
    record = _lookup(context, pod, name)
    found = nslookup_addresses(record.result.stdout) if record.result.exit_code == 0 else []
    check_now(context, f'"{name}" to resolve to {wanted} (service "{service}") in pod "{pod}"',
              lambda: Observation(wanted in found,
                                  f"answers: {', '.join(found) or 'none'}\n{record.describe()}"))


@step("then", 'in pod "{pod:Q}" the name "{name:Q}" does not resolve')
def name_does_not_resolve(context: Any, pod: str, name: str) -> None:
    """Inside the pod, DNS has no answer for the name (NXDOMAIN).

    Example: Then in pod "client" the name "nope" does not resolve
    """
    name = in_namespace(context, name)
    record = _lookup(context, pod, name)
    found = nslookup_addresses(record.result.stdout)
    check_now(context, f'"{name}" not to resolve in pod "{pod}"',
              lambda: Observation(record.result.exit_code != 0 and not found,
                                  f"answers: {', '.join(found) or 'none'}\n{record.describe()}"))


def _env(context: Any, pod: str) -> tuple[dict[str, str], ExecRecord]:
    state = kk(context)
    state.driver.require("exec", "reading a pod's environment")
    _running_pod(state.driver, pod)
    record = ExecRecord(pod, "env", state.driver.exec(pod, ["env"]))
    env = dict(line.split("=", 1) for line in record.result.stdout.splitlines() if "=" in line)
    return env, record


@step("then", 'pod "{pod:Q}" sees {var:w} set to the cluster IP of service "{service:Q}"')
def env_is_cluster_ip(context: Any, pod: str, var: str, service: str) -> None:
    """The pod's environment has the variable set to the service's cluster IP.

    Example: Then pod "client" sees WEB_SERVICE_HOST set to the cluster IP of service "web"
    """
    wanted = cluster_ip(context, service)
    env, _ = _env(context, pod)
    check_now(context, f'{var}={wanted} in pod "{pod}"',
              lambda: Observation(env.get(var) == wanted,
                                  f"{var}={env[var]}" if var in env else f"{var} is not set"))


@step("then", 'pod "{pod:Q}" sees {var:w} set to "{value:Q}"')
def env_is(context: Any, pod: str, var: str, value: str) -> None:
    """The pod's environment has the variable set to the value.

    Example: Then pod "client" sees WEB_SERVICE_PORT set to "80"
    """
    env, _ = _env(context, pod)
    check_now(context, f'{var}={value} in pod "{pod}"',
              lambda: Observation(env.get(var) == value,
                                  f"{var}={env[var]}" if var in env else f"{var} is not set"))
