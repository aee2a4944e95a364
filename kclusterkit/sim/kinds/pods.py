"""Pods as the API server admits them: upstream defaults, validation and graceful deletion."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj, clone, dig
from kclusterkit.kube.quantity import QuantityError, cpu_millis, memory_bytes, parse_quantity
from kclusterkit.sim import validation as v
from kclusterkit.sim.kinds.scheduling import admit_priority
from kclusterkit.sim.resources import PODS
from kclusterkit.sim.strategy import Cause, Strategy, register_strategy

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api



NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"


def image_pull_policy(image: str) -> str:
    """SetDefaults_Container: Always when the image's tag is ``latest``, else IfNotPresent.

    parsers.ParseImageName gives an untagged, undigested image the tag ``latest``; a digest
    without a tag gives no tag (IfNotPresent); ``name:latest@sha256:…`` is still ``latest``.
    """
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        tag = last.rsplit(":", 1)[1]
    else:
        tag = "" if digest else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def default_container(c: dict[str, Any]) -> None:
    """SetDefaults_Container plus the declarative defaults of its nested types."""
    if "imagePullPolicy" not in c or not c["imagePullPolicy"]:
        c["imagePullPolicy"] = image_pull_policy(str(c.get("image") or ""))
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("resources", {})
    for port in c.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")  # ContainerPort.Protocol +default="TCP"
    for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = c.get(probe_name)
        if isinstance(probe, dict):
            # SetDefaults_Probe, SetDefaults_HTTPGetAction
            probe.setdefault("timeoutSeconds", 1)
            probe.setdefault("periodSeconds", 10)
            probe.setdefault("successThreshold", 1)
            probe.setdefault("failureThreshold", 3)
            if isinstance(probe.get("httpGet"), dict):
                probe["httpGet"].setdefault("path", "/")
                probe["httpGet"].setdefault("scheme", "HTTP")


def default_pod_template(spec: dict[str, Any]) -> None:
    """Default the pod template of a workload's spec (``spec.template``), as SetDefaults_
    PodTemplateSpec and the pod spec defaults do for every kind that carries one."""
    template = spec.get("template")
    if isinstance(template, dict):
        template.setdefault("metadata", {})
        template["metadata"].setdefault("creationTimestamp", None)
        if isinstance(template.get("spec"), dict):
            default_pod_spec(template["spec"])


def default_pod_spec(spec: dict[str, Any]) -> None:
    """SetDefaults_PodSpec and SetDefaults_Container: what every PodSpec gets, templates too.

    pkg/apis/core/v1/defaults.go keeps Pod-only defaults (requests from limits,
    enableServiceLinks) out of here, in :func:`default_pod`.
    """
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for c in spec.get("initContainers") or []:
        if isinstance(c, dict):
            default_container(c)
    for c in spec.get("containers") or []:
        if isinstance(c, dict):
            default_container(c)


def default_pod(spec: dict[str, Any]) -> None:
    """SetDefaults_Pod on top of the PodSpec defaults (a Pod, never a template).

    Upstream also appends ``resizePolicy`` entries when InPlacePodVerticalScaling is on;
    we leave them out (knowingly).
    """
    default_pod_spec(spec)
    for key in ("containers", "initContainers"):
        for c in spec.get(key) or []:
            if not isinstance(c, dict):
                continue
            res = c.get("resources")
            # Limits without requests: requests default to the limits.
            if isinstance(res, dict) and isinstance(res.get("limits"), dict):
                requests = res.setdefault("requests", {})
                if isinstance(requests, dict):
                    for name, value in res["limits"].items():
                        requests.setdefault(name, value)
    spec.setdefault("enableServiceLinks", True)
    if spec.get("hostNetwork"):
        for key in ("containers", "initContainers"):
            for c in spec.get(key) or []:
                for port in (c.get("ports") or []) if isinstance(c, dict) else []:
                    if isinstance(port, dict) and not port.get("hostPort"):
                        port["hostPort"] = port.get("containerPort")


def qos_class(spec: dict[str, Any]) -> str:
    """qos.GetPodQOS: only cpu and memory count; quantities compare by value."""
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    requests_any = limits_any = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        for key in ("cpu", "memory"):
            r, m = _quantity_or_none(req.get(key)), _quantity_or_none(lim.get(key))
            requests_any = requests_any or bool(r)
            limits_any = limits_any or bool(m)
            if r is None or m is None or r != m:
                guaranteed = False
    if not requests_any and not limits_any:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _quantity_or_none(value: Any) -> Any:
    if value is None:
        return None
    try:
        return parse_quantity(value)
    except QuantityError:
        return None


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


_DECIMAL_SUFFIX = {-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P",
                   18: "E"}
_BINARY_SUFFIX = ((60, "Ei"), (50, "Pi"), (40, "Ti"), (30, "Gi"), (20, "Mi"), (10, "Ki"))


def canonical_quantity(value: Any) -> str:
    """resource.Quantity.String(): the canonical form the API prints (``0.5`` → ``500m``).

    Binary suffixes stay binary when the value is a whole number of at least 1024 bytes,
    otherwise the decimal SI form with the largest exponent (a multiple of 3) that keeps an
    integer mantissa is used. Exponent notation (``1e3``) is printed as SI here, a known
    simplification.
    """
    text = str(value).strip()
    q = parse_quantity(value)
    if q == 0:
        return "0"
    sign = "-" if q < 0 else ""
    q = abs(q)
    binary = text.endswith("i")
    if binary and q >= 1024 and q == q.to_integral_value():
        n = int(q)
        for exp, suffix in _BINARY_SUFFIX:
            if n % (1 << exp) == 0:
                return f"{sign}{n >> exp}{suffix}"
        return f"{sign}{n}"
    for exp in sorted(_DECIMAL_SUFFIX, reverse=True):
        mantissa = q.scaleb(-exp)
        if mantissa == mantissa.to_integral_value():
            return f"{sign}{int(mantissa)}{_DECIMAL_SUFFIX[exp]}"
    # Below a nano: upstream rounds up to 1n.
    return f"{sign}1n"


def validate_resources(path: str, resources: Any) -> list[Cause]:
    """ValidateResourceRequirements' wording (pkg/apis/core/validation/validation.go)."""
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
        for key in sorted(values):
            value = values[key]
            try:
                q = parse_quantity(value)
            except QuantityError as exc:
                out.append(v.invalid(f"{path}.{section}[{key}]", value, str(exc)))
                continue
            if q < 0:
                out.append(
                    v.invalid(
                        f"{path}.{section}[{key}]",
                        canonical_quantity(value),
                        "must be greater than or equal to 0",
                    )
                )
            parsed[section][key] = q
    limits, requests = parsed.get("limits", {}), parsed.get("requests", {})
    for key, req in requests.items():
        if key in limits and req > limits[key]:
            out.append(
                v.invalid(
                    f"{path}.requests",
                    canonical_quantity(resources["requests"][key]),
                    f"must be less than or equal to {key} limit of "
                    f"{canonical_quantity(resources['limits'][key])}",
                )
            )
    return out


_PORT_NAME_CHARS = re.compile("^[-a-z0-9]+$")
_PORT_NAME_LETTER = re.compile("[a-z]")


def port_name_errors(name: str) -> list[str]:
    """IsValidPortName (apimachinery util/validation)."""
    errs = []
    if len(name) > 15:
        errs.append(v.max_len_error(15))
    if not _PORT_NAME_CHARS.match(name):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _PORT_NAME_LETTER.search(name):
        errs.append("must contain at least one letter (a-z)")
    if "--" in name:
        errs.append("must not contain consecutive hyphens")
    if name and (name[0] == "-" or name[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def _validate_ports(path: str, ports: Any) -> list[Cause]:
    """validateContainerPorts: duplicate containerPorts are only a warning upstream."""
    out: list[Cause] = []
    names: set[str] = set()
    for i, port in enumerate(ports or []):
        ipath = f"{path}[{i}]"
        if not isinstance(port, dict):
            out.append(v.invalid(ipath, port, "must be an object"))
            continue
        name = port.get("name")
        if name:
            errs = port_name_errors(str(name))
            if errs:
                out += [v.invalid(f"{ipath}.name", name, e) for e in errs]
            elif name in names:
                out.append(v.duplicate(f"{ipath}.name", name))
            else:
                names.add(name)
        for key, required in (("containerPort", True), ("hostPort", False)):
            p = port.get(key)
            if not p:
                if required:
                    out.append(v.required(f"{ipath}.{key}"))
            elif not isinstance(p, int) or isinstance(p, bool) or not 1 <= p <= 65535:
                out.append(v.invalid(f"{ipath}.{key}", p, "must be between 1 and 65535, inclusive"))
        out += v.required_one_of(f"{ipath}.protocol", port.get("protocol"),
                                 ["SCTP", "TCP", "UDP"])
    return out


def validate_container(
    path: str, c: Any, names: set[str], *, for_pod: bool = True
) -> list[Cause]:
    """validateContainerCommon (+ validateContainerOnlyForPod when ``for_pod``)."""
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
    elif name:
        names.add(name)
    image = c.get("image")
    if not image:
        out.append(v.required(f"{path}.image"))
    out += v.required_one_of(f"{path}.terminationMessagePolicy",
                             c.get("terminationMessagePolicy"), ["File", "FallbackToLogsOnError"])
    out += _validate_ports(f"{path}.ports", c.get("ports"))
    out += v.required_one_of(f"{path}.imagePullPolicy", c.get("imagePullPolicy"),
                             ["Always", "IfNotPresent", "Never"])
    out += validate_resources(f"{path}.resources", c.get("resources"))
    if for_pod and isinstance(image, str) and image and image != image.strip():
        out.append(
            v.invalid(f"{path}.image", image, "must not have leading or trailing whitespace")
        )
    return out


def validate_pod_spec(path: str, spec: Any, *, for_pod: bool = False) -> list[Cause]:
    """A subset of ValidatePodSpec with its field paths and wording.

    ``for_pod`` adds the checks upstream runs on Pods but not on templates.
    """
    if not isinstance(spec, dict):
        return [v.required(path)]
    out: list[Cause] = []
    containers = spec.get("containers")
    names: set[str] = set()
    for i, c in enumerate(spec.get("initContainers") or []):
        out += validate_container(f"{path}.initContainers[{i}]", c, names, for_pod=for_pod)
    if not containers:
        out.append(v.required(f"{path}.containers"))
    for i, c in enumerate(containers or []):
        out += validate_container(f"{path}.containers[{i}]", c, names, for_pod=for_pod)
    out += v.required_one_of(f"{path}.restartPolicy", spec.get("restartPolicy"),
                             ["Always", "OnFailure", "Never"])
    node_selector = spec.get("nodeSelector")
    if node_selector is not None:
        out += v.labels(f"{path}.nodeSelector", node_selector)
    for i, tol in enumerate(spec.get("tolerations") or []):
        op = tol.get("operator") or "Equal"
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


# ValidatePodUpdate's list of what a pod update may change, joined with "," as upstream.
POD_UPDATABLE_FIELDS = ",".join(
    [
        "`spec.containers[*].image`",
        "`spec.initContainers[*].image`",
        "`spec.activeDeadlineSeconds`",
        "`spec.tolerations` (only additions to existing tolerations)",
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "
        "negative)",
    ]
)


def validate_pod_spec_update(new: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
    """ValidatePodUpdate: munge the updatable fields onto the old spec, then compare.

    Upstream appends a cmp.Diff of the two specs after a newline; we leave the diff out.
    """
    munged = clone(new)
    for key in ("containers", "initContainers"):
        mine, theirs = munged.get(key) or [], old.get(key) or []
        if len(mine) == len(theirs):
            for c, o in zip(mine, theirs, strict=True):
                if isinstance(c, dict) and isinstance(o, dict) and "image" in o:
                    c["image"] = o["image"]
    for key in ("activeDeadlineSeconds",):
        if key in old:
            munged[key] = old[key]
        else:
            munged.pop(key, None)
    old_tols = old.get("tolerations") or []
    new_tols = munged.get("tolerations") or []
    if all(t in new_tols for t in old_tols):
        if "tolerations" in old:
            munged["tolerations"] = old["tolerations"]
        else:
            munged.pop("tolerations", None)
    if not old.get("nodeName") and munged.get("nodeName"):
        # Knowing deviation: upstream binds only through pods/binding; the simulator's own
        # components and tests may also set nodeName once through a plain update.
        munged.pop("nodeName")
        if "nodeName" in old:
            munged["nodeName"] = old["nodeName"]
    old_grace = old.get("terminationGracePeriodSeconds")
    if isinstance(old_grace, int) and old_grace < 0 and munged.get(
        "terminationGracePeriodSeconds"
    ) == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    if munged == old:
        return []
    message = f"pod updates may not change fields other than {POD_UPDATABLE_FIELDS}"
    return [v.forbidden("spec", message)]


def add_default_tolerations(spec: dict[str, Any], seconds: int) -> None:
    """The DefaultTolerationSeconds admission plugin: leave a dead node after 300 s.

    A toleration with an empty key or an empty effect already covers the taint
    (plugin/pkg/admission/defaulttolerationseconds/admission.go).
    """
    tolerations = spec.get("tolerations") or []
    spec["tolerations"] = tolerations
    for key in (NOT_READY_TAINT, UNREACHABLE_TAINT):
        covered = any(
            (t.get("key") in (key, "", None)) and (t.get("effect") in ("NoExecute", "", None))
            for t in tolerations
        )
        if not covered:
            tolerations.append(
                {
                    "key": key,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": seconds,
                }
            )


def _with_observed_generation(item: dict[str, Any], generation: Any, after: str | None
                              ) -> dict[str, Any]:
    """``item`` with observedGeneration placed where the Go struct puts it."""
    out: dict[str, Any] = {}
    if after is None:
        out["observedGeneration"] = generation
    for key, value in item.items():
        out[key] = value
        if key == after:
            out["observedGeneration"] = generation
    return out


def preserve_old_observed_generation(obj: Obj, old: Obj) -> None:
    """strategy.go preserveOldObservedGeneration: a status write that leaves observedGeneration
    out (of the status or of a condition) keeps the stored value rather than clearing it."""
    status, old_status = obj.get("status"), old.get("status") or {}
    if not isinstance(status, dict):
        return
    if not status.get("observedGeneration") and old_status.get("observedGeneration"):
        rest = {k: v for k, v in status.items() if k != "observedGeneration"}
        obj["status"] = status = _with_observed_generation(
            rest, old_status["observedGeneration"], None)
    # Per type, in order: validation permits several conditions of one type.
    remembered: dict[Any, list[Any]] = {}
    for cond in old_status.get("conditions") or []:
        if isinstance(cond, dict):
            remembered.setdefault(cond.get("type"), []).append(cond.get("observedGeneration"))
    conditions = status.get("conditions")
    if not isinstance(conditions, list):
        return
    for i, cond in enumerate(conditions):
        if not isinstance(cond, dict) or cond.get("observedGeneration"):
            continue
        previous = remembered.get(cond.get("type"))
        if previous:
            generation = previous.pop(0)
            if generation:
                rest = {k: v for k, v in cond.items() if k != "observedGeneration"}
                conditions[i] = _with_observed_generation(rest, generation, "type")


class PodStrategy(Strategy):
    default_toleration_seconds = 300
    # strategy.go: PrepareForCreate sets generation 1 and updatePodGeneration bumps it on any
    # spec change, unconditionally (the binding subresource writes storage directly: no bump).
    tracks_generation = True

    def admit(self, api: Api, obj: Obj) -> None:
        if api.access is not None and api.access.service_account_admission:
            from kclusterkit.sim.auth.admission import admit_pod

            admit_pod(api.store, api.access.rng, obj)

    def prepare_create(self, api: Api, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict):
            # ServiceAccount admission ran in ``admit`` (sim.auth.admission).
            if not spec.get("serviceAccountName"):
                spec["serviceAccountName"] = spec.get("serviceAccount") or "default"
            # v1 conversion mirrors it into the deprecated field.
            spec["serviceAccount"] = spec["serviceAccountName"]
            # Priority admission: the class (or the global default) gives the priority.
            admit_priority(api, obj)
            add_default_tolerations(spec, self.default_toleration_seconds)
        # PrepareForCreate: status is Pending with the QoS class; defaults run first in
        # upstream's decode, so compute the class on a defaulted copy.
        defaulted = clone(spec) if isinstance(spec, dict) else {}
        if defaulted:
            default_pod(defaulted)
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(defaulted)}

    def default(self, api: Api, obj: Obj) -> None:
        if isinstance(obj.get("spec"), dict):
            default_pod(obj["spec"])

    def prepare_status_update(self, api: Api, obj: Obj, old: Obj) -> None:
        preserve_old_observed_generation(obj, old)

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        out = validate_pod_spec("spec", obj.get("spec"), for_pod=True)
        if old is not None and isinstance(obj.get("spec"), dict):
            out += validate_pod_spec_update(obj["spec"], old.get("spec") or {})
        return out

    def after_delete_request(self, api: Api, obj: Obj, grace: float | None) -> Obj | None:
        """rest.BeforeDelete with the pod strategy's CheckGracefulDelete.

        Returns the pod to keep while it terminates, or None to remove it now.
        """
        spec = obj.get("spec") or {}
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            current = meta.get("deletionGracePeriodSeconds")
            if not current:
                return None  # a stored grace of 0: finish the deletion
            if grace is None or grace >= current:
                return obj  # graceful deletion pending: only a shorter period is taken
            # Move the deadline: old timestamp - old grace + new grace.
            start = api.clock.seconds_of(meta["deletionTimestamp"]) - current
            meta["deletionGracePeriodSeconds"] = int(grace)
            meta["deletionTimestamp"] = api.clock.timestamp(start + grace)
            return obj if grace > 0 else None
        period = grace if grace is not None else spec.get("terminationGracePeriodSeconds") or 0
        if not spec.get("nodeName"):
            period = 0  # never scheduled: nothing to stop
        if dig(obj, "status", "phase") in ("Succeeded", "Failed"):
            period = 0  # already terminated
        if period < 0:
            period = 1
        if period == 0:
            return None  # --grace-period=0 --force: gone from the API at once
        meta["deletionGracePeriodSeconds"] = int(period)
        meta["deletionTimestamp"] = api.clock.timestamp(api.clock.now + period)
        return obj


register_strategy(PODS, PodStrategy())
