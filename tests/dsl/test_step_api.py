"""A team's own step, written against the public step API, runs and fails like the
library's (a temp project, as a user would have it)."""

from __future__ import annotations

CUSTOM = '''
from kclusterkit.steps.api import Observation, kk, step, wait_for


@step("then", 'config map "{name:Q}" has key "{key:Q}" within {d:Duration}')
def config_map_has_key(context, name, key, d):
    """The config map gets the key.

    Example: Then config map "settings" has key "mode" within 30 seconds
    """
    driver = kk(context).driver

    def check():
        cm = driver.get("configmaps", name)
        keys = sorted(((cm or {}).get("data") or {}))
        return Observation(key in keys, f"data keys: {keys}")

    wait_for(context, f'config map "{name}" to have key "{key}"', check, d,
             kinds=("configmaps",))
'''

FEATURE = '''
Feature: Our platform
  Scenario: Settings carry a mode
    Given these objects:
      """
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: settings}
      data: {mode: fast}
      """
    Then config map "settings" has key "mode" within 30 seconds
    And config map "settings" has key "colour" within 1 minute
'''


def test_a_custom_step_uses_the_public_api_and_fails_with_what_it_saw(project):
    project.file("steps/our_platform.py", CUSTOM)
    project.feature(FEATURE)
    run = project.behave()
    assert run.code == 1, run.out
    assert "1 step failed" in run.out or "1 failed" in run.out
    assert 'expected config map "settings" to have key "colour" within 1m' in run.out
    assert "data keys: ['mode']" in run.out
    assert "seed=1" in run.out
