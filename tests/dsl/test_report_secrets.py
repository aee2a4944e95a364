"""A failing run's reports/ hold no secret value and no token, whatever the failure shows.

The scenario prints a Secret's value and the pod's own service account token on purpose and
then fails on that output: the failure message, the step's attachments, the JUnit file and
the terminal would all carry them if redaction missed a path.
"""

from __future__ import annotations

import re

from tests.dsl.conftest import REPORTING_PYPROJECT, Project

PASSWORD = "correct-horse-battery-staple"
SHOW = "sh -c 'echo $PASSWORD; cat /var/run/secrets/kubernetes.io/serviceaccount/token'"

FEATURE = f'''
Feature: Leaks
  Scenario: A failure that shows a secret and a token
    Given these objects:
      """
      apiVersion: v1
      kind: Secret
      metadata: {{name: db}}
      stringData: {{password: {PASSWORD}}}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {{name: leaky}}
      spec:
        containers:
        - name: c
          image: busybox:1.36
          command: [sleep, "3600"]
          env:
          - name: PASSWORD
            valueFrom: {{secretKeyRef: {{name: db, key: password}}}}
      """
    And pod "leaky" is running within 1 minute
    When I run "{SHOW}" in pod "leaky"
    Then it prints "something it never printed"
'''


JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


def test_a_failing_run_leaves_no_secret_or_token_in_its_reports(project: Project) -> None:
    project.feature(FEATURE)
    project.file("pyproject.toml", REPORTING_PYPROJECT)
    run = project.behave()
    assert run.code == 1, run.out
    assert "something it never printed" in run.out  # it failed where it should
    assert "***" in run.out  # and what it printed was there, masked
    reports = project.root / "reports"
    files = [p for p in reports.rglob("*") if p.is_file()]
    assert any(p.suffix == ".xml" for p in files) and any(
        p.name.endswith("-result.json") for p in files)
    for text, where in [(run.out, "the terminal"),
                        *((p.read_text(errors="replace"), str(p)) for p in files)]:
        assert PASSWORD not in text, f"the secret's value is in {where}"
        assert not JWT.search(text), f"a token is in {where}"
