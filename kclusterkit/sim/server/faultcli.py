"""``kclusterkit sim fault ACTION [ARGS] --kubeconfig PATH``: a fault, asked of a served simulator.

This is the served simulator's ``docker stop``: an environment file names it as a hook
command (``fail_node: "kclusterkit sim fault fail-node {node} --kubeconfig {kubeconfig}"``)
and the real-cluster driver runs it as a process, exactly as it runs an operator's command
against a kind cluster. It holds nothing but the kubeconfig: server, CA and token come from
there, and the fault goes over HTTP to the server's admin path (``sim.server.admin``).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import ssl
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from kclusterkit.sim.faults import FAULTS

TIMEOUT = 10.0


class FaultCliError(Exception):
    """One line for the user; the exit code says whose fault it was."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Endpoint:
    server: str
    token: str | None
    context: ssl.SSLContext | None


def parser() -> argparse.ArgumentParser:
    known = "; ".join(f"{name} {' '.join(f.required).upper()}" for name, f in
                      sorted(FAULTS.items()))
    p = argparse.ArgumentParser(
        prog="kclusterkit sim fault",
        description="Apply a fault to a served simulated cluster (kclusterkit sim serve). "
                    f"Faults: {known}.")
    p.add_argument("action", nargs="?", help="the fault, e.g. fail-node")
    p.add_argument("args", nargs="*", metavar="ARG", help="its arguments, in order")
    p.add_argument("--container", default=None, help="crash-container: the container")
    p.add_argument("--exit-code", default=None,
                   help="crash-container: the exit code (default 1)")
    p.add_argument("--node", default=None,
                   help="stop-component/start-component: only on this control-plane node "
                        "(default: every one)")
    p.add_argument("--kubeconfig", default=None,
                   help="the served simulator's kubeconfig (default: $KUBECONFIG)")
    p.add_argument("--context", default=None, help="kubeconfig context (default: current)")
    p.add_argument("--list", action="store_true", help="list the faults and exit")
    return p


def _load_yaml(path: str) -> Any:
    import yaml

    from kclusterkit import safe_yaml

    try:
        with open(path, encoding="utf-8") as fh:
            return safe_yaml.load(fh.read())
    except FileNotFoundError:
        raise FaultCliError(f"kubeconfig {path} not found", 2) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise FaultCliError(f"kubeconfig {path} is not readable YAML: "
                            f"{' '.join(str(exc).split())}", 2) from None


def _named(items: Any, name: str, what: str, path: str) -> dict[str, Any]:
    for item in items or []:
        if isinstance(item, dict) and item.get("name") == name:
            return item.get(what) or {}
    raise FaultCliError(f"kubeconfig {path}: no {what} named {name!r}", 2)


def endpoint(kubeconfig: str | None, context: str | None) -> Endpoint:
    """Server, token and TLS settings of ``context`` in ``kubeconfig``."""
    path = kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or \
        os.path.expanduser("~/.kube/config")
    data = _load_yaml(path)
    if not isinstance(data, dict):
        raise FaultCliError(f"kubeconfig {path} is not a kubeconfig", 2)
    name = context or data.get("current-context")
    if not name:
        raise FaultCliError(f"kubeconfig {path} has no current-context; pass --context", 2)
    ctx = _named(data.get("contexts"), name, "context", path)
    cluster = _named(data.get("clusters"), ctx.get("cluster", ""), "cluster", path)
    user = _named(data.get("users"), ctx.get("user", ""), "user", path) \
        if ctx.get("user") else {}
    server = str(cluster.get("server") or "")
    if not server:
        raise FaultCliError(f"kubeconfig {path}: cluster of context {name!r} has no server", 2)
    token = user.get("token")
    if not token and user.get("tokenFile"):
        with open(user["tokenFile"], encoding="utf-8") as fh:
            token = fh.read().strip()
    tls: ssl.SSLContext | None = None
    if server.startswith("https://"):
        tls = _tls(cluster, path)
    return Endpoint(server.rstrip("/"), token, tls)


def _tls(cluster: dict[str, Any], path: str) -> ssl.SSLContext:
    if cluster.get("insecure-skip-tls-verify"):
        tls = ssl.create_default_context()
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
        return tls
    data = cluster.get("certificate-authority-data")
    if data:
        try:
            pem = base64.b64decode(data).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            raise FaultCliError(f"kubeconfig {path}: certificate-authority-data is not "
                                "base64 PEM", 2) from None
        return ssl.create_default_context(cadata=pem)
    if cluster.get("certificate-authority"):
        return ssl.create_default_context(cafile=cluster["certificate-authority"])
    return ssl.create_default_context()


def call(end: Endpoint, method: str, path: str, body: Any = None) -> Any:
    headers = {"Accept": "application/json"}
    if end.token:
        headers["Authorization"] = f"Bearer {end.token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(end.server + path, data=data, method=method,
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT,  # noqa: S310 — the kubeconfig's
                                    context=end.context) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        raw = exc.read() if exc.fp is not None else b""
        try:
            message = json.loads(raw).get("message") or raw.decode()
        except (ValueError, AttributeError):
            message = raw.decode("utf-8", "replace").strip() or exc.reason
        if exc.code == 404 and "could not find the requested resource" in message:
            message = f"{end.server} is not a kclusterkit simulator (no {path})"
        raise FaultCliError(f"{exc.code}: {message}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FaultCliError(f"cannot reach {end.server}: {reason}") from None


def arguments(args: argparse.Namespace) -> dict[str, Any]:
    fault = FAULTS.get(args.action)
    if fault is None:
        raise FaultCliError(f"unknown fault {args.action!r} (known: "
                            f"{', '.join(sorted(FAULTS))})", 2)
    if len(args.args) != len(fault.required):
        raise FaultCliError(f"{args.action} takes {len(fault.required)} argument(s): "
                            f"{' '.join(n.upper() for n in fault.required)}; got "
                            f"{len(args.args)}", 2)
    out: dict[str, Any] = dict(zip(fault.required, args.args, strict=True))
    for name, value in (("container", args.container), ("exit_code", args.exit_code),
                        ("node", args.node)):
        if value is None or value == "":
            continue  # a hook template fills an unset field with ''
        if name not in fault.optional:
            raise FaultCliError(f"{args.action} takes no --{name.replace('_', '-')}", 2)
        if name == "exit_code":
            try:
                value = int(value)
            except ValueError:
                raise FaultCliError(f"--exit-code: expected a whole number, got {value!r}",
                                    2) from None
        out[name] = value
    return out


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.list:
            for name, fault in sorted(FAULTS.items()):
                print(f"{name} {' '.join(n.upper() for n in fault.required)}: {fault.help}")
            return 0
        if not args.action:
            raise FaultCliError("name a fault (kclusterkit sim fault --list shows them)", 2)
        body = arguments(args)
        end = endpoint(args.kubeconfig, args.context)
        call(end, "POST", f"/kclusterkit/v1/faults/{args.action}", body)
    except FaultCliError as exc:
        print(f"kclusterkit sim fault: {exc}", file=sys.stderr)
        return exc.code
    return 0

