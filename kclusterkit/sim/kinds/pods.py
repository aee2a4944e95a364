"""Pods as the API server admits them: upstream defaults, validation and graceful deletion."""

from __future__ import annotations

from typing import Any

from kclusterkit.sim import validation as v
from kclusterkit.sim.api import Api, Strategy, register_strategy
from kclusterkit.sim.meta import Obj, dig
from kclusterkit.sim.quantity import QuantityError, cpu_millis, memory_bytes, parse_quantity
from kclusterkit.sim.resources import PODS

Cause = tuple[str, str, str]

NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"


def image_pull_policy(image: str) -> str:
    """Always for ``:latest`` or an untagged image, else IfNotPresent (SetDefaults_Container)."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if "@" in image:
        return "IfNotPresent"
    if ":" not in last or last.endswith(":latest"):
        return "Always"
    return "IfNotPresent"


def default_container(c: dict[str, Any]) -> None:
    if isinstance(c.get("image"), str) and c["image"]:
        c.setdefault("imagePullPolicy", image_pull_policy(c["image"]))
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("resources", {})
    res = c["resources"]
    # Limits without requests: requests default to the limits.
    if res.get("limits"):
        requests = res.setdefault("requests", {})
        for key, value in res["limits"].items():
            requests.setdefault(key, value)
    for port in c.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = c.get(probe_name)
        if isinstance(probe, dict):
            probe.setdefault("timeoutSeconds", 1)
            probe.setdefault("periodSeconds", 10)
            probe.setdefault("successThreshold", 1)
            probe.setdefault("failureThreshold", 3)
            if isinstance(probe.get("httpGet"), dict):
                probe["httpGet"].setdefault("path", "/")
                probe["httpGet"].setdefault("scheme", "HTTP")


def default_pod_spec(spec: dict[str, Any]) -> None:
    """SetDefaults_PodSpec and friends, as `kubectl get -o yaml` shows them."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    for c in spec.get("initContainers") or []:
        if isinstance(c, dict):
            default_container(c)
    for c in spec.get("containers") or []:
        if isinstance(c, dict):
            default_container(c)


def qos_class(spec: dict[str, Any]) -> str:
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    requests_any = limits_any = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            requests_any = requests_any or bool(req)
            limits_any = limits_any or bool(lim)
        for key in ("cpu", "memory"):
            if key not in lim or key not in req or str(req[key]) != str(lim[key]):
                guaranteed = False
    if not requests_any and not limits_any:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def pod_requests(spec: dict[str, Any]) -> tuple[int, int]:
    """Effective (cpu millis, memory bytes) the scheduler accounts for a pod."""
    cpu = mem = 0
    for c in spec.get("containers") or []:
        req = dig(c, "resources", "requests") or {}
        cpu += cpu_millis(req.get("cpu", 0))
        mem += memory_bytes(req.get("memory", 0))
    for c in spec.get("initContainers") or []:
        req = dig(c, "resources", "requests") or {}
        cpu = max(cpu, cpu_millis(req.get("cpu", 0)))
        mem = max(mem, memory_bytes(req.get("memory", 0)))
    return cpu, mem


def validate_resources(path: str, resources: Any) -> list[Cause]:
    out: list[Cause] = []
    if not isinstance(resources, dict):
        return out
    parsed: dict[str, dict[str, Any]] = {}
    for section in ("limits", "requests"):
        values = resources.get(section) or {}
        if not isinstance(values, dict):
            out.append(v.invalid(f"{path}.{section}", values, "must be a map"))
            continue
        parsed[section] = {}
        for key, value in values.items():
            try:
                q = parse_quantity(value)
            except QuantityError as exc:
                out.append(v.invalid(f"{path}.{section}[{key}]", value, str(exc)))
                continue
            if q < 0:
                out.append(
                    v.invalid(
                        f"{path}.{section}[{key}]", value, "must be greater than or equal to 0"
                    )
                )
            parsed[section][key] = q
    limits, requests = parsed.get("limits", {}), parsed.get("requests", {})
    for key, req in requests.items():
        if key in limits and req > limits[key]:
            out.append(
                v.invalid(
                    f"{path}.requests",
                    str(resources["requests"][key]),
                    f"must be less than or equal to {key} limit of {resources['limits'][key]}",
                )
            )
    return out


def validate_container(path: str, c: Any, names: set[str]) -> list[Cause]:
    if not isinstance(c, dict):
        return [v.invalid(path, c, "must be an object")]
    out: list[Cause] = []
    name = c.get("name")
    if not name:
        out.append(v.required(f"{path}.name"))
    else:
        out += [v.invalid(f"{path}.name", name, e) for e in v.dns1123_label_errors(str(name))]
        if name in names:
            out.append(v.duplicate(f"{path}.name", name))
        names.add(name)
    image = c.get("image")
    if not image or not isinstance(image, str) or not image.strip():
        out.append(v.required(f"{path}.image"))
    policy = c.get("imagePullPolicy")
    if policy is not None and policy not in ("Always", "IfNotPresent", "Never"):
        out.append(
            v.not_supported(f"{path}.imagePullPolicy", policy, ["Always", "IfNotPresent", "Never"])
        )
    ports_seen: set[tuple[int, str]] = set()
    for i, port in enumerate(c.get("ports") or []):
        p = port.get("containerPort") if isinstance(port, dict) else None
        ppath = f"{path}.ports[{i}].containerPort"
        if p is None:
            out.append(v.required(ppath))
        elif not isinstance(p, int) or not 1 <= p <= 65535:
            out.append(v.invalid(ppath, p, "must be between 1 and 65535, inclusive"))
        elif (p, port.get("protocol", "TCP")) in ports_seen:
            out.append(v.duplicate(f"{path}.ports[{i}]", p))
        else:
            ports_seen.add((p, port.get("protocol", "TCP")))
    out += validate_resources(f"{path}.resources", c.get("resources"))
    return out


def validate_pod_spec(path: str, spec: Any) -> list[Cause]:
    if not isinstance(spec, dict):
        return [v.required(path)]
    out: list[Cause] = []
    containers = spec.get("containers")
    if not containers:
        out.append(v.required(f"{path}.containers"))
    names: set[str] = set()
    for i, c in enumerate(containers or []):
        out += validate_container(f"{path}.containers[{i}]", c, names)
    for i, c in enumerate(spec.get("initContainers") or []):
        out += validate_container(f"{path}.initContainers[{i}]", c, names)
    policy = spec.get("restartPolicy")
    if policy not in ("Always", "OnFailure", "Never"):
        out.append(
            v.not_supported(f"{path}.restartPolicy", policy, ["Always", "OnFailure", "Never"])
        )
    grace = spec.get("terminationGracePeriodSeconds")
    out += v.non_negative(f"{path}.terminationGracePeriodSeconds", grace)
    node_selector = spec.get("nodeSelector")
    if node_selector is not None:
        out += v.labels(f"{path}.nodeSelector", node_selector)
    for i, tol in enumerate(spec.get("tolerations") or []):
        op = tol.get("operator", "Equal")
        if op not in ("Equal", "Exists"):
            out.append(
                v.not_supported(f"{path}.tolerations[{i}].operator", op, ["Equal", "Exists"])
            )
        effect = tol.get("effect")
        if effect and effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            out.append(
                v.not_supported(
                    f"{path}.tolerations[{i}].effect",
                    effect,
                    ["NoSchedule", "PreferNoSchedule", "NoExecute"],
                )
            )
    return out


def add_default_tolerations(spec: dict[str, Any], seconds: int) -> None:
    """The DefaultTolerationSeconds admission plugin: leave a dead node after 300 s."""
    tolerations = spec.setdefault("tolerations", [])
    have = {(t.get("key"), t.get("effect")) for t in tolerations}
    for key in (NOT_READY_TAINT, UNREACHABLE_TAINT):
        if (key, "NoExecute") not in have and (key, None) not in have:
            tolerations.append(
                {
                    "key": key,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": seconds,
                }
            )


class PodStrategy(Strategy):
    default_toleration_seconds = 300

    def prepare_create(self, api: Api, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict):
            spec.setdefault("serviceAccountName", "default")
            spec.setdefault("serviceAccount", spec["serviceAccountName"])
            spec.setdefault("priority", 0)
            spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
            add_default_tolerations(spec, self.default_toleration_seconds)
        obj["status"] = {
            "phase": "Pending",
            "qosClass": qos_class(spec) if isinstance(spec, dict) else "BestEffort",
        }

    def default(self, api: Api, obj: Obj) -> None:
        if isinstance(obj.get("spec"), dict):
            default_pod_spec(obj["spec"])

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        out = validate_pod_spec("spec", obj.get("spec"))
        if old is not None and not out:
            # Pod spec is immutable but for images, activeDeadlineSeconds and tolerations
            # additions; the scheduler's binding sets nodeName once.
            before, after = old.get("spec", {}), obj.get("spec", {})
            if before.get("nodeName") and after.get("nodeName") != before.get("nodeName"):
                out.append(
                    v.forbidden(
                        "spec.nodeName",
                        "pod updates may not change fields "
                        "other than `spec.containers[*].image`, "
                        "`spec.initContainers[*].image`, "
                        "`spec.activeDeadlineSeconds`, "
                        "`spec.tolerations` (only additions to existing "
                        "tolerations) or `spec.terminationGracePeriodSeconds` "
                        "(allow it to be set to 1 if it was previously negative)",
                    )
                )
        return out

    def after_delete_request(self, api: Api, obj: Obj, grace: float | None) -> Obj | None:
        """Graceful deletion: a pod bound to a node waits for its kubelet (grace period)."""
        spec = obj.get("spec") or {}
        meta = obj["metadata"]
        if not spec.get("nodeName"):
            return None  # never scheduled: nothing to stop
        phase = dig(obj, "status", "phase")
        if phase in ("Succeeded", "Failed"):
            return None
        if grace is None:
            grace = spec.get("terminationGracePeriodSeconds", 30)
        if grace == 0:
            return None  # forced: gone from the API at once, as --grace-period=0 --force
        if meta.get("deletionTimestamp"):
            # Already terminating: only a shorter grace period is taken.
            current = meta.get("deletionGracePeriodSeconds", grace)
            if grace >= current:
                return obj
        meta["deletionGracePeriodSeconds"] = int(grace)
        meta["deletionTimestamp"] = api.clock.timestamp(api.clock.now + grace)
        return obj


register_strategy(PODS, PodStrategy())
