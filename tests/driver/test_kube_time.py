"""Cluster time through a kubeconfig: the clock a served simulator advertises at
/kclusterkit/v1/clock, not the wall's; a cluster that advertises none runs on the wall."""

from __future__ import annotations

import time

import pytest

from kclusterkit.driver.base import Observation
from kclusterkit.driver.kube import ClusterClock, KubeDriver, WallClock
from kclusterkit.sim.server import serve_in_thread
from tests.sim.server.fakes import FakeCluster

SPEED = 100.0


def _seeded() -> FakeCluster:
    cluster = FakeCluster(5)
    cluster.seed = 5  # what a real simulated Cluster says of itself
    return cluster


@pytest.fixture
def served(tmp_path):
    handle = serve_in_thread(cluster_factory=_seeded, speed=SPEED,
                             kubeconfig_path=tmp_path / "config")
    yield handle
    handle.stop()


@pytest.fixture
def fast(served):
    driver = KubeDriver.from_config({"kubeconfig": str(served.kubeconfig_path)},
                                    run_id="time", target="kubeconfig")
    driver.open_scenario("time")
    yield driver
    driver.close_scenario(passed=True)
    driver.close()


def test_the_driver_finds_the_advertised_clock_and_its_speed(fast):
    assert isinstance(fast.clock, ClusterClock)
    assert fast.speed == SPEED and fast.seed == 5


def test_a_cluster_that_advertises_no_clock_runs_on_the_wall(fast, monkeypatch):
    def refuse(*args, **kwargs):
        from kclusterkit.driver.errors import ApiError

        raise ApiError(404, "NotFound", "the server could not find the requested resource")

    monkeypatch.setattr(fast.rest, "call", refuse)
    assert ClusterClock.discover(fast.rest) is None
    wall = WallClock()
    assert abs(wall.now() - time.time()) < 1.0 and wall.speed == 1.0


def test_now_is_the_served_clusters_clock_running_at_its_speed(fast):
    wall, cluster = time.monotonic(), fast.now()
    fast.sleep(20.0)
    assert fast.now() - cluster >= 20.0
    assert time.monotonic() - wall < 20.0 / SPEED + 1.0
    result = fast.wait_until(lambda: Observation(False, "never"), 10.0, ("pods",))
    assert not result.ok and 10.0 <= result.waited < 10.0 + 0.5 * SPEED


def test_a_stalled_server_slows_cluster_time_instead_of_racing_ahead(fast, served):
    before = fast.now()
    served.call(lambda cluster: time.sleep(0.6))  # the server's loop gets no turn
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
