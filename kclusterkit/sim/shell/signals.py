"""How a command ends the shell or the container, raised through the interpreter.

Kept apart so the applets (``builtins``) and the interpreter can both raise and catch
them without importing each other.
"""

from __future__ import annotations


class ExitShell(Exception):
    """``exit N`` (or ``exec`` of a command that ended): the shell ends with ``code``."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class KillContainer(Exception):
    """`kill 1`: the container's main process is killed."""

    def __init__(self, signal: int = 15) -> None:
        super().__init__(signal)
        self.signal = signal


class Forever(Exception):
    """The script spins without ever waiting: it never ends (nor prints any more)."""


class NetworkError(Exception):
    """A request the network could not complete; ``timed_out``: after the client's timeout."""

    def __init__(self, message: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out
