"""Cluster time on the sim-api target: the served simulator's clock, not the wall's."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from kclusterkit.config import ClusterConfig
from kclusterkit.driver.base import Observation
from kclusterkit.driver.simapi import start_sim_api
from tests.sim.server.fakes import FakeCluster

SPEED = 100.0


@pytest.fixture
def fast():
    env = SimpleNamespace(target="sim-api", cluster=ClusterConfig(), timings={}, options={})
    driver = start_sim_api(env, 1, {"serve": {"speed": SPEED}}, run_id="time",
                           cluster_factory=FakeCluster)
    driver.open_scenario("time")
    yield driver
    driver.close_scenario(passed=True)
    driver.close()


def test_now_is_the_served_clusters_clock_running_at_its_speed(fast):
    wall, cluster = time.monotonic(), fast.now()
    fast.sleep(20.0)
    assert fast.now() - cluster >= 20.0
    assert time.monotonic() - wall < 20.0 / SPEED + 1.0
    result = fast.wait_until(lambda: Observation(False, "never"), 10.0, ("pods",))
    assert not result.ok and 10.0 <= result.waited < 10.0 + 0.5 * SPEED


def test_a_stalled_server_slows_cluster_time_instead_of_racing_ahead(fast):
    before = fast.now()
    fast.server.call(lambda cluster: time.sleep(0.6))  # the server's loop gets no turn
    time.sleep(0.05)
    # wall × speed would be ≥ 65 cluster seconds; the clock gives up what it could not run
    assert fast.now() - before < 45.0


def test_a_wait_takes_one_last_fresh_look_at_its_deadline(fast):
    looks = []

    def check() -> Observation:
        mirrored = fast._cache is not None  # inside the wait every read is the watch's mirror
        looks.append(mirrored)
        return Observation(not mirrored, "seen through the mirror" if mirrored else "fresh")

    result = fast.wait_until(check, 5.0, ("pods",))
    assert result.ok and result.last.seen == "fresh"
    assert looks[0] and looks[-1] is False and 5.0 <= result.waited


def test_timestamps_are_the_served_clusters_not_the_walls(fast):
    # FakeCluster's clock starts at 2026-01-01; the wall is elsewhere
    before = fast.timestamp()
    fast.sleep(5.0)
    after = fast.timestamp()
    assert before.startswith("2026-01-01T00:00:") and before.endswith("Z")
    assert after > before
