"""The agreement check between the in-process run and the run through the Kubernetes API."""

from __future__ import annotations

from pathlib import Path

from kclusterkit.report.agree import main, read_results

PASSED = '<testcase classname="{c}" name="{n}" status="passed" time="0.1"/>'
FAILED = ('<testcase classname="{c}" name="{n}" status="failed" time="0.1">'
          '<failure type="AssertionError" message="expected 3 ready pods"/></testcase>')
SKIPPED = ('<testcase classname="{c}" name="{n}" status="skipped" time="0">'
           '<skipped type="NotSupported" message="cannot fail nodes"/></testcase>')


def _junit(folder: Path, feature: str, *cases: tuple[str, str]) -> Path:
    """One behave-style JUnit file: cases are (template, scenario name)."""
    folder.mkdir(parents=True, exist_ok=True)
    classname = f"{feature}.{feature.title()}"
    body = "".join(t.format(c=classname, n=n) for t, n in cases)
    (folder / f"TESTS-{feature}.xml").write_text(
        f'<testsuite name="{classname}" tests="{len(cases)}">{body}</testsuite>')
    return folder


def test_runs_that_agree_say_how_many_scenarios_and_exit_0(tmp_path, capsys):
    for side in ("sim", "api"):
        _junit(tmp_path / side, "scaling", (PASSED, "Scale out"), (SKIPPED, "Scale in"))
        _junit(tmp_path / side, "healing", (FAILED, "A deleted pod is replaced"))
    assert main([str(tmp_path / "sim"), str(tmp_path / "api")]) == 0
    assert capsys.readouterr().out == "3 scenarios agree (in-process and api)\n"


def test_a_scenario_that_passes_one_way_and_fails_the_other_is_a_disagreement(tmp_path, capsys):
    _junit(tmp_path / "sim", "scaling", (PASSED, "Scale out"), (PASSED, "Scale in"))
    _junit(tmp_path / "api", "scaling", (PASSED, "Scale out"), (FAILED, "Scale in"))
    assert main([str(tmp_path / "sim"), str(tmp_path / "api")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("1 of 2 scenarios disagree")
    assert out[1].split() == ["FEATURE", "SCENARIO", "IN-PROCESS", "API"]
    assert out[2].split() == ["scaling.Scaling", "Scale", "in", "passed", "failed"]
    assert len(out) == 3


def test_skipped_on_one_side_and_missing_on_the_other_disagree_too(tmp_path, capsys):
    _junit(tmp_path / "sim", "healing", (PASSED, "A node fails"), (PASSED, "Only here"))
    _junit(tmp_path / "api", "healing", (SKIPPED, "A node fails"))
    assert main([str(tmp_path / "sim"), str(tmp_path / "api"), "--names", "sim,sim-api"]) == 1
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert rows == [["healing.Healing", "A", "node", "fails", "passed", "skipped"],
                    ["healing.Healing", "Only", "here", "passed", "missing"]]


def test_status_comes_from_the_failure_element_when_the_attribute_is_missing(tmp_path):
    folder = tmp_path / "junit"
    folder.mkdir()
    (folder / "TESTS-x.xml").write_text(
        '<testsuites><testsuite name="x"><testcase classname="x.X" name="a"/>'
        '<testcase classname="x.X" name="b"><error message="boom"/></testcase>'
        '<testcase classname="x.X" name="a"><skipped/></testcase></testsuite></testsuites>')
    assert read_results(folder) == {("x.X", "a"): "passed", ("x.X", "b"): "failed",
                                    ("x.X", "a #2"): "skipped"}


def test_a_missing_or_empty_results_directory_is_an_error_not_an_agreement(tmp_path, capsys):
    _junit(tmp_path / "sim", "scaling", (PASSED, "Scale out"))
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "sim"), str(tmp_path / "nope")]) == 2
    assert "no such results directory" in capsys.readouterr().err
    assert main([str(tmp_path / "sim"), str(tmp_path / "empty")]) == 2
    assert "no test cases" in capsys.readouterr().err


def test_three_runs_agree_only_when_every_one_says_the_same(tmp_path, capsys):
    for side in ("sim", "api", "kubeconfig"):
        _junit(tmp_path / side, "scaling", (PASSED, "Scale out"))
    folders = [str(tmp_path / side) for side in ("sim", "api", "kubeconfig")]
    names = ["--names", "sim,sim-api,kubeconfig"]
    assert main([*folders, *names]) == 0
    assert capsys.readouterr().out == "1 scenario agrees (sim, sim-api and kubeconfig)\n"
    _junit(tmp_path / "kubeconfig", "scaling", (SKIPPED, "Scale out"))
    assert main([*folders, *names]) == 1
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    assert rows == [["FEATURE", "SCENARIO", "SIM", "SIM-API", "KUBECONFIG"],
                    ["scaling.Scaling", "Scale", "out", "passed", "passed", "skipped"]]


def test_a_run_given_feature_files_agrees_with_a_run_given_the_folder(tmp_path, capsys):
    _junit(tmp_path / "sim", "scaling", (PASSED, "Scale out"))
    folder = tmp_path / "api"
    folder.mkdir()
    (folder / "TESTS-features.scaling.xml").write_text(
        '<testsuite name="features.scaling.Scaling" tests="1">'
        + PASSED.format(c="features.scaling.Scaling", n="Scale out") + "</testsuite>")
    assert main([str(tmp_path / "sim"), str(folder)]) == 0
    assert capsys.readouterr().out == "1 scenario agrees (in-process and api)\n"
