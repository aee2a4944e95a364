"""What a person sees when a traffic expectation fails: the per-pod counts, the failures."""

from __future__ import annotations

import re

from tests.dsl.conftest import Project

ECHO = '''
Feature: Echo
  Background:
    Given a deployment "echo" running "agnhost:2.53 netexec" with 3 replicas
    And a service "echo" on port 80 targeting port 8080 of deployment "echo"
    And deployment "echo" is available within 1 minute

  Scenario: Echo
{steps}
'''


def steps(*lines: str) -> str:
    return "\n".join(f"    {line}" for line in lines)


def test_a_failed_spread_shows_the_requests_each_pod_answered(project: Project) -> None:
    project.feature(ECHO.format(steps=steps(
        'When 300 requests are sent to service "echo"',
        'Then every ready pod of deployment "echo" answered between 110 and 140 of them')))
    run = project.behave("-D", "seed=3")
    assert run.code == 1, run.out
    assert ('expected every ready pod of deployment "echo" to answer between 110 and 140 of '
            'the 300 requests to service "echo"') in run.out
    rows = re.findall(r"^\s+(echo-[a-z0-9]+-[a-z0-9]{5})\s+(\d+)\s+([\d.]+%)\s+yes", run.out, re.M)
    assert len(rows) == 3, run.out
    assert sum(int(n) for _, n, _ in rows) == 300
    assert "outside 110..140:" in run.out
    assert "Traceback" not in run.out


def test_a_broken_invariant_shows_when_and_why_requests_failed(project: Project) -> None:
    project.feature(ECHO.format(steps=steps(
        'Given a steady load of 10 requests per second on service "echo"',
        'When I scale deployment "echo" to 0 replicas',
        'Then deployment "echo" has 0 ready pods within 1 minute',
        'And deployment "echo" has 0 ready pods for 10 seconds',
        'And no request to service "echo" failed while that happened')))
    run = project.behave()
    assert run.code == 1, run.out
    assert 'expected no request to service "echo" to fail while that happened' in run.out
    assert re.search(r"observed: \d+ of \d+ failed", run.out), run.out
    assert re.search(r"t=\s*[\d.]+s\s+connection refused", run.out), run.out
    assert "by reason: connection refused" in run.out


def test_a_rollback_kubectl_refuses_says_why(project: Project) -> None:
    project.feature(ECHO.format(steps=steps('When I roll back deployment "echo"')))
    run = project.behave()
    assert run.code == 1, run.out
    assert 'no rollout history found for deployment "echo"' in run.out
