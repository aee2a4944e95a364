"""The busybox applets a simulated container has: ``echo``, ``sleep``, ``wget`` …

Each applet is a function ``(shell, args, stdin, out) -> exit status``: it reads and
writes the container's files through ``shell.ctx``, appends what it prints to ``out`` and
reports errors with ``shell.err`` in busybox's wording. An applet that waits (``sleep``,
``usleep``, ``tail -f``, a ``wget`` that times out) is a generator yielding the seconds it
waits, so a container's process waits on the cluster clock. ``APPLETS`` maps names to them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from kclusterkit.sim.shell.signals import ExitShell, KillContainer, NetworkError

if TYPE_CHECKING:
    from kclusterkit.sim.shell.interpreter import Shell

Waits = Generator[float, None, int]
# busybox wget.c: G.timeout_seconds = 900 unless -T says otherwise.
WGET_DEFAULT_TIMEOUT = 900.0


def true(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    return 0


def false(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    return 1


def exit_(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    try:
        code = int(args[0]) if args else sh.status
    except ValueError:
        sh.err(f"sh: exit: Illegal number: {args[0]}")
        code = 2
    raise ExitShell(code & 0xFF)


def _seconds(arg: str) -> float | None:
    if arg in ("infinity", "inf"):
        return math.inf
    match = re.match(r"^(\d+(?:\.\d+)?)([smhd]?)$", arg)
    if not match:
        return None
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600,
                                     "d": 86400}[match.group(2)]


def sleep(sh: Shell, args: list[str], stdin: str, out: list[str]) -> Waits:
    if not args:
        sh.err("sleep: missing operand")
        return 1
    total = 0.0
    for arg in args:
        seconds = _seconds(arg)
        if seconds is None:
            sh.err(f"sleep: invalid number '{arg}'")
            return 1
        total += seconds
    yield from sh.wait(total)
    return 0


def usleep(sh: Shell, args: list[str], stdin: str, out: list[str]) -> Waits:
    if not args or not args[0].isdigit():
        sh.err("usleep: invalid number" if args else "usleep: missing operand")
        return 1
    yield from sh.wait(int(args[0]) / 1e6)
    return 0


def exec_(sh: Shell, args: list[str], stdin: str, out: list[str]) -> Waits:
    """``exec CMD``: the command replaces the shell, so the shell ends when it does."""
    if not args:
        return 0
    status = yield from sh.run_argv(args, stdin, out)
    sh.replaced = True
    return int(status)


def echo(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    newline = True
    if args and args[0] == "-n":
        newline, args = False, args[1:]
    elif args and args[0] == "-e":
        args = [a.encode().decode("unicode_escape") for a in args[1:]]
    out.append(" ".join(args) + ("\n" if newline else ""))
    return 0


def printf(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    if not args:
        return 1
    fmt = args[0].replace("\\n", "\n").replace("\\t", "\t")
    values = args[1:]
    try:
        out.append(fmt.replace("%s", "{}").format(*values) if values else fmt)
    except (IndexError, ValueError):
        out.append(fmt)
    return 0


def cat(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    if not args:
        out.append(stdin)
        return 0
    status = 0
    for path in args:
        if path in sh.ctx.files:
            out.append(sh.ctx.files[path])
        elif path in sh.ctx.dirs:
            sh.err("cat: read error: Is a directory")
            status = 1
        else:
            sh.err(f"cat: can't open '{path}': No such file or directory")
            status = 1
    return status


def tail(sh: Shell, args: list[str], stdin: str, out: list[str]) -> Waits:
    status = cat(sh, [a for a in args if not a.startswith("-")], stdin, out)
    if "-f" in args or "-F" in args:
        yield from sh.wait(math.inf)
    return status


def hostname(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    if "-i" in args:  # busybox hostname -i: the addresses of the host name
        out.append((sh.ctx.ip or "127.0.0.1") + "\n")
        return 0
    out.append(sh.ctx.hostname + "\n")
    return 0


def env(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    out.extend(f"{k}={v}\n" for k, v in sh.ctx.env.items())
    return 0


def mkdir(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    parents = "-p" in args
    status = 0
    for path in (a for a in args if not a.startswith("-")):
        path = path.rstrip("/") or "/"
        parent = path.rsplit("/", 1)[0] or "/"
        if path in sh.ctx.dirs:
            if not parents:
                sh.err(f"mkdir: can't create directory '{path}': File exists")
                status = 1
            continue
        if parent not in sh.ctx.dirs and not parents:
            sh.err(f"mkdir: can't create directory '{path}': No such file or directory")
            status = 1
            continue
        while path != "/":
            sh.ctx.dirs.add(path)
            path = path.rsplit("/", 1)[0] or "/"
    return status


def touch(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    for path in args:
        if path not in sh.ctx.files and not sh.write_file(path, "", append=True):
            sh.err(f"touch: {path}: No such file or directory")
            return 1
    return 0


def rm(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    force = any(a.startswith("-") and "f" in a for a in args)
    recursive = any(a.startswith("-") and ("r" in a or "R" in a) for a in args)
    status = 0
    for path in (a for a in args if not a.startswith("-")):
        if path in sh.ctx.files:
            del sh.ctx.files[path]
        elif path in sh.ctx.dirs and recursive:
            prefix = path.rstrip("/") + "/"
            for f in [f for f in sh.ctx.files if f.startswith(prefix)]:
                del sh.ctx.files[f]
            sh.ctx.dirs -= {d for d in sh.ctx.dirs if d == path or d.startswith(prefix)}
        elif path in sh.ctx.dirs:
            sh.err(f"rm: '{path}' is a directory")
            status = 1
        elif not force:
            sh.err(f"rm: can't remove '{path}': No such file or directory")
            status = 1
    return status


def ls(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    paths = [a for a in args if not a.startswith("-")] or ["/"]
    status = 0
    for path in paths:
        if path in sh.ctx.files:
            out.append(path + "\n")
            continue
        path = path.rstrip("/") or "/"
        if path not in sh.ctx.dirs:
            sh.err(f"ls: {path}: No such file or directory")
            status = 1
            continue
        prefix = "/" if path == "/" else path + "/"
        names = {p[len(prefix):].split("/", 1)[0] for p in
                 list(sh.ctx.files) + list(sh.ctx.dirs)
                 if p.startswith(prefix) and p != path and len(p) > len(prefix)}
        out.extend(n + "\n" for n in sorted(names))
    return status


def grep(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    flags = [a for a in args if a.startswith("-")]
    rest = [a for a in args if not a.startswith("-")]
    if not rest:
        return 2
    pattern, files = rest[0], rest[1:]
    text = "".join(sh.ctx.files.get(f, "") for f in files) if files else stdin
    invert = "-v" in flags
    quiet = "-q" in flags
    lines = [ln for ln in text.splitlines() if (pattern in ln) != invert]
    if not quiet:
        out.extend(ln + "\n" for ln in lines)
    return 0 if lines else 1


def wc(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    out.append(f"{len(stdin.splitlines())}\n")
    return 0


def head(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    count = 10
    for i, a in enumerate(args):
        if a == "-n" and i + 1 < len(args):
            count = int(args[i + 1])
        elif a.startswith("-") and a[1:].isdigit():
            count = int(a[1:])
    out.extend(ln + "\n" for ln in stdin.splitlines()[:count])
    return 0


def date(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    out.append("Thu Jan  1 00:00:00 UTC 2026\n")
    return 0


def test(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    if args and args[-1] == "]":
        args = args[:-1]
    if len(args) == 2 and args[0] in ("-f", "-e", "-d", "-n", "-z"):
        op, value = args
        if op == "-f":
            return 0 if value in sh.ctx.files else 1
        if op == "-d":
            return 0 if value in sh.ctx.dirs else 1
        if op == "-e":
            return 0 if value in sh.ctx.files or value in sh.ctx.dirs else 1
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


def bracket(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    return test(sh, args, stdin, out)


def kill(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
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
        sh.err(f"sh: can't kill pid {pid}: No such process")
    return 1 if pids else 0


def nslookup(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    names = [a for a in args if not a.startswith("-")]
    if not names:
        return 1
    name = names[0]
    if sh.ctx.resolve is None or (sh.ctx.dns_answers is not None
                                  and not sh.ctx.dns_answers()):
        sh.err(";; connection timed out; no servers could be reached")
        return 1
    server = sh.ctx.nameserver
    addresses = sh.ctx.resolve(name)
    out.append(f"Server:\t\t{server}\nAddress:\t{server}:53\n\n")
    if not addresses:
        sh.err(f"** server can't find {name}: NXDOMAIN")
        return 1
    fqdn = sh.ctx.fqdn(name) if sh.ctx.fqdn is not None else name
    for address in addresses:
        out.append(f"Name:\t{fqdn}\nAddress: {address}\n")
    out.append("\n")
    return 0


def wget(sh: Shell, args: list[str], stdin: str, out: list[str]) -> Waits:
    target: str | None = None
    quiet = False
    timeout = WGET_DEFAULT_TIMEOUT
    urls: list[str] = []
    method = "GET"  # --post-data makes it a POST (what resource-consumer's API wants)
    headers: dict[str, str] = {}
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a == "--post-data" or a.startswith("--post-data="):
            method = "POST"
            i += 1 if a == "--post-data" else 0
            continue
        if a == "--header" or a.startswith("--header="):
            value = a.split("=", 1)[1] if "=" in a else (args[i] if i < len(args) else "")
            i += 0 if "=" in a else 1
            name, sep, text = value.partition(":")
            if sep:
                headers[name.strip()] = text.strip()
            continue
        if a in ("--output-document", "-T", "--timeout", "-U", "--user-agent"):
            if a == "--output-document" and i < len(args):
                target = args[i]
            elif a in ("-T", "--timeout") and i < len(args):
                timeout = _timeout(args[i], timeout)
            i += 1
            continue
        if a.startswith("--output-document="):
            target = a.split("=", 1)[1]
        elif a.startswith("--timeout="):
            timeout = _timeout(a.split("=", 1)[1], timeout)
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
                    elif flag == "T":
                        timeout = _timeout(value, timeout)
                    break
        else:
            urls.append(a)
    if not urls:
        sh.err("wget: missing URL")
        return 1
    url = urls[0] if "://" in urls[0] else "http://" + urls[0]
    host = url.split("://", 1)[1].split("/", 1)[0]
    if not quiet:
        sh.err(f"Connecting to {host}")
    if sh.ctx.http is None:
        sh.err(f"wget: bad address '{host.split(':')[0]}'")
        return 1
    try:
        answer = sh.ctx.http(url, method=method, headers=headers) \
            if method != "GET" or headers else sh.ctx.http(url)
    except NetworkError as exc:
        if exc.timed_out:  # nothing answered: wget gives up when its timeout ends
            yield from sh.wait(timeout)
        sh.err(f"wget: {exc}")
        return 1
    status, body = answer[0], answer[1]
    latency = answer[2] if len(answer) > 2 else 0.0
    if latency >= timeout:  # the server queues it longer than wget waits
        yield from sh.wait(timeout)
        sh.err("wget: download timed out")
        return 1
    if latency > 0:
        yield from sh.wait(latency)
    if status >= 400:
        sh.err(f"wget: server returned error: HTTP/1.1 {status} {_REASONS.get(status, '')}")
        return 1
    if target == "-":
        out.append(body)
        return 0
    name = target or url.split("?", 1)[0].rsplit("/", 1)[-1] or "index.html"
    path = name if name.startswith("/") else "/" + name
    if path in sh.ctx.files and target is None:
        sh.err(f"wget: can't open '{name}': File exists")
        return 1
    if not sh.write_file(path, body, False):
        return 1
    if not quiet:
        sh.err(f"saving to '{name}'")
    return 0


def nc(sh: Shell, args: list[str], stdin: str, out: list[str]) -> Waits:
    """busybox nc (nc_bloaty) as a TCP check: ``nc -z [-v] [-w SECS] HOST PORT``. Exit 0 when
    the connection is accepted; refused at once, or silent until -w runs out."""
    wait: float | None = None
    verbose = False
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a == "-w" and i < len(args):
            wait = _timeout(args[i], 0.0)
            i += 1
        elif a.startswith("-w") and len(a) > 2:
            wait = _timeout(a[2:], 0.0)
        elif a.startswith("-") and len(a) > 1:
            verbose = verbose or "v" in a
        else:
            rest.append(a)
    if len(rest) != 2 or not rest[1].isdigit():
        sh.err("BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.\n\n"
               "Usage: nc [OPTIONS] HOST PORT  - connect")
        return 1
    host, port = rest[0], int(rest[1])
    if sh.ctx.tcp is None:
        sh.err(f"nc: bad address '{host}'")
        return 1
    result = sh.ctx.tcp(host, port)
    address = host
    if sh.ctx.resolve is not None:
        found = sh.ctx.resolve(host)
        address = found[0] if found else host
    if result == "resolve":
        sh.err(f"nc: bad address '{host}'")
        return 1
    if result == "timeout":
        # No answer: nc waits out -w (or the kernel's connect timeout, about 2 minutes).
        yield from sh.wait(wait if wait is not None else 127.0)
        sh.err("nc: timeout" if wait is not None else
               f"nc: can't connect to remote host ({address}): Connection timed out")
        return 1
    if result == "refused":
        if verbose:
            sh.err(f"nc: {host} ({address}:{port}): Connection refused")
        return 1
    if verbose:
        sh.err(f"{host} ({address}:{port}) open")
    return 0


def ping(sh: Shell, args: list[str], stdin: str, out: list[str]) -> Waits:
    """busybox ping: ``ping [-c COUNT] [-W SECS] HOST``, one echo a second."""
    count = 0
    hosts: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a in ("-c", "-W", "-w", "-i", "-s") and i < len(args):
            if a == "-c":
                count = int(_timeout(args[i], 0))
            i += 1
        elif a.startswith("-c") and len(a) > 2:
            count = int(_timeout(a[2:], 0))
        elif not a.startswith("-"):
            hosts.append(a)
    if not hosts:
        sh.err("BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.\n\n"
               "Usage: ping [OPTIONS] HOST")
        return 1
    host = hosts[0]
    found = sh.ctx.resolve(host) if sh.ctx.resolve is not None else None
    if not found:
        sh.err(f"ping: bad address '{host}'")
        return 1
    ip = found[0]
    answers = sh.ctx.ping(host) if sh.ctx.ping is not None else None
    out.append(f"PING {host} ({ip}): 56 data bytes\n")
    sent = received = 0
    while count <= 0 or sent < count:
        if answers:
            out.append(f"64 bytes from {ip}: seq={sent} ttl=62 time=0.081 ms\n")
            received += 1
        sent += 1
        if count <= 0 or sent < count:
            yield from sh.wait(1.0)
        elif not answers:
            yield from sh.wait(1.0)  # the last echo waits for its reply in vain
    loss = 100 * (sent - received) // sent
    out.append(f"\n--- {host} ping statistics ---\n{sent} packets transmitted, "
               f"{received} packets received, {loss}% packet loss\n")
    if received:
        out.append("round-trip min/avg/max = 0.081/0.081/0.081 ms\n")
    return 0 if received else 1


def _timeout(value: str, default: float) -> float:
    try:
        return float(value)
    except ValueError:
        return default


_REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error",
            502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}

Applet = Callable[["Shell", list[str], str, list[str]], Any]
APPLETS: dict[str, Applet] = {
    "true": true, ":": true, "false": false, "exit": exit_, "exec": exec_,
    "sleep": sleep, "usleep": usleep, "echo": echo, "printf": printf, "cat": cat,
    "tail": tail, "hostname": hostname, "env": env, "printenv": env, "mkdir": mkdir,
    "touch": touch, "rm": rm, "ls": ls, "grep": grep, "wc": wc, "head": head, "date": date,
    "test": test, "[": bracket, "kill": kill, "nslookup": nslookup, "wget": wget,
    "nc": nc, "ping": ping,
}
