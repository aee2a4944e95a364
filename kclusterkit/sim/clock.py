"""Virtual time: an ordered event queue and the one seeded random source.

Every component schedules its future work here instead of sleeping, so a wait of ten
cluster minutes costs only the events that fall inside it. Ties are broken by insertion
order, which keeps runs with the same seed identical to the event.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

# Objects made by an in-process simulation carry timestamps from this fixed epoch, so a
# replayed seed produces byte-identical objects. `sim serve` passes the wall clock instead.
DEFAULT_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class Timer:
    """A scheduled call; ``cancel()`` makes it a no-op."""

    __slots__ = ("when", "seq", "fn", "args", "cancelled")

    def __init__(self, when: float, seq: int, fn: Callable[..., Any],
                 args: tuple[Any, ...]) -> None:
        self.when = when
        self.seq = seq
        self.fn = fn
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def __lt__(self, other: Timer) -> bool:
        return (self.when, self.seq) < (other.when, other.seq)


class Clock:
    """Cluster time in seconds since the cluster started, plus the event queue."""

    def __init__(self, seed: int = 0, epoch: datetime = DEFAULT_EPOCH) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.epoch = epoch
        self.now = 0.0
        self._queue: list[Timer] = []
        self._seq = 0
        self.events_run = 0
        # Called with the time of the next events before they run (see before_events).
        self._before: list[Callable[[float], None]] = []
        self._before_done = -1.0

    # -- scheduling -------------------------------------------------------------------
    def call_at(self, when: float, fn: Callable[..., Any], *args: Any) -> Timer:
        self._seq += 1
        timer = Timer(max(when, self.now), self._seq, fn, args)
        heapq.heappush(self._queue, timer)
        return timer

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> Timer:
        return self.call_at(self.now + max(delay, 0.0), fn, *args)

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> Timer:
        return self.call_at(self.now, fn, *args)

    def before_events(self, hook: Callable[[float], None]) -> Callable[[], None]:
        """Call ``hook(when)`` before the events of each new instant ``when`` run: a steady
        process that does not change the cluster between events (a load generator) can do
        everything it had to do before ``when`` at once, against the state it would have
        seen. Returns the function that removes the hook."""
        self._before.append(hook)
        return lambda: self._before.remove(hook) if hook in self._before else None

    def _next_after_hooks(self) -> float | None:
        when = self.next_time()
        while when is not None and self._before and when > self._before_done:
            self._before_done = when
            for hook in list(self._before):
                hook(when)
            when = self.next_time()  # a hook may have scheduled something sooner
        return when

    # -- running ----------------------------------------------------------------------
    def next_time(self) -> float | None:
        """When the next live event fires, or None when nothing is scheduled."""
        queue = self._queue
        while queue and queue[0].cancelled:
            heapq.heappop(queue)
        return queue[0].when if queue else None

    def run_next(self) -> bool:
        """Run every event due at the earliest scheduled instant; False if none is left."""
        when = self._next_after_hooks()
        if when is None:
            return False
        self.now = max(self.now, when)
        queue = self._queue
        while queue and queue[0].when <= self.now:
            timer = heapq.heappop(queue)
            if timer.cancelled:
                continue
            self.events_run += 1
            timer.fn(*timer.args)
        return True

    def run_one(self) -> bool:
        """Run the single earliest event; False if none is left.

        ``run_next`` runs everything due at an instant, including what those events schedule
        for the same instant (a ReplicaSet re-queued after each burst of 500 pods), which
        may be unbounded; a caller that must hand control back between events (the served
        cluster's event loop) runs them one at a time.
        """
        when = self._next_after_hooks()
        if when is None:
            return False
        self.now = max(self.now, when)
        timer = heapq.heappop(self._queue)
        self.events_run += 1
        timer.fn(*timer.args)
        return True

    def run_until(self, deadline: float) -> None:
        """Run every event up to and including ``deadline``, then stand at ``deadline``."""
        while True:
            when = self.next_time()
            if when is None or when > deadline:
                break
            self.run_next()
        self.now = max(self.now, deadline)

    def advance(self, seconds: float) -> None:
        self.run_until(self.now + seconds)

    # -- wall-clock view --------------------------------------------------------------
    def datetime(self, at: float | None = None) -> datetime:
        return self.epoch + timedelta(seconds=self.now if at is None else at)

    def timestamp(self, at: float | None = None) -> str:
        """RFC 3339 with second precision, as metav1.Time serialises."""
        return self.datetime(at).strftime("%Y-%m-%dT%H:%M:%SZ")

    def micro_timestamp(self, at: float | None = None) -> str:
        """RFC 3339 with microseconds, as metav1.MicroTime serialises."""
        return self.datetime(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def seconds_of(self, stamp: str) -> float:
        """Cluster seconds of an RFC 3339 timestamp written by this clock."""
        fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if "." in stamp else "%Y-%m-%dT%H:%M:%SZ"
        when = datetime.strptime(stamp, fmt).replace(tzinfo=UTC)
        return (when - self.epoch).total_seconds()
