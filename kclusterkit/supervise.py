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
    children: list[subprocess.Popen[bytes]] = []
    pending: list[int] = []

    def forward(signum: int, _frame: Any) -> None:
        if not children:
            pending.append(signum)  # arrived before the child existed: pass it on at once
            return
        if children[0].poll() is None:
            children[0].send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        children.append(subprocess.Popen(list(command), process_group=0, **popen))
        for signum in pending:
            children[0].send_signal(signum)
        return exit_code(children[0].wait())
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
