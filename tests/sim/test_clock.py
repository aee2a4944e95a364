from __future__ import annotations

from kclusterkit.sim.clock import Clock


def test_events_run_in_time_then_insertion_order() -> None:
    clock = Clock(seed=1)
    seen: list[str] = []
    clock.call_later(5, seen.append, "b")
    clock.call_later(1, seen.append, "a")
    clock.call_later(5, seen.append, "c")
    clock.run_until(10)
    assert seen == ["a", "b", "c"]
    assert clock.now == 10


def test_run_until_stops_at_deadline_and_leaves_later_events() -> None:
    clock = Clock()
    seen: list[float] = []
    clock.call_later(3, lambda: seen.append(clock.now))
    clock.call_later(30, lambda: seen.append(clock.now))
    clock.run_until(10)
    assert seen == [3]
    assert clock.next_time() == 30


def test_cancelled_timer_never_fires() -> None:
    clock = Clock()
    seen: list[int] = []
    timer = clock.call_later(1, seen.append, 1)
    timer.cancel()
    clock.advance(5)
    assert seen == []
    assert clock.next_time() is None


def test_same_seed_same_random_choices() -> None:
    a, b = Clock(seed=7), Clock(seed=7)
    assert [a.rng.random() for _ in range(5)] == [b.rng.random() for _ in range(5)]
    assert Clock(seed=8).rng.random() != Clock(seed=7).rng.random()


def test_timestamps_follow_virtual_time() -> None:
    clock = Clock()
    clock.advance(90)
    assert clock.timestamp() == "2026-01-01T00:01:30Z"
    assert clock.seconds_of(clock.timestamp()) == 90
