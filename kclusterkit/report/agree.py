"""Do two runs of the same features agree, scenario by scenario?

The same feature file runs in-process on the simulator and through the kubernetes client
against the served simulator. A scenario that passes one way and fails (or is skipped) the
other is a bug in one of the two paths, so CI compares the two runs' JUnit results:

    python -m kclusterkit.report.agree reports/junit reports/junit-api

prints the disagreements as a table and exits 1, or prints "N scenarios agree".
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: statuses as behave writes them; anything else a JUnit writer says is mapped onto these
PASSED, FAILED, SKIPPED, MISSING = "passed", "failed", "skipped", "missing"
Key = tuple[str, str]  # (classname: "<feature file stem>.<feature name>", scenario name)


class ResultsError(Exception):
    """A results directory cannot be compared (missing, empty, unreadable)."""


@dataclass(frozen=True)
class Disagreement:
    key: Key
    left: str
    right: str


def _status(case: ET.Element) -> str:
    said = (case.get("status") or "").lower()
    if case.find("failure") is not None or case.find("error") is not None or \
            said in ("failed", "error", "hook_error", "broken"):
        return FAILED
    if case.find("skipped") is not None or said in ("skipped", "untested", "undefined"):
        return SKIPPED
    return PASSED


def read_results(folder: str | Path) -> dict[Key, str]:
    """Every testcase of every ``*.xml`` in ``folder``: (classname, name) → status.

    Scenarios of the same name in one feature (it happens) are told apart by a ``#2``,
    ``#3`` … suffix in file order."""
    path = Path(folder)
    if not path.is_dir():
        raise ResultsError(f"{path}: no such results directory")
    results: dict[Key, str] = {}
    files = sorted(path.glob("*.xml"))
    for file in files:
        try:
            root = ET.parse(file).getroot()
        except (ET.ParseError, OSError) as exc:
            raise ResultsError(f"{file}: not readable JUnit XML ({exc})") from exc
        for case in root.iter("testcase"):
            classname = case.get("classname") or ""
            name = case.get("name") or ""
            key, n = (classname, name), 1
            while key in results:
                n += 1
                key = (classname, f"{name} #{n}")
            results[key] = _status(case)
    if not results:
        raise ResultsError(f"{path}: no test cases in {len(files)} JUnit file(s)")
    return results


def compare(left: dict[Key, str], right: dict[Key, str]) -> list[Disagreement]:
    """Scenarios whose status differs (or that only one run has), in a stable order."""
    out = []
    for key in sorted(set(left) | set(right)):
        a, b = left.get(key, MISSING), right.get(key, MISSING)
        if a != b:
            out.append(Disagreement(key, a, b))
    return out


def table(rows: list[Disagreement], left_name: str, right_name: str) -> str:
    lines = [("FEATURE", "SCENARIO", left_name.upper(), right_name.upper())]
    lines += [(d.key[0], d.key[1], d.left, d.right) for d in rows]
    widths = [max(len(r[i]) for r in lines) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kclusterkit.report.agree",
        description="Compare two JUnit result directories scenario by scenario.")
    parser.add_argument("left", help="results of one run, e.g. reports/junit")
    parser.add_argument("right", help="results of the other, e.g. reports/junit-api")
    parser.add_argument("--names", default="in-process,api",
                        help="what to call the two runs in the table (default: %(default)s)")
    args = parser.parse_args(argv)
    left_name, _, right_name = args.names.partition(",")
    try:
        left, right = read_results(args.left), read_results(args.right)
    except ResultsError as exc:
        print(f"agree: {exc}", file=sys.stderr)
        return 2
    rows = compare(left, right)
    if rows:
        print(f"{len(rows)} of {len(set(left) | set(right))} scenarios disagree "
              f"({args.left} vs {args.right}):")
        print(table(rows, left_name or "left", right_name or "right"))
        return 1
    print(f"{len(left)} scenarios agree ({left_name or 'left'} and {right_name or 'right'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
