"""What every step module needs: registration with a catalog, scenario memory, and waits
that fail with a message a person can act on.

Steps are registered through ``step()`` rather than behave's decorators directly so that
every step lands in ``CATALOG`` (what ``kclusterkit steps`` prints and unknown-step
suggestions come from), plural words can be written once (``pod(s)``), a missing
capability skips the scenario instead of failing it, and a refused API call reads as a
failure of the step, not as a Python traceback.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import behave

from kclusterkit.driver import ApiError, ClusterError, Driver, NotSupported, Observation, WaitResult
from kclusterkit.errors import Refused
from kclusterkit.redact import redact_exception, redact_text
from kclusterkit.steps.types import BadValue, format_duration

Obj = dict[str, Any]


# -- failures -------------------------------------------------------------------------
class ExpectationNotMet(AssertionError):
    """A Then step's expectation does not hold (behave shows the message, no traceback)."""


class WaitTimedOut(ExpectationNotMet):
    """``… within D``: the expectation never held during D of cluster time."""


class HoldBroken(ExpectationNotMet):
    """``… for D``: the expectation stopped holding before D had passed."""


class ApiRefused(AssertionError):
    """The API server refused what a step asked for (a Status error, e.g. 422 Invalid)."""


class StepUsageError(AssertionError):
    """A step was used in a way that cannot work (wrong order, nothing remembered …)."""


class ClusterFailure(AssertionError):
    """The cluster failed the step (unreachable, an exec or hook that failed or timed out):
    the cluster's fault, not the scenario's."""


# -- the catalog --------------------------------------------------------------------
@dataclass
class StepDoc:
    keyword: str  # Given / When / Then
    pattern: str  # as shown to people: fields without their type, ``(s)`` kept
    patterns: list[str]  # as registered with behave
    domain: str
    description: str
    example: str
    func: Callable[..., Any]


CATALOG: list[StepDoc] = []
_TYPED_FIELD = re.compile(r"\{(\w+):\w+\}")
# ``pod(s)`` → pod / pods; ``[is|are]`` → is / are: a step reads right in both numbers.
_PLURAL = re.compile(r"(\w+)\(s\)|\[([\w ]+)\|([\w ]+)\]")


def display_pattern(pattern: str) -> str:
    return _TYPED_FIELD.sub(r"{\1}", pattern)


def expand_plurals(pattern: str) -> list[str]:
    """``{n:N} pod(s) of "{x}" [is|are] Pending`` → every singular/plural combination."""
    matches = list(_PLURAL.finditer(pattern))
    if not matches:
        return [pattern]
    choices = [((m.group(1), m.group(1) + "s") if m.group(1) else (m.group(2), m.group(3)))
               for m in matches]
    variants = []
    for picked in itertools.product(*choices):
        out, last = "", 0
        for match, word in zip(matches, picked, strict=True):
            out += pattern[last:match.start()] + word
            last = match.end()
        variants.append(out + pattern[last:])
    return variants


def _doc_parts(func: Callable[..., Any]) -> tuple[str, str]:
    doc = inspect.getdoc(func) or ""
    lines = [line.strip() for line in doc.splitlines()]
    # The description is the docstring's first paragraph, however it was wrapped.
    first = lines[: lines.index("")] if "" in lines else lines
    description = " ".join(line for line in first if not line.startswith("Example:"))
    example = next((line[len("Example:"):].strip() for line in lines
                    if line.startswith("Example:")), "")
    return description, example


def step(keyword: str, pattern: str, *,
         any_keyword: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a step (all plural variants), guarded, and list it in the catalog.

    ``any_keyword``: the step also reads right after Given/When (``And deployment "web" is
    available within 1 minute`` in a Background), so behave matches it under any keyword.
    """
    keyword = keyword.lower()

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        guarded = _guard(func, keyword)
        patterns = expand_plurals(pattern)
        decorator = getattr(behave, "step" if any_keyword else keyword)
        for text in patterns:
            decorator(text)(guarded)
        description, example = _doc_parts(func)
        module = func.__module__ or ""
        domain = module.rsplit(".", 1)[-1] if module.startswith("kclusterkit.") else "project"
        CATALOG.append(StepDoc(keyword.capitalize(), display_pattern(pattern), patterns,
                               domain, description, example, guarded))
        guarded._kk_doc = CATALOG[-1]  # type: ignore[attr-defined]
        return guarded

    return decorate


def _guard(func: Callable[..., Any], keyword: str = "") -> Callable[..., Any]:
    @functools.wraps(func)
    def run(context: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            for value in (*args, *kwargs.values()):
                if isinstance(value, BadValue):
                    raise StepUsageError(str(value))
            state = getattr(context, "kk", None)
            if state is not None:
                state.note_step(keyword)
            return func(context, *args, **kwargs)
        except (NotSupported, Refused) as exc:
            state = getattr(context, "kk", None)
            if state is not None:
                state.skip_reason = str(exc)
            context.scenario.skip(reason=str(exc))
            return None
        except ApiError as exc:
            raise ApiRefused(redact_text(describe_api_error(exc))) from exc
        except ClusterError as exc:
            raise ClusterFailure(redact_text(f"the cluster failed: {exc}")) from exc
        except Exception as exc:  # a failure message never carries a credential
            redact_exception(exc)
            raise

    return run


def describe_api_error(exc: ApiError) -> str:
    lines = [f"the API server refused it: {exc.code} {exc.reason}: {exc.message}"]
    for cause in exc.causes:
        if cause.get("field"):
            lines.append(f"  {cause['field']}: {cause.get('message', '')}")
    return "\n".join(lines)


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``1 pod``, ``2 pods``, ``0 pods``: messages agree in number with what they count."""
    return f"{n} {noun if n == 1 else (many or noun + 's')}"


# -- per-scenario memory --------------------------------------------------------------
@dataclass
class Ref:
    """A remembered object: its name and uid (a new object with the same name is another)."""

    kind: str
    name: str
    uid: str = ""
    namespace: str | None = None

    def __str__(self) -> str:
        return f'{self.kind} "{self.name}"'


@dataclass
class WaitRecord:
    step: str
    expected: str
    mode: str  # within / for / now
    started: float
    result: WaitResult | None = None
    # (cluster seconds since the scenario's first wait, what was seen) when it changed
    timeline: list[tuple[float, str]] = field(default_factory=list)


class PodCounts(NamedTuple):
    """One moment of a workload's pods as a wait saw them: counts only, never the objects."""

    at: float  # cluster seconds (driver.now())
    pods: int  # every pod, terminating ones included
    ready: int  # Ready and not terminating
    waiting: int  # not ready, in a waiting reason (Pending, ImagePullBackOff, CrashLoopBackOff …)
    desired: int | None  # the workload's spec.replicas
    wanted: int | None = None  # its autoscaler's status.desiredReplicas, when observed
    cpu: int | None = None  # its autoscaler's CPU use, % of the pods' requests


@dataclass
class PodSeries:
    """What a scenario's waits saw of one workload's pods, over time (for the timeline chart)."""

    samples: list[PodCounts] = field(default_factory=list)
    reasons: set[str] = field(default_factory=set)  # the waiting reasons ever seen
    seen_until: float = 0.0  # when a wait last looked (counts may not have changed)

    MAX_SAMPLES = 4096  # beyond, every other sample is dropped: the chart is ~700 px wide

    def add(self, counts: PodCounts) -> None:
        self.seen_until = counts.at
        if self.samples and self.samples[-1][1:] == counts[1:]:
            return
        if self.samples and self.samples[-1].at == counts.at:
            self.samples[-1] = counts  # same instant: only the last state was visible
            return
        self.samples.append(counts)
        if len(self.samples) > self.MAX_SAMPLES:
            self.samples = [*self.samples[:-1:2], self.samples[-1]]


_WORKLOAD_WORDS = {"Deployment": "deployment", "ReplicaSet": "replica set",
                   "StatefulSet": "stateful set", "DaemonSet": "daemon set", "Job": "job"}


def pod_counts(objects: Sequence[Obj], at: float) -> tuple[str, PodCounts, set[str]] | None:
    """(subject, counts, waiting reasons) of what a check observed, or None without pods.

    The subject is the workload observed with its pods (``deployment "web"``), else
    ``pods``. A workload observed alone counts as 0 pods only when it has none; otherwise
    the check did not look at its pods and nothing is recorded.
    """
    if not objects:
        return None
    first = objects[0]
    word = _WORKLOAD_WORDS.get(first.get("kind", ""))
    pods = [o for o in objects if o.get("kind") == "Pod"]
    desired = None
    if word is not None:
        desired = (first.get("spec") or {}).get("replicas")
        if not pods and (len(objects) > 1 or desired
                         or (first.get("status") or {}).get("replicas")):
            return None
    elif not pods:
        return None
    ready = waiting = 0
    reasons: set[str] = set()
    for pod in pods:  # one cheap pass: a reason is only looked up for a pod not ready
        if is_terminating(pod):
            continue
        if is_ready(pod):
            ready += 1
            continue
        reason = pod_reason(pod) or (pod.get("status") or {}).get("phase") or "Pending"
        if reason in WAITING_REASONS:
            waiting += 1
            reasons.add(reason)
    subject = f'{word} "{first["metadata"]["name"]}"' if word else "pods"
    wanted, cpu = _autoscaler_figures(objects)
    return subject, PodCounts(at, len(pods), ready, waiting, desired, wanted, cpu), reasons


def _autoscaler_figures(objects: Sequence[Obj]) -> tuple[int | None, int | None]:
    """(desired replicas, CPU utilization %) of an autoscaler among the observed objects."""
    hpa = next((o for o in objects if o.get("kind") == "HorizontalPodAutoscaler"), None)
    if hpa is None:
        return None, None
    status = hpa.get("status") or {}
    cpu = None
    for metric in status.get("currentMetrics") or []:
        resource = metric.get("resource") or {}
        if resource.get("name") == "cpu":
            cpu = (resource.get("current") or {}).get("averageUtilization")
    return status.get("desiredReplicas"), cpu


# A pod not ready for one of these is stuck or on its way, not merely starting up.
WAITING_REASONS = frozenset({
    "Pending", "Unschedulable", "SchedulingGated", "ContainerCreating", "PodInitializing",
    "ImagePullBackOff", "ErrImagePull", "CrashLoopBackOff", "CreateContainerConfigError",
    "CreateContainerError", "InvalidImageName", "RunContainerError", "Error", "OOMKilled",
})


@dataclass
class ScenarioState:
    """``context.kk``: the driver and everything a scenario's steps remember."""

    driver: Driver
    seed: int | None = None
    deleted_pod: Ref | None = None
    that_pod: Ref | None = None
    that_node: Ref | None = None
    those_pods: list[Ref] = field(default_factory=list)
    waits: list[WaitRecord] = field(default_factory=list)
    last_objects: list[Obj] = field(default_factory=list)
    step_text: str = ""
    step_location: tuple[str, int] | None = None
    skip_reason: str | None = None
    memo: dict[str, Any] = field(default_factory=dict)
    # "while that happened": cluster time when the latest run of When steps began
    action_started: float | None = None
    last_keyword: str = ""
    # every When step (cluster time, step text) and the pods the waits saw, per workload
    actions: list[tuple[float, str]] = field(default_factory=list)
    pod_series: dict[str, PodSeries] = field(default_factory=dict)
    # the scenario's other namespaces: the name a feature gives -> the name it really has
    namespaces: dict[str, str] = field(default_factory=dict)

    def namespace(self, name: str) -> str:
        """What ``in namespace "name"`` means: a namespace the scenario made by that name
        (its real, prefixed name), else a namespace of the cluster (``kube-system``)."""
        return self.namespaces.get(name, name)

    def note_step(self, keyword: str) -> None:
        """Called before every library step: a When after a non-When starts a new action."""
        if keyword == "when":
            now = self.driver.now()
            if self.last_keyword != "when":
                self.action_started = now
            self.actions.append((now, self.step_text))
        self.last_keyword = keyword

    def note_pods(self, objects: Sequence[Obj]) -> None:
        """Count the pods a check observed (for the timeline chart)."""
        found = pod_counts(objects, self.driver.now()) if objects else None
        if found is None:
            return
        subject, counts, reasons = found
        series = self.pod_series.setdefault(subject, PodSeries())
        series.add(counts)
        series.reasons.update(reasons)

    def remembered(self, what: str, value: Any) -> Any:
        if value is None or value == []:
            raise StepUsageError(
                f"no {what} to refer to yet: an earlier step of this scenario must name it "
                f"first (e.g. 'When I delete a pod of deployment \"web\"' for the deleted pod)")
        return value


def kk(context: Any) -> ScenarioState:
    state = getattr(context, "kk", None)
    if state is None:
        raise StepUsageError(
            "kclusterkit's hooks are not installed: the project's environment.py must contain "
            "'from kclusterkit.hooks import *'")
    return state


# -- waits ----------------------------------------------------------------------------
def _recording(state: ScenarioState, record: WaitRecord, check: Callable[[], Observation]
               ) -> Callable[[], Observation]:
    driver = state.driver

    def observe() -> Observation:
        seen = check()
        if not record.timeline or record.timeline[-1][1] != seen.seen:
            record.timeline.append((driver.now(), seen.seen))
        state.note_pods(seen.objects)
        return seen

    return observe


def _describe(result: WaitResult) -> str:
    return result.last.seen.rstrip() or "(nothing)"


def _seed_note(state: ScenarioState) -> str:
    return f" (seed={state.seed})" if state.seed is not None else ""


def wait_for(context: Any, expected: str, check: Callable[[], Observation], within: float,
             kinds: Sequence[str] = ()) -> Observation:
    """Eventually: ``check`` must hold within ``within`` cluster seconds."""
    state = kk(context)
    record = WaitRecord(state.step_text, expected, "within", state.driver.now())
    state.waits.append(record)
    result = state.driver.wait_until(_recording(state, record, check), within, kinds)
    record.result = result
    state.last_objects = result.last.objects
    if not result.ok:
        raise WaitTimedOut(
            f"expected {expected} within {format_duration(within)}\n"
            f"observed: {_describe(result)}\n"
            f"waited {format_duration(result.waited)} of cluster time{_seed_note(state)}")
    return result.last


def hold_for(context: Any, expected: str, check: Callable[[], Observation], duration: float,
             kinds: Sequence[str] = ()) -> Observation:
    """Throughout: ``check`` must hold at every change during ``duration`` cluster seconds."""
    state = kk(context)
    started = state.driver.now()
    record = WaitRecord(state.step_text, expected, "for", started)
    state.waits.append(record)
    result = state.driver.hold(_recording(state, record, check), duration, kinds)
    record.result = result
    state.last_objects = result.last.objects
    if not result.ok:
        broke = (result.failed_at - started) if result.failed_at is not None else result.waited
        raise HoldBroken(
            f"expected {expected} for {format_duration(duration)}\n"
            f"it stopped holding after {format_duration(broke)} of cluster time\n"
            f"observed: {_describe(result)}{_seed_note(state)}")
    return result.last


def check_now(context: Any, expected: str, check: Callable[[], Observation]) -> Observation:
    """Right now, without waiting."""
    state = kk(context)
    record = WaitRecord(state.step_text, expected, "now", state.driver.now())
    state.waits.append(record)
    seen = _recording(state, record, check)()
    record.result = WaitResult(seen.ok, 0.0, seen)
    state.last_objects = seen.objects
    if not seen.ok:
        raise ExpectationNotMet(
            f"expected {expected}\nobserved: {seen.seen.rstrip() or '(nothing)'}"
            f"{_seed_note(state)}")
    return seen


# -- looking at pods ------------------------------------------------------------------
def condition(obj: Obj, ctype: str) -> Obj | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return cond
    return None


def is_ready(obj: Obj) -> bool:
    cond = condition(obj, "Ready")
    return bool(cond and cond.get("status") == "True")


def is_terminating(obj: Obj) -> bool:
    return bool(obj["metadata"].get("deletionTimestamp"))


def restarts(pod: Obj) -> int:
    return sum(int(cs.get("restartCount") or 0)
               for cs in (pod.get("status") or {}).get("containerStatuses") or [])


def pod_reason(pod: Obj) -> str:
    """What kubectl's STATUS column would say beyond the phase."""
    if is_terminating(pod):
        return "Terminating"
    status = pod.get("status") or {}
    for cs in status.get("containerStatuses") or []:
        state = cs.get("state") or {}
        for key in ("waiting", "terminated"):
            if state.get(key) and state[key].get("reason"):
                return state[key]["reason"]
    if status.get("reason"):
        return status["reason"]
    scheduled = condition(pod, "PodScheduled")
    if scheduled and scheduled.get("status") == "False":
        return scheduled.get("reason") or "Unschedulable"
    return ""


def pod_table(pods: Sequence[Obj],
              extra: Sequence[tuple[str, Callable[[Obj], str]]] = ()) -> str:
    """kubectl-like table of pods; ``extra`` adds (header, value) columns at the end."""
    if not pods:
        return "  (no pods)"
    rows = [("NAME", "PHASE", "READY", "RESTARTS", "NODE", "REASON",
             *(header for header, _ in extra))]
    for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        containers = (pod.get("spec") or {}).get("containers") or []
        ready = sum(1 for cs in statuses if cs.get("ready"))
        rows.append((
            pod["metadata"]["name"],
            (pod.get("status") or {}).get("phase") or "-",
            f"{ready}/{len(containers)}",
            str(restarts(pod)),
            (pod.get("spec") or {}).get("nodeName") or "-",
            pod_reason(pod),
            *(value(pod) for _, value in extra),
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    table = "\n".join("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
                      .rstrip() for row in rows)
    # Why a pod is stuck, in the words the cluster used (one line per distinct message).
    why: dict[str, list[str]] = {}
    for pod in pods:
        message = pod_reason_message(pod)
        if message:
            why.setdefault(message, []).append(pod["metadata"]["name"])
    for message, names in why.items():
        shown = names[0] if len(names) == 1 else plural(len(names), "pod")
        table += f"\n  {shown}: {message}"
    return table


def pod_reason_message(pod: Obj) -> str:
    """The message behind a pod's reason: FailedScheduling's, an image pull error …"""
    if is_terminating(pod):
        return ""
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("message"):
            return str(waiting["message"])
    scheduled = condition(pod, "PodScheduled")
    if scheduled and scheduled.get("status") == "False":
        return str(scheduled.get("message") or "")
    return ""


def selector_string(selector: Obj | None) -> str:
    """A label selector object as the ``labelSelector`` query string."""
    if not selector:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], sorted(expr.get("values") or [])
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"


def worker_nodes(driver: Driver) -> list[Obj]:
    """The cluster's nodes that are not control-plane nodes, sorted by name."""
    return sorted((n for n in driver.list("nodes")
                   if CONTROL_PLANE_LABEL not in (n["metadata"].get("labels") or {})),
                  key=lambda n: n["metadata"]["name"])


KIND_WORDS = {"deployment": "deployment", "replica set": "replicaset",
              "stateful set": "statefulset"}


def controller_uid(obj: Obj) -> str | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("uid")
    return None


def replica_sets_of(driver: Driver, deployment: Obj) -> list[Obj]:
    """The deployment's ReplicaSets: matching its selector and controlled by it (kubectl's
    GetAllReplicaSets)."""
    selector = selector_string((deployment.get("spec") or {}).get("selector"))
    uid = deployment["metadata"].get("uid")
    return [rs for rs in driver.list("replicasets", labels=selector or None)
            if controller_uid(rs) == uid]


def owner_pods(driver: Driver, kind_word: str, name: str) -> tuple[Obj | None, list[Obj]]:
    """The workload (deployment / replica set) and its pods, sorted by name.

    Pods are those its selector picks *and* it controls (through its ReplicaSets for a
    deployment), as kubectl does: a canary whose pods carry the stable deployment's labels
    is never counted as the stable one's.
    """
    owner = driver.get(KIND_WORDS[kind_word], name)
    if owner is None:
        return None, []
    selector = selector_string((owner.get("spec") or {}).get("selector"))
    if not selector:
        return owner, []
    owners = {owner["metadata"].get("uid")}
    if kind_word == "deployment":
        owners = {rs["metadata"].get("uid") for rs in replica_sets_of(driver, owner)}
    pods = [p for p in driver.list("pods", labels=selector) if controller_uid(p) in owners]
    return owner, sorted(pods, key=lambda p: p["metadata"]["name"])


def not_found(kind_word: str, name: str) -> Observation:
    return Observation(False, f'{kind_word} "{name}" does not exist')


# -- unknown steps ------------------------------------------------------------------
_FIELD = re.compile(r"\{[^{}]*\}")


def closest_steps(registry: Any, text: str, n: int = 3) -> list[str]:
    """The n known steps closest to a step text, as 'Keyword pattern' (library steps shown
    as the catalog writes them; a project's own steps as registered)."""
    return [shown for shown, _ in ranked_steps(registry, text, n)]


# Below this similarity no known step is a plausible typo of what was written.
CLOSE_ENOUGH = 0.6


def ranked_steps(registry: Any, text: str, n: int = 3) -> list[tuple[str, float]]:
    """The n known steps closest to a step text, with their similarity (0..1)."""
    import difflib

    candidates: dict[str, str] = {}
    for step_type, matchers in registry.steps.items():
        for matcher in matchers:
            func = matcher.func
            if getattr(func, "_catch_all", False):
                continue
            doc = getattr(func, "_kk_doc", None)
            pattern = str(matcher.pattern)
            shown = f"{doc.keyword} {doc.pattern}" if doc else \
                f"{step_type.capitalize()} {display_pattern(pattern)}"
            candidates.setdefault(_FIELD.sub("_", pattern), shown)
    wanted = _FIELD.sub("_", text)
    scored = sorted(((difflib.SequenceMatcher(None, wanted, p).ratio(), p) for p in candidates),
                    reverse=True)
    out: list[tuple[str, float]] = []
    for ratio, key in scored:
        if all(candidates[key] != shown for shown, _ in out):
            out.append((candidates[key], ratio))
        if len(out) == n:
            break
    return out


class UnknownStep(AssertionError):
    """A step no definition matches; the message suggests the closest known ones."""


def install_unknown_step_catcher(registry: Any) -> None:
    """Append a catch-all step (after every real one) that fails with suggestions.

    Call it once all step modules are loaded (behave's before_all)."""
    from behave.matchers import RegexMatcher

    if any(getattr(m.func, "_catch_all", False) for m in registry.steps.get("step", [])):
        return

    def unknown_step(context: Any, text: str) -> None:
        ranked = ranked_steps(registry, text)
        suggestions = "\n".join(f"  {shown}" for shown, _ in ranked)
        if ranked and ranked[0][1] >= CLOSE_ENOUGH:
            raise UnknownStep(f'Unknown step: "{text}"\nDid you mean:\n{suggestions}')
        raise UnknownStep(
            f'Unknown step: "{text}"\nNo known step is close to it: `kclusterkit steps` lists '
            "them all, and any object can be created from YAML with \"Given these objects:\" "
            f"and a doc-string. The nearest are:\n{suggestions}")

    unknown_step._catch_all = True  # type: ignore[attr-defined]
    registry.steps["step"].append(RegexMatcher(unknown_step, r"(?P<text>.+)", step_type="step"))
