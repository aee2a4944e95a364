"""Faults on a real cluster are the operator's commands, not ours.

Failing a node of a kind cluster is ``docker stop``, of a cloud cluster an API call or an
SSH session; the framework cannot know which, so the environment file names a shell
command per fault (``fail_node: "docker stop {node}"``). Here those templates are checked,
filled in (every value shell-quoted) and run with a timeout; a failing command is a
``ClusterError`` carrying its output, a missing one a ``NotSupported`` (the step is skipped).
"""

from __future__ import annotations

import shlex
import string
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kclusterkit.driver.errors import ClusterError, NotSupported

#: The hooks kclusterkit knows and the fields each template may use.
KNOWN_HOOKS: dict[str, tuple[str, ...]] = {
    "fail_node": ("node",),
    "recover_node": ("node",),
}
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
            raise ClusterError(f"hooks.{name}: unknown hook (known: {', '.join(KNOWN_HOOKS)})")
        if not isinstance(template, str) or not template.strip():
            raise ClusterError(f"hooks.{name}: expected a shell command, got {template!r}")
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
        except ValueError as exc:
            raise ClusterError(f"hooks.{name}: bad template {template!r}: {exc}") from None
        unknown = sorted(fields - set(KNOWN_HOOKS[name]))
        if unknown:
            known = ", ".join("{" + f + "}" for f in KNOWN_HOOKS[name])
            raise ClusterError(f"hooks.{name}: unknown placeholder {{{unknown[0]}}} "
                               f"(this hook knows {known})")
        out[name] = template
    return out


def render(template: str, **fields: str) -> str:
    return template.format(**{k: shlex.quote(str(v)) for k, v in fields.items()})


def run_hook(hooks: Mapping[str, str], name: str, timeout: float = DEFAULT_TIMEOUT,
             **fields: str) -> HookResult:
    """Run hook ``name`` through the shell; raise unless it exits 0."""
    template = hooks.get(name)
    if not template:
        raise NotSupported(f"no '{name}' hook is configured in the environment file")
    command = render(template, **fields)
    try:
        proc = subprocess.run(command, shell=True, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ClusterError(f"hook {name} ({command}) did not finish within {timeout:g} s") \
            from exc
    result = HookResult(command, proc.returncode, proc.stdout, proc.stderr)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise ClusterError(f"hook {name} ({command}) exited {proc.returncode}"
                           + (f": {detail[-1]}" if detail else ""))
    return result
