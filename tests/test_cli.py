"""The kclusterkit command: what it runs and what it prints."""

from __future__ import annotations

import sys
import types

import pytest

from kclusterkit import cli


def test_steps_prints_every_step_grouped_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    from kclusterkit.steps import catalog

    assert cli.main(["steps"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# cluster\n")
    assert "\n# healing\n" in out and "\n# scaling\n" in out
    for doc in catalog():
        assert f"{doc.keyword} {doc.pattern}\n    {doc.description}\n    e.g. {doc.example}\n" \
            in out


def test_steps_unknown_domain(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["steps", "--domain", "quantum"]) == 2
    assert "no domain 'quantum'" in capsys.readouterr().err


def test_run_calls_behave_with_environment_seed_tags_and_extra(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(cli, "supervise", lambda cmd: calls.append(cmd) or 3)
    code = cli.main(["run", "features/scaling.feature", "-e", "sim-ha", "--seed", "9",
                     "--tags", "not @disruptive", "-f", "allure", "-o", "out",
                     "--junit-directory", "j", "--", "-f", "plain", "--stop"])
    assert code == 3
    assert calls == [[sys.executable, "-m", "kclusterkit.runner", "features/scaling.feature",
                      "-D", "env=sim-ha", "-D", "seed=9", "--tags", "not @disruptive",
                      "-f", "allure", "-o", "out", "--junit-directory", "j",
                      "-f", "plain", "--stop"]]


def test_version_names_what_it_runs_on(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    from kclusterkit import __version__
    from kclusterkit.sim.cluster import KUBERNETES_VERSION

    assert cli.main(["--version"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"kclusterkit {__version__}"
    assert f"behave {version('behave')}" in lines
    assert f"kubernetes client {version('kubernetes')}" in lines
    assert f"simulated Kubernetes {KUBERNETES_VERSION}" in lines


def test_the_version_comes_from_one_place() -> None:
    from importlib.metadata import version

    from kclusterkit import __version__

    assert version("kclusterkit") == __version__


def test_cleanup_delegates_to_the_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    fake = types.ModuleType("kclusterkit.driver.cleanup")
    fake.main = lambda argv: seen.append(argv) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kclusterkit.driver.cleanup", fake)
    assert cli.main(["cleanup", "-e", "kubeconfig", "--all"]) == 0
    assert seen == [["-e", "kubeconfig", "--all"]]


def test_sim_serve_missing_says_so(monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "kclusterkit.sim.server.cli", None)
    assert cli.main(["sim", "serve", "--port", "0"]) == 2
    assert "'kclusterkit sim serve' is not available" in capsys.readouterr().err
