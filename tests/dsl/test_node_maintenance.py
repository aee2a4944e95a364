"""Drain scenarios that must fail, and what they say when they do."""

# ruff: noqa: E501  (feature text stays on one line per step)

from __future__ import annotations

from tests.dsl.conftest import Project

DRAIN = '''
Feature: Drain
  Scenario: Drain
    Given a deployment "web" running "nginx:1.25" with 4 replicas that become ready 10 seconds after they start
    And deployment "web" is available within 1 minute
    {budget}
    When I drain the node running the most pods of deployment "web"
    Then deployment "web" never had fewer than {n} ready pods while that happened
'''


def test_without_a_budget_the_drain_takes_both_pods_at_once(project: Project) -> None:
    project.feature(DRAIN.format(budget="", n=3))
    run = project.behave()
    assert run.code == 1, run.out
    assert 'expected deployment "web" never to have fewer than 3 ready pods while the ' \
           "drain ran" in run.out
    assert "observed: it went down to 2" in run.out
    assert "node/worker-1 drained" in run.out


def test_with_a_budget_the_same_drain_keeps_three(project: Project) -> None:
    project.feature(DRAIN.format(
        budget='And at most 1 pod of deployment "web" may be disrupted at a time', n=3))
    run = project.behave()
    assert run.code == 0, run.out


def test_never_fewer_without_a_drain_is_a_misuse(project: Project) -> None:
    project.feature(DRAIN.replace('When I drain the node running the most pods of deployment '
                                  '"web"', 'When I scale deployment "web" to 5 replicas')
                    .format(budget="", n=3))
    run = project.behave()
    assert run.code == 1, run.out
    assert "only a drain counts ready pods as it goes" in run.out


def test_a_budget_on_a_missing_deployment_says_so(project: Project) -> None:
    project.feature('''
Feature: Budget
  Scenario: Budget
    Given at most 1 pod of deployment "nope" may be disrupted at a time
''')
    run = project.behave()
    assert run.code == 1, run.out
    assert 'deployment "nope" does not exist: create it before its disruption budget' \
        in run.out
