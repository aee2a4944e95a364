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


def test_before_events_hooks_run_once_per_instant_before_its_events() -> None:
    from kclusterkit.sim.clock import Clock

    clock = Clock()
    seen: list[tuple[str, float, float]] = []
    clock.call_at(2.0, lambda: seen.append(("event", clock.now, 2.0)))
    clock.call_at(2.0, lambda: seen.append(("event", clock.now, 2.0)))
    clock.call_at(5.0, lambda: seen.append(("event", clock.now, 5.0)))
    remove = clock.before_events(lambda when: seen.append(("hook", clock.now, when)))
    clock.advance(3)
    # the hook sees the instant coming while the clock still stands before it
    assert seen == [("hook", 0.0, 2.0), ("event", 2.0, 2.0), ("event", 2.0, 2.0)]
    remove()
    clock.advance(3)
    assert seen[-1] == ("event", 5.0, 5.0) and len(seen) == 4


def test_a_hook_that_schedules_sooner_lets_that_run_first() -> None:
    from kclusterkit.sim.clock import Clock

    clock = Clock()
    order: list[str] = []
    clock.call_at(4.0, lambda: order.append("late"))
    clock.before_events(lambda when: when == 4.0 and not order and
                        clock.call_at(1.0, lambda: order.append("early")))
    clock.advance(5)
    assert order == ["early", "late"]
