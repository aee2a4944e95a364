"""``kclusterkit cleanup``: remove what runs left behind on a cluster.

A run killed with SIGKILL, a machine that lost power, or ``cleanup: never`` leave
namespaces behind. kclusterkit names each ``<prefix>-<run id>-<n>`` (a scenario's other
namespaces ``<prefix>-<run id>-<n>-<name>``) and labels it ``kclusterkit.io/managed=true``
and ``kclusterkit.io/run=<run id>``. A label alone is not proof: anybody can label a
namespace, so only a namespace that carries both labels *and* the name a run of this prefix
would have given it is ours to delete. The cluster-scoped objects a scenario made
(ClusterRoles and their bindings, PriorityClasses, CRDs) carry the run's label and the
name of the scenario's namespace: the same proof holds for that name. Deleting is
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
from kclusterkit.driver.kubeaccess import CLUSTER_WRITABLE, SCENARIO_LABEL
from kclusterkit.driver.kubeapi import Rest

DEFAULT_PREFIX = "kk"
_TAIL = re.compile(r"-(\d+)$")
_NUMBER = re.compile(r"-(\d+)(?=-|$)")


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


@dataclass
class FoundObject:
    """A cluster-scoped object a scenario of a run made."""

    group: str
    plural: str
    name: str
    run: str

    @property
    def path(self) -> str:
        return f"/apis/{self.group}/v1/{self.plural}/{self.name}"

    def __str__(self) -> str:
        return f"{self.plural} {self.name} (run {self.run})"


def named_by_run(name: str, prefix: str, run: str, extra: bool = False) -> bool:
    """``name`` is ``<prefix>-<run>-<n>`` as a run gives it (with ``extra``, also a scenario's
    other namespace ``<prefix>-<run>-<n>-<name>``)."""
    if (tail := _TAIL.search(name)) and namespace_name(prefix, run, int(tail.group(1))) == name:
        return True
    if not extra:
        return False
    for number in _NUMBER.finditer(name):
        base = name[:number.end()]
        if namespace_name(prefix, run, int(number.group(1))) == base and \
                name[number.end():].startswith("-"):
            return True
    return False


def ours(ns: dict[str, Any], prefix: str) -> Found | None:
    """The namespace as a Found when a run with ``prefix`` made it, else None."""
    meta = ns.get("metadata") or {}
    name = str(meta.get("name") or "")
    labels = meta.get("labels") or {}
    run = labels.get(RUN_LABEL)
    if labels.get(MANAGED_LABEL) != "true" or not isinstance(run, str) or not run:
        return None
    if not named_by_run(name, prefix, run, extra=True):
        return None
    scenario = str((meta.get("annotations") or {}).get(SCENARIO_ANNOTATION) or "")
    terminating = bool(meta.get("deletionTimestamp")) or \
        (ns.get("status") or {}).get("phase") == "Terminating"
    return Found(name, run, scenario, terminating)


def cluster_objects(rest: Rest, prefix: str, run: str | None) -> list[FoundObject]:
    """The cluster-scoped objects runs of ``prefix`` (or one run) made: labelled with the run
    and with a scenario namespace a run of that prefix named."""
    selector = f"{RUN_LABEL}={run_label_value(run)}" if run else RUN_LABEL
    found: list[FoundObject] = []
    for group, plural in CLUSTER_WRITABLE:
        try:
            listed = rest.call("GET", f"/apis/{group}/v1/{plural}",
                               query={"labelSelector": selector})
        except ApiError as exc:
            if exc.code in (403, 404):
                continue  # a kind this cluster lacks or we may not list: none of ours to see
            raise
        for item in (listed or {}).get("items") or []:
            meta = item.get("metadata") or {}
            labels = meta.get("labels") or {}
            owner, scenario = labels.get(RUN_LABEL), labels.get(SCENARIO_LABEL)
            if isinstance(owner, str) and isinstance(scenario, str) and \
                    named_by_run(scenario, prefix, owner):
                found.append(FoundObject(group, plural, str(meta.get("name") or ""), owner))
    return found


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
        objects = cluster_objects(rest, prefix, args.run)
        where = rest.where()
        scope = f"run {args.run}" if args.run else "any run"
        if not found and not objects:
            print(f"nothing to clean up: no namespace of {scope} with prefix {prefix!r} on "
                  f"{where}")
            return 0
        for f in found:
            if f.terminating:
                print(f"already terminating: {f}")
        todo = [f for f in found if not f.terminating]
        if not todo and not objects:
            return 0
        verb = "would delete" if args.dry_run else "will delete"
        print(f"{verb} from {where}:")
        for item in (*todo, *objects):
            print(f"  {item}")
        if args.dry_run:
            return 0
        what = f"{len(todo)} namespace(s)" + \
            (f" and {len(objects)} cluster-scoped object(s)" if objects else "")
        if args.all and not args.yes:
            if not (hasattr(stdin, "isatty") and stdin.isatty()):
                print(f"kclusterkit cleanup: not deleting {what} without "
                      "confirmation: stdin is not a terminal; add --yes to delete them",
                      file=sys.stderr)
                return 2
            if not _confirm(f"Delete these {what}? [y/N] ", stdin,
                            lambda q: print(q, end="", flush=True)):
                print("nothing deleted")
                return 1
        removed = 0
        for f in todo:
            if _delete(rest, f"/api/v1/namespaces/{f.name}"):
                removed += 1
                print(f"deleted {f}")
        gone = 0
        for obj in objects:
            if _delete(rest, obj.path):
                gone += 1
                print(f"deleted {obj}")
        print(f"{removed} namespace(s) deleted" +
              (f", {gone} cluster-scoped object(s) deleted" if objects else ""))
        return 0
    except (ClusterError, ConfigurationError) as exc:
        text = str(exc)
        if rest is not None and rest.server not in text:
            text = f"{rest.where()}: {text}"
        print(f"kclusterkit cleanup: {text}", file=sys.stderr)
        return 2


def _delete(rest: Rest, path: str) -> bool:
    """Delete ``path``; False when it was already gone."""
    try:
        rest.call("DELETE", path, body={"propagationPolicy": "Background"})
    except ApiError as exc:
        if exc.code == 404:
            return False
        raise
    return True


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
