"""The HorizontalPodAutoscaler controller: upstream's pkg/controller/podautoscaler/horizontal.go.

Every ``--horizontal-pod-autoscaler-sync-period`` (15 s) each HPA is reconciled: the
target's scale subresource is read, each metric asks the replica calculator for a count
(resource metrics from metrics-server, ``replica_calculator.py``), the highest wins, and
the result is normalized: without ``behavior`` by the downscale stabilization window
(5 min: the highest recommendation within it) and the max(2 × current, 4) scale-up limit;
with ``behavior`` by its stabilization windows and its rate policies over the recorded
scale events. min/max bound the result. The scale subresource is updated, a
``SuccessfulRescale`` event says ``New size: N; reason: …``, and the status carries
currentReplicas/desiredReplicas/currentMetrics/lastScaleTime and the conditions
AbleToScale, ScalingActive and ScalingLimited with upstream's reasons and messages.

A new HPA is first reconciled one sync period after it is created (upstream's queue uses a
fixed-interval rate limiter of the resync period).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj, parse_label_selector
from kclusterkit.kube.quantity import QuantityError, parse_quantity
from kclusterkit.sim import errors
from kclusterkit.sim.clock import Timer
from kclusterkit.sim.controllers import replica_calculator as rc
from kclusterkit.sim.resources import HPAS, PODS, for_kind
from kclusterkit.sim.store import DELETED

if TYPE_CHECKING:
    from kclusterkit.sim.controllers.manager import ControllerHost
    from kclusterkit.sim.metrics_server import MetricsServer

COMPONENT = "horizontal-pod-autoscaler"
CPU_INITIALIZATION_PERIOD = 300.0  # --horizontal-pod-autoscaler-cpu-initialization-period
INITIAL_READINESS_DELAY = 30.0  # --horizontal-pod-autoscaler-initial-readiness-delay
_TARGETS = {"Deployment": ("apps/v1", "Deployment"), "ReplicaSet": ("apps/v1", "ReplicaSet"),
            "StatefulSet": ("apps/v1", "StatefulSet")}


@dataclass
class _Memory:
    """What the controller remembers per HPA between syncs (upstream keeps it in maps)."""

    recommendations: list[tuple[int, float]] = field(default_factory=list)  # (replicas, at)
    scale_up: list[tuple[int, float]] = field(default_factory=list)  # (change, at)
    scale_down: list[tuple[int, float]] = field(default_factory=list)
    timer: Timer | None = None


def _milli(value: Any) -> int:
    try:
        return int(math.ceil(parse_quantity(value) * 1000))
    except QuantityError:
        return 0


def _format_milli(milli: int) -> str:
    """resource.NewMilliQuantity(v, DecimalSI).String()."""
    if milli % 1000 == 0:
        value = milli // 1000
        for suffix, size in (("E", 10 ** 18), ("P", 10 ** 15), ("T", 10 ** 12), ("G", 10 ** 9),
                             ("M", 10 ** 6), ("k", 10 ** 3)):
            if value and value % size == 0:
                return f"{value // size}{suffix}"
        return str(value)
    return f"{milli}m"


class HorizontalController:
    def __init__(self, cluster: ControllerHost, metrics: MetricsServer | None) -> None:
        self.api = cluster.api
        self.clock = cluster.clock
        self.store = cluster.store
        self.timings = cluster.timings
        self.metrics = metrics
        self.memory: dict[tuple[str, str], _Memory] = {}
        self.store.subscribe(HPAS, self._on_hpa)

    def _on_hpa(self, etype: str, obj: Obj, old: Obj | None) -> None:
        key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        mem = self.memory.get(key)
        if etype == DELETED:
            if mem is not None and mem.timer is not None:
                mem.timer.cancel()
            self.memory.pop(key, None)
            return
        if mem is None:
            mem = self.memory[key] = _Memory()
        if mem.timer is None:
            mem.timer = self.clock.call_later(self.timings.hpa_sync_period, self._sync, key)

    def _sync(self, key: tuple[str, str]) -> None:
        mem = self.memory.get(key)
        if mem is None:
            return
        mem.timer = self.clock.call_later(self.timings.hpa_sync_period, self._sync, key)
        if self.api.unavailable_reason:
            return
        hpa = self.store.get(HPAS, *key)
        if hpa is None:
            return
        try:
            self.reconcile(hpa, mem)
        except errors.StatusError:
            pass  # conflicts and the like: the next sync tries again, as upstream requeues

    # -- one reconcile ------------------------------------------------------------------
    def reconcile(self, stored: Obj, mem: _Memory) -> None:
        hpa = {**stored, "status": dict(stored.get("status") or {})}
        hpa["status"]["conditions"] = [dict(c) for c in hpa["status"].get("conditions") or []]
        original = stored.get("status") or {}
        spec = hpa.get("spec") or {}
        ns = hpa["metadata"].get("namespace", "")
        ref = spec.get("scaleTargetRef") or {}
        kind = ref.get("kind", "")
        target = _TARGETS.get(kind)
        if target is None:
            self._event(stored, "Warning", "FailedGetScale",
                        f'no matches for kind "{kind}" in group "{ref.get("apiVersion", "")}"')
            self._set(hpa, "AbleToScale", "False", "FailedGetScale",
                      f'the HPA controller was unable to get the target\'s current scale: no '
                      f'matches for kind "{kind}" in group "{ref.get("apiVersion", "")}"')
            self._write(stored, hpa, original)
            return
        res = for_kind(*target)
        try:
            scale = self.api.get_scale(res, ns, ref.get("name", ""))
        except errors.StatusError as exc:
            self._event(stored, "Warning", "FailedGetScale", exc.message)
            self._set(hpa, "AbleToScale", "False", "FailedGetScale",
                      f"the HPA controller was unable to get the target's current scale: "
                      f"{exc.message}")
            self._write(stored, hpa, original)
            return
        self._set(hpa, "AbleToScale", "True", "SucceededGetScale",
                  "the HPA controller was able to get the target's current scale")
        current = int(scale["spec"].get("replicas", 0))
        status_replicas = int(scale["status"].get("replicas", 0))
        low = int(spec.get("minReplicas", 1))
        high = int(spec.get("maxReplicas", 1))
        metric_statuses: list[Obj] = []
        rescale_reason = ""
        rescale = True
        desired = 0
        if current == 0 and low != 0:
            desired, rescale = 0, False
            self._set(hpa, "ScalingActive", "False", "ScalingDisabled",
                      "scaling is disabled since the replica count of the target is zero")
        elif current > high:
            rescale_reason = "Current number of replicas above Spec.MaxReplicas"
            desired = high
        elif current < low:
            rescale_reason = "Current number of replicas below Spec.MinReplicas"
            desired = low
        else:
            proposal, metric_name, metric_statuses, error = self._for_metrics(
                hpa, scale, current, status_replicas)
            if proposal == -1:
                self._status(hpa, current, current, metric_statuses, False)
                self._write(stored, hpa, original)
                self._event(stored, "Warning", "FailedComputeMetricsReplicas", error or "")
                return
            desired = proposal
            if desired > current:
                rescale_reason = f"{metric_name} above target"
            if desired < current:
                rescale_reason = "All metrics below target"
            if spec.get("behavior") is None:
                desired = self._normalize(hpa, mem, current, desired, low, high)
            else:
                desired = self._normalize_with_behavior(hpa, mem, current, desired, low, high)
            rescale = desired != current
        if rescale:
            try:
                self.api.update_scale(res, ns, ref.get("name", ""), desired)
            except errors.StatusError as exc:
                self._set(hpa, "AbleToScale", "False", "FailedUpdateScale",
                          f"the HPA controller was unable to update the target scale: "
                          f"{exc.message}")
                self._event(stored, "Warning", "FailedRescale",
                            f"New size: {desired}; reason: {rescale_reason}; error: "
                            f"{exc.message}")
                self._status(hpa, current, current, metric_statuses, False)
                self._write(stored, hpa, original)
                return
            self._set(hpa, "AbleToScale", "True", "SucceededRescale",
                      f"the HPA controller was able to update the target scale to {desired}")
            self._event(stored, "Normal", "SuccessfulRescale",
                        f"New size: {desired}; reason: {rescale_reason}")
            self._store_scale_event(spec, mem, current, desired)
        else:
            desired = current
        self._status(hpa, current, desired, metric_statuses, rescale)
        self._write(stored, hpa, original)

    # -- metrics ------------------------------------------------------------------------
    def _for_metrics(self, hpa: Obj, scale: Obj, spec_replicas: int, status_replicas: int
                     ) -> tuple[int, str, list[Obj], str | None]:
        """computeReplicasForMetrics: (replicas or -1, metric name, statuses, error)."""
        selector_text = scale["status"].get("selector") or ""
        if not selector_text:
            self._event(hpa, "Warning", "SelectorRequired", "selector is required")
            self._set(hpa, "ScalingActive", "False", "InvalidSelector",
                      "the HPA target's scale is missing a selector")
            return -1, "", [], "selector is required"
        specs = (hpa.get("spec") or {}).get("metrics") or []
        statuses: list[Obj] = [{} for _ in specs]
        replicas, metric, invalid = 0, "", 0
        first: tuple[str, str, str] | None = None
        first_error = ""
        for i, metric_spec in enumerate(specs):
            try:
                proposal, name, status = self._for_metric(hpa, metric_spec, spec_replicas,
                                                          status_replicas, selector_text)
            except MetricFailed as exc:
                # getUnableComputeReplicaCountCondition: an event per failed metric
                self._event(hpa, "Warning", exc.reason, exc.inner)
                if invalid == 0:
                    first = ("ScalingActive", exc.reason,
                             f"the HPA was unable to compute the replica count: {exc.inner}")
                    first_error = str(exc)
                invalid += 1
                continue
            statuses[i] = status
            if replicas == 0 or proposal > replicas:
                replicas, metric = proposal, name
        # A metric that failed keeps its place as an empty MetricStatus ({"type": ""}), as
        # upstream's statuses slice does; kubectl get hpa reads them by index.
        shown = [s if s else {"type": ""} for s in statuses]
        error = None
        if first is not None:
            error = (f"invalid metrics ({invalid} invalid out of {len(specs)}), first error is: "
                     f"{first_error}")
        # All metrics invalid, or some invalid and the valid ones would scale down: no
        # decision (computeReplicasForMetrics).
        if specs and (invalid >= len(specs) or (invalid > 0 and replicas < spec_replicas)):
            assert first is not None
            self._set(hpa, first[0], "False", first[1], first[2])
            return -1, "", shown, error
        self._set(hpa, "ScalingActive", "True", "ValidMetricFound",
                  f"the HPA was able to successfully calculate a replica count from {metric}")
        return replicas, metric, shown, error

    def _for_metric(self, hpa: Obj, metric_spec: Obj, current: int, status_replicas: int,
                    selector_text: str) -> tuple[int, str, Obj]:
        """computeReplicasForMetric: (replicas, metric name, status) or MetricFailed."""
        kind = metric_spec.get("type")
        ns = hpa["metadata"].get("namespace", "")
        if kind == "Pods":
            _pods_metric(metric_spec.get("pods") or {})
        if kind == "Object":
            _object_metric(metric_spec.get("object") or {}, ns)
        if kind == "External":
            _external_metric(metric_spec.get("external") or {}, ns)
        if kind not in ("Resource", "ContainerResource"):
            # "It shouldn't reach here as invalid metric source type is filtered out in the
            # api-server's validation"
            inner = f'unknown metric source type "{kind}"'
            raise MetricFailed("InvalidMetricSourceType", inner, inner)
        return self._resource_metric(hpa, metric_spec, current, selector_text)

    def _resource_metric(self, hpa: Obj, metric_spec: Obj, current: int, selector_text: str
                         ) -> tuple[int, str, Obj]:
        """computeStatusForResourceMetric / computeStatusForContainerResourceMetric (both
        computeStatusForResourceMetricGeneric): a ContainerResource metric reads one
        container's usage against that container's request."""
        kind = metric_spec.get("type")
        key = "containerResource" if kind == "ContainerResource" else "resource"
        source = metric_spec.get(key) or {}
        resource = source.get("name", "")
        container = source.get("container", "") if key == "containerResource" else ""
        target = source.get("target") or {}
        ns = hpa["metadata"].get("namespace", "")
        tol = self.timings.hpa_tolerance
        now = self.clock.now

        def status_of(current_value: Obj) -> Obj:
            named = {"name": resource, **({"container": container} if container else {})}
            return {"type": kind, key: {**named, "current": current_value}}

        try:
            if target.get("averageValue") not in (None, ""):
                try:
                    pods, metrics = self._pods_and_metrics(ns, selector_text, resource,
                                                           container)
                    replicas, usage = rc.raw_resource_replicas(
                        current, _milli(target["averageValue"]), resource, pods, metrics, tol,
                        CPU_INITIALIZATION_PERIOD, INITIAL_READINESS_DELAY, now,
                        self.clock.seconds_of)
                except rc.MetricsError as exc:
                    raise rc.MetricsError(f"failed to get {resource} usage: {exc}") from None
                return (replicas, f"{resource} resource",
                        status_of({"averageValue": _format_milli(usage)}))
            utilization = target.get("averageUtilization")
            if utilization is None:
                raise rc.MetricsError("invalid resource metric source: neither an average "
                                      "utilization target nor an average value (usage) target "
                                      "was set")
            try:
                pods, metrics = self._pods_and_metrics(ns, selector_text, resource, container)
                replicas, percent, raw = rc.resource_replicas(
                    current, int(utilization), resource, pods, metrics, tol,
                    CPU_INITIALIZATION_PERIOD, INITIAL_READINESS_DELAY, now, self.clock.seconds_of,
                    container)
            except rc.MetricsError as exc:
                raise rc.MetricsError(f"failed to get {resource} utilization: {exc}") from None
        except rc.MetricsError as exc:
            if container:
                raise MetricFailed("FailedGetContainerResourceMetric", str(exc),
                                   f"failed to get {container} container metric value: "
                                   f"{exc}") from None
            raise MetricFailed("FailedGetResourceMetric", str(exc),
                               f"failed to get {resource} resource metric value: {exc}") from None
        what = "container resource" if container else "resource"
        return (replicas, f"{resource} {what} utilization (percentage of request)",
                status_of({"averageUtilization": percent, "averageValue": _format_milli(raw)}))

    def _pods_and_metrics(self, ns: str, selector_text: str, resource: str, container: str = ""
                          ) -> tuple[list[Obj], dict[str, rc.PodMetric]]:
        """The target's pods (the pod lister) and their metrics (the resource metrics
        client, GetResourceMetric: a pod's value is the sum over its containers)."""
        selector = parse_label_selector(selector_text)
        pods = list(self.store.list(PODS, ns, selector, None))
        names = {p["metadata"]["name"] for p in pods}
        metrics: dict[str, rc.PodMetric] = {}
        if self.metrics is None or not self.metrics.enabled:
            raise rc.MetricsError(
                f"unable to get metrics for resource {resource}: unable to fetch metrics from "
                "resource metrics API: the server could not find the requested resource "
                "(get pods.metrics.k8s.io)")
        for point in self.metrics.pod_points(ns):
            if point.name not in names:
                continue
            containers = point.containers
            if container:  # getContainerMetrics
                containers = [c for c in point.containers if c.name == container]
                if not containers:
                    raise rc.MetricsError(
                        f"unable to get metrics for resource {resource}: failed to get "
                        f"container metrics: container {container} not present in metrics "
                        f"for pod {ns}/{point.name}")
            if resource == "cpu":
                value = sum(int(math.ceil(c.cpu * 1000)) for c in containers)
            elif resource == "memory":
                value = sum(c.memory * 1000 for c in containers)
            else:
                continue
            metrics[point.name] = rc.PodMetric(value, point.timestamp, point.window)
        if not metrics:
            raise rc.MetricsError(f"unable to get metrics for resource {resource}: no metrics "
                                  "returned from resource metrics API")
        return pods, metrics

    # -- normalization without behavior --------------------------------------------------
    def _normalize(self, hpa: Obj, mem: _Memory, current: int, proposed: int, low: int,
                   high: int) -> int:
        stabilized = self._stabilize(mem, proposed)
        if stabilized != proposed:
            self._set(hpa, "AbleToScale", "True", "ScaleDownStabilized",
                      "recent recommendations were higher than current one, applying the "
                      "highest recent recommendation")
        else:
            self._set(hpa, "AbleToScale", "True", "ReadyForNewScale",
                      "recommended size matches current size")
        desired, reason, message = _with_rules(current, stabilized, low, high)
        self._set(hpa, "ScalingLimited", "False" if desired == stabilized else "True", reason,
                  message)
        return desired

    def _stabilize(self, mem: _Memory, proposed: int) -> int:
        """stabilizeRecommendation: the highest recommendation within the downscale window."""
        now = self.clock.now
        cutoff = now - self.timings.hpa_downscale_stabilization
        best = proposed
        replaced = False
        for i, (value, at) in enumerate(mem.recommendations):
            if at > cutoff:
                best = max(best, value)
            elif not replaced:
                mem.recommendations[i] = (proposed, now)
                replaced = True
        if not replaced:
            mem.recommendations.append((proposed, now))
        return best

    # -- normalization with behavior ------------------------------------------------------
    def _normalize_with_behavior(self, hpa: Obj, mem: _Memory, current: int, proposed: int,
                                 low: int, high: int) -> int:
        behavior = hpa["spec"]["behavior"]
        up = behavior.get("scaleUp") or {}
        down = dict(behavior.get("scaleDown") or {})
        if down.get("stabilizationWindowSeconds") is None:  # maybeInitScaleDownStabilizationWindow
            down["stabilizationWindowSeconds"] = int(self.timings.hpa_downscale_stabilization)
        now = self.clock.now
        up_cutoff = now - float(up.get("stabilizationWindowSeconds") or 0)
        down_cutoff = now - float(down.get("stabilizationWindowSeconds") or 0)
        up_rec = down_rec = proposed
        old_index = None
        for i, (value, at) in enumerate(mem.recommendations):
            if at > up_cutoff:
                up_rec = min(up_rec, value)
            if at > down_cutoff:
                down_rec = max(down_rec, value)
            if at < up_cutoff and at < down_cutoff:
                old_index = i
        stabilized = max(current, up_rec)
        stabilized = min(stabilized, down_rec)
        if old_index is not None:
            mem.recommendations[old_index] = (proposed, now)
        else:
            mem.recommendations.append((proposed, now))
        if stabilized != proposed:
            if proposed >= current:
                self._set(hpa, "AbleToScale", "True", "ScaleUpStabilized",
                          "recent recommendations were lower than current one, applying the "
                          "lowest recent recommendation")
            else:
                self._set(hpa, "AbleToScale", "True", "ScaleDownStabilized",
                          "recent recommendations were higher than current one, applying the "
                          "highest recent recommendation")
        else:
            self._set(hpa, "AbleToScale", "True", "ReadyForNewScale",
                      "recommended size matches current size")
        desired, reason, message = self._with_behavior_rate(mem, up, down, current, stabilized,
                                                            low, high)
        self._set(hpa, "ScalingLimited", "False" if desired == stabilized else "True", reason,
                  message)
        return desired

    def _changes(self, events: list[tuple[int, float]], period: float) -> int:
        cutoff = self.clock.now - period
        return sum(change for change, at in events if at > cutoff)

    def _with_behavior_rate(self, mem: _Memory, up: Obj, down: Obj, current: int,
                            desired: int, low: int, high: int) -> tuple[int, str, str]:
        """convertDesiredReplicasWithBehaviorRate."""
        if desired > current:
            limit = self._limit(mem, up, current, scale_up=True)
            limit = max(limit, current)
            if high > limit:
                allowed, reason, message = limit, "ScaleUpLimit", (
                    "the desired replica count is increasing faster than the maximum scale rate")
            else:
                allowed, reason, message = high, "TooManyReplicas", (
                    "the desired replica count is more than the maximum replica count")
            if desired > allowed:
                return allowed, reason, message
        elif desired < current:
            limit = self._limit(mem, down, current, scale_up=False)
            limit = min(limit, current)
            if low < limit:
                allowed, reason, message = limit, "ScaleDownLimit", (
                    "the desired replica count is decreasing faster than the maximum scale rate")
            else:
                allowed, reason, message = low, "TooFewReplicas", (
                    "the desired replica count is less than the minimum replica count")
            if desired < allowed:
                return allowed, reason, message
        return desired, "DesiredWithinRange", "the desired count is within the acceptable range"

    def _limit(self, mem: _Memory, rules: Obj, current: int, *, scale_up: bool) -> int:
        """calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors."""
        select = rules.get("selectPolicy") or "Max"
        if select == "Disabled":
            return current
        results = []
        for policy in rules.get("policies") or []:
            period = float(policy.get("periodSeconds", 15))
            added = self._changes(mem.scale_up, period)
            deleted = self._changes(mem.scale_down, period)
            start = current - added + deleted
            value = int(policy.get("value", 0))
            if policy.get("type") == "Pods":
                results.append(start + value if scale_up else start - value)
            elif scale_up:
                results.append(int(math.ceil(start * (1 + value / 100))))
            else:
                results.append(int(start * (1 - value / 100)))
        if not results:
            return current
        if scale_up:
            return min(results) if select == "Min" else max(results)
        return max(results) if select == "Min" else min(results)

    def _store_scale_event(self, spec: Obj, mem: _Memory, before: int, after: int) -> None:
        """storeScaleEvent: kept for the longest policy period (behavior only)."""
        behavior = spec.get("behavior")
        if behavior is None:
            return
        now = self.clock.now
        longest = max([float(p.get("periodSeconds", 15))
                       for side in ("scaleUp", "scaleDown")
                       for p in (behavior.get(side) or {}).get("policies") or []] or [15.0])
        for events in (mem.scale_up, mem.scale_down):
            events[:] = [(c, at) for c, at in events if at > now - longest]
        if after > before:
            mem.scale_up.append((after - before, now))
        elif after < before:
            mem.scale_down.append((before - after, now))

    # -- status -------------------------------------------------------------------------
    def _status(self, hpa: Obj, current: int, desired: int, metrics: list[Obj],
                rescaled: bool) -> None:
        status = hpa["status"]
        status["currentReplicas"] = current
        status["desiredReplicas"] = desired
        if metrics:
            status["currentMetrics"] = metrics
        else:
            status.pop("currentMetrics", None)
        if rescaled:
            status["lastScaleTime"] = self.clock.timestamp(self.clock.now)
        status["observedGeneration"] = hpa["metadata"].get("generation", 1)

    def _set(self, hpa: Obj, ctype: str, status: str, reason: str, message: str) -> None:
        """setCondition: lastTransitionTime changes only when the status does."""
        conditions = hpa["status"].setdefault("conditions", [])
        now = self.clock.timestamp(self.clock.now)
        for cond in conditions:
            if cond.get("type") == ctype:
                if cond.get("status") != status:
                    cond["lastTransitionTime"] = now
                cond.update(status=status, reason=reason, message=message)
                return
        conditions.append({"type": ctype, "status": status, "lastTransitionTime": now,
                           "reason": reason, "message": message})

    def _write(self, stored: Obj, hpa: Obj, original: Obj) -> None:
        if hpa["status"] == original:
            return
        self.api.update({**stored, "status": hpa["status"]}, subresource="status")

    def _event(self, hpa: Obj, etype: str, reason: str, message: str) -> None:
        self.api.record_event(hpa, etype, reason, message, COMPONENT)


class MetricFailed(Exception):
    """One metric's replica count could not be computed: the condition's reason, the
    calculator's error (the event's and the condition's message) and the error
    computeReplicasForMetric returns (``str()``)."""

    def __init__(self, reason: str, inner: str, outer: str) -> None:
        super().__init__(outer)
        self.reason, self.inner = reason, inner


# The simulator serves no custom.metrics.k8s.io and no external.metrics.k8s.io, so every
# Pods, Object and External metric fails as upstream's clients fail without them:
# k8s.io/metrics custom_metrics (available_apis.go fetchVersions) finds no such group in
# discovery; the external metrics client's GET is answered 404.
NO_CUSTOM_METRICS = "no custom metrics API (custom.metrics.k8s.io) registered"


def _custom(err: str) -> str:
    """metrics/client.go customMetricsClient: GetRawMetric / GetObjectMetric."""
    return f"unable to fetch metrics from custom metrics API: {err}"


def _pods_metric(source: Obj) -> None:
    """computeStatusForPodsMetric → replicaCalc.GetMetricReplicas."""
    name = (source.get("metric") or {}).get("name", "")
    inner = f"unable to get metric {name}: {_custom(NO_CUSTOM_METRICS)}"
    raise MetricFailed("FailedGetPodsMetric", inner, f"failed to get pods metric value: {inner}")


def _object_metric(source: Obj, namespace: str) -> None:
    """computeStatusForObjectMetric → GetObjectMetricReplicas / GetObjectPerPodMetricReplicas
    (whose format string puts the error after "namespace name/", as upstream prints it)."""
    name = (source.get("metric") or {}).get("name", "")
    target = source.get("target") or {}
    described = source.get("describedObject") or {}
    inner = (f"unable to get metric {name}: {described.get('kind', '')} on {namespace} "
             f"{described.get('name', '')}/{_custom(NO_CUSTOM_METRICS)}")
    if target.get("type") == "Value" and target.get("value") is not None:
        outer = inner
    elif target.get("type") == "AverageValue" and target.get("averageValue") is not None:
        outer = f"failed to get {name} object metric: {inner}"
    else:
        inner = outer = ("invalid object metric source: neither a value target nor an average "
                         "value target was set")
    raise MetricFailed("FailedGetObjectMetric", inner,
                       f"failed to get object metric value: {outer}")


def _external_metric(source: Obj, namespace: str) -> None:
    """computeStatusForExternalMetric → GetExternalPerPodMetricReplicas /
    GetExternalMetricReplicas; the selector printed with %+v (LabelSelector.String())."""
    metric = source.get("metric") or {}
    name = metric.get("name", "")
    target = source.get("target") or {}
    inner = (f"unable to get external metric {namespace}/{name}/"
             f"{go_label_selector(metric.get('selector'))}: unable to fetch metrics from external "
             f"metrics API: the server could not find the requested resource (get "
             f"{name}.external.metrics.k8s.io)")
    if target.get("averageValue") is not None:
        outer = f"failed to get {name} external metric: {inner}"
    elif target.get("value") is not None:
        outer = f"failed to get external metric {name}: {inner}"
    else:
        inner = outer = ("invalid external metric source: neither a value target nor an "
                         "average value target was set")
    raise MetricFailed("FailedGetExternalMetric", inner,
                       f"failed to get {name} external metric value: {outer}")


def go_label_selector(selector: Any) -> str:
    """A *metav1.LabelSelector as fmt's %+v prints it (its generated String())."""
    if not isinstance(selector, dict):
        return "nil"
    labels = selector.get("matchLabels") or {}
    shown = "".join(f"{k}: {labels[k]}," for k in sorted(labels))
    exprs = "".join(
        f"LabelSelectorRequirement{{Key:{e.get('key', '')},Operator:{e.get('operator', '')},"
        f"Values:[{' '.join(e.get('values') or [])}],}},"
        for e in selector.get("matchExpressions") or [] if isinstance(e, dict))
    return (f"&LabelSelector{{MatchLabels:map[string]string{{{shown}}},"
            f"MatchExpressions:[]LabelSelectorRequirement{{{exprs}}},}}")


def _with_rules(current: int, desired: int, low: int, high: int) -> tuple[int, str, str]:
    """convertDesiredReplicasWithRules: the max(2 × current, 4) scale-up limit and min/max."""
    scale_up_limit = max(2 * current, 4)  # calculateScaleUpLimit
    if high > scale_up_limit:
        maximum, condition, reason = scale_up_limit, "ScaleUpLimit", (
            "the desired replica count is increasing faster than the maximum scale rate")
    else:
        maximum, condition, reason = high, "TooManyReplicas", (
            "the desired replica count is more than the maximum replica count")
    if desired < low:
        return low, "TooFewReplicas", "the desired replica count is less than the minimum " \
                                      "replica count"
    if desired > maximum:
        return maximum, condition, reason
    return desired, "DesiredWithinRange", "the desired count is within the acceptable range"
