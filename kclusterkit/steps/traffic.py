"""Steps that send traffic to Services and judge how it was served.

Traffic is a driver capability: requests start in the scenario's probe pod and go through
the Service, as a client pod's would, on the simulator and on a real cluster alike. The
steps remember two things: "them" — the requests of the latest "N requests are sent" —
and the steady loads still running, per service. "While that happened" is the span from
the start of the latest run of When steps to now (the end of the Then that asks), so

    When I update deployment "web" to image "nginx:1.25"
    Then deployment "web" runs "nginx:1.25" on 4 ready pods within 3 minutes
    And no request to service "web" failed while that happened

judges every request of the load from the update until the new pods were all ready.
"""

# ruff: noqa: E501  (a step's Example must stay on one line: the catalog prints it as is)
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kclusterkit.driver import Load, NotSupported, Observation, Request
from kclusterkit.report import traffic as report
from kclusterkit.steps._autoscaler import load_target
from kclusterkit.steps._support import (
    Ref,
    StepUsageError,
    check_now,
    is_ready,
    is_terminating,
    kk,
    plural,
    step,
)
from kclusterkit.steps.healing import ref_of
from kclusterkit.steps.services import deployment_pods, live_ready, service_url
from kclusterkit.steps.types import format_duration

ABOUT_TOLERANCE = 5.0  # percentage points either side of "about N%"
_SHOWN_FAILURES = 8


@dataclass
class Batch:
    """The requests of one "N requests are sent" step ("them")."""

    service: str
    url: str
    requests: list[Request]


@dataclass
class RunningLoad:
    service: str
    url: str
    load: Load


def _batch(context: Any) -> Batch:
    state = kk(context)
    return state.remembered("requests to refer to as 'them' (send some first, e.g. 'When 300 "
                            "requests are sent to service \"echo\"')", state.memo.get("batch"))


def _attributed(context: Any) -> Batch:
    """The latest requests, for a step that judges *which pod* answered them.

    A real cluster's answers name their pod only when the workload says it (agnhost
    netexec's ``/hostname``); when none of them does, the step cannot judge and is skipped
    with the reason instead of failing on a count of zero.
    """
    batch = _batch(context)
    answered = [r for r in batch.requests if r.ok]
    if answered and all(r.pod is None for r in answered):
        raise NotSupported(
            f'the answers of service "{batch.service}" do not say which pod served them on '
            f"target {kk(context).driver.target!r} (agnhost netexec's /hostname does)")
    return batch


def _loads(context: Any) -> dict[str, RunningLoad]:
    return kk(context).memo.setdefault("loads", {})


# -- who answered ----------------------------------------------------------------------
_POD_NAME = "^{}-[a-z0-9]+-[a-z0-9]{{5}}$"


def _belongs(pod: str, deployment: str, own: set[str]) -> bool:
    """Whether the pod that answered is the deployment's: by ownership while it exists, by
    its generated name (DEPLOYMENT-HASH-SUFFIX) once it is gone."""
    return pod in own or bool(re.match(_POD_NAME.format(re.escape(deployment)), pod))


def counts_table(counts: dict[str, int], total: int, ready: set[str] | None = None) -> str:
    rows = [("POD", "ANSWERED", "SHARE", "READY NOW")]
    for pod, n in counts.items():
        mark = "-" if ready is None or pod.startswith("(") else ("yes" if pod in ready else "no")
        rows.append((pod, str(n), f"{100.0 * n / total:.1f}%" if total else "-", mark))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


def failure_lines(requests: list[Request], origin: float) -> str:
    failed = [r for r in requests if not r.ok]
    lines = [f"  t={format_duration(max(r.at - origin, 0.0)):>7}  "
             f"{r.error or f'HTTP {r.status}'}" + (f" (from pod {r.pod})" if r.pod else "")
             for r in failed[:_SHOWN_FAILURES]]
    if len(failed) > _SHOWN_FAILURES:
        lines.append(f"  … and {len(failed) - _SHOWN_FAILURES} more")
    kinds = report.failures_by_kind(requests)
    if kinds:
        lines.append("  by reason: " + ", ".join(f"{why} ×{n}" for why, n in kinds.items()))
    return "\n".join(lines)


# -- sending ---------------------------------------------------------------------------
@step("when", '{n:N} request(s) [is|are] sent to service "{name:Q}"')
def requests_sent(context: Any, n: int, name: str) -> None:
    """Send n HTTP requests to the service from inside the cluster (they are "them" afterwards).

    Example: When 300 requests are sent to service "echo"
    """
    state = kk(context)
    state.driver.require("traffic", "sending requests")
    url = service_url(state.driver, name)
    requests = state.driver.send_requests(url, n)
    state.memo["batch"] = Batch(name, url, requests)
    report.attach_spread(requests, f'{plural(n, "request")} to service "{name}"')


def _start_load(context: Any, rate: int, name: str) -> None:
    state = kk(context)
    state.driver.require("traffic", "sending a steady load")
    loads = _loads(context)
    if name in loads and loads[name].load.running:
        raise StepUsageError(f'service "{name}" already has a steady load; stop it first')
    url, method = load_target(context, name, service_url(state.driver, name))
    load = state.driver.start_load(url, float(rate)) if method == "GET" else \
        state.driver.start_load(url, float(rate), method)
    loads[name] = RunningLoad(name, url, load)


@step("given", 'a steady load of {rate:N} requests per second on service "{name:Q}"')
def steady_load(context: Any, rate: int, name: str) -> None:
    """Keep sending requests to the service at this rate while the scenario goes on.

    Example: Given a steady load of 20 requests per second on service "web"
    """
    _start_load(context, rate, name)


@step("when", 'service "{name:Q}" receives {rate:N} requests per second')
def service_receives(context: Any, name: str, rate: int) -> None:
    """Start a steady load on the service from now on.

    Example: When service "api" receives 200 requests per second
    """
    _start_load(context, rate, name)


@step("when", 'the load on service "{name:Q}" stops')
def load_stops(context: Any, name: str) -> None:
    """Stop the steady load on the service (its requests stay remembered).

    Example: When the load on service "api" stops
    """
    running = _loads(context).get(name)
    if running is None:
        raise StepUsageError(f'service "{name}" has no steady load to stop')
    records = running.load.stop()
    report.attach_spread(records, f'load on service "{name}"')


# -- readiness ---------------------------------------------------------------------------
@step("when", 'a pod of deployment "{name:Q}" stops being ready')
def pod_stops_being_ready(context: Any, name: str) -> None:
    """One ready pod of the deployment starts failing its readiness (remembered as "that pod").

    Example: When a pod of deployment "echo" stops being ready
    """
    state = kk(context)
    state.driver.require("readiness-fault", "making a pod unready")
    _, pods = deployment_pods(state.driver, name)
    ready = live_ready(pods)
    if not ready:
        raise StepUsageError(f'deployment "{name}" has no ready pod to make unready')
    pod = ready[0]
    state.driver.make_unready(pod["metadata"]["name"])
    state.that_pod = ref_of(pod)


# -- judging "them" ----------------------------------------------------------------------
@step("then", 'every ready pod of deployment "{name:Q}" answered between {low:N} and {high:N} of them')
def every_ready_pod_answered(context: Any, name: str, low: int, high: int) -> None:
    """Each pod of the deployment that is ready now answered a count of the requests in this range.

    Example: Then every ready pod of deployment "echo" answered between 60 and 140 of them
    """
    state = kk(context)
    batch = _attributed(context)
    deployment, pods = deployment_pods(state.driver, name)
    ready = {p["metadata"]["name"] for p in pods if is_ready(p) and not is_terminating(p)}
    counts = report.per_pod(batch.requests)
    for pod in ready:
        counts.setdefault(pod, 0)
    counts = dict(sorted(counts.items(), key=lambda kv: (kv[0].startswith("("), kv[0])))
    outside = sorted(pod for pod in ready if not low <= counts[pod] <= high)
    total = len(batch.requests)
    verdict = (f"{plural(len(ready), 'ready pod')}; " +
               (f"outside {low}..{high}: {', '.join(outside)}" if outside else "all within range"))
    report.attach_spread(batch.requests, f'requests to service "{batch.service}"')
    check_now(context, f'every ready pod of deployment "{name}" to answer between {low} and '
              f"{high} of the {plural(total, 'request')} to service \"{batch.service}\"",
              lambda: Observation(deployment is not None and bool(ready) and not outside,
                                  f"{verdict}\n{counts_table(counts, total, ready)}", pods))


@step("then", "that pod answered none of them")
def that_pod_answered_none(context: Any) -> None:
    """The remembered pod answered none of the latest requests.

    Example: Then that pod answered none of them
    """
    state = kk(context)
    ref: Ref = state.remembered("pod referred to as 'that pod'", state.that_pod)
    batch = _attributed(context)
    counts = report.per_pod(batch.requests)
    mine = counts.get(ref.name, 0)
    check_now(context, f'pod "{ref.name}" to answer none of the '
              f'{plural(len(batch.requests), "request")}',
              lambda: Observation(mine == 0, f'pod "{ref.name}" answered {mine}\n'
                                  f"{counts_table(counts, len(batch.requests))}"))


def _share(context: Any, name: str) -> tuple[Batch, int, dict[str, int]]:
    state = kk(context)
    batch = _attributed(context)
    _, pods = deployment_pods(state.driver, name)
    own = {p["metadata"]["name"] for p in pods}
    counts = report.per_pod(batch.requests)
    theirs = sum(n for pod, n in counts.items()
                 if not pod.startswith("(") and _belongs(pod, name, own))
    return batch, theirs, counts


@step("then", 'about {percent:N}% of them were answered by deployment "{name:Q}"')
def about_share(context: Any, percent: int, name: str) -> None:
    """The deployment's pods answered this share of the latest requests, ±5 percentage points.

    Example: Then about 20% of them were answered by deployment "web-canary"
    """
    batch, theirs, counts = _share(context, name)
    total = len(batch.requests)
    share = 100.0 * theirs / total if total else 0.0
    ok = total > 0 and abs(share - percent) <= ABOUT_TOLERANCE
    check_now(context, f'about {percent}% (±{ABOUT_TOLERANCE:g} points) of the '
              f'{plural(total, "request")} to be answered by deployment "{name}"',
              lambda: Observation(ok, f'deployment "{name}" answered {theirs} ({share:.1f}%)\n'
                                  f"{counts_table(counts, total)}"))


@step("then", 'all of them were answered by deployment "{name:Q}"')
def all_answered_by(context: Any, name: str) -> None:
    """Every one of the latest requests was answered by a pod of the deployment.

    Example: Then all of them were answered by deployment "web"
    """
    batch, theirs, counts = _share(context, name)
    total = len(batch.requests)
    check_now(context, f'all {plural(total, "request")} to be answered by deployment "{name}"',
              lambda: Observation(total > 0 and theirs == total,
                                  f'deployment "{name}" answered {theirs} of {total}\n'
                                  f"{counts_table(counts, total)}"))


@step("then", "none of them failed")
def none_failed(context: Any) -> None:
    """Every one of the latest requests got an answer with a 2xx or 3xx status.

    Example: Then none of them failed
    """
    batch = _batch(context)
    failed = [r for r in batch.requests if not r.ok]
    origin = batch.requests[0].at if batch.requests else 0.0
    check_now(context, f"none of the {plural(len(batch.requests), 'request')} to service "
              f'"{batch.service}" to fail',
              lambda: Observation(not failed, f"{len(failed)} failed\n"
                                  f"{failure_lines(batch.requests, origin)}"))


# -- invariants over a load ---------------------------------------------------------------
def _no_failure(context: Any, name: str, start: float | None, what: str) -> None:
    state = kk(context)
    running = _loads(context).get(name)
    if running is None:
        raise StepUsageError(f'service "{name}" has no steady load to judge; start one first, '
                             f'e.g. \'Given a steady load of 20 requests per second on service "{name}"\'')
    load = running.load
    begin = load.started if start is None else max(start, load.started)
    end = state.driver.now()
    span = [r for r in load.records if begin <= r.at <= end]
    if not span:
        raise StepUsageError(f'no request was sent to service "{name}" {what} '
                             f"(the load started {format_duration(end - load.started)} ago)")
    failed = [r for r in span if not r.ok]
    report.attach_timeline(span, begin, end, f'load on service "{name}"')
    report.attach_spread(span, f'load on service "{name}"')
    counts = report.per_pod(span)
    check_now(context, f'no request to service "{name}" to fail {what} '
              f"({plural(len(span), 'request')} over {format_duration(end - begin)})",
              lambda: Observation(not failed, f"{len(failed)} of {len(span)} failed\n"
                                  f"{failure_lines(span, begin)}\n"
                                  f"{counts_table(counts, len(span))}"))


@step("then", 'no request to service "{name:Q}" failed while that happened')
def no_failure_while(context: Any, name: str) -> None:
    """Every request of the steady load since the latest When steps began got an answer.

    Example: Then no request to service "web" failed while that happened
    """
    state = kk(context)
    if state.action_started is None:
        raise StepUsageError("'while that happened' refers to the latest When steps, and this "
                             "scenario has none yet")
    _no_failure(context, name, state.action_started, "while that happened")


@step("then", 'no request to service "{name:Q}" failed throughout')
def no_failure_throughout(context: Any, name: str) -> None:
    """Every request of the steady load on the service, since it started, got an answer.

    Example: Then no request to service "web" failed throughout
    """
    _no_failure(context, name, None, "since the load started")
