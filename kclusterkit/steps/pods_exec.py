"""Steps that run commands inside pods and look at what they print and leave behind.

Exec is how a person checks a pod from the inside (``kubectl exec``), and it works the same
on a real cluster, so discovery and data steps are built on it too. A When step runs the
command and remembers the result ("it"); Then steps judge that result. The command is
written as a shell would split it (``sh -c 'echo hello > /tmp/x'``).
"""

# ruff: noqa: E501  (a step's Example must stay on one line: the catalog prints it as is)
from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from kclusterkit.driver import ExecResult, Observation
from kclusterkit.steps._support import (
    Obj,
    StepUsageError,
    check_now,
    is_ready,
    is_terminating,
    kk,
    pod_reason,
    pod_table,
    step,
    wait_for,
)
from kclusterkit.steps.services import deployment_pods


@dataclass
class ExecRecord:
    pod: str
    command: str
    result: ExecResult

    def describe(self) -> str:
        out = [f'"{self.command}" in pod "{self.pod}" exited {self.result.exit_code}']
        if self.result.stdout:
            out.append("stdout:\n" + _indent(self.result.stdout))
        if self.result.stderr:
            out.append("stderr:\n" + _indent(self.result.stderr))
        return "\n".join(out)


def _indent(text: str) -> str:
    return "\n".join(f"  | {line}" for line in text.rstrip("\n").splitlines())


def argv_of(command: str) -> list[str]:
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise StepUsageError(f'cannot split "{command}" into words: {exc}') from None
    if not argv:
        raise StepUsageError("the command is empty")
    return argv


def is_running(pod: Obj) -> bool:
    """Running as kubectl's STATUS column means it: phase Running *and* every container
    running now — a crash-looping pod keeps phase Running while its container is down, and
    exec into it fails with "container not found"."""
    status = pod.get("status") or {}
    containers = (pod.get("spec") or {}).get("containers") or []
    running = {cs.get("name") for cs in status.get("containerStatuses") or []
               if (cs.get("state") or {}).get("running") is not None}
    return (status.get("phase") == "Running" and not is_terminating(pod)
            and all(c.get("name") in running for c in containers))


def the_pod_of(driver: Any, deployment: str) -> Obj | None:
    """The deployment's one running pod (the ready one first); None when it has none."""
    _, pods = deployment_pods(driver, deployment)
    running = [p for p in pods if is_running(p)]
    running.sort(key=lambda p: (not is_ready(p), p["metadata"]["name"]))
    return running[0] if running else None


def _running_pod(driver: Any, name: str) -> Obj:
    pod = driver.get("pods", name)
    if pod is None:
        raise StepUsageError(f'pod "{name}" does not exist')
    if not is_running(pod):
        raise StepUsageError(
            f'pod "{name}" is not running ({pod_reason(pod) or (pod.get("status") or {}).get("phase")}); '
            f'wait for it first, e.g. \'Then pod "{name}" is running within 1 minute\'\n'
            f"{pod_table([pod])}")
    return pod


def run_in(context: Any, pod: str, command: str) -> ExecRecord:
    state = kk(context)
    state.driver.require("exec", "running a command in a pod")
    record = ExecRecord(pod, command, state.driver.exec(pod, argv_of(command)))
    state.memo["exec"] = record
    return record


def _last(context: Any) -> ExecRecord:
    state = kk(context)
    return state.remembered("command to refer to as 'it' (run one first, e.g. 'When I run "
                            "\"hostname\" in pod \"client\"')", state.memo.get("exec"))


# -- When ----------------------------------------------------------------------------------
@step("when", 'I run "{command:Q}" in pod "{pod:Q}"')
def run_in_pod(context: Any, command: str, pod: str) -> None:
    """Run a command in the pod's first container (its result is "it" afterwards).

    Example: When I run "hostname" in pod "client"
    """
    _running_pod(kk(context).driver, pod)
    run_in(context, pod, command)


@step("when", 'I run "{command:Q}" in the pod of deployment "{name:Q}"')
def run_in_deployment_pod(context: Any, command: str, name: str) -> None:
    """Run a command in the deployment's running pod (its result is "it" afterwards).

    Example: When I run "sh -c 'echo hello > /tmp/x'" in the pod of deployment "db"
    """
    pod = the_pod_of(kk(context).driver, name)
    if pod is None:
        raise StepUsageError(f'deployment "{name}" has no running pod to run "{command}" in')
    run_in(context, pod["metadata"]["name"], command)


# -- Then: the last command -----------------------------------------------------------------
@step("then", 'it prints "{text:Q}"')
def it_prints(context: Any, text: str) -> None:
    """The last command's standard output contains the text.

    Example: Then it prints "client"
    """
    record = _last(context)
    check_now(context, f'"{record.command}" to print "{text}"',
              lambda: Observation(text in record.result.stdout, record.describe()))


@step("then", "it succeeds")
def it_succeeds(context: Any) -> None:
    """The last command exited 0.

    Example: Then it succeeds
    """
    record = _last(context)
    check_now(context, f'"{record.command}" to exit 0',
              lambda: Observation(record.result.exit_code == 0, record.describe()))


@step("then", "it fails with exit code {code:N}")
def it_fails_with(context: Any, code: int) -> None:
    """The last command exited with this code.

    Example: Then it fails with exit code 127
    """
    record = _last(context)
    check_now(context, f'"{record.command}" to exit {code}',
              lambda: Observation(record.result.exit_code == code, record.describe()))


@step("then", 'its error output contains "{text:Q}"')
def its_stderr_contains(context: Any, text: str) -> None:
    """The last command's standard error contains the text.

    Example: Then its error output contains "not found"
    """
    record = _last(context)
    check_now(context, f'"{record.command}" to write "{text}" to stderr',
              lambda: Observation(text in record.result.stderr, record.describe()))


# -- Then: pods and files --------------------------------------------------------------------
@step("then", 'pod "{name:Q}" is running within {d:Duration}', any_keyword=True)
def pod_running(context: Any, name: str, d: float) -> None:
    """Eventually the pod is Running with every container up (not crash-looping).

    Example: Then pod "client" is running within 1 minute
    """
    driver = kk(context).driver

    def check() -> Observation:
        pod = driver.get("pods", name)
        if pod is None:
            return Observation(False, f'pod "{name}" does not exist')
        return Observation(is_running(pod), pod_table([pod]), [pod])

    wait_for(context, f'pod "{name}" to be running', check, d, kinds=("pods",))


def _file_check(driver: Any, find_pod: Any, where: str, path: str, text: str) -> Any:
    def check() -> Observation:
        pod = find_pod()
        if pod is None:
            return Observation(False, f"{where} has no running pod")
        name = pod["metadata"]["name"]
        result = driver.exec(name, ["cat", path])
        record = ExecRecord(name, f"cat {path}", result)
        return Observation(result.exit_code == 0 and text in result.stdout,
                           record.describe(), [pod])

    return check


@step("then", 'in the pod of deployment "{name:Q}" the file "{path:Q}" contains "{text:Q}" within {d:Duration}', any_keyword=True)
def file_contains_within(context: Any, name: str, path: str, text: str, d: float) -> None:
    """Eventually the deployment's running pod has the file, and it contains the text.

    Example: Then in the pod of deployment "db" the file "/tmp/x" contains "hello" within 2 minutes
    """
    driver = kk(context).driver
    driver.require("exec", "reading a file in a pod")
    wait_for(context, f'the file "{path}" in the pod of deployment "{name}" to contain "{text}"',
             _file_check(driver, lambda: the_pod_of(driver, name), f'deployment "{name}"',
                         path, text),
             d, kinds=("pods",))


@step("then", 'in pod "{pod:Q}" the file "{path:Q}" contains "{text:Q}"')
def file_contains(context: Any, pod: str, path: str, text: str) -> None:
    """The pod has the file now, and it contains the text.

    Example: Then in pod "client" the file "/tmp/x" contains "hello"
    """
    driver = kk(context).driver
    driver.require("exec", "reading a file in a pod")
    check_now(context, f'the file "{path}" in pod "{pod}" to contain "{text}"',
              _file_check(driver, lambda: _running_pod(driver, pod), f'pod "{pod}"', path, text))
