"""What a run leaves in reports/: Allure labels, attachments, environment, JUnit seed."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.dsl.conftest import REPO, REPORTING_PYPROJECT, Project

SVG = "{http://www.w3.org/2000/svg}"

FEATURE = '''
@self-healing
Feature: Self-healing
  @critical
  Scenario: Too many pods expected
    Given a deployment "web" running "nginx:1.25" with 2 replicas
    Then deployment "web" has 2 ready pods within 30 seconds
    And deployment "web" has 5 ready pods within 10 seconds
'''


def category_regex(name: str) -> str:
    """The messageRegex of an Allure category in the repo's allurerc.json."""
    config = json.loads((REPO / "allurerc.json").read_text())
    return next(c["messageRegex"] for c in config["categories"] if c["name"] == name)


def results(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in folder.glob("*-result.json")]


def test_allure_results_and_junit(project: Project) -> None:
    project.feature(FEATURE)
    project.file("pyproject.toml", REPORTING_PYPROJECT)
    run = project.behave("-D", "seed=3")
    assert run.code == 1, run.out
    folder = project.root / "reports" / "allure-results"
    props = (folder / "environment.properties").read_text().splitlines()
    assert {"target=sim", "seed=3", "environment=sim", "kubernetes.version=v1.34.1"} <= set(props)

    (result,) = results(folder)
    labels = {(lb["name"], lb["value"]) for lb in result["labels"]}
    assert {("epic", "Self-healing"), ("story", "Too many pods expected"),
            ("severity", "critical"), ("feature", "Self-healing")} <= labels
    assert result["status"] == "failed"
    assert re.match(category_regex("Timed out waiting for the cluster"),
                    result["statusDetails"]["message"])
    assert [a["name"] for a in result["attachments"]] == ["timeline (cluster time)",
                                                          "timeline (cluster time) chart"]
    timeline = (folder / result["attachments"][0]["source"]).read_text()
    assert "has 5 ready pods within 10 seconds  [timed out after 10s]" in timeline
    assert result["attachments"][1]["type"] == "image/svg+xml"
    chart = ET.parse(folder / result["attachments"][1]["source"]).getroot()
    assert [g.get("data-subject") for g in chart.iter(f"{SVG}g") if g.get("data-subject")] \
        == ['deployment "web"']
    assert [r.get("fill") for r in chart.iter(f"{SVG}rect") if r.get("data-wait")] \
        == ["#4c9f70", "#d9534f"]  # 2 ready in time, then 5 never

    failed = [s for s in result["steps"] if s["status"] == "failed"]
    assert [a["name"] for a in failed[0]["attachments"]] == ["observed objects", "cluster events"]
    assert not failed[0]["statusDetails"].get("trace"), "a Python stack is noise for our failures"
    assert "observed:" in failed[0]["statusDetails"]["message"]
    observed = (folder / failed[0]["attachments"][0]["source"]).read_text()
    assert "kind: Deployment" in observed and "kind: Pod" in observed
    events = (folder / failed[0]["attachments"][1]["source"]).read_text()
    assert events.startswith("LAST SEEN") and "Scheduled" in events

    junit = next((project.root / "reports" / "junit").glob("*.xml")).read_text()
    assert "seed=3 (replay: behave -D seed=3" in junit


def test_a_run_reports_only_itself(project: Project) -> None:
    project.feature(FEATURE)
    project.file("pyproject.toml", '''
        [tool.behave]
        format = ["allure"]
        outfiles = ["reports/allure-results"]

        [tool.behave.formatters]
        allure = "allure_behave.formatter:AllureFormatter"
        ''')
    folder = project.root / "reports" / "allure-results"
    project.behave("-D", "seed=3")
    project.behave("-D", "seed=4")
    assert len(results(folder)) == 1, "the first run's results would show up as a retry"
    props = (folder / "environment.properties").read_text().splitlines()
    assert "seed=4" in props
