"""The ``kclusterkit`` command: run features, list the steps, serve the simulator, clean up.

``run`` is behave with kclusterkit's options spelled as options (``-e``, ``--seed``) rather
than ``-D`` userdata, run as a subprocess (``kclusterkit.runner``: the library's steps and
hooks, wherever the features are) so its exit code is behave's; signals sent to the command
reach behave once, and the command waits for its cleanup. ``steps`` prints the
catalog: the step library is the DSL's documentation, so it must be one command away.
``sim serve`` and ``cleanup`` belong to the simulator's HTTP server and the real-cluster
driver; they are imported only when used.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from kclusterkit.supervise import supervise


def _behave_command(args: argparse.Namespace, extra: list[str]) -> list[str]:
    """``python -m kclusterkit.runner …``: behave with the library's steps and hooks."""
    command = [sys.executable, "-m", "kclusterkit.runner", *args.paths]
    if args.env:
        command += ["-D", f"env={args.env}"]
    if args.seed is not None:
        command += ["-D", f"seed={args.seed}"]
    for expr in args.tags or []:
        command += ["--tags", expr]
    for name in args.format or []:
        command += ["-f", name]
    for outfile in args.outfile or []:
        command += ["-o", outfile]
    if args.junit_directory:
        command += ["--junit-directory", args.junit_directory]
    return command + extra


def _run(args: argparse.Namespace, extra: list[str]) -> int:
    if args.jobs is None and args.shard is None:
        return supervise(_behave_command(args, extra))
    from kclusterkit import parallel

    try:
        if args.jobs is not None and args.jobs < 1:
            raise parallel.SplitError(f"--jobs {args.jobs}: expected a whole number >= 1")
        locations = parallel.scenarios(args.paths)
        paths = list(args.paths)
        if args.shard is not None:
            index, total = parallel.parse_shard(args.shard)
            locations = parallel.buckets(locations, total)[index - 1]
            if not locations:
                print(f"kclusterkit: shard {args.shard} has no scenarios")
                return 0
        behave_args = _behave_command(argparse.Namespace(**{**vars(args), "paths": []}),
                                      extra)[3:]
        return parallel.run_jobs(behave_args, paths, args.jobs or 1, locations)
    except parallel.SplitError as exc:
        print(f"kclusterkit: {exc}", file=sys.stderr)
        return 2


def _init(args: argparse.Namespace, _extra: list[str]) -> int:
    from pathlib import Path

    from kclusterkit.scaffold import InitError, init, parse_domains

    folder = Path(args.dir)
    try:
        written = init(folder, parse_domains(args.domains), force=args.force)
    except InitError as exc:
        print(f"kclusterkit: {exc}", file=sys.stderr)
        return 2
    print(f"kclusterkit: wrote {len(written)} files to {folder}")
    print(f"next: cd {folder} && kclusterkit run")
    return 0


def _version(_args: argparse.Namespace, _extra: list[str]) -> int:
    print(version_text())
    return 0


def version_text() -> str:
    """kclusterkit's version with what it runs on: what a bug report needs."""
    from importlib.metadata import PackageNotFoundError, version

    from kclusterkit import __version__
    from kclusterkit.sim.cluster import KUBERNETES_VERSION

    def of(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "not installed"

    return "\n".join([
        f"kclusterkit {__version__}",
        f"behave {of('behave')}",
        f"kubernetes client {of('kubernetes')}",
        f"allure-behave {of('allure-behave')}",
        f"simulated Kubernetes {KUBERNETES_VERSION}",
        f"Python {sys.version.split()[0]}",
    ])


def _steps(args: argparse.Namespace, extra: list[str]) -> int:
    from kclusterkit.steps import DOMAINS, catalog

    docs = catalog()
    if args.domain:
        docs = [d for d in docs if d.domain == args.domain]
        if not docs:
            print(f"kclusterkit: no domain {args.domain!r} (domains: {', '.join(DOMAINS)})",
                  file=sys.stderr)
            return 2
    current = None
    for doc in docs:
        if doc.domain != current:
            if current is not None:
                print()
            current = doc.domain
            print(f"# {current}")
        print(f"{doc.keyword} {doc.pattern}")
        print(f"    {doc.description}")
        print(f"    e.g. {doc.example}")
    return 0


def _delegate(module: str, what: str) -> int | None:
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        if exc.name and not module.startswith(exc.name) and exc.name not in module:
            raise
        print(f"kclusterkit: {what} is not available in this installation ({module} is "
              "missing)", file=sys.stderr)
        return 2
    return mod.main


# Subcommands owned elsewhere: (words that start them, module with main(argv), name shown)
DELEGATED = (
    (("sim", "serve"), "kclusterkit.sim.server.cli", "'kclusterkit sim serve'"),
    (("sim", "fault"), "kclusterkit.sim.server.faultcli", "'kclusterkit sim fault'"),
    (("cleanup",), "kclusterkit.driver.cleanup", "'kclusterkit cleanup'"),
    (("accept",), "kclusterkit.accept", "'kclusterkit accept'"),
)


def _delegated(argv: list[str]) -> int | None:
    """Run a delegated subcommand with every argument after its words, or None."""
    if argv[:1] == ["merge"]:
        from kclusterkit.parallel import merge_main

        return merge_main(argv[1:])
    for words, module, what in DELEGATED:
        if tuple(argv[:len(words)]) == words:
            main = _delegate(module, what)
            if isinstance(main, int):
                return main
            return int(main(argv[len(words):]) or 0)
    return None


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="kclusterkit",
        description="Say in Gherkin what a Kubernetes cluster must do, and check it.")
    top.add_argument("--version", action="store_true",
                     help="print the versions of kclusterkit, behave, the kubernetes client "
                          "and the simulated Kubernetes")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run features with behave (exit code is behave's)",
                         description="Run features with behave. Arguments after -- go to "
                                     "behave unchanged.")
    run.add_argument("paths", nargs="*", metavar="PATH", help="feature files or folders")
    run.add_argument("-e", "--env", default=None,
                     help="environment: a name (your environments/NAME.yaml, else a built-in "
                          "one: sim, sim-ha, sim-api, kubeconfig) or a file; default sim")
    run.add_argument("--seed", type=int, default=None,
                     help="seed of the simulated cluster (default: the environment's)")
    run.add_argument("-t", "--tags", action="append", metavar="EXPR",
                     help="behave tag expression, e.g. 'not @disruptive' (repeatable)")
    run.add_argument("-f", "--format", action="append", metavar="FORMATTER",
                     help="behave formatter (repeatable); Allure results are always written, "
                          "to the folder of the last -o paired with an Allure formatter")
    run.add_argument("-o", "--outfile", action="append", metavar="PATH",
                     help="output of the matching -f (by position)")
    run.add_argument("--junit-directory", metavar="DIR",
                     help="where JUnit XML goes (default reports/junit)")
    run.add_argument("-j", "--jobs", type=int, metavar="N",
                     help="run the scenarios in N processes, reports merged as one run's")
    run.add_argument("--shard", metavar="I/N",
                     help="run only the I-th of N deterministic shares of the scenarios "
                          "(for a CI matrix)")
    run.set_defaults(func=_run)

    init = sub.add_parser("init", help="start a spec repository: features, steps, "
                                       "environments, pyproject.toml, CI files")
    init.add_argument("dir", nargs="?", default=".", metavar="DIR",
                      help="folder to create or fill (default: here)")
    init.add_argument("--domains", metavar="LIST",
                      help="example features to write, comma-separated (default: all of "
                           "smoke, healing, scaling, discovery, load-balancing, rollout)")
    init.add_argument("--force", action="store_true", help="overwrite existing files")
    init.set_defaults(func=_init)

    steps = sub.add_parser("steps", help="print every step with its description and example")
    steps.add_argument("--domain", help="only this domain (cluster, workloads, healing, scaling)")
    steps.set_defaults(func=_steps)

    sim = sub.add_parser("sim", help="the simulated cluster")
    sim_sub = sim.add_subparsers(dest="sim_command", required=True, metavar="COMMAND")
    # parsed by their own main(argv) (see DELEGATED); listed here for --help
    sim_sub.add_parser("serve", help="serve a simulated cluster's API over HTTP")
    sim_sub.add_parser("fault", help="apply a fault (fail-node, crash-container …) to a served "
                                     "simulated cluster")
    sub.add_parser("cleanup", help="delete what earlier runs left on a real cluster")
    sub.add_parser("merge", help="merge the reports of a run's shards into one "
                                 "(kclusterkit merge --help)")
    sub.add_parser("accept", help="check that a freshly provisioned cluster is fit for use "
                                  "(kclusterkit accept --help)")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    delegated = _delegated(argv)
    if delegated is not None:
        return delegated
    extra: list[str] = []
    if "--" in argv and argv[:1] == ["run"]:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    top = parser()
    args = top.parse_args(argv)
    if args.version:
        return _version(args, extra)
    if args.command is None:
        top.error("a command is required")
    return int(args.func(args, extra) or 0)


if __name__ == "__main__":
    sys.exit(main())
