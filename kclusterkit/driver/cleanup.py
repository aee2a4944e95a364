"""``kclusterkit cleanup``: remove what runs left behind on a cluster.

A run killed with SIGKILL, a machine that lost power, or ``cleanup: never`` leave
namespaces behind. kclusterkit names each ``<prefix>-<run id>-<n>`` and labels it
``kclusterkit.io/managed=true`` and ``kclusterkit.io/run=<run id>``. A label alone is not
proof: anybody can label a namespace, so only a namespace that carries both labels *and*
the name a run of this prefix would have given it is ours to delete. Deleting is
irreversible, so ``--all`` lists what it found and asks first (``--yes`` for scripts; a
script without ``--yes`` is refused rather than guessed for).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kclusterkit.driver.errors import ApiError, ClusterError, ConfigurationError
from kclusterkit.driver.kube import (
    MANAGED_LABEL,
    RUN_LABEL,
    SCENARIO_ANNOTATION,
    connect,
    dns_label,
    namespace_name,
    run_label_value,
)
from kclusterkit.driver.kubeapi import Rest

DEFAULT_PREFIX = "kk"
_TAIL = re.compile(r"-(\d+)$")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kclusterkit cleanup",
        description="Delete the namespaces kclusterkit runs left on a cluster: those named "
                    f"<prefix>-<run id>-<n> and labelled {MANAGED_LABEL}=true and {RUN_LABEL}.")
    p.add_argument("-e", "--env", metavar="NAME",
                   help="environment (environments/NAME.yaml or a file) to take kubeconfig, "
                        "context and namespace_prefix from")
    p.add_argument("--kubeconfig", help="kubeconfig file (default: the environment's, then "
                                        "KUBECONFIG, then ~/.kube/config)")
    p.add_argument("--context", help="kubeconfig context (default: the environment's, then "
                                     "the current one)")
    p.add_argument("--prefix", help="namespace prefix the runs used (default: the "
                                    f"environment's namespace_prefix, then {DEFAULT_PREFIX})")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--run", metavar="ID", help="only the namespaces of this run")
    which.add_argument("--all", action="store_true", help="the namespaces of every run")
    p.add_argument("--dry-run", action="store_true", help="list what would be deleted")
    p.add_argument("-y", "--yes", action="store_true",
                   help="delete without asking (needed with --all when stdin is not a terminal)")
    return p


@dataclass
class Found:
    name: str
    run: str
    scenario: str
    terminating: bool

    def __str__(self) -> str:
        extra = f", scenario {self.scenario!r}" if self.scenario else ""
        return f"namespace {self.name} (run {self.run}{extra})"


def ours(ns: dict[str, Any], prefix: str) -> Found | None:
    """The namespace as a Found when a run with ``prefix`` made it, else None."""
    meta = ns.get("metadata") or {}
    name = str(meta.get("name") or "")
    labels = meta.get("labels") or {}
    run = labels.get(RUN_LABEL)
    if labels.get(MANAGED_LABEL) != "true" or not isinstance(run, str) or not run:
        return None
    tail = _TAIL.search(name)
    if tail is None or namespace_name(prefix, run, int(tail.group(1))) != name:
        return None
    scenario = str((meta.get("annotations") or {}).get(SCENARIO_ANNOTATION) or "")
    terminating = bool(meta.get("deletionTimestamp")) or \
        (ns.get("status") or {}).get("phase") == "Terminating"
    return Found(name, run, scenario, terminating)


def _settings(args: argparse.Namespace) -> tuple[str | None, str | None, str]:
    """kubeconfig, context and prefix: options first, then the environment file's."""
    options: dict[str, Any] = {}
    if args.env:
        from kclusterkit.config import EnvironmentFileError, load_environment

        try:
            options = load_environment(args.env).options
        except EnvironmentFileError as exc:
            raise ClusterError(str(exc)) from None
    prefix = args.prefix or options.get("namespace_prefix") or DEFAULT_PREFIX
    return (args.kubeconfig or options.get("kubeconfig"),
            args.context or options.get("context"), dns_label(prefix, 20))


def _confirm(question: str, stdin: Any, out: Callable[[str], None]) -> bool:
    out(question)
    answer = stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def main(argv: Sequence[str] | None = None, stdin: Any = None) -> int:
    args = parser().parse_args(argv)
    stdin = stdin if stdin is not None else sys.stdin
    rest: Rest | None = None
    try:
        kubeconfig, context, prefix = _settings(args)
        rest = connect(kubeconfig, context)
        selector = f"{MANAGED_LABEL}=true," + \
            (f"{RUN_LABEL}={run_label_value(args.run)}" if args.run else RUN_LABEL)
        listed = rest.call("GET", "/api/v1/namespaces", query={"labelSelector": selector})
        found = [f for ns in listed.get("items") or [] if (f := ours(ns, prefix)) is not None]
        where = rest.where()
        scope = f"run {args.run}" if args.run else "any run"
        if not found:
            print(f"nothing to clean up: no namespace of {scope} with prefix {prefix!r} on "
                  f"{where}")
            return 0
        for f in found:
            if f.terminating:
                print(f"already terminating: {f}")
        todo = [f for f in found if not f.terminating]
        if not todo:
            return 0
        verb = "would delete" if args.dry_run else "will delete"
        print(f"{verb} from {where}:")
        for f in todo:
            print(f"  {f}")
        if args.dry_run:
            return 0
        if args.all and not args.yes:
            if not (hasattr(stdin, "isatty") and stdin.isatty()):
                print(f"kclusterkit cleanup: not deleting {len(todo)} namespace(s) without "
                      "confirmation: stdin is not a terminal; add --yes to delete them",
                      file=sys.stderr)
                return 2
            if not _confirm(f"Delete these {len(todo)} namespace(s)? [y/N] ", stdin,
                            lambda q: print(q, end="", flush=True)):
                print("nothing deleted")
                return 1
        removed = 0
        for f in todo:
            try:
                rest.call("DELETE", f"/api/v1/namespaces/{f.name}",
                          body={"propagationPolicy": "Background"})
            except ApiError as exc:
                if exc.code == 404:
                    continue
                raise
            removed += 1
            print(f"deleted {f}")
        print(f"{removed} namespace(s) deleted")
        return 0
    except (ClusterError, ConfigurationError) as exc:
        text = str(exc)
        if rest is not None and rest.server not in text:
            text = f"{rest.where()}: {text}"
        print(f"kclusterkit cleanup: {text}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
