"""What a team's own step modules import: the public step API.

A spec repository grows steps of its own (``steps/our_platform.py``); they must read and
fail like the library's, so they use the same few tools, imported from here and nowhere
else (``kclusterkit.steps._support`` is private and may change):

- ``step(keyword, pattern)`` registers a step with behave *and* the catalog: the
  function's docstring's first paragraph is its description, a line ``Example: …`` its
  example. Patterns use behave's parse syntax and the library's types: ``{name:Q}`` a
  quoted name, ``{n:N}`` a count, ``{d:Duration}`` a duration (``30 seconds``, ``2m``).
- ``kk(context)`` is the scenario's state: ``.driver`` (the ``Driver`` of the target —
  the same interface on the simulator and on a real cluster), ``.namespace``, and what
  earlier steps remembered.
- ``wait_for(context, expected, check, within)`` — "… within D": re-runs ``check`` on
  every change of the watched kinds until it holds (cluster time; waits watch, never poll);
  ``hold_for(context, expected, check, duration)`` — "… for D": fails at the first
  violation; ``check_now(context, expected, check)`` — holds right now. A check returns an
  ``Observation(ok, seen, objects)``; a failure prints what was expected, what was seen,
  the objects, and the seed that replays it.
- ``NotSupported`` raised in a step skips the scenario with its message (a target that
  cannot do something); ``StepUsageError`` fails it as a misuse of the step; errors of the
  cluster itself (``kclusterkit.errors``) are reported as the cluster's.

Example, in ``steps/our_platform.py``::

    from kclusterkit.steps.api import Observation, kk, step, wait_for

    @step("then", 'config map "{name:Q}" has key "{key:Q}" within {d:Duration}')
    def config_map_has_key(context, name, key, d):
        \"\"\"The config map gets the key.

        Example: Then config map "settings" has key "mode" within 30 seconds
        \"\"\"
        driver = kk(context).driver

        def check():
            cm = driver.get("configmaps", name)
            return Observation(key in ((cm or {}).get("data") or {}),
                               f"data keys: {sorted(((cm or {}).get('data') or {}))}")

        wait_for(context, f'config map "{name}" to have key "{key}"', check, d,
                 kinds=("configmaps",))
"""

from __future__ import annotations

from kclusterkit.driver import Driver, Observation
from kclusterkit.errors import NotSupported
from kclusterkit.steps._support import (
    ExpectationNotMet,
    ScenarioState,
    StepUsageError,
    check_now,
    hold_for,
    kk,
    step,
    wait_for,
)

__all__ = ["Driver", "ExpectationNotMet", "NotSupported", "Observation", "ScenarioState",
           "StepUsageError", "check_now", "hold_for", "kk", "step", "wait_for"]
