"""Driver.poll: the watch-free wait the control-plane steps use while the API may be down."""

from __future__ import annotations

from kclusterkit.driver import Observation
from kclusterkit.driver.sim import SimDriver


def test_poll_waits_the_whole_duration_for_a_check_that_never_holds() -> None:
    # Regression: a hold ("does not answer for 1 minute") returned at once without waiting.
    driver = SimDriver(seed=1)
    start = driver.now()
    result = driver.poll(lambda: Observation(False, "no"), 60, every=1.0)
    assert not result.ok and driver.now() - start == 60


def test_poll_stops_when_the_check_holds_and_says_when() -> None:
    driver = SimDriver(seed=1)
    start = driver.now()
    result = driver.poll(lambda: Observation(driver.now() - start >= 5, "t"), 60, every=1.0)
    assert result.ok and result.waited == 5 and result.failed_at == start + 5


def test_api_answers_follows_the_api_servers() -> None:
    driver = SimDriver(seed=1)
    assert driver.api_answers().ok
    driver.stop_component("kube-apiserver")
    seen = driver.api_answers()
    assert not seen.ok and "503" in seen.seen
    driver.start_component("kube-apiserver")
    assert driver.api_answers().ok
