"""Faults on a real cluster are the operator's commands, not ours.

Failing a node of a kind cluster is ``docker stop``, of a cloud cluster an API call or an
SSH session, of a served simulator ``kclusterkit sim fault fail-node``; the framework cannot
know which, so the environment file names a shell command per fault (``fail_node: "docker
stop {node}"``). Here those templates are checked, filled in (every value shell-quoted) and
run as processes with a timeout; a failing command is a ``HookFailed`` carrying its
command, exit code and stderr, a missing one a ``NotSupported`` (the step is skipped).

Every hook may also use ``{kubeconfig}`` and ``{context}``: the kubeconfig file and context
the run uses. Hooks run with this Python's scripts directory first on ``PATH``, so
``kclusterkit`` in a hook is the installation that runs the features (a venv need not be
activated).
"""

from __future__ import annotations

import os
import shlex
import string
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kclusterkit.errors import ClusterTimeout, ConfigurationError, HookFailed, NotSupported

#: The hooks kclusterkit knows and the fields each template may use (besides COMMON).
KNOWN_HOOKS: dict[str, tuple[str, ...]] = {
    "fail_node": ("node",),
    "recover_node": ("node",),
    "crash_container": ("namespace", "pod", "container", "exit_code"),
    "make_unready": ("namespace", "pod"),
    "stop_component": ("component", "node"),
    "start_component": ("component", "node"),
    "stop_cluster_dns": (),
    "start_cluster_dns": (),
    "remove_network_plugin": (),
    "install_network_plugin": (),
}
#: Fields every hook may use.
COMMON = ("kubeconfig", "context")
DEFAULT_TIMEOUT = 120.0


@dataclass
class HookResult:
    command: str
    exit_code: int
    stdout: str
    stderr: str


def validate_hooks(hooks: Mapping[str, Any] | None) -> dict[str, str]:
    """Check names, types and placeholders; returns the hooks as ``{name: template}``."""
    out: dict[str, str] = {}
    for name, template in (hooks or {}).items():
        if name not in KNOWN_HOOKS:
            raise ConfigurationError(f"hooks.{name}: unknown hook "
                                     f"(known: {', '.join(KNOWN_HOOKS)})")
        if not isinstance(template, str) or not template.strip():
            raise ConfigurationError(f"hooks.{name}: expected a shell command, got "
                                     f"{template!r}")
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
        except ValueError as exc:
            raise ConfigurationError(f"hooks.{name}: bad template {template!r}: {exc}") from None
        unknown = sorted(fields - set(KNOWN_HOOKS[name]) - set(COMMON))
        if unknown:
            known = ", ".join("{" + f + "}" for f in (*KNOWN_HOOKS[name], *COMMON))
            raise ConfigurationError(f"hooks.{name}: unknown placeholder {{{unknown[0]}}} "
                               f"(this hook knows {known})")
        out[name] = template
    return out


def render(template: str, **fields: Any) -> str:
    """The template with every field shell-quoted (a missing optional field is empty)."""
    names = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    values = {k: shlex.quote("" if fields.get(k) is None else str(fields[k])) for k in names}
    return template.format(**values)


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    scripts = os.path.dirname(sys.executable)
    env["PATH"] = scripts + os.pathsep + env.get("PATH", "")
    return env


def run_hook(hooks: Mapping[str, str], name: str, timeout: float = DEFAULT_TIMEOUT,
             **fields: Any) -> HookResult:
    """Run hook ``name`` through the shell; raise unless it exits 0."""
    template = hooks.get(name)
    if not template:
        raise NotSupported(f"no '{name}' hook is configured in the environment file")
    command = render(template, **fields)
    try:
        proc = subprocess.run(command, shell=True, capture_output=True, text=True,
                              timeout=timeout, check=False, env=_environment(),
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise ClusterTimeout(f"hook {name} ({command}) did not finish within {timeout:g} s") \
            from exc
    except OSError as exc:  # no shell, too many processes …
        raise HookFailed(f"hook {name} ({command}) could not be started: {exc}") from exc
    result = HookResult(command, proc.returncode, proc.stdout, proc.stderr)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()
        raise HookFailed(f"hook {name} ({command}) exited {proc.returncode}"
                           + (f": {detail[-2000:]}" if detail else " (no output)"))
    return result
