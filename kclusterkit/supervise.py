"""Run behave as a child process that gets every signal once and is waited for.

``kclusterkit run`` starts behave as a subprocess (its exit code is behave's). behave's
driver cleans up a real cluster on SIGINT/SIGTERM — it deletes the scenario's namespace —
and that takes a moment. So the command must not return while behave is still cleaning up
(it used to exit ~0.3 s after Ctrl-C, and behave, killed with it, leaked the namespace), nor
leave behave running on after a SIGTERM of its own.

The child runs in a process group of its own: a Ctrl-C at the terminal reaches only this
command, which passes it on exactly once (a second SIGINT would cut the cleanup short), as
it does SIGTERM and SIGHUP; then it waits for the child and returns its exit code.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Sequence
from typing import Any

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def exit_code(returncode: int) -> int:
    """A child killed by signal N exits as a shell reports it: 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def supervise(command: Sequence[str], **popen: Any) -> int:
    """Run ``command``, forwarding signals to it, and return its exit code."""
    return supervise_all([command], [popen])[0]


def supervise_all(commands: Sequence[Sequence[str]],
                  popens: Sequence[dict[str, Any]] | None = None) -> list[int]:
    """Run ``commands`` side by side, forwarding every signal to each of them, and return
    their exit codes once all have finished."""
    popens = list(popens or [{} for _ in commands])
    children: list[subprocess.Popen[bytes]] = []
    pending: list[int] = []
    started = False

    def forward(signum: int, _frame: Any) -> None:
        if not started:
            pending.append(signum)  # arrived while starting: passed on once all exist
            return
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        for command, popen in zip(commands, popens, strict=True):
            children.append(subprocess.Popen(list(command), process_group=0, **popen))
        started = True
        for signum in pending:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signum)
        return [exit_code(child.wait()) for child in children]
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
