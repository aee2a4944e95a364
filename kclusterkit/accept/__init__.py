"""``kclusterkit accept``: the acceptance pack for a freshly provisioned cluster.

The pack is feature files shipped in the package (``features/``), run like any other with
``kclusterkit.runner`` against the current kubeconfig context by default, a given
``--kubeconfig``/``--context`` (written into a temporary environment file), or any
environment (``-e sim`` runs it on the simulator: a demo, and the command's own test).
Every check is a scenario that owns its namespace, so the driver's cleanup — also on
Ctrl-C, which reaches behave once through ``supervise`` — leaves nothing behind. After the
run it prints one table (check, result, time, detail); Allure results and JUnit go where
``kclusterkit run`` puts them. It exits 0 only when no check failed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from kclusterkit.supervise import supervise

PACK = Path(__file__).resolve().parent / "features"
SUMMARY = "kclusterkit.accept.summary:SummaryFormatter"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kclusterkit accept",
        description="Check that a freshly provisioned cluster is fit for use: nodes, system "
                    "pods, pod network between every pair of nodes, DNS, Services, storage, "
                    "RBAC, API latency. Non-destructive; removes what it creates.")
    p.add_argument("-e", "--env", help="environment name or file (default: the current "
                                       "kubeconfig context, as the built-in 'kubeconfig')")
    p.add_argument("--kubeconfig", metavar="PATH", help="this kubeconfig instead")
    p.add_argument("--context", metavar="NAME", help="this kubeconfig context")
    p.add_argument("-t", "--tags", action="append", metavar="EXPR",
                   help="only these checks, e.g. '@nodes or @dns' (repeatable); see --list")
    p.add_argument("--list", action="store_true", help="print the checks and exit")
    return p


def checks() -> list[tuple[str, str]]:
    """(tag, scenario name) of every check in the pack."""
    from behave.parser import parse_file

    out = []
    for path in sorted(PACK.glob("*.feature")):
        for scenario in parse_file(str(path)).walk_scenarios():
            tags = [t for t in scenario.effective_tags if t != "acceptance"]
            out.append(("@" + str(tags[0]) if tags else "", scenario.name))
    return out


def _environment(args: argparse.Namespace, folder: Path) -> str:
    if args.env and (args.kubeconfig or args.context):
        raise ValueError("-e and --kubeconfig/--context do not go together: put the "
                         "kubeconfig and context in the environment file")
    if args.env:
        return args.env
    if not (args.kubeconfig or args.context):
        return "kubeconfig"
    lines = ["target: kubeconfig", "namespace_prefix: kk-accept", "cleanup: always"]
    if args.kubeconfig:
        lines.append(f"kubeconfig: {Path(args.kubeconfig).expanduser().resolve()}")
    if args.context:
        lines.append(f"context: {args.context}")
    path = folder / "accept.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    from kclusterkit.accept.summary import load, table

    args = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.list:
        for tag, name in checks():
            print(f"{tag:<14} {name}")
        return 0
    with tempfile.TemporaryDirectory(prefix="kclusterkit-accept-") as tmp:
        folder = Path(tmp)
        try:
            env = _environment(args, folder)
        except ValueError as exc:
            print(f"kclusterkit accept: {exc}", file=sys.stderr)
            return 2
        record = folder / "summary.json"
        command = [sys.executable, "-m", "kclusterkit.runner", str(PACK), "-D", f"env={env}",
                   "-f", "progress", "-f", SUMMARY, "-o", "-", "-o", str(record)]
        for expr in args.tags or []:
            command += ["--tags", expr]
        code = supervise(command)
        if not record.is_file():
            return code or 1
        found = load(record)
        print()
        print(table(found))
        bad = [c for c in found if c.status not in ("passed", "skipped")]
        if not found:
            print("kclusterkit accept: no check matched", file=sys.stderr)
            return code or 1
        return code if code else (1 if bad else 0)
