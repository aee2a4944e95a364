"""behave, run anywhere: the library's steps and hooks without a ``steps/`` folder beside.

behave insists on a ``steps/`` directory (or ``environment.py``) next to the features, so an
installed kclusterkit pointed at a folder holding only ``.feature`` files would stop with
behave's ``ConfigError: No steps directory``. ``Runner`` is behave's own runner with three
changes: with no such folder the project root is the current directory; the step library is
always loaded (then the project's own ``steps/`` when present); and kclusterkit's hooks are
used for every hook the project's ``environment.py`` (when present) does not define.

``configure`` also makes the reports a run writes predictable whatever the user passes:
exactly one Allure formatter (allure-behave keeps global state, and two instances crash
behave with a ``KeyError``), writing to the last results folder named, and JUnit in
``reports/junit`` unless the user said otherwise. ``python -m kclusterkit.runner ARGS`` is
what ``kclusterkit run`` starts; the arguments are behave's.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

from behave.configuration import Configuration
from behave.exception import ConfigError
from behave.formatter.base import StreamOpener
from behave.runner import Runner as BehaveRunner
from behave.runner_util import load_step_modules

ALLURE = "allure_behave.formatter:AllureFormatter"
RESULTS = os.path.join("reports", "allure-results")
JUNIT = os.path.join("reports", "junit")


class Runner(BehaveRunner):
    """behave's runner that brings kclusterkit's steps and hooks along."""

    def setup_paths(self) -> None:
        if self._inside_the_package():
            # behave would walk up to kclusterkit/steps and load the library twice
            self._setup_paths_without_steps()
            return
        try:
            super().setup_paths()
        except ConfigError as exc:
            if not str(exc).startswith("No "):
                raise
            self._setup_paths_without_steps()

    def _inside_the_package(self) -> bool:
        """Features shipped in kclusterkit (the acceptance pack)."""
        if not self.config.paths:
            return False
        first = str(getattr(self.config.paths[0], "filename", self.config.paths[0]))
        package = os.path.dirname(os.path.abspath(__file__))
        return os.path.abspath(first).startswith(package + os.sep)

    def _setup_paths_without_steps(self) -> None:
        paths = [str(getattr(p, "filename", p)) for p in self.config.paths] or ["features"]
        missing = [p for p in paths if not os.path.exists(p.lstrip("@").split(":")[0])]
        if missing:
            raise ConfigError(f"No such feature file or folder: {missing[0]}")
        base_dir = os.getcwd()
        self.config.base_dir = base_dir
        self.base_dir = base_dir
        self.path_manager.add(base_dir)
        self.config.paths = paths

    def load_hooks(self, filename: str | None = None) -> None:
        import kclusterkit.hooks as library

        super().load_hooks(filename)  # the project's environment.py, if there is one
        for name in library.__all__:
            if name not in self.hooks or self.hooks[name] == self.before_all_default_hook:
                self.hooks[name] = getattr(library, name)

    def load_step_definitions(self, extra_step_paths: list[str] | None = None) -> None:
        # The library first: a project's `from kclusterkit.steps import *` is then a no-op.
        load_library_steps()
        steps_dir = os.path.join(self.base_dir, self.config.steps_dir)
        if os.path.isdir(steps_dir):
            super().load_step_definitions(extra_step_paths)
        elif extra_step_paths:
            load_step_modules(list(extra_step_paths))


def load_library_steps() -> None:
    """Register the step library with behave (its modules register their steps on import;
    behave resets its registry when a run starts, before this is called)."""
    importlib.import_module("kclusterkit.steps")


def _allure_indices(config: Configuration) -> list[int]:
    aliases = dict(config.more_formatters or {})
    return [i for i, name in enumerate(config.format)
            if name == ALLURE or aliases.get(name) == ALLURE]


def configure(argv: Sequence[str]) -> Configuration:
    """behave's configuration for ``argv``, with the reports made predictable (see above)."""
    argv = list(argv)
    config = Configuration(argv)
    said = any(arg.startswith(("--junit", "--no-junit")) for arg in argv)
    if not said and "junit_directory" not in config.defaults:
        # no behave configuration of the project's says where JUnit goes: reports/junit
        argv = ["--junit", "--junit-directory", JUNIT, *argv]
        config = Configuration(argv)
    if not config.format:
        config.format = [config.default_format]  # as behave does; it gets outputs[0]
    while len(config.outputs) < len(config.format):
        # outputs pair with formats by position; behave writes the rest to stdout
        config.outputs.append(StreamOpener(stream=sys.stdout))
    allure = _allure_indices(config)
    for i in reversed(allure[:-1]):  # the last one named wins
        del config.format[i]
        del config.outputs[i]
    if allure:
        keep = allure[-1] - (len(allure) - 1)
        if config.outputs[keep].name is None:  # -f allure without -o: allure needs a folder
            config.outputs[keep] = StreamOpener(RESULTS)
    else:
        config.format.append(ALLURE)
        config.outputs.append(StreamOpener(RESULTS))
    if len(config.format) == 1:  # only Allure's
        # Allure is not for the terminal: without another formatter, behave's default one
        config.format.insert(0, config.default_format)
        config.outputs.insert(0, StreamOpener(stream=sys.stdout))
    # behave would add its default formatter again when the counts happen to match
    config.defaults.pop("format", None)
    return config


def main(argv: Sequence[str] | None = None) -> int:
    from behave.__main__ import run_behave

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        config = configure(argv)
    except ConfigError as exc:
        print(f"kclusterkit: {exc}", file=sys.stderr)
        return 2
    return int(run_behave(config, runner_class=Runner) or 0)


if __name__ == "__main__":
    # behave names the runner class by module: use kclusterkit.runner's, not __main__'s
    from kclusterkit.runner import main as _main

    sys.exit(_main())
