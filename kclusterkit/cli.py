"""The ``kclusterkit`` command: run features, list the steps, serve the simulator, clean up.

``run`` is behave with kclusterkit's options spelled as options (``-e``, ``--seed``) rather
than ``-D`` userdata, run as a subprocess so its exit code is behave's. ``steps`` prints the
catalog: the step library is the DSL's documentation, so it must be one command away.
``sim serve`` and ``cleanup`` belong to the simulator's HTTP server and the real-cluster
driver; they are imported only when used.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from collections.abc import Sequence


def _run(args: argparse.Namespace, extra: list[str]) -> int:
    command = [sys.executable, "-m", "behave", *args.paths]
    if args.env:
        command += ["-D", f"env={args.env}"]
    if args.seed is not None:
        command += ["-D", f"seed={args.seed}"]
    for expr in args.tags or []:
        command += ["--tags", expr]
    command += extra
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 130


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
)


def _delegated(argv: list[str]) -> int | None:
    """Run a delegated subcommand with every argument after its words, or None."""
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
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run features with behave (exit code is behave's)",
                         description="Run features with behave. Arguments after -- go to "
                                     "behave unchanged.")
    run.add_argument("paths", nargs="*", metavar="PATH", help="feature files or folders")
    run.add_argument("-e", "--env", default=None,
                     help="environment name (environments/NAME.yaml) or file; default sim")
    run.add_argument("--seed", type=int, default=None,
                     help="seed of the simulated cluster (default: the environment's)")
    run.add_argument("-t", "--tags", action="append", metavar="EXPR",
                     help="behave tag expression, e.g. 'not @disruptive' (repeatable)")
    run.set_defaults(func=_run)

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
    args = parser().parse_args(argv)
    return int(args.func(args, extra) or 0)


if __name__ == "__main__":
    sys.exit(main())
