"""A small busybox ``sh``: what ``sh -c '…'`` does inside a simulated container.

Scenarios write containers the way they are written for real clusters — `sh -c 'echo hi;
sleep 3600'`, `sh -c 'exit 1'`, `kubectl exec … -- sh -c 'echo x > /data/f'` — so the
simulator runs those scripts: ``parser`` reads them, ``interpreter`` runs them (as a live
process on the cluster clock for a container's main process, at once for an ``exec``),
``builtins`` holds the applets, ``files`` the container's file system view.
"""

from __future__ import annotations

import shlex

from kclusterkit.sim.shell.builtins import APPLETS
from kclusterkit.sim.shell.files import MountedFiles
from kclusterkit.sim.shell.interpreter import FOREVER, Context, Process, RunResult, run
from kclusterkit.sim.shell.parser import ShellSyntaxError, parse
from kclusterkit.sim.shell.signals import NetworkError

__all__ = ["APPLETS", "FOREVER", "Context", "MountedFiles", "NetworkError", "Process",
           "RunResult", "ShellSyntaxError", "join", "parse", "run"]


def join(argv: list[str]) -> str:
    """A command line that runs ``argv`` as it is (``command: ["sleep", "30"]``)."""
    return shlex.join(argv)
