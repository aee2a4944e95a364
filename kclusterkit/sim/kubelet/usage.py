"""What a running container uses: its cgroup's CPU and memory accounting (cAdvisor's view).

Upstream the kubelet reads each container's cgroup through cAdvisor / the CRI stats: a
cumulative CPU counter (``usageCoreNanoSeconds``) and a memory working set. metrics-server
scrapes those every 15 s and turns two CPU readings into a rate. This module keeps the same
two figures for one container run, so everything above it (metrics-server, the HPA,
``kubectl top``) reads what a real node would report.

The model is a fluid one, built to cost nothing per second of cluster time that nobody
looks at: a request does not schedule events, it adds its CPU work (cost × duration
core-seconds) to one-second buckets of demand; the buckets are folded into the cumulative
counter only when somebody reads it (a scrape every 15 s). Each second the container gets
at most its CPU limit (the CFS quota); work beyond it waits in a backlog and is done in the
seconds after, as throttled requests queue. Memory is the image's idle working set plus
what the workload grows (a rate, set on cue) plus what requests leave behind; when it
reaches the container's memory limit the kernel's OOM killer ends the container
(``OOMKilled``, exit code 137) at the computed instant: one timer, not a poll.

What a request costs is the workload's own on a real node; in the simulator it is said
with the annotations below on the pod (template) or on the Deployment that owns it
(documented in README.md, "Resource use in the simulator").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kclusterkit.kube.quantity import QuantityError, parse_quantity

ANNOTATION_PREFIX = "kclusterkit.io/"
REQUEST_CPU = ANNOTATION_PREFIX + "request-cpu"  # CPU each request keeps busy: "5m"
REQUEST_DURATION = ANNOTATION_PREFIX + "request-duration"  # for how long: "1s", "250ms"
REQUEST_MEMORY = ANNOTATION_PREFIX + "request-memory"  # memory each request leaves: "1Mi"
MEMORY_GROWTH = ANNOTATION_PREFIX + "memory-growth"  # memory grown per second: "1Mi"
ANNOTATIONS = (REQUEST_CPU, REQUEST_DURATION, REQUEST_MEMORY, MEMORY_GROWTH)

MIB = 2 ** 20
# What each image's process uses when idle: (millicores, working set in bytes). Figures
# of the order `kubectl top` shows for these images on an idle kind node.
_IDLE: dict[str, tuple[float, int]] = {
    "nginx": (0.0, 3 * MIB), "httpd": (1.0, 6 * MIB), "agnhost": (1.0, 9 * MIB),
    "resource-consumer": (1.0, 7 * MIB), "busybox": (0.0, 400 * 1024),
    "pause": (0.0, 240 * 1024), "mysql": (4.0, 380 * MIB), "mariadb": (3.0, 90 * MIB),
    "postgres": (1.0, 24 * MIB), "redis": (2.0, 4 * MIB), "alpine": (0.0, 400 * 1024),
}
_IDLE_OTHER = (1.0, 10 * MIB)


@dataclass(frozen=True)
class Cost:
    """What each request costs and how the workload grows (from annotations)."""

    cpu: float = 0.0  # cores kept busy per request
    duration: float = 1.0  # seconds each request keeps them busy
    memory: int = 0  # bytes each request leaves behind
    growth: float = 0.0  # bytes per second the working set grows


def _seconds(text: str) -> float:
    value = text.strip()
    for suffix, factor in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if value.endswith(suffix) and value[:-len(suffix)].replace(".", "", 1).isdigit():
            return float(value[:-len(suffix)]) * factor
    raise ValueError(f"not a duration: {text!r} (write 1s, 250ms, 2m)")


def cost_from(annotations: dict[str, Any]) -> tuple[Cost, list[str]]:
    """The cost the annotations describe, and a message per value that does not parse
    (that annotation is then ignored, as an unknown annotation would be)."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key, field_name, parse in ((REQUEST_CPU, "cpu", lambda v: float(parse_quantity(v))),
                                   (REQUEST_DURATION, "duration", _seconds),
                                   (REQUEST_MEMORY, "memory", lambda v: int(parse_quantity(v))),
                                   (MEMORY_GROWTH, "growth", lambda v: float(parse_quantity(v)))):
        raw = annotations.get(key)
        if raw is None:
            continue
        try:
            value = parse(str(raw))
        except (QuantityError, ValueError) as exc:
            problems.append(f"annotation {key}: {raw!r}: {exc}")
            continue
        if value < 0 or (field_name == "duration" and value == 0):
            problems.append(f"annotation {key}: {raw!r} must be positive")
            continue
        values[field_name] = value
    return Cost(**values), problems


@lru_cache(maxsize=512)
def _cost_of(items: tuple[tuple[str, str], ...]) -> Cost:
    return cost_from(dict(items))[0]


def cost_of(annotations: dict[str, Any]) -> Cost:
    """``cost_from``'s cost, parsed once per distinct set of annotations: a request is
    charged on every serve, and parsing quantities each time would cost more than it."""
    return _cost_of(tuple(sorted((k, str(v)) for k, v in annotations.items())))


def idle_of(family: str) -> tuple[float, int]:
    """(cores, bytes) the image's process uses with nothing to do."""
    millis, nbytes = _IDLE.get(family, _IDLE_OTHER)
    return millis / 1000.0, nbytes


class Usage:
    """The cgroup accounting of one container run, started at ``start`` (cluster seconds).

    ``limit_cpu`` is in cores, ``limit_memory`` in bytes (None: unlimited).
    """

    __slots__ = ("start", "idle_cpu", "idle_memory", "limit_cpu", "limit_memory", "cost",
                 "_demand", "_backlog", "_cum", "_at", "_throttled", "_retained",
                 "_transient", "_grown", "_grown_at")

    def __init__(self, start: float, idle: tuple[float, int], limit_cpu: float | None,
                 limit_memory: int | None, cost: Cost | None = None) -> None:
        self.start = start
        self.idle_cpu, self.idle_memory = idle
        self.limit_cpu = limit_cpu
        self.limit_memory = limit_memory
        self.cost = cost or Cost()
        self._demand: dict[int, float] = {}  # second → core-seconds asked for in it
        self._backlog = 0.0  # core-seconds asked for and not yet given (throttled)
        self._cum = 0.0  # core-seconds used from start to _at
        self._at = start  # accounted up to here
        self._throttled = 0.0  # core-seconds that had to wait
        self._retained = 0  # bytes requests left behind
        self._transient: list[tuple[float, int]] = []  # (until, bytes) held for a while
        self._grown = 0.0  # bytes grown at the growth rate up to _grown_at
        self._grown_at = start

    # -- what requests and cues do -----------------------------------------------------
    def charge(self, now: float, cores: float, seconds: float) -> None:
        """A request keeps ``cores`` busy from ``now`` for ``seconds``: its work is spread
        over the one-second buckets it overlaps; nothing is scheduled."""
        if cores <= 0 or seconds <= 0:
            return
        now = max(now, self._at)  # never into seconds already folded into the counter
        end = now + seconds
        second = math.floor(now)
        demand = self._demand
        while second < end:
            overlap = min(end, second + 1) - max(now, second)
            if overlap > 0:
                demand[second] = demand.get(second, 0.0) + cores * overlap
            second += 1

    def charge_many(self, times: list[float], cores: float, seconds: float) -> None:
        """``charge`` for one request starting at each of ``times`` (ascending). A start
        before what is already accounted (a load generator's second, accounted at its end)
        counts from there: work is never added to seconds the counter has folded in.

        For whole-second durations the buckets are filled per second of starts: a request
        starting ``f`` into second ``b`` gives ``1 - f`` of its first second's work to
        ``b``, whole seconds after, and ``f`` to ``b + seconds``; the same sums as one
        ``charge`` per request, without a loop per request and bucket."""
        if cores <= 0 or seconds <= 0 or not times:
            return
        if seconds != int(seconds):
            for now in times:
                self.charge(now, cores, seconds)
            return
        span = int(seconds)
        demand = self._demand
        floor_at = self._at
        current, count, fractions = -1, 0, 0.0

        def add(second: int, count: int, fractions: float) -> None:
            demand[second] = demand.get(second, 0.0) + cores * (count - fractions)
            for k in range(1, span):
                demand[second + k] = demand.get(second + k, 0.0) + cores * count
            if fractions:
                demand[second + span] = demand.get(second + span, 0.0) + cores * fractions

        for now in times:
            if now < floor_at:
                now = floor_at
            second = int(now)
            if second != current:
                if count:
                    add(current, count, fractions)
                current, count, fractions = second, 0, 0.0
            count += 1
            fractions += now - second
        if count:
            add(current, count, fractions)

    def hold(self, now: float, nbytes: int, seconds: float | None) -> None:
        """The workload holds ``nbytes`` more: for ``seconds``, or for good (None)."""
        if seconds is None:
            self._retained += nbytes
        else:
            self._transient.append((now + seconds, nbytes))

    def set_growth(self, now: float, cost: Cost) -> None:
        """New cost figures; the growth rate changes from ``now`` on."""
        self._grown = self._grown_at_time(now)
        self._grown_at = now
        self.cost = cost

    # -- what cAdvisor reads ----------------------------------------------------------
    def _grown_at_time(self, now: float) -> float:
        return self._grown + self.cost.growth * max(0.0, now - self._grown_at)

    def memory(self, now: float) -> int:
        """The working set in bytes."""
        held = sum(n for until, n in self._transient if until > now)
        if self._transient and self._transient[0][0] <= now:
            self._transient = [(u, n) for u, n in self._transient if u > now]
        return int(self.idle_memory + self._retained + held + self._grown_at_time(now))

    def oom_at(self, now: float) -> float | None:
        """When the working set reaches the memory limit at the current growth rate
        (``now`` if it already has); None: never, as things stand."""
        if self.limit_memory is None:
            return None
        used = self.memory(now)
        if used >= self.limit_memory:
            return now
        if self.cost.growth <= 0:
            return None
        return now + (self.limit_memory - used) / self.cost.growth

    def cpu_seconds(self, now: float) -> float:
        """The cumulative CPU counter (core-seconds), as ``usageCoreNanoSeconds`` / 1e9."""
        self._account(now)
        return self._cum

    def throttled_seconds(self, now: float) -> float:
        self._account(now)
        return self._throttled

    def _account(self, now: float) -> None:
        """Fold demand up to ``now`` into the counter, one second at a time where there is
        demand or backlog, in one stride where there is only the idle base."""
        at = self._at
        if now <= at:
            return
        limit = self.limit_cpu
        demand = self._demand
        while at < now:
            second = math.floor(at)
            if not demand and self._backlog <= 0:
                step = now - at  # nothing but the idle base until now
                self._cum += self._give(self.idle_cpu * step, step, limit)
                at = now
                break
            end = min(now, second + 1)
            span = end - at
            part = span / max(1e-12, (second + 1) - at)  # share of this bucket's demand
            asked = demand.get(second, 0.0)
            taken = asked * part
            if end >= second + 1:
                demand.pop(second, None)
            elif asked:
                demand[second] = asked - taken
            want = self.idle_cpu * span + taken + self._backlog
            given = self._give(want, span, limit)
            self._backlog = want - given
            self._throttled += self._backlog if self._backlog > 1e-12 else 0.0
            self._cum += given
            at = end
        self._at = now

    @staticmethod
    def _give(want: float, span: float, limit: float | None) -> float:
        if limit is None:
            return want
        return min(want, limit * span)

    def queue_delay(self, now: float) -> float:
        """How long a request arriving now waits for CPU behind the queued work (0 without
        a limit: an unthrottled container starts on it at once)."""
        self._account(now)
        return self.backlog_seconds()

    def backlog_seconds(self) -> float:
        """How long new work waits behind what is queued (the latency throttling adds)."""
        if self.limit_cpu is None or self.limit_cpu <= 0:
            return 0.0
        return self._backlog / self.limit_cpu


def limits_of(spec: dict[str, Any]) -> tuple[float | None, int | None]:
    """The container's CPU (cores) and memory (bytes) limits; None where it has none."""
    limits = ((spec.get("resources") or {}).get("limits") or {})
    cpu = limits.get("cpu")
    memory = limits.get("memory")
    try:
        return (float(parse_quantity(cpu)) if cpu is not None else None,
                int(parse_quantity(memory)) if memory is not None else None)
    except QuantityError:
        return None, None


def workload_annotations(store: Any, pod: dict[str, Any] | None) -> dict[str, Any]:
    """The cost annotations that apply to a pod: its own, else its Deployment's (through
    its ReplicaSet), so a cost set on a running Deployment needs no rollout."""
    from kclusterkit.sim.resources import DEPLOYMENTS, REPLICASETS

    if pod is None:
        return {}
    meta = pod.get("metadata") or {}
    own = meta.get("annotations") or {}
    found = {k: v for k, v in own.items() if k.startswith(ANNOTATION_PREFIX) and k in ANNOTATIONS}
    namespace = meta.get("namespace", "")
    owner = next((r for r in meta.get("ownerReferences") or [] if r.get("controller")), None)
    if owner is not None and owner.get("kind") == "ReplicaSet":
        rs = store.get(REPLICASETS, namespace, owner.get("name", ""))
        rs_owner = next((r for r in ((rs or {}).get("metadata") or {}).get("ownerReferences")
                         or [] if r.get("controller")), None)
        if rs_owner is not None and rs_owner.get("kind") == "Deployment":
            deployment = store.get(DEPLOYMENTS, namespace, rs_owner.get("name", ""))
            theirs = ((deployment or {}).get("metadata") or {}).get("annotations") or {}
            for key in ANNOTATIONS:
                if key in theirs and key not in found:
                    found[key] = theirs[key]
    return found
