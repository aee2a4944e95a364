"""Do several runs of the same features agree, scenario by scenario?

The same feature file runs in-process on the simulator, on ``sim-api`` and through the
``kubeconfig`` target against a served simulator. A scenario that passes one way and fails
(or is skipped) another is a bug in one of the paths, so CI compares the runs' JUnit
results:

    python -m kclusterkit.report.agree reports/junit reports/junit-api reports/junit-kubeconfig

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
    statuses: tuple[str, ...]  # one per run, in the order the runs were given


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
            # behave names a class after the feature file's path as it was given: a run
            # of `features/x.feature` says "features.x.<Feature>", a run of the folder "x.…"
            classname = (case.get("classname") or "").removeprefix("features.")
            name = case.get("name") or ""
            key, n = (classname, name), 1
            while key in results:
                n += 1
                key = (classname, f"{name} #{n}")
            results[key] = _status(case)
    if not results:
        raise ResultsError(f"{path}: no test cases in {len(files)} JUnit file(s)")
    return results


def compare(*runs: dict[Key, str]) -> list[Disagreement]:
    """Scenarios whose status differs between runs (or that not every run has), in a
    stable order."""
    out = []
    for key in sorted(set().union(*runs)):
        statuses = tuple(run.get(key, MISSING) for run in runs)
        if len(set(statuses)) > 1:
            out.append(Disagreement(key, statuses))
    return out


def table(rows: list[Disagreement], names: Sequence[str]) -> str:
    lines = [("FEATURE", "SCENARIO", *(n.upper() for n in names))]
    lines += [(d.key[0], d.key[1], *d.statuses) for d in rows]
    widths = [max(len(r[i]) for r in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kclusterkit.report.agree",
        description="Compare JUnit result directories of runs of the same features, "
                    "scenario by scenario.")
    parser.add_argument("folders", nargs="+", metavar="DIR",
                        help="results of each run, e.g. reports/junit reports/junit-api")
    parser.add_argument("--names", default=None,
                        help="what to call the runs in the table, comma-separated "
                             "(default: in-process,api for two runs, else the folders)")
    args = parser.parse_args(argv)
    if len(args.folders) < 2:
        parser.error("name at least two results directories")
    if args.names:
        names = [n.strip() for n in args.names.split(",")]
    elif len(args.folders) == 2:
        names = ["in-process", "api"]
    else:
        names = list(args.folders)
    if len(names) != len(args.folders):
        parser.error(f"--names: {len(names)} names for {len(args.folders)} runs")
    try:
        runs = [read_results(folder) for folder in args.folders]
    except ResultsError as exc:
        print(f"agree: {exc}", file=sys.stderr)
        return 2
    rows = compare(*runs)
    total = len(set().union(*runs))
    if rows:
        print(f"{len(rows)} of {total} scenarios disagree ({' vs '.join(args.folders)}):")
        print(table(rows, names))
        return 1
    said = "1 scenario agrees" if total == 1 else f"{total} scenarios agree"
    print(f"{said} ({', '.join(names[:-1])} and {names[-1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
