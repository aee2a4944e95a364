"""A controller work queue on virtual time: deduplicated keys, delayed re-adds.

Upstream controllers coalesce bursts of watch events into one reconcile per key; doing the
same here keeps a 30,000-pod scale-up from reconciling a ReplicaSet 30,000 times.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from kclusterkit.sim.clock import Clock, Timer


class WorkQueue:
    def __init__(self, clock: Clock, handler: Callable[[Hashable], None],
                 delay: float = 0.0) -> None:
        self.clock = clock
        self.handler = handler
        self.delay = delay  # reconcile this long after the first event of a burst
        self._pending: dict[Hashable, Timer] = {}
        # While ``gate()`` is false (the process owning this queue is not the elected leader,
        # or is stopped) due keys are held, not handled; ``release`` hands them back, as a
        # newly elected controller's informers resync everything.
        self.gate: Callable[[], bool] | None = None
        self._held: set[Hashable] = set()

    def add(self, key: Hashable) -> None:
        if key not in self._pending:
            self._pending[key] = self.clock.call_later(self.delay, self._run, key)

    def add_after(self, key: Hashable, seconds: float) -> None:
        """Reconcile ``key`` no later than ``seconds`` from now."""
        timer = self._pending.get(key)
        when = self.clock.now + max(seconds, 0.0)
        if timer is not None and timer.when <= when:
            return
        if timer is not None:
            timer.cancel()
        self._pending[key] = self.clock.call_at(when, self._run, key)

    def _run(self, key: Hashable) -> None:
        self._pending.pop(key, None)
        if self.gate is not None and not self.gate():
            self._held.add(key)
            return
        self.handler(key)

    def release(self) -> None:
        """Queue every key held while the gate was shut."""
        held, self._held = self._held, set()
        for key in sorted(held, key=repr):
            self.add_after(key, 0.0)

    def __len__(self) -> int:
        return len(self._pending)
