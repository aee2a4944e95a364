"""Running a parsed script: a live process that yields whenever it would wait.

Every command runs as a generator that yields the seconds it waits (``sleep``, a ``wget``
timing out) and returns its exit status. That lets the same interpreter serve two masters:

- a container's main process (``Process``): the kubelet resumes it at the cluster instant
  each wait ends, so every command runs at its own instant — a ``wget`` in a loop sees the
  network as it is then — and every line it writes is handed to the container log at the
  instant it is written;
- an ``exec`` (``run``): waits only add to an elapsed counter and the command returns at
  once, with everything it printed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Generator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from kclusterkit.sim.shell import builtins
from kclusterkit.sim.shell.parser import (
    ForLoop,
    IfCmd,
    Loop,
    ShellSyntaxError,
    Simple,
    Word,
    parse,
)
from kclusterkit.sim.shell.signals import ExitShell, Forever, KillContainer

# What every command is: a generator yielding seconds to wait, returning its result.
Waits = Generator[float, None, Any]
FOREVER = math.inf


@dataclass
class Context:
    """What a command can see: the container's files, environment and the network."""

    env: dict[str, str] = field(default_factory=dict)
    files: MutableMapping[str, str] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=lambda: {"/", "/tmp", "/etc", "/var", "/bin",
                                                    "/usr", "/root", "/proc", "/dev"})
    hostname: str = "localhost"
    elapsed: float = 0.0  # seconds waited so far (``run``); a live process keeps it too
    horizon: float = 86400.0 * 365  # ``run``: a script still running after this runs forever
    output: list[tuple[float, str]] = field(default_factory=list)  # (elapsed, line), ``run``
    stdout: list[str] = field(default_factory=list)  # exactly what was written, ``run``
    stderr_lines: list[str] = field(default_factory=list)
    # A live process's log: called with (stream, line) at the instant a line is complete.
    write: Callable[[str, str], None] | None = None
    resolve: Callable[[str], list[str] | None] | None = None
    # Whether the pod's nameserver answers at all (CoreDNS ready behind kube-dns); None: yes.
    dns_answers: Callable[[], bool] | None = None
    # http(url) → (status, body[, latency]); http(url, method=…, headers=…) for wget's
    # --post-data and --header.
    http: Callable[..., tuple[int, str]] | None = None
    fqdn: Callable[[str], str] | None = None  # the name a lookup matched (search paths)
    # A TCP connect to (host, port): None when it is accepted, else "refused", "timeout" or
    # "resolve"; and whether an address answers ICMP echo (ping).
    tcp: Callable[[str, int], str | None] | None = None
    ping: Callable[[str], str | None] | None = None  # the address that answers, or None
    ip: str = ""  # the pod's IP (hostname -i)
    nameserver: str = "10.96.0.10"
    steps: int = 0
    max_steps: int = 20000  # commands without time passing before it counts as spinning
    partial: str = ""  # a stdout line not finished yet
    # Programs the image adds to the shell's applets (mysql in mysql images, psql …).
    applets: dict[str, Any] = field(default_factory=dict)


_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*|[?$#0-9]))")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_DURATION = re.compile(r"\d+(?:\.\d+)?[smhd]?|inf|infinity")


class Shell:
    """One ``sh`` process: its variables and last status over a context."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.status = 0
        self.replaced = False  # ``exec CMD`` ran: the shell ends with CMD's status
        self._err_sent = 0

    # -- expansion --------------------------------------------------------------------
    def expand(self, word: Word) -> list[str]:
        text = []
        for piece, expandable in word.parts:
            if expandable:
                piece = _VAR.sub(self._var, piece)
            text.append(piece)
        joined = "".join(text)
        if not word.quoted and joined == "" and any(e for _, e in word.parts):
            return []
        if not word.quoted and any(e for _, e in word.parts) and "$" in word.raw():
            return joined.split()
        return [joined]

    def _var(self, match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name == "?":
            return str(self.status)
        if name == "$":
            return "1"
        if name == "HOSTNAME" and "HOSTNAME" not in self.ctx.env:
            return self.ctx.hostname
        return self.ctx.env.get(name, "")

    # -- control flow -----------------------------------------------------------------
    def tick(self) -> None:
        self.ctx.steps += 1
        if self.ctx.steps > self.ctx.max_steps:
            raise Forever()  # spinning without ever waiting: it never ends nor prints more

    def wait(self, seconds: float) -> Waits:
        """Let ``seconds`` pass (``math.inf``: block for ever)."""
        if seconds > 0:
            yield seconds

    def run_list(self, items: list[Any], stdin: str = "") -> Waits:
        skip_next = False
        for pipeline, connector in items:
            if not skip_next:
                self.status = yield from self.run_pipeline(pipeline, stdin)
            skip_next = (connector == "&&" and self.status != 0) or \
                        (connector == "||" and self.status == 0)
        return self.status

    def run_pipeline(self, commands: list[Any], stdin: str) -> Waits:
        data = stdin
        status = 0
        for i, command in enumerate(commands):
            last = i == len(commands) - 1
            status, data = yield from self.run_command(command, data, capture=not last)
        return status

    def run_command(self, command: Any, stdin: str, capture: bool) -> Waits:
        self.tick()
        if isinstance(command, Loop):
            if _sleeps_forever(command):
                # `while true; do sleep 1; done` does nothing anyone can see, for ever: it
                # blocks once instead of waking every period.
                yield from self.wait(FOREVER)
            while True:
                cond = (yield from self.run_list(command.cond, stdin)) if command.cond else 0
                if (cond == 0) == command.until:
                    break
                yield from self.run_list(command.body, stdin)
                self.tick()
            return 0, ""
        if isinstance(command, ForLoop):
            values = [v for w in command.items for v in self.expand(w)]
            for value in values:
                self.ctx.env[command.var] = value
                yield from self.run_list(command.body, stdin)
            return self.status, ""
        if isinstance(command, IfCmd):
            for cond, body in command.branches:
                if not cond or (yield from self.run_list(cond, stdin)) == 0:
                    return (yield from self.run_list(body, stdin)), ""
            if command.otherwise is not None:
                return (yield from self.run_list(command.otherwise, stdin)), ""
            return 0, ""
        return (yield from self.run_simple(command, stdin, capture))

    def run_simple(self, command: Simple, stdin: str, capture: bool) -> Waits:
        argv = [a for w in command.words for a in self.expand(w)]
        # Leading assignments (VAR=value cmd, or VAR=value alone).
        while argv and _ASSIGNMENT.match(argv[0]):
            name, value = argv.pop(0).split("=", 1)
            self.ctx.env[name] = value
        out_target: tuple[str, str] | None = None
        err_to_out = False
        err_null = False
        for op, target in command.redirects:
            path = self.expand(target)[0] if target is not None else ""
            if op in (">", ">>"):
                # The shell opens the file before the command runs (ash redirect()): a
                # failure is "can't create", status 1, and the command does not run.
                if path != "/dev/null" and not self.can_create(path):
                    self.err(f"sh: can't create {path}: nonexistent directory")
                    self.flush_stderr()
                    return 1, ""
                if op == ">" and path != "/dev/null":
                    self.ctx.files[path] = ""
                out_target = (">>", path)
            elif op == "<":
                if path not in self.ctx.files:
                    self.err(f"sh: can't open '{path}': No such file or directory")
                    self.flush_stderr()
                    return 1, ""
                stdin = self.ctx.files[path]
            elif op == "2>":
                err_null = path == "/dev/null"
            elif op == "2>&1":
                err_to_out = True
        if not argv:
            return 0, ""
        out: list[str] = []
        err_before = len(self.ctx.stderr_lines)
        status = yield from self.run_argv(argv, stdin, out)
        if err_null or err_to_out:
            moved = self.ctx.stderr_lines[err_before:]
            del self.ctx.stderr_lines[err_before:]
            if err_to_out:
                out.extend(line + "\n" for line in moved)
        self.flush_stderr()
        text = "".join(out)
        if out_target:
            if out_target[1] != "/dev/null":
                self.write_file(out_target[1], text, append=True)
            text = ""
        elif capture:
            return status, text
        self.emit(text)
        if self.replaced:
            raise ExitShell(status)
        return status, ""

    def run_argv(self, argv: list[str], stdin: str, out: list[str]) -> Waits:
        """Run one applet (or builtin) by name; its waits pass through."""
        name, args = argv[0], argv[1:]
        base = name.rsplit("/", 1)[-1]
        handler = self.ctx.applets.get(base) or builtins.APPLETS.get(base)
        if handler is None:
            self.err(f"sh: {name}: not found")
            return 127
        result = handler(self, args, stdin, out)
        if isinstance(result, Generator):
            result = yield from result
        return int(result)

    # -- output -----------------------------------------------------------------------
    def emit(self, text: str) -> None:
        """Write to stdout; a live process logs each line once its newline is written."""
        if not text:
            return
        ctx = self.ctx
        if ctx.write is None:
            ctx.stdout.append(text)
        pending = ctx.partial + text
        *lines, ctx.partial = pending.split("\n")
        for line in lines:
            if ctx.write is not None:
                ctx.write("stdout", line)
            else:
                ctx.output.append((ctx.elapsed, line))

    def err(self, line: str) -> None:
        self.ctx.stderr_lines.append(line)

    def flush_stderr(self) -> None:
        """A live process's stderr lines go to the log as the command that wrote them ends."""
        ctx = self.ctx
        if ctx.write is None:
            return
        for line in ctx.stderr_lines[self._err_sent:]:
            ctx.write("stderr", line)
        del ctx.stderr_lines[:]
        self._err_sent = 0

    def finish(self) -> None:
        """The process ends: an unfinished last line is still a line of its log."""
        self.flush_stderr()
        ctx = self.ctx
        if ctx.partial:
            line, ctx.partial = ctx.partial, ""
            if ctx.write is not None:
                ctx.write("stdout", line)
            else:
                ctx.output.append((ctx.elapsed, line))

    # -- files ------------------------------------------------------------------------
    def can_create(self, path: str) -> bool:
        return (path.rsplit("/", 1)[0] or "/") in self.ctx.dirs

    def write_file(self, path: str, text: str, append: bool) -> bool:
        if not self.can_create(path):
            self.err(f"sh: can't create {path}: nonexistent directory")
            return False
        if append:
            self.ctx.files[path] = self.ctx.files.get(path, "") + text
        else:
            self.ctx.files[path] = text
        return True


def _sleeps_forever(loop: Loop) -> bool:
    """Whether the loop is ``while true`` (or ``until false``) around nothing but sleeps."""
    if len(loop.cond) != 1 or len(loop.cond[0][0]) != 1:
        return False
    cond = loop.cond[0][0][0]
    if not isinstance(cond, Simple) or cond.redirects or len(cond.words) != 1:
        return False
    if cond.words[0].raw() != ("false" if loop.until else "true") and \
            not (cond.words[0].raw() == ":" and not loop.until):
        return False
    for pipeline, _ in loop.body:
        for command in pipeline:
            if not isinstance(command, Simple) or command.redirects or not command.words:
                return False
            words = [w.raw() for w in command.words]
            if words[0] != "sleep" or len(words) < 2 or \
                    not all(_DURATION.fullmatch(w) for w in words[1:]):
                return False
    return bool(loop.body)


class Process:
    """A script running as a process: ``resume()`` runs it to its next wait.

    ``resume()`` answers the seconds until the process wants to run again
    (``math.inf``: it blocks for ever, as ``sleep infinity`` or a spinning loop), or
    None once it has exited; then ``exit_code`` (and ``killed``, the signal of a ``kill 1``)
    say how.
    """

    def __init__(self, script: str, ctx: Context) -> None:
        self.ctx = ctx
        self.shell = Shell(ctx)
        self.exit_code: int | None = None
        self.killed: int | None = None
        self.forever = False
        self._body = self._main(script)

    @property
    def exited(self) -> bool:
        return self.exit_code is not None

    def resume(self) -> float | None:
        if self.exit_code is not None:
            return None
        if self.ctx.write is not None:
            self.ctx.steps = 0
        try:
            return self._body.send(None)
        except StopIteration as stop:
            self.exit_code = int(stop.value)
            self.shell.finish()
            return None

    def stop(self) -> None:
        """The process is killed: it runs no further."""
        self._body.close()
        if self.exit_code is None:
            self.exit_code = 137

    def _main(self, script: str) -> Waits:
        sh = self.shell
        try:
            items = parse(script)
        except ShellSyntaxError as exc:
            sh.err(f"sh: {exc}")
            return 2
        try:
            return (yield from sh.run_list(items))
        except ExitShell as exc:
            return exc.code
        except KillContainer as exc:
            self.killed = exc.signal
            return 128 + exc.signal
        except Forever:
            self.forever = True
            sh.finish()
            while True:
                yield FOREVER


@dataclass
class RunResult:
    exit_code: int
    stdout: str
    stderr: str
    elapsed: float
    forever: bool
    output: list[tuple[float, str]]
    killed: int | None = None  # signal when the script ran `kill 1`


def run(script: str, ctx: Context) -> RunResult:
    """Run ``script`` at once to its end (or to the horizon) in ``ctx``; waits only count.

    What ``exec`` does: the command runs at the instant it is called.
    """
    process = Process(script, ctx)
    forever = False
    while True:
        wait = process.resume()
        if wait is None:
            break
        if wait == FOREVER or ctx.elapsed + wait > ctx.horizon:
            forever = True
            process.shell.finish()
            process.stop()
            break
        ctx.elapsed += wait
    code = 0 if forever else int(process.exit_code or 0)
    stderr = "".join(line + "\n" for line in ctx.stderr_lines)
    return RunResult(code, "".join(ctx.stdout), stderr, ctx.elapsed, forever,
                     list(ctx.output), process.killed)
