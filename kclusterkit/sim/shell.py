"""A small busybox-like shell: what `sh -c '…'` does inside a simulated container.

Scenarios write containers the way they are written for real clusters — `sh -c 'echo hi;
sleep 3600'`, `sh -c 'exit 1'`, `kubectl exec … -- sh -c 'echo x > /data/f'` — so the
simulator must run those scripts: lists (`;`, `&&`, `||`), pipes, quoting, variables,
redirection into the container's files, `while`/`for`/`if`, and the busybox applets that
tests use. Time is virtual: `sleep` adds to the elapsed time instead of waiting.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

# -- lexing ---------------------------------------------------------------------------

_OPS = ("&&", "||", ";;", ">>", "2>&1", "2>", ";", "|", ">", "<", "&", "\n", "(", ")")
_KEYWORDS = {"while", "until", "do", "done", "for", "in", "if", "then", "elif", "else", "fi"}


class ShellSyntaxError(Exception):
    pass


@dataclass
class Word:
    parts: list[tuple[str, bool]]  # (text, expandable?) pieces; single quotes don't expand
    quoted: bool = False

    def raw(self) -> str:
        return "".join(t for t, _ in self.parts)


def tokenize(script: str) -> list[Word | str]:
    """Split a script into words and operator strings, keeping quoting information."""
    out: list[Word | str] = []
    i, n = 0, len(script)
    parts: list[tuple[str, bool]] = []
    quoted = False
    building = False

    def flush() -> None:
        nonlocal parts, quoted, building
        if building:
            out.append(Word(parts, quoted))
        parts, quoted, building = [], False, False

    while i < n:
        ch = script[i]
        if ch in " \t":
            flush()
            i += 1
            continue
        if ch == "#" and not building:
            while i < n and script[i] != "\n":
                i += 1
            continue
        if ch == "2" and not building and script.startswith("2>&1", i):
            flush()
            out.append("2>&1")
            i += 4
            continue
        if ch == "2" and not building and script.startswith("2>", i):
            flush()
            out.append("2>")
            i += 2
            continue
        op = next((o for o in _OPS if o != "2>&1" and o != "2>" and script.startswith(o, i)),
                  None)
        if op:
            flush()
            out.append(op)
            i += len(op)
            continue
        building = True
        if ch == "'":
            end = script.find("'", i + 1)
            if end < 0:
                raise ShellSyntaxError("unterminated quoted string")
            parts.append((script[i + 1:end], False))
            quoted = True
            i = end + 1
        elif ch == '"':
            j = i + 1
            buf = []
            while j < n and script[j] != '"':
                if script[j] == "\\" and j + 1 < n and script[j + 1] in '"\\$`':
                    buf.append(script[j + 1])
                    j += 2
                    continue
                buf.append(script[j])
                j += 1
            if j >= n:
                raise ShellSyntaxError("unterminated quoted string")
            parts.append(("".join(buf), True))
            quoted = True
            i = j + 1
        elif ch == "\\" and i + 1 < n:
            parts.append((script[i + 1], False))
            i += 2
        else:
            j = i
            while j < n and script[j] not in " \t'\"\\;&|<>()\n":
                j += 1
            parts.append((script[i:j], True))
            i = j
    flush()
    return out


def join(argv: list[str]) -> str:
    return shlex.join(argv)


# -- parsing --------------------------------------------------------------------------


@dataclass
class Simple:
    words: list[Word]
    redirects: list[tuple[str, Word | None]] = field(default_factory=list)


@dataclass
class Loop:
    until: bool
    cond: list[Any]
    body: list[Any]


@dataclass
class ForLoop:
    var: str
    items: list[Word]
    body: list[Any]


@dataclass
class IfCmd:
    branches: list[tuple[list[Any], list[Any]]]
    otherwise: list[Any] | None


# A list is [(pipeline, connector)] where pipeline is [command…] and connector the
# operator that follows it (";", "&&", "||" or "&").


class _Parser:
    def __init__(self, tokens: list[Word | str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> Word | str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def keyword(self) -> str | None:
        tok = self.peek()
        if isinstance(tok, Word) and not tok.quoted and tok.raw() in _KEYWORDS:
            return tok.raw()
        return None

    def take(self) -> Word | str:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def expect_keyword(self, word: str) -> None:
        if self.keyword() != word:
            found = self.peek()
            shown = found.raw() if isinstance(found, Word) else (found or "end of file")
            raise ShellSyntaxError(f"syntax error: unexpected \"{shown}\" (expecting \"{word}\")")
        self.pos += 1

    def parse_list(self, stop: tuple[str, ...] = ()) -> list[Any]:
        items: list[Any] = []
        while True:
            while self.peek() in (";", "\n"):
                self.pos += 1
            tok = self.peek()
            if tok is None or tok == ")" or (self.keyword() in stop):
                return items
            pipeline = self.parse_pipeline()
            connector = ";"
            if self.peek() in ("&&", "||", ";", "\n", "&"):
                connector = str(self.take())
                if connector == "\n":
                    connector = ";"
                if connector in ("&&", "||"):
                    while self.peek() == "\n":
                        self.pos += 1
            items.append((pipeline, connector))

    def parse_pipeline(self) -> list[Any]:
        commands = [self.parse_command()]
        while self.peek() == "|":
            self.pos += 1
            commands.append(self.parse_command())
        return commands

    def parse_command(self) -> Any:
        kw = self.keyword()
        if kw in ("while", "until"):
            self.pos += 1
            cond = self.parse_list(("do",))
            self.expect_keyword("do")
            body = self.parse_list(("done",))
            self.expect_keyword("done")
            return Loop(kw == "until", cond, body)
        if kw == "for":
            self.pos += 1
            var = self.take()
            if not isinstance(var, Word):
                raise ShellSyntaxError("syntax error: bad for loop variable")
            items: list[Word] = []
            if self.keyword() == "in":
                self.pos += 1
                while isinstance(self.peek(), Word) and self.keyword() != "do":
                    items.append(self.take())  # type: ignore[arg-type]
            while self.peek() in (";", "\n"):
                self.pos += 1
            self.expect_keyword("do")
            body = self.parse_list(("done",))
            self.expect_keyword("done")
            return ForLoop(var.raw(), items, body)
        if kw == "if":
            self.pos += 1
            branches = []
            cond = self.parse_list(("then",))
            self.expect_keyword("then")
            body = self.parse_list(("elif", "else", "fi"))
            branches.append((cond, body))
            otherwise = None
            while True:
                kw2 = self.keyword()
                if kw2 == "elif":
                    self.pos += 1
                    cond = self.parse_list(("then",))
                    self.expect_keyword("then")
                    branches.append((cond, self.parse_list(("elif", "else", "fi"))))
                    continue
                if kw2 == "else":
                    self.pos += 1
                    otherwise = self.parse_list(("fi",))
                self.expect_keyword("fi")
                return IfCmd(branches, otherwise)
        if self.peek() == "(":
            self.pos += 1
            inner = self.parse_list()
            if self.peek() != ")":
                raise ShellSyntaxError("syntax error: missing ')'")
            self.pos += 1
            return IfCmd([([], inner)], None)
        words: list[Word] = []
        redirects: list[tuple[str, Word | None]] = []
        while True:
            tok = self.peek()
            if isinstance(tok, Word):
                if not words and self.keyword() in ("do", "done", "then", "fi", "else", "elif"):
                    break
                words.append(self.take())  # type: ignore[arg-type]
            elif tok in (">", ">>", "<", "2>"):
                op = str(self.take())
                target = self.take() if isinstance(self.peek(), Word) else None
                if target is None:
                    raise ShellSyntaxError("syntax error: unexpected redirection")
                redirects.append((op, target))  # type: ignore[arg-type]
            elif tok == "2>&1":
                self.pos += 1
                redirects.append(("2>&1", None))
            else:
                break
        if not words and not redirects:
            found = self.peek()
            raise ShellSyntaxError(f'syntax error: unexpected "{found}"')
        return Simple(words, redirects)


def parse(script: str) -> list[Any]:
    parser = _Parser(tokenize(script))
    items = parser.parse_list()
    if parser.peek() is not None:
        raise ShellSyntaxError(f'syntax error: unexpected "{parser.peek()}"')
    return items


# -- running --------------------------------------------------------------------------


class ExitShell(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class KillContainer(Exception):
    """`kill 1`: the container's main process is killed."""

    def __init__(self, signal: int = 15) -> None:
        super().__init__(signal)
        self.signal = signal


class Forever(Exception):
    """The script would run past the simulation horizon (e.g. `sleep infinity`)."""


class NetworkError(Exception):
    pass


@dataclass
class Context:
    """What a command can see: the container's files, environment and the network."""

    env: dict[str, str] = field(default_factory=dict)
    files: MutableMapping[str, str] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=lambda: {"/", "/tmp", "/etc", "/var", "/bin",
                                                    "/usr", "/root", "/proc", "/dev"})
    hostname: str = "localhost"
    elapsed: float = 0.0
    horizon: float = 86400.0 * 365  # a script still running after this runs forever
    output: list[tuple[float, str]] = field(default_factory=list)  # (elapsed, line)
    stderr_lines: list[str] = field(default_factory=list)
    resolve: Callable[[str], list[str] | None] | None = None
    http: Callable[[str], tuple[int, str]] | None = None
    fqdn: Callable[[str], str] | None = None  # the name a lookup matched (search paths)
    nameserver: str = "10.96.0.10"
    steps: int = 0
    max_steps: int = 20000


_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*|[?$#0-9]))")


class Shell:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.status = 0

    # expansion
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

    # execution
    def run_list(self, items: list[Any], stdin: str = "") -> int:
        skip_next = False
        for pipeline, connector in items:
            if not skip_next:
                self.status = self.run_pipeline(pipeline, stdin)
            skip_next = (connector == "&&" and self.status != 0) or \
                        (connector == "||" and self.status == 0)
        return self.status

    def run_pipeline(self, commands: list[Any], stdin: str) -> int:
        data = stdin
        status = 0
        for i, command in enumerate(commands):
            last = i == len(commands) - 1
            status, data = self.run_command(command, data, capture=not last)
        return status

    def run_command(self, command: Any, stdin: str, capture: bool) -> tuple[int, str]:
        self.ctx.steps += 1
        if self.ctx.steps > self.ctx.max_steps or self.ctx.elapsed > self.ctx.horizon:
            raise Forever()
        if isinstance(command, Loop):
            iterations = 0
            while True:
                cond = self.run_list(command.cond, stdin) if command.cond else 0
                if (cond == 0) == command.until:
                    break
                before = self.ctx.elapsed
                self.run_list(command.body, stdin)
                iterations += 1
                if self.ctx.elapsed == before and iterations > 1000:
                    raise Forever()
            return 0, ""
        if isinstance(command, ForLoop):
            values = [v for w in command.items for v in self.expand(w)]
            for value in values:
                self.ctx.env[command.var] = value
                self.run_list(command.body, stdin)
            return self.status, ""
        if isinstance(command, IfCmd):
            for cond, body in command.branches:
                if not cond or self.run_list(cond, stdin) == 0:
                    return self.run_list(body, stdin), ""
            if command.otherwise is not None:
                return self.run_list(command.otherwise, stdin), ""
            return 0, ""
        return self.run_simple(command, stdin, capture)

    def run_simple(self, command: Simple, stdin: str, capture: bool) -> tuple[int, str]:
        argv = [a for w in command.words for a in self.expand(w)]
        # Leading assignments (VAR=value cmd, or VAR=value alone).
        while argv and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", argv[0]):
            name, value = argv.pop(0).split("=", 1)
            self.ctx.env[name] = value
        out_target: tuple[str, str] | None = None
        err_to_out = False
        err_null = False
        for op, target in command.redirects:
            path = self.expand(target)[0] if target is not None else ""
            if op in (">", ">>"):
                out_target = (op, path)
            elif op == "<":
                if path not in self.ctx.files:
                    self.err(f"sh: can't open '{path}': No such file or directory")
                    return 1, ""
                stdin = self.ctx.files[path]
            elif op == "2>":
                err_null = path == "/dev/null"
            elif op == "2>&1":
                err_to_out = True
        if not argv:
            if out_target:
                self.write_file(out_target[1], "", append=out_target[0] == ">>")
            return 0, ""
        out: list[str] = []
        err_before = len(self.ctx.stderr_lines)
        status = self.builtin(argv, stdin, out)
        if err_null or err_to_out:
            moved = self.ctx.stderr_lines[err_before:]
            del self.ctx.stderr_lines[err_before:]
            if err_to_out:
                out.extend(line + "\n" for line in moved)
        text = "".join(out)
        if out_target:
            if out_target[1] == "/dev/null":
                return status, ""
            self.write_file(out_target[1], text, append=out_target[0] == ">>")
            return status, ""
        if capture:
            return status, text
        self.emit(text)
        return status, ""

    def emit(self, text: str) -> None:
        if not text:
            return
        for line in text.splitlines():
            self.ctx.output.append((self.ctx.elapsed, line))

    def err(self, line: str) -> None:
        self.ctx.stderr_lines.append(line)

    def write_file(self, path: str, text: str, append: bool) -> bool:
        parent = path.rsplit("/", 1)[0] or "/"
        if parent not in self.ctx.dirs:
            self.err(f"sh: can't create {path}: nonexistent directory")
            self.status = 1
            return False
        if append:
            self.ctx.files[path] = self.ctx.files.get(path, "") + text
        else:
            self.ctx.files[path] = text
        return True

    # builtins and applets
    def builtin(self, argv: list[str], stdin: str, out: list[str]) -> int:
        name, args = argv[0], argv[1:]
        base = name.rsplit("/", 1)[-1]
        handler = getattr(self, f"cmd_{base.replace('-', '_')}", None)
        if handler is None or base.startswith("_"):
            self.err(f"sh: {name}: not found")
            return 127
        return int(handler(args, stdin, out))

    def cmd_true(self, args: list[str], stdin: str, out: list[str]) -> int:
        return 0

    def cmd_false(self, args: list[str], stdin: str, out: list[str]) -> int:
        return 1

    def cmd_exit(self, args: list[str], stdin: str, out: list[str]) -> int:
        try:
            code = int(args[0]) if args else self.status
        except ValueError:
            self.err(f"sh: exit: Illegal number: {args[0]}")
            code = 2
        raise ExitShell(code & 0xFF)

    def cmd_sleep(self, args: list[str], stdin: str, out: list[str]) -> int:
        if not args:
            self.err("sleep: missing operand")
            return 1
        total = 0.0
        for arg in args:
            if arg in ("infinity", "inf"):
                raise Forever()
            match = re.match(r"^(\d+(?:\.\d+)?)([smhd]?)$", arg)
            if not match:
                self.err(f"sleep: invalid number '{arg}'")
                return 1
            total += float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600,
                                               "d": 86400}[match.group(2)]
        self.ctx.elapsed += total
        if self.ctx.elapsed > self.ctx.horizon:
            raise Forever()
        return 0

    def cmd_echo(self, args: list[str], stdin: str, out: list[str]) -> int:
        newline = True
        if args and args[0] == "-n":
            newline, args = False, args[1:]
        elif args and args[0] == "-e":
            args = [a.encode().decode("unicode_escape") for a in args[1:]]
        out.append(" ".join(args) + ("\n" if newline else ""))
        return 0

    def cmd_printf(self, args: list[str], stdin: str, out: list[str]) -> int:
        if not args:
            return 1
        fmt = args[0].replace("\\n", "\n").replace("\\t", "\t")
        values = args[1:]
        try:
            out.append(fmt.replace("%s", "{}").format(*values) if values else fmt)
        except (IndexError, ValueError):
            out.append(fmt)
        return 0

    def cmd_cat(self, args: list[str], stdin: str, out: list[str]) -> int:
        if not args:
            out.append(stdin)
            return 0
        status = 0
        for path in args:
            if path in self.ctx.files:
                out.append(self.ctx.files[path])
            elif path in self.ctx.dirs:
                self.err("cat: read error: Is a directory")
                status = 1
            else:
                self.err(f"cat: can't open '{path}': No such file or directory")
                status = 1
        return status

    def cmd_tail(self, args: list[str], stdin: str, out: list[str]) -> int:
        if "-f" in args or "-F" in args:
            raise Forever()
        return self.cmd_cat([a for a in args if not a.startswith("-")], stdin, out)

    def cmd_hostname(self, args: list[str], stdin: str, out: list[str]) -> int:
        out.append(self.ctx.hostname + "\n")
        return 0

    def cmd_env(self, args: list[str], stdin: str, out: list[str]) -> int:
        out.extend(f"{k}={v}\n" for k, v in self.ctx.env.items())
        return 0

    cmd_printenv = cmd_env

    def cmd_mkdir(self, args: list[str], stdin: str, out: list[str]) -> int:
        parents = "-p" in args
        status = 0
        for path in (a for a in args if not a.startswith("-")):
            path = path.rstrip("/") or "/"
            parent = path.rsplit("/", 1)[0] or "/"
            if path in self.ctx.dirs:
                if not parents:
                    self.err(f"mkdir: can't create directory '{path}': File exists")
                    status = 1
                continue
            if parent not in self.ctx.dirs and not parents:
                self.err(f"mkdir: can't create directory '{path}': No such file or directory")
                status = 1
                continue
            while path != "/":
                self.ctx.dirs.add(path)
                path = path.rsplit("/", 1)[0] or "/"
        return status

    def cmd_touch(self, args: list[str], stdin: str, out: list[str]) -> int:
        for path in args:
            if path not in self.ctx.files and not self.write_file(path, "", append=True):
                self.err(f"touch: {path}: No such file or directory")
                return 1
        return 0

    def cmd_rm(self, args: list[str], stdin: str, out: list[str]) -> int:
        force = any(a.startswith("-") and "f" in a for a in args)
        recursive = any(a.startswith("-") and ("r" in a or "R" in a) for a in args)
        status = 0
        for path in (a for a in args if not a.startswith("-")):
            if path in self.ctx.files:
                del self.ctx.files[path]
            elif path in self.ctx.dirs and recursive:
                prefix = path.rstrip("/") + "/"
                for f in [f for f in self.ctx.files if f.startswith(prefix)]:
                    del self.ctx.files[f]
                self.ctx.dirs -= {d for d in self.ctx.dirs if d == path or d.startswith(prefix)}
            elif path in self.ctx.dirs:
                self.err(f"rm: '{path}' is a directory")
                status = 1
            elif not force:
                self.err(f"rm: can't remove '{path}': No such file or directory")
                status = 1
        return status

    def cmd_ls(self, args: list[str], stdin: str, out: list[str]) -> int:
        paths = [a for a in args if not a.startswith("-")] or ["/"]
        status = 0
        for path in paths:
            if path in self.ctx.files:
                out.append(path + "\n")
                continue
            path = path.rstrip("/") or "/"
            if path not in self.ctx.dirs:
                self.err(f"ls: {path}: No such file or directory")
                status = 1
                continue
            prefix = "/" if path == "/" else path + "/"
            names = {p[len(prefix):].split("/", 1)[0] for p in
                     list(self.ctx.files) + list(self.ctx.dirs)
                     if p.startswith(prefix) and p != path and len(p) > len(prefix)}
            out.extend(n + "\n" for n in sorted(names))
        return status

    def cmd_grep(self, args: list[str], stdin: str, out: list[str]) -> int:
        flags = [a for a in args if a.startswith("-")]
        rest = [a for a in args if not a.startswith("-")]
        if not rest:
            return 2
        pattern, files = rest[0], rest[1:]
        text = "".join(self.ctx.files.get(f, "") for f in files) if files else stdin
        invert = "-v" in flags
        quiet = "-q" in flags
        lines = [ln for ln in text.splitlines() if (pattern in ln) != invert]
        if not quiet:
            out.extend(ln + "\n" for ln in lines)
        return 0 if lines else 1

    def cmd_wc(self, args: list[str], stdin: str, out: list[str]) -> int:
        out.append(f"{len(stdin.splitlines())}\n")
        return 0

    def cmd_head(self, args: list[str], stdin: str, out: list[str]) -> int:
        count = 10
        for i, a in enumerate(args):
            if a == "-n" and i + 1 < len(args):
                count = int(args[i + 1])
            elif a.startswith("-") and a[1:].isdigit():
                count = int(a[1:])
        out.extend(ln + "\n" for ln in stdin.splitlines()[:count])
        return 0

    def cmd_date(self, args: list[str], stdin: str, out: list[str]) -> int:
        out.append("Thu Jan  1 00:00:00 UTC 2026\n")
        return 0

    def cmd_test(self, args: list[str], stdin: str, out: list[str]) -> int:
        if args and args[-1] == "]":
            args = args[:-1]
        if len(args) == 2 and args[0] in ("-f", "-e", "-d", "-n", "-z"):
            op, value = args
            if op == "-f":
                return 0 if value in self.ctx.files else 1
            if op == "-d":
                return 0 if value in self.ctx.dirs else 1
            if op == "-e":
                return 0 if value in self.ctx.files or value in self.ctx.dirs else 1
            if op == "-n":
                return 0 if value else 1
            return 0 if not value else 1
        if len(args) == 3:
            a, op, b = args
            if op in ("=", "=="):
                return 0 if a == b else 1
            if op == "!=":
                return 0 if a != b else 1
            try:
                x, y = int(a), int(b)
            except ValueError:
                return 2
            return 0 if {"-eq": x == y, "-ne": x != y, "-lt": x < y, "-le": x <= y,
                         "-gt": x > y, "-ge": x >= y}.get(op, False) else 1
        return 0 if args and args[0] else 1

    def cmd__bracket(self, args: list[str], stdin: str, out: list[str]) -> int:
        return self.cmd_test(args, stdin, out)

    def cmd_kill(self, args: list[str], stdin: str, out: list[str]) -> int:
        signal = 15
        pids = []
        for a in args:
            if a.startswith("-"):
                sig = a[1:].upper().removeprefix("SIG")
                signal = {"KILL": 9, "TERM": 15, "INT": 2, "HUP": 1}.get(sig, 0) or \
                    (int(sig) if sig.isdigit() else 15)
            else:
                pids.append(a)
        if "1" in pids:
            raise KillContainer(signal)
        for pid in pids:
            self.err(f"sh: can't kill pid {pid}: No such process")
        return 1 if pids else 0

    def cmd_nslookup(self, args: list[str], stdin: str, out: list[str]) -> int:
        names = [a for a in args if not a.startswith("-")]
        if not names:
            return 1
        name = names[0]
        if self.ctx.resolve is None:
            self.err(";; connection timed out; no servers could be reached")
            return 1
        server = self.ctx.nameserver
        addresses = self.ctx.resolve(name)
        out.append(f"Server:\t\t{server}\nAddress:\t{server}:53\n\n")
        if not addresses:
            self.err(f"** server can't find {name}: NXDOMAIN")
            return 1
        fqdn = self.ctx.fqdn(name) if self.ctx.fqdn is not None else name
        for address in addresses:
            out.append(f"Name:\t{fqdn}\nAddress: {address}\n")
        out.append("\n")
        return 0

    def cmd_wget(self, args: list[str], stdin: str, out: list[str]) -> int:
        target: str | None = None
        quiet = False
        urls: list[str] = []
        i = 0
        while i < len(args):
            a = args[i]
            i += 1
            if a in ("--output-document", "-T", "--timeout", "-U", "--user-agent"):
                if a == "--output-document" and i < len(args):
                    target = args[i]
                i += 1
                continue
            if a.startswith("--output-document="):
                target = a.split("=", 1)[1]
            elif a in ("--quiet", "--spider", "--no-check-certificate") or \
                    a.startswith("--timeout=") or a.startswith("--header"):
                quiet = quiet or a == "--quiet"
            elif a.startswith("-") and len(a) > 1:
                cluster = a[1:]
                for j, flag in enumerate(cluster):
                    if flag == "q":
                        quiet = True
                    elif flag in ("O", "T", "U"):
                        value = cluster[j + 1:]
                        if not value and i < len(args):
                            value = args[i]
                            i += 1
                        if flag == "O":
                            target = value
                        break
            else:
                urls.append(a)
        if not urls:
            self.err("wget: missing URL")
            return 1
        url = urls[0] if "://" in urls[0] else "http://" + urls[0]
        host = url.split("://", 1)[1].split("/", 1)[0]
        if not quiet:
            self.err(f"Connecting to {host}")
        if self.ctx.http is None:
            self.err(f"wget: bad address '{host.split(':')[0]}'")
            return 1
        try:
            status, body = self.ctx.http(url)
        except NetworkError as exc:
            self.err(f"wget: {exc}")
            return 1
        if status >= 400:
            self.err(f"wget: server returned error: HTTP/1.1 {status} {_REASONS.get(status, '')}")
            return 1
        if target == "-":
            out.append(body)
            return 0
        name = target or url.split("?", 1)[0].rsplit("/", 1)[-1] or "index.html"
        path = name if name.startswith("/") else "/" + name
        if path in self.ctx.files and target is None:
            self.err(f"wget: can't open '{name}': File exists")
            return 1
        if not self.write_file(path, body, False):
            return 1
        if not quiet:
            self.err(f"saving to '{name}'")
        return 0


_REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error",
            502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}

Shell.cmd_exec = Shell.cmd_true  # type: ignore[attr-defined]
setattr(Shell, "cmd_[", Shell.cmd__bracket)


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
    """Run ``script`` to completion (or to the horizon) in ``ctx``."""
    sh = Shell(ctx)
    forever = False
    killed = None
    try:
        code = sh.run_list(parse(script))
    except ShellSyntaxError as exc:
        ctx.stderr_lines.append(f"sh: {exc}")
        code = 2
    except ExitShell as exc:
        code = exc.code
    except Forever:
        forever, code = True, 0
    except KillContainer as exc:
        killed, code = exc.signal, 128 + exc.signal
    stdout = "".join(line + "\n" for _, line in ctx.output)
    stderr = "".join(line + "\n" for line in ctx.stderr_lines)
    return RunResult(code, stdout, stderr, ctx.elapsed, forever, list(ctx.output), killed)


def simulate_lifetime(script: str, ctx: Context | None = None) -> RunResult:
    """How a container's main script plays out: when it exits, with what, printing what."""
    if ctx is None:
        ctx = Context()
    ctx.horizon = 86400.0
    ctx.max_steps = 3000
    return run(script, ctx)


class MountedFiles(MutableMapping[str, str]):
    """A container's files: its own layer, with volumes mounted over some directories.

    A path under a mount lives in that volume's dict (keyed relative to the mount), so a
    volume shared by containers, or a claim that outlives its pod, keeps what was written.
    """

    def __init__(self, own: dict[str, str], mounts: list[tuple[str, dict[str, str]]]) -> None:
        self.own = own
        # Longest mount path first so nested mounts win.
        self.mounts = sorted(((m.rstrip("/") or "/", d) for m, d in mounts),
                             key=lambda m: -len(m[0]))

    def _route(self, path: str) -> tuple[dict[str, str], str]:
        for mount, store in self.mounts:
            if path.startswith(mount + "/"):
                return store, path[len(mount):]
        return self.own, path

    def __getitem__(self, path: str) -> str:
        store, key = self._route(path)
        return store[key]

    def __setitem__(self, path: str, value: str) -> None:
        store, key = self._route(path)
        store[key] = value

    def __delitem__(self, path: str) -> None:
        store, key = self._route(path)
        del store[key]

    def __iter__(self) -> Iterator[str]:
        for path in list(self.own):
            if self._route(path)[0] is self.own:
                yield path
        for mount, store in self.mounts:
            for key in list(store):
                yield mount + key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        store, key = self._route(path)
        return key in store
