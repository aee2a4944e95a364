"""What a user who installs the wheel can do, in folders outside the repository."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.users.conftest import Installed

SMOKE = """\
Feature: Smoke
  Scenario: nginx answers
    Given a cluster with 1 control-plane node and 2 worker nodes
    When I deploy "nginx:1.25" as "hello" with 2 replicas and expose it on a NodePort
    Then an HTTP GET on that NodePort of every worker node returns 200 and "Welcome to nginx!" \
within 1 minute
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def test_the_wheel_carries_the_step_library_and_the_environments(installed: Installed) -> None:
    names = installed.names()
    for domain in ("cluster", "workloads", "healing", "scaling", "services", "rollout"):
        assert f"kclusterkit/steps/{domain}.py" in names
    for env in ("sim", "sim-ha", "sim-api", "kubeconfig"):
        assert f"kclusterkit/environments/{env}.yaml" in names
    assert "kclusterkit/runner.py" in names


def test_run_a_folder_holding_only_a_feature_file(installed: Installed, tmp_path: Path) -> None:
    write(tmp_path / "specs" / "smoke.feature", SMOKE)
    run = installed.kclusterkit("run", "specs", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 scenario passed, 0 failed" in run.stdout
    assert list((tmp_path / "reports" / "allure-results").glob("*-result.json"))
    assert list((tmp_path / "reports" / "junit").glob("TESTS-*.xml"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports", "specs"]


def test_a_projects_own_steps_are_loaded_beside_the_library(installed: Installed,
                                                             tmp_path: Path) -> None:
    write(tmp_path / "features" / "mine.feature", """
        Feature: Mine
          Scenario: a custom step beside library steps
            Given a cluster with 1 control-plane node and 2 worker nodes
            Then the cluster has 3 nodes by my own count
    """)
    write(tmp_path / "steps" / "mine.py", """
        from behave import then

        from kclusterkit.steps import kk


        @then("the cluster has {count:d} nodes by my own count")
        def step_impl(context, count):
            nodes = kk(context).driver.list("Node")
            assert len(nodes) == count, nodes
    """)
    run = installed.kclusterkit("run", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 scenario passed" in run.stdout


def test_allure_options_as_allure_behave_documents_them_do_not_crash(
        installed: Installed, tmp_path: Path) -> None:
    write(tmp_path / "features" / "smoke.feature", SMOKE)
    run = installed.kclusterkit("run", "-f", "allure_behave.formatter:AllureFormatter",
                                "-o", "my-results", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert len(list((tmp_path / "my-results").glob("*-result.json"))) == 1
    assert not (tmp_path / "reports" / "allure-results").exists()
    assert "1 scenario passed" in run.stdout  # the terminal still shows the run


def test_an_unknown_environment_names_the_builtins(installed: Installed, tmp_path: Path) -> None:
    write(tmp_path / "features" / "smoke.feature", SMOKE)
    run = installed.kclusterkit("run", "-e", "sim-hq", cwd=tmp_path)
    assert run.returncode == 2
    assert "no such environment file (did you mean 'sim-ha'?)" in run.stderr

