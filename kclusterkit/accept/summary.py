"""The acceptance run's one-screen summary: check, result, detail, time.

JUnit keeps no skip reason and Allure's results are one file per scenario, so the run
writes its own small record: ``SummaryFormatter`` (a behave formatter, added by
``kclusterkit accept``) saves each finished scenario's name, check tag, status, why it
failed or was skipped, and duration as JSON; ``table`` turns that into the lines printed
after the run.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from behave.formatter.base import Formatter


@dataclass
class Check:
    name: str
    tag: str
    status: str  # passed | failed | error | skipped | untested
    detail: str
    seconds: float


def _detail(scenario: Any) -> str:
    status = scenario.status.name
    if status == "skipped":
        return scenario.skip_reason or ""
    for step in scenario.all_steps:
        if step.status.name in ("failed", "error", "hook_error") and step.error_message:
            first = step.error_message.strip().splitlines()[0]
            return first.removeprefix("ASSERT FAILED: ")
    if getattr(scenario, "error_message", None):
        return scenario.error_message.strip().splitlines()[0]
    return str(getattr(scenario, "kk_detail", ""))  # what a passed check found


class SummaryFormatter(Formatter):
    """Writes the run's checks as JSON to its outfile (``-o PATH``)."""

    name = "kclusterkit-summary"
    description = "kclusterkit accept's summary record (JSON)"

    def __init__(self, stream_opener: Any, config: Any) -> None:
        super().__init__(stream_opener, config)
        self.features: list[Any] = []

    def feature(self, feature: Any) -> None:
        self.features.append(feature)

    def close(self) -> None:
        checks = []
        for feature in self.features:
            for scenario in feature.walk_scenarios():
                if not scenario.should_run_with_tags(self.config.tag_expression):
                    continue  # not selected (--tags)
                tags = [t for t in scenario.effective_tags if t != "acceptance"]
                checks.append(Check(scenario.name, str(tags[0]) if tags else "",
                                    scenario.status.name, _detail(scenario),
                                    round(scenario.duration, 3)))
        if self.stream_opener.name is None:
            return
        Path(self.stream_opener.name).write_text(
            json.dumps([asdict(c) for c in checks], indent=1), encoding="utf-8")


def load(path: Path) -> list[Check]:
    return [Check(**item) for item in json.loads(path.read_text(encoding="utf-8"))]


RESULT = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "hook_error": "ERROR",
          "skipped": "SKIP", "untested": "NOT RUN"}


def table(checks: list[Check], width: int = 100) -> str:
    """Fixed columns, the detail cut to fit the line (the full text is in the reports)."""
    rows = [("CHECK", "RESULT", "TIME", "DETAIL")]
    for c in checks:
        rows.append((c.tag or c.name, RESULT.get(c.status, c.status.upper()),
                     f"{c.seconds:.1f}s", " ".join(c.detail.split())))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    lines = []
    for r in rows:
        head = f"{r[0]:<{w0}}  {r[1]:<{w1}}  {r[2]:>{w2}}  "
        room = max(20, width - len(head))
        detail = r[3] if len(r[3]) <= room else r[3][:room - 1] + "…"
        lines.append((head + detail).rstrip())
    return "\n".join(lines)
