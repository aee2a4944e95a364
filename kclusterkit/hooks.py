"""behave hooks: pick the target, give each scenario a clean cluster, explain failures.

A project's ``environment.py`` does ``from kclusterkit.hooks import *``. The hooks load the
environment file once (a bad one stops the run before any scenario, with one line), build
the driver, open a fresh scenario on it for every scenario with the run's seed, skip steps
the target cannot do, and attach to the report what a person needs to understand a
failure: the objects last observed, the cluster's events and the waits' timeline (as text,
and as a chart of the pods they saw).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from kclusterkit import __version__
from kclusterkit.config import (
    load_environment,
    replay_name,
    resolve_seed,
)
from kclusterkit.driver import ClusterError, Driver, Unreachable
from kclusterkit.errors import ConfigurationError

__all__ = [
    "before_all",
    "after_all",
    "before_scenario",
    "after_scenario",
    "before_step",
    "after_step",
]

# Tags that are not a behaviour domain (they say how, not what).
CONTROL_TAGS = {"blocker", "critical", "normal", "minor", "trivial", "disruptive", "wip",
                "skip", "slow", "fixme"}


def _stop(message: str) -> None:
    """One clear line and exit 2, before any scenario runs (behave would lose SystemExit)."""
    sys.stdout.flush()
    print(f"kclusterkit: {message}", file=sys.stderr, flush=True)
    os._exit(2)


def _project_root(context: Any) -> Path:
    base = getattr(context.config, "base_dir", None)
    return Path(base) if base else Path.cwd()


def before_all(context: Any) -> None:
    from kclusterkit.driver.factory import build_driver
    from kclusterkit.redact import install_logging
    from kclusterkit.report import allure_dynamic
    from kclusterkit.steps._support import install_unknown_step_catcher

    install_logging()  # no token or secret value in any log line from here on
    userdata = context.config.userdata
    root = _project_root(context)
    try:
        env = load_environment(str(userdata.get("env", "sim") or "sim"), root)
        seed = resolve_seed(userdata.get("seed"), env)
        driver = build_driver(env, seed)
    except (ConfigurationError, ClusterError) as exc:
        _stop(str(exc))
        return
    context.kk_env = env
    context.kk_env_replay = replay_name(env, root)
    context.kk_seed = seed
    context.kk_driver = driver
    if hasattr(driver, "cleanup_hint"):
        driver.cleanup_hint = (f"kclusterkit cleanup -e {context.kk_env_replay} "
                               f"--run {driver.run_id}")
    context.kk_allure = allure_dynamic.enable(context._runner)
    install_unknown_step_catcher(context._runner.step_registry)
    _write_environment_properties(context, driver, env.name, seed)


def _write_environment_properties(context: Any, driver: Driver, env_name: str, seed: int) -> None:
    from kclusterkit.report.allure_dynamic import allure_formatter

    formatter = allure_formatter(context._runner)
    if formatter is None:
        return
    folder = Path(formatter.file_logger._report_dir)
    _clear_old_results(folder)
    version = getattr(driver, "kubernetes_version", None) or "unknown"
    lines = [
        f"target={driver.target}",
        f"environment={env_name}",
        f"kubernetes.version={version}",
        f"seed={seed}",
        f"kclusterkit.version={__version__}",
        f"python.version={sys.version.split()[0]}",
    ]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "environment.properties").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _clear_old_results(folder: Path) -> None:
    """A run's report shows that run: allure-behave appends to its results folder, so the
    results of earlier runs (other targets, other features) would show up as retries."""
    if not folder.is_dir():
        return
    for old in folder.iterdir():
        if old.is_file() and (old.name.endswith(("-result.json", "-container.json"))
                              or "-attachment" in old.name
                              or old.name == "environment.properties"):
            old.unlink()


def after_all(context: Any) -> None:
    from kclusterkit.report import allure_dynamic

    driver = getattr(context, "kk_driver", None)
    if driver is not None:
        driver.close()
        kept = list(getattr(driver, "kept", None) or [])
        if kept:
            # On purpose (the cleanup policy), but the user has to find them to look.
            print(f"kclusterkit: kept namespace(s) {', '.join(kept)}; remove them with "
                  f"{driver.cleanup_command}",
                  file=sys.__stderr__, flush=True)
    allure_dynamic.disable(getattr(context, "kk_allure", None))
    from kclusterkit.redact import redact_files
    from kclusterkit.report.allure_dynamic import allure_formatter

    formatter = allure_formatter(context._runner)
    if formatter is not None:  # attachments written before a value was known to be secret
        redact_files(formatter.file_logger._report_dir)


def _domain_tags(tags: Any) -> list[str]:
    return [t for t in tags if t not in CONTROL_TAGS and not t.startswith("allure.")]


def before_scenario(context: Any, scenario: Any) -> None:
    from kclusterkit.steps._support import ScenarioState

    driver: Driver = context.kk_driver
    seed = context.kk_seed
    context.kk = ScenarioState(driver=driver, seed=driver.seed)
    lost = _lost(context)
    if lost:  # found gone after the last step (deleting the last scenario's namespace)
        _stop_run(context, Unreachable(lost))
        scenario.skip(reason=f"not run: {lost}")
        return
    try:
        driver.open_scenario(scenario.name)
    except Unreachable as exc:
        _stop_run(context, exc)
        scenario.skip(reason=str(exc))
        return
    print(f"seed={seed} (replay: behave -D seed={seed} -D env={context.kk_env_replay} "
          f"{scenario.location})")
    if getattr(context, "kk_allure", None) is not None:
        import allure

        for tag in _domain_tags(scenario.feature.tags):
            allure.dynamic.epic(tag[:1].upper() + tag[1:])
        allure.dynamic.story(scenario.name)
        allure.dynamic.parameter("seed", seed, excluded=True)
        allure.dynamic.label("target", driver.target)


def before_step(context: Any, step: Any) -> None:
    if step.text and "Secret" in step.text:
        from kclusterkit.redact import remember_secrets_in

        remember_secrets_in(str(step.text))
    state = getattr(context, "kk", None)
    if state is not None:
        state.step_text = f"{step.keyword} {step.name}"
        state.step_location = (str(step.filename), step.line)


def _unreachable(exc: BaseException | None) -> BaseException | None:
    """The ``Unreachable`` behind a step's failure, if the cluster stopped answering."""
    seen: list[BaseException] = []
    while exc is not None and not any(exc is s for s in seen):
        if isinstance(exc, Unreachable):
            return exc
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return None


def _stop_run(context: Any, why: BaseException) -> None:
    """The cluster stopped answering: every scenario after this one would fail the same
    way, slowly. End the run the way behave aborts one (the rest are reported untested)."""
    driver = getattr(context, "kk_driver", None)
    if driver is not None and hasattr(driver, "lost"):
        driver.lost = driver.lost or str(why)
    if context._runner.aborted:
        return
    # On the terminal, not into the scenario's captured output: it is about the run.
    print(f"kclusterkit: {why}; stopping the run (the remaining scenarios are not run)",
          file=sys.__stderr__, flush=True)
    context._runner.aborted = True


def _lost(context: Any) -> str | None:
    return getattr(getattr(context, "kk_driver", None), "lost", None)


def after_step(context: Any, step: Any) -> None:
    if step.text:  # the step has read it: reports get it with Secret values masked
        from kclusterkit.redact import redact_text

        masked = redact_text(str(step.text))
        if masked != step.text:
            step.text = type(step.text)(masked, content_type=getattr(step.text, "content_type",
                                                                      None),
                                        line=getattr(step.text, "line", 0))
    if not step.status.has_failed():
        return
    if isinstance(step.exception, AssertionError) and \
            type(step.exception).__module__.startswith("kclusterkit."):
        # Our failures say everything in their message; the Python stack through behave
        # and the step library is noise in the report (allure reads it after this hook).
        step.exc_traceback = []
    lost = _unreachable(step.exception)
    if lost is not None:
        _stop_run(context, lost)
        return  # no events to attach from a cluster that does not answer
    if getattr(context, "kk_allure", None) is None:
        return
    import allure

    from kclusterkit.redact import redact_text
    from kclusterkit.report.attachments import events_table, objects_yaml

    state = context.kk
    if state.last_objects:
        allure.attach(redact_text(objects_yaml(state.last_objects)), name="observed objects",
                      attachment_type=allure.attachment_type.YAML)
    try:
        events = state.driver.events()
    except ClusterError:
        return
    allure.attach(redact_text(events_table(events)), name="cluster events",
                  attachment_type=allure.attachment_type.TEXT)


def after_scenario(context: Any, scenario: Any) -> None:
    state = getattr(context, "kk", None)
    driver: Driver | None = getattr(context, "kk_driver", None)
    if state is not None and state.skip_reason:
        # behave keeps a skipped scenario's output to itself: say why on the real terminal
        print(f"SKIPPED {scenario.location} {scenario.name}: {state.skip_reason}",
              file=sys.__stderr__, flush=True)
    if state is not None and state.waits and getattr(context, "kk_allure", None) is not None:
        import allure

        from kclusterkit.redact import redact_text
        from kclusterkit.report.attachments import timeline_text
        from kclusterkit.report.timeline import has_pods, timeline_svg

        allure.attach(redact_text(timeline_text(state.waits, origin=state.waits[0].started)),
                      name="timeline (cluster time)", attachment_type=allure.attachment_type.TEXT)
        if has_pods(state.pod_series):
            allure.attach(redact_text(timeline_svg(state.waits, state.actions,
                                                   state.pod_series)),
                          name="timeline (cluster time) chart",
                          attachment_type=allure.attachment_type.SVG)
    if driver is not None:
        driver.close_scenario(passed=scenario.status.name == "passed")
