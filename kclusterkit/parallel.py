"""``kclusterkit run --jobs N`` and ``--shard I/N``: the scenarios split over processes.

Scenarios are independent by design — on the in-process simulator each gets a cluster of
its own, on a real cluster a namespace of its own, and every scenario's seed is the run's
seed — so they can run in any process without changing what they do: a failure in a
parallel run replays with the same one command.

``--shard I/N`` splits deterministically, the same on every machine: every scenario
(``file:line``, in file order, scenario outlines row by row) is dealt round-robin into N
buckets and bucket I runs alone, for a CI matrix job. ``--jobs N`` balances instead: with
the durations of the last run's JUnit (longest first, to the least loaded job), else
round-robin; it runs the N groups as N behave processes, each
writing into a folder of its own under ``reports/.jobs/``, then merges: Allure results
(uniquely named files) are gathered into the usual folder, and each feature's JUnit
testsuite is put back together from its parts, its scenarios in file order. The merged
report of a split run therefore holds every scenario once, as a single run's does.
"""

from __future__ import annotations

import os
import shutil
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from kclusterkit.supervise import supervise_all

JOBS_DIR = Path("reports") / ".jobs"
ALLURE = "allure_behave.formatter:AllureFormatter"


class SplitError(Exception):
    """The run cannot be split as asked; the message is one line."""


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` → (2, 3); 1-based, as CI matrices count."""
    index, _, total = text.partition("/")
    try:
        i, n = int(index), int(total)
    except ValueError:
        raise SplitError(f"--shard {text}: expected I/N, e.g. 1/2") from None
    if n < 1 or not 1 <= i <= n:
        raise SplitError(f"--shard {text}: expected 1 <= I <= N")
    return i, n


def _feature_files(paths: Sequence[str]) -> list[tuple[str, int | None]]:
    found: list[tuple[str, int | None]] = []
    for raw in paths or ["features"]:
        path, _, line = raw.partition(":")
        if line.isdigit():
            found.append((path, int(line)))
        elif Path(raw).is_dir():
            found += [(str(p), None) for p in sorted(Path(raw).rglob("*.feature"))]
        elif Path(raw).is_file():
            found.append((raw, None))
        else:
            raise SplitError(f"{raw}: no such feature file or folder")
    return found


def scenarios(paths: Sequence[str]) -> list[str]:
    """Every scenario the paths name, as ``file:line``, in file order."""
    from behave.parser import parse_file

    out: list[str] = []
    for path, line in _feature_files(paths):
        if line is not None:
            out.append(f"{path}:{line}")
            continue
        feature = parse_file(path)
        if feature is None:
            continue
        for scenario in feature.walk_scenarios():
            out.append(f"{path}:{scenario.line}")
    return out


def buckets(locations: Sequence[str], n: int) -> list[list[str]]:
    """Round-robin: the split ``--shard`` uses, the same on every machine."""
    return [list(locations[i::n]) for i in range(n)]


def balanced(locations: Sequence[str], n: int, seconds: Sequence[float | None]
             ) -> list[list[str]]:
    """Longest first, each to the least loaded job (LPT), by the durations an earlier run
    recorded; scenarios without one count as the average. Each job keeps file order."""
    known = [s for s in seconds if s is not None]
    if not known:
        return buckets(locations, n)
    average = sum(known) / len(known)
    cost = [s if s is not None else average for s in seconds]
    load = [0.0] * n
    picked: list[list[int]] = [[] for _ in range(n)]
    for i in sorted(range(len(locations)), key=lambda i: (-cost[i], i)):
        job = min(range(n), key=lambda j: (load[j], j))
        load[job] += cost[i]
        picked[job].append(i)
    return [[locations[i] for i in sorted(group)] for group in picked]


def recorded_seconds(junit: Path, names: Sequence[str]) -> list[float | None]:
    """Each scenario's time in the JUnit of an earlier run (by scenario name), or None."""
    times: dict[str, float] = {}
    for file in sorted(junit.glob("*.xml")) if junit.is_dir() else []:
        try:
            root = ET.parse(file).getroot()
        except (ET.ParseError, OSError):
            continue
        for case in root.iter("testcase"):
            try:
                times.setdefault(case.get("name") or "", float(case.get("time") or ""))
            except ValueError:
                continue
    return [times.get(name) for name in names]


# -- merging -------------------------------------------------------------------------------
def _clear_results(folder: Path) -> None:
    if not folder.is_dir():
        return
    for old in folder.iterdir():
        if old.is_file() and (old.name.endswith(("-result.json", "-container.json"))
                              or "-attachment" in old.name
                              or old.name == "environment.properties"):
            old.unlink()


def merge_allure(parts: Sequence[Path], into: Path) -> None:
    into.mkdir(parents=True, exist_ok=True)
    _clear_results(into)
    for part in parts:
        if not part.is_dir():
            continue
        for file in part.iterdir():
            if file.is_file() and not (into / file.name).exists():
                shutil.copy2(file, into / file.name)


def junit_stem(feature_file: str, paths: Sequence[str]) -> str:
    """The name behave's JUnit reporter gives a feature file run with ``paths``
    (behave/reporter/junit.py make_feature_filename): relative to the path that holds
    it, else to the project root (taken to be the current folder)."""
    here = os.path.abspath(feature_file)
    name = ""
    for path in paths:
        base = os.path.abspath(path)
        if here.startswith(base) and len(here) > len(base):
            name = here[len(base) + 1:]
            break
    if not name:
        name = os.path.relpath(here)
    return name.rsplit(".", 1)[0].replace(os.sep, ".")


def _rename(root: ET.Element, old: str, new: str) -> None:
    for element in [root, *root.iter("testcase")]:
        for attr in ("name", "classname"):
            value = element.get(attr) or ""
            if element is not root and attr == "name":
                continue
            if value.startswith(old + "."):
                element.set(attr, new + value[len(old):])


def merge_junit(parts: Sequence[Path], into: Path, order: Sequence[str] = (),
                rename: dict[str, str] | None = None) -> None:
    """One testsuite per feature file from the parts' testsuites of the same file name;
    testcases in the order of ``order`` (scenario names as the full run meets them), the
    counts and time summed. ``rename`` maps the parts' feature names to the single run's
    (a part runs ``file:line`` paths, which behave names differently)."""
    rename = rename or {}
    suites: dict[str, list[ET.Element]] = {}
    for part in parts:
        for file in sorted(part.glob("*.xml")) if part.is_dir() else []:
            root = ET.parse(file).getroot()
            stem = file.name.removeprefix("TESTS-").removesuffix(".xml")
            if stem in rename:
                _rename(root, stem, rename[stem])
                stem = rename[stem]
            suites.setdefault(f"TESTS-{stem}.xml", []).append(root)
    into.mkdir(parents=True, exist_ok=True)
    rank = {name: i for i, name in reversed(list(enumerate(order)))}
    for name, roots in suites.items():
        merged = ET.Element("testsuite", dict(roots[0].attrib))
        cases = [case for root in roots for case in root.iter("testcase")]
        cases.sort(key=lambda c: rank.get(c.get("name") or "", len(rank)))
        for attr in ("tests", "errors", "failures", "skipped"):
            merged.set(attr, str(sum(int(r.get(attr) or 0) for r in roots)))
        merged.set("time", f"{sum(float(r.get('time') or 0) for r in roots):.6f}")
        merged.extend(cases)
        ET.ElementTree(merged).write(into / name, encoding="utf-8", xml_declaration=True)


def scenario_names(locations: Sequence[str]) -> list[str]:
    """The names behave's JUnit gives the scenarios at these locations, in order."""
    from behave.parser import parse_file

    by_file: dict[str, dict[int, str]] = {}
    names = []
    for location in locations:
        path, _, line = location.rpartition(":")
        if path not in by_file:
            feature = parse_file(path)
            by_file[path] = {s.line: s.name for s in feature.walk_scenarios()} if feature else {}
        names.append(by_file[path].get(int(line), ""))
    return names


# -- running -------------------------------------------------------------------------------
#: what every job imports anyway; imported once before forking, the jobs share it
PRELOAD = ("behave.__main__", "allure_behave.formatter", "kubernetes.client",
           "kclusterkit.hooks", "kclusterkit.driver.factory", "kclusterkit.driver.sim",
           "kclusterkit.driver.kube", "kclusterkit.report.allure_dynamic")


def spawn_jobs(argvs: Sequence[Sequence[str]], outputs: Sequence[Path]) -> list[int]:
    """Each job a fresh ``python -m kclusterkit.runner`` (where there is no fork)."""
    logs = [path.open("wb") for path in outputs]
    try:
        return supervise_all(
            [[sys.executable, "-m", "kclusterkit.runner", *argv] for argv in argvs],
            [{"stdout": log, "stderr": log} for log in logs])
    finally:
        for log in logs:
            log.close()


def fork_jobs(argvs: Sequence[Sequence[str]], outputs: Sequence[Path]) -> list[int]:
    """Each job a fork of this process with the libraries already imported (an import of
    them costs a job ~0.5 s of CPU, a good part of a simulator suite's time). The step
    library is not imported here: behave registers steps into a registry it resets when
    a run starts, so each job imports it itself. Each job runs in a process group of its
    own, gets every signal this process gets, once, and is waited for."""
    import importlib
    import signal

    from kclusterkit.supervise import FORWARDED, exit_code

    for module in PRELOAD:
        importlib.import_module(module)
    if "kclusterkit.steps" in sys.modules:  # a job would then register no step
        return spawn_jobs(argvs, outputs)
    sys.stdout.flush()
    sys.stderr.flush()
    pids: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        for pid in pids:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        for argv, output in zip(argvs, outputs, strict=True):
            # blocked across the fork: a job must not run this process's forwarding
            mask = signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED)
            pid = os.fork()
            if pid == 0:  # the job
                _job(list(argv), output, previous, mask)
            pids.append(pid)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        return [exit_code(_wait(pid)) for pid in pids]
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _wait(pid: int) -> int:
    while True:
        try:
            _, status = os.waitpid(pid, 0)
        except InterruptedError:
            continue
        return os.waitstatus_to_exitcode(status)


def _job(argv: list[str], output: Path, handlers: dict[int, object], mask: object) -> None:
    import signal

    code = 70
    try:
        os.setpgid(0, 0)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # type: ignore[arg-type]
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        from kclusterkit.runner import main

        code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 — a job must never return into the parent's code
        import traceback

        traceback.print_exc()
        code = 70
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def run_jobs(behave_args: Sequence[str], paths: Sequence[str], jobs: int,
             only: Sequence[str] | None = None) -> int:
    """Run the scenarios of ``paths`` (or just ``only`` of them: a shard) in ``jobs``
    behave processes and merge their reports into where ``behave_args`` would put them."""
    from kclusterkit.runner import configure

    locations = list(only) if only is not None else scenarios(paths)
    if not locations:
        raise SplitError("no scenarios to run")
    config = configure(list(behave_args))
    allure_index = [i for i, f in enumerate(config.format)
                    if f == ALLURE or (config.more_formatters or {}).get(f) == ALLURE][-1]
    results = Path(config.outputs[allure_index].name)
    junit = Path(config.junit_directory) if config.junit else None

    names = scenario_names(locations)
    history = recorded_seconds(junit, names) if junit is not None else []
    groups = [g for g in balanced(locations, jobs, history or [None] * len(locations)) if g]
    shutil.rmtree(JOBS_DIR, ignore_errors=True)
    argvs = []
    for i, group in enumerate(groups, start=1):
        folder = JOBS_DIR / str(i)
        folder.mkdir(parents=True)
        argv = [*group, *behave_args, "--no-skipped",
                "-f", ALLURE, "-o", str(folder / "allure-results")]
        if junit is not None:
            argv += ["--junit", "--junit-directory", str(folder / "junit")]
        argvs.append(argv)
    outputs = [JOBS_DIR / str(i) / "output.txt" for i in range(1, len(groups) + 1)]
    codes = (fork_jobs(argvs, outputs) if hasattr(os, "fork")
             else spawn_jobs(argvs, outputs))
    for i in range(1, len(groups) + 1):
        sys.stdout.write(f"== job {i} of {len(groups)}\n")
        sys.stdout.write((JOBS_DIR / str(i) / "output.txt").read_text("utf-8", "replace"))
    sys.stdout.flush()
    merge_allure([JOBS_DIR / str(i) / "allure-results" for i in range(1, len(groups) + 1)],
                 results)
    if junit is not None:
        if junit.is_dir():
            for old in junit.glob("TESTS-*.xml"):
                old.unlink()
        files = sorted({loc.rpartition(":")[0] for loc in locations})
        named = list(paths) or [str(p) for p in config.paths]
        rename = {junit_stem(f, [f"{f}:0"]): junit_stem(f, named) for f in files}
        merge_junit([JOBS_DIR / str(i) / "junit" for i in range(1, len(groups) + 1)], junit,
                    names, rename)
    print(f"kclusterkit: {len(locations)} scenarios in {len(groups)} jobs; reports merged "
          f"into {results}" + (f" and {junit}" if junit is not None else ""))
    return next((c for c in codes if c), 0)


def merge_main(argv: Sequence[str] | None = None) -> int:
    """``kclusterkit merge DIR… --into reports``: the shards' reports as one run's."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="kclusterkit merge",
        description="Merge the reports folders of the shards of a run (each holding "
                    "allure-results/ and junit/) into one, as a single run writes them.")
    parser.add_argument("folders", nargs="+", metavar="DIR", help="a shard's reports folder")
    parser.add_argument("--into", default="reports", metavar="DIR",
                        help="where the merged allure-results/ and junit/ go (default: "
                             "%(default)s)")
    parser.add_argument("--features", nargs="*", default=None, metavar="PATH",
                        help="the run's feature paths, to put scenarios in file order")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    folders = [Path(f) for f in args.folders]
    missing = [f for f in folders if not (f / "junit").is_dir() and not
               (f / "allure-results").is_dir()]
    if missing:
        print(f"kclusterkit merge: {missing[0]}: no junit/ or allure-results/ in it",
              file=sys.stderr)
        return 2
    into = Path(args.into)
    order = scenario_names(scenarios(args.features)) if args.features is not None else []
    merge_allure([f / "allure-results" for f in folders], into / "allure-results")
    junit = into / "junit"
    if junit.is_dir():
        for old in junit.glob("TESTS-*.xml"):
            old.unlink()
    merge_junit([f / "junit" for f in folders], junit, order)
    cases = sum(1 for file in junit.glob("*.xml") for _ in ET.parse(file).getroot()
                .iter("testcase"))
    print(f"kclusterkit merge: {cases} scenarios from {len(folders)} folders into {into}")
    return 0
