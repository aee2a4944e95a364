"""What a user who installs the wheel can do, in folders outside the repository."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from kclusterkit.scaffold import DOMAINS
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


def test_the_wheel_carries_the_library_environments_pack_and_templates(
        installed: Installed) -> None:
    names = installed.names()
    for domain in ("cluster", "workloads", "healing", "scaling", "services", "rollout"):
        assert f"kclusterkit/steps/{domain}.py" in names
    for env in ("sim", "sim-ha", "sim-api", "kubeconfig"):
        assert f"kclusterkit/environments/{env}.yaml" in names
    assert "kclusterkit/runner.py" in names
    assert "kclusterkit/scaffold/templates/features/healing.feature" in names
    assert "kclusterkit/scaffold/templates/team_steps.py.tmpl" in names
    assert "kclusterkit/accept/features/acceptance.feature" in names


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


def test_init_makes_a_spec_repo_that_passes_out_of_the_box(installed: Installed,
                                                           tmp_path: Path) -> None:
    made = installed.kclusterkit("init", "myspecs", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    repo = tmp_path / "myspecs"
    for path in ("features/healing.feature", "features/smoke.feature", "steps/library.py",
                 "steps/team_steps.py", "environment.py", "environments/sim.yaml",
                 "environments/kind.yaml", "pyproject.toml", ".gitignore",
                 ".github/workflows/kclusterkit.yml", ".gitlab-ci.yml"):
        assert (repo / path).is_file(), path
    for feature in DOMAINS.values():  # one example per domain, each passing below
        assert (repo / "features" / feature).is_file(), feature
    assert 'dependencies = ["kclusterkit>=' in (repo / "pyproject.toml").read_text()
    assert "reports/" in (repo / ".gitignore").read_text().splitlines()
    run = installed.kclusterkit("run", cwd=repo)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 failed" in run.stdout and " passed" in run.stdout
    assert "the cluster has at least 2 worker nodes" in run.stdout  # the project's own step
    assert list((repo / "reports" / "junit").glob("TESTS-*.xml"))
    # plain behave works in it too
    plain = subprocess.run([sys.executable, "-m", "behave", "features/smoke.feature"],
                           cwd=repo, env=installed.env, capture_output=True, text=True,
                           timeout=120)
    assert plain.returncode == 0, plain.stdout + plain.stderr


def test_init_picks_domains_and_never_overwrites_unless_told(installed: Installed,
                                                             tmp_path: Path) -> None:
    made = installed.kclusterkit("init", "--domains", "scaling,discovery", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in (tmp_path / "features").iterdir()) == [
        "discovery.feature", "scaling.feature"]
    (tmp_path / "steps" / "team_steps.py").write_text("# ours\n")
    again = installed.kclusterkit("init", "--domains", "scaling", cwd=tmp_path)
    assert again.returncode == 2
    assert "would overwrite" in again.stderr and "--force" in again.stderr
    assert (tmp_path / "steps" / "team_steps.py").read_text() == "# ours\n"
    forced = installed.kclusterkit("init", "--domains", "scaling", "--force", cwd=tmp_path)
    assert forced.returncode == 0
    assert (tmp_path / "steps" / "team_steps.py").read_text() != "# ours\n"
    bad = installed.kclusterkit("init", "--domains", "storage,gardening", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown domain 'gardening'" in bad.stderr
