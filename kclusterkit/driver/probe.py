"""The pods that make a scenario's traffic, and how to read what they did.

Steps may reach workloads only the way a real cluster allows — from a pod, through the
cluster network — so traffic starts in pods of the scenario's namespace running a
published image (busybox) that every target runs: a probe pod that sleeps and is told, by
exec, to make a batch of requests; and one load pod per steady load, whose shell loop makes
a request every 1/rate seconds and prints each answer followed by a marker line with
wget's exit status. What they print is read back through the API (exec output, or the
pod's log with the kubelet's timestamps), so the real cluster, the served simulator and
the in-process simulator all make and judge traffic the same way.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from datetime import datetime

from kclusterkit.driver.base import Obj, Request

PROBE_POD = "kk-probe"
LOAD_POD_PREFIX = "kk-load"
PROBE_IMAGE = "busybox:1.36"
PROBE_LABELS = {"app.kubernetes.io/name": PROBE_POD, "app.kubernetes.io/managed-by": "kclusterkit"}
WGET_TIMEOUT = 2  # seconds busybox wget waits for an answer (-T)
MARKER = "@@kk-exit"
_STATUS = re.compile(r"server returned error: HTTP/\S+ (\d{3})")
_HOSTNAME_BODY = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


def probe_manifest() -> Obj:
    return _pod(PROBE_POD, ["sleep", "infinity"])


def load_manifest(name: str, url: str, rate: float, method: str = "GET") -> Obj:
    pod = _pod(name, ["sh", "-c", load_script(url, rate, method)])
    pod["metadata"]["labels"]["app.kubernetes.io/component"] = "load"
    pod["spec"]["restartPolicy"] = "Never"  # a load that stopped must not start over
    return pod


def _pod(name: str, command: list[str]) -> Obj:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {**PROBE_LABELS, "app.kubernetes.io/name": name}},
        "spec": {
            "containers": [{"name": "probe", "image": PROBE_IMAGE, "command": command}],
            "terminationGracePeriodSeconds": 0,
        },
    }


def _request_lines(url: str, method: str = "GET") -> str:
    # each answer, then a line with wget's exit status (busybox sh; no seq needed); a POST
    # sends an empty body
    post = " --post-data=''" if method == "POST" else ""
    return (f"wget -qO- -T {WGET_TIMEOUT}{post} {shlex.quote(url)} 2>&1; s=$?; echo; "
            f'echo "{MARKER} $s"')


def batch_script(url: str, count: int) -> str:
    """One shell loop making ``count`` GETs, each answer followed by its marker line."""
    numbers = " ".join(str(i) for i in range(1, count + 1))
    return f"for i in {numbers}; do {_request_lines(url)}; done"


def load_script(url: str, rate: float, method: str = "GET") -> str:
    """A GET every 1/rate seconds, for as long as the pod lives."""
    pause = f"{1.0 / rate:.6f}".rstrip("0").rstrip(".")
    return f"while true; do {_request_lines(url, method)}; sleep {pause}; done"


def parse_batch(output: str, url: str, at: Callable[[int], float]) -> list[Request]:
    """The requests a ``batch_script`` run printed, in order; ``at(i)`` is request i's time."""
    out: list[Request] = []
    chunk: list[str] = []
    for line in output.split("\n"):
        if line.startswith(MARKER + " "):
            out.append(_request(at(len(out)), line[len(MARKER) + 1:].strip() == "0",
                                _body(chunk), url))
            chunk = []
        else:
            chunk.append(line)
    return out


def parse_log(log: str, url: str) -> list[Request]:
    """The requests a load pod made, from its log read with ``timestamps=true``: each
    request's time is its marker line's timestamp (Unix seconds)."""
    out: list[Request] = []
    chunk: list[str] = []
    for raw in log.split("\n"):
        stamp, _, line = raw.partition(" ")
        if line.startswith(MARKER + " "):
            at = log_time(stamp)
            if at is None:
                chunk = []
                continue
            out.append(_request(at, line[len(MARKER) + 1:].strip() == "0", _body(chunk), url))
            chunk = []
        elif stamp:
            chunk.append(line)
    return out


def log_time(stamp: str) -> float | None:
    """Unix seconds of a kubelet log timestamp (RFC 3339 with up to nanoseconds)."""
    text = stamp.strip().removesuffix("Z")
    head, _, frac = text.partition(".")
    try:
        whole = datetime.fromisoformat(head + "+00:00").timestamp()
    except ValueError:
        return None
    digits = "".join(ch for ch in frac if ch.isdigit())[:9]
    return whole + (int(digits) / 10 ** len(digits) if digits else 0.0)


def _body(chunk: list[str]) -> str:
    text = "\n".join(chunk)
    return text[:-1] if text.endswith("\n") else text


def _request(at: float, ok: bool, text: str, url: str) -> Request:
    if ok:
        return Request(at, True, 200, answerer(url, text), None, text)
    message = text.strip().splitlines()[-1] if text.strip() else "request failed"
    message = message.removeprefix("wget: ")
    found = _STATUS.search(message)
    if found:
        return Request(at, False, int(found.group(1)), None, None, "")
    lowered = message.lower()
    if "connection refused" in lowered:
        message = "connection refused"
    elif "timed out" in lowered:
        message = "connection timed out"
    elif "bad address" in lowered:
        message = "could not resolve host"
    return Request(at, False, None, None, message, "")


def answerer(url: str, body: str) -> str | None:
    """The pod that answered, when the answer says: agnhost's ``/hostname`` is the pod's
    name. Anything else (nginx's welcome page) does not tell."""
    path = url.split("://", 1)[-1].partition("/")[2].split("?", 1)[0]
    name = body.strip()
    if path.rstrip("/").endswith("hostname") and _HOSTNAME_BODY.match(name) and len(name) < 254:
        return name
    return None
