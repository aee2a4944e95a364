"""The reports a run writes, whatever Allure/JUnit options the user adds (kclusterkit.runner)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kclusterkit.runner import ALLURE, JUNIT, RESULTS, configure

PYPROJECT = """
[tool.behave]
paths = ["features"]
format = ["allure"]
outfiles = ["reports/allure-results"]
default_format = "pretty"
junit = true
junit_directory = "reports/junit"

[tool.behave.formatters]
allure = "allure_behave.formatter:AllureFormatter"
"""


def pairs(config) -> list[tuple[str, str | None]]:
    return [(name, out.name if out.stream is not sys.stdout else "-")
            for name, out in zip(config.format, config.outputs, strict=True)]


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_folder_without_configuration_gets_allure_and_junit_in_reports(bare: Path) -> None:
    config = configure([])
    assert [name for name, _ in pairs(config)] == ["pretty", ALLURE]
    assert pairs(config)[1][1] == RESULTS
    assert config.junit and config.junit_directory == JUNIT


def test_no_junit_is_respected(bare: Path) -> None:
    assert not configure(["--no-junit"]).junit


def test_allure_named_again_is_one_formatter_writing_where_the_user_said(
        configured: Path) -> None:
    config = configure(["-f", "allure_behave.formatter:AllureFormatter", "-o", "mine"])
    allure = [(n, o) for n, o in pairs(config) if n in ("allure", ALLURE)]
    assert allure == [(ALLURE, "mine")]
    assert config.format[0] == "pretty"  # Allure is not for the terminal


def test_the_last_allure_folder_named_wins(bare: Path) -> None:
    config = configure(["-f", "plain", "-f", ALLURE, "-o", "-", "-o", "one",
                        "-f", ALLURE, "-o", "two"])
    assert pairs(config) == [("plain", "-"), (ALLURE, "two")]


def test_allure_without_an_outfile_writes_to_reports(configured: Path) -> None:
    config = configure(["-f", "plain", "-f", "allure"])
    assert pairs(config) == [("plain", "-"), ("allure", RESULTS)]


def test_the_projects_own_configuration_is_kept(configured: Path) -> None:
    config = configure([])
    assert pairs(config) == [("pretty", "-"), ("allure", RESULTS)]
    assert config.junit and config.junit_directory.endswith(JUNIT)
