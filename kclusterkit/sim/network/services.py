"""Services as the API server admits them: defaults, IP and port allocation, validation.

Upstream splits this between SetDefaults_Service (pkg/apis/core/v1/defaults.go), the
service REST storage (allocation before validation, pkg/registry/core/service/storage)
and ValidateService (pkg/apis/core/validation). The order matters for which error a user
sees, so it is kept: defaults, then allocation (an allocation failure is the only error
reported), then validation.
"""

from __future__ import annotations

import ipaddress
import json
import random
import re
from typing import TYPE_CHECKING, Any, NoReturn

from kclusterkit.kube.meta import Obj, dig
from kclusterkit.sim import errors
from kclusterkit.sim import validation as v
from kclusterkit.sim.kinds.pods import port_name_errors
from kclusterkit.sim.network.allocator import (
    AllocationError,
    IPRange,
    PortRange,
    ServiceIndex,
    index_for,
)
from kclusterkit.sim.resources import ENDPOINTS, ENDPOINTSLICES, SERVICES
from kclusterkit.sim.strategy import Strategy, register_strategy

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api

Cause = tuple[str, str, str]

SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
PROTOCOLS = ["SCTP", "TCP", "UDP"]
DEFAULT_CLIENT_IP_TIMEOUT = 10800  # v1.DefaultClientIPServiceAffinitySeconds

IP_RANGE = IPRange()
PORT_RANGE = PortRange()

DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL = re.compile("^" + DNS1035_LABEL_FMT + "$")


def externally_accessible(spec: dict[str, Any]) -> bool:
    return spec.get("type") in ("LoadBalancer", "NodePort") or (
        spec.get("type") == "ClusterIP" and bool(spec.get("externalIPs")))


def needs_node_ports(spec: dict[str, Any]) -> bool:
    return spec.get("type") in ("NodePort", "LoadBalancer")


def is_headless(spec: dict[str, Any]) -> bool:
    return spec.get("clusterIP") == "None"


# -- defaults -------------------------------------------------------------------------


def set_defaults_service(obj: Obj) -> None:
    """SetDefaults_Service, plus the REST layer's clusterIP/clusterIPs normalisation."""
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    if not spec.get("sessionAffinity"):
        spec["sessionAffinity"] = "None"
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        cfg = spec.get("sessionAffinityConfig")
        if not isinstance(cfg, dict):
            cfg = spec["sessionAffinityConfig"] = {}
        client_ip = cfg.get("clientIP")
        if not isinstance(client_ip, dict):
            client_ip = cfg["clientIP"] = {}
        client_ip.setdefault("timeoutSeconds", DEFAULT_CLIENT_IP_TIMEOUT)
    if not spec.get("type"):
        spec["type"] = "ClusterIP"
    for port in spec.get("ports") or []:
        if not isinstance(port, dict):
            continue
        if not port.get("protocol"):
            port["protocol"] = "TCP"
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    if externally_accessible(spec) and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if not spec.get("internalTrafficPolicy") and spec["type"] in ("ClusterIP", "NodePort",
                                                                   "LoadBalancer"):
        spec["internalTrafficPolicy"] = "Cluster"
    if spec["type"] == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True
    # normalizeClusterIPs (storage/rest.go): clusterIP and clusterIPs[0] agree.
    cluster_ip, cluster_ips = spec.get("clusterIP"), spec.get("clusterIPs")
    if cluster_ip and not cluster_ips:
        spec["clusterIPs"] = [cluster_ip]
    elif cluster_ips and isinstance(cluster_ips, list) and not cluster_ip:
        spec["clusterIP"] = cluster_ips[0]


# -- allocation -----------------------------------------------------------------------


def _patch_allocated_values(spec: dict[str, Any], old_spec: dict[str, Any]) -> None:
    """patchAllocatedValues: an update that leaves out allocated values keeps them."""
    if spec.get("type") != "ExternalName" and old_spec.get("type") != "ExternalName":
        if not spec.get("clusterIP") and old_spec.get("clusterIP"):
            spec["clusterIP"] = old_spec["clusterIP"]
            spec["clusterIPs"] = list(old_spec.get("clusterIPs") or [old_spec["clusterIP"]])
    if needs_node_ports(old_spec) and needs_node_ports(spec):
        def used(s: dict[str, Any]) -> set[int]:
            return {p.get("nodePort") for p in s.get("ports") or []
                    if isinstance(p, dict) and p.get("nodePort")}

        taken = used(old_spec) & used(spec)
        by_name = {p.get("name", ""): p.get("nodePort") for p in old_spec.get("ports") or []
                   if isinstance(p, dict)}
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and not port.get("nodePort"):
                old_value = by_name.get(port.get("name", ""))
                if old_value and old_value not in taken:
                    port["nodePort"] = old_value


def _drop_type_dependent_fields(spec: dict[str, Any], old_spec: dict[str, Any]) -> None:
    """dropTypeDependentFields: fields the old type needed go when the type changes."""
    if spec.get("type") == old_spec.get("type"):
        return
    if spec.get("type") == "ExternalName":
        if spec.get("clusterIP") == old_spec.get("clusterIP"):
            for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
                spec.pop(key, None)
    if needs_node_ports(old_spec) and not needs_node_ports(spec):
        old_ports = {p.get("nodePort") for p in old_spec.get("ports") or [] if isinstance(p, dict)}
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and port.get("nodePort") in old_ports:
                port.pop("nodePort", None)
    if not externally_accessible(spec) and \
            spec.get("externalTrafficPolicy") == old_spec.get("externalTrafficPolicy"):
        spec.pop("externalTrafficPolicy", None)
    if spec.get("type") != "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") == \
            old_spec.get("allocateLoadBalancerNodePorts"):
        spec.pop("allocateLoadBalancerNodePorts", None)


def _init_ip_family_fields(spec: dict[str, Any], old_spec: dict[str, Any] | None) -> None:
    if spec.get("type") == "ExternalName":
        return
    if not spec.get("ipFamilyPolicy"):
        if old_spec and old_spec.get("ipFamilyPolicy"):
            spec["ipFamilyPolicy"] = old_spec["ipFamilyPolicy"]
        elif is_headless(spec) and not spec.get("selector"):
            spec["ipFamilyPolicy"] = "RequireDualStack"
        else:
            spec["ipFamilyPolicy"] = "SingleStack"
    if not spec.get("ipFamilies"):
        spec["ipFamilies"] = ["IPv4"]
    # Headless and selectorless: the one case a single-stack cluster lists both families.
    if is_headless(spec) and not spec.get("selector") and \
            spec["ipFamilyPolicy"] != "SingleStack" and spec["ipFamilies"] == ["IPv4"]:
        spec["ipFamilies"] = ["IPv4", "IPv6"]


def _go_strings(values: Any) -> str:
    """How field.Invalid prints a []string."""
    if not isinstance(values, list):
        return v.render_value(values)
    return "[]string{" + ", ".join(json.dumps(str(x)) for x in values) + "}"


def allocate(api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
    """Give the Service its cluster IP and node ports; causes if a requested one is taken."""
    spec = obj["spec"]
    meta = obj["metadata"]
    owner = (meta.get("namespace", ""), meta.get("name", ""))
    index = index_for(api.store)
    rng = api.clock.rng
    old_spec = (old or {}).get("spec") or {}
    if old is not None:
        _drop_type_dependent_fields(spec, old_spec)
        _patch_allocated_values(spec, old_spec)
    _init_ip_family_fields(spec, old_spec if old is not None else None)

    if spec.get("type") != "ExternalName" and not is_headless(spec):
        wanted = spec.get("clusterIP") or ""
        had = old_spec.get("clusterIP") if old is not None else None
        if not wanted:
            try:
                ip = IP_RANGE.allocate_next(rng, index)
            except AllocationError as exc:
                raise_internal(f"failed to allocate a serviceIP: {exc}")
            spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
        elif wanted != had:
            try:
                ipaddress.IPv4Address(wanted)
            except ValueError:
                return [v.invalid("spec.clusterIPs[0]", wanted,
                                  "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")]
            try:
                IP_RANGE.allocate(wanted, index, owner)
            except AllocationError as exc:
                return [("FieldValueInvalid", "spec.clusterIPs",
                         f"Invalid value: {_go_strings(spec.get('clusterIPs'))}: "
                         f"failed to allocate IP {wanted}: {exc}")]
    elif is_headless(spec):
        spec["clusterIPs"] = ["None"]

    if needs_node_ports(spec):
        causes = _allocate_node_ports(spec, old_spec, index, owner, rng)
        if causes:
            return causes
    return []


def _allocate_node_ports(spec: dict[str, Any], old_spec: dict[str, Any], index: ServiceIndex,
                         owner: tuple[str, str], rng: random.Random) -> list[Cause]:
    """initNodePorts/updateNodePorts: honour requested ports, allocate the missing ones."""
    allocate_new = spec.get("type") == "NodePort" or spec.get("allocateLoadBalancerNodePorts")
    old_ports = {p.get("nodePort") for p in old_spec.get("ports") or [] if isinstance(p, dict)}
    claimed: set[int] = set()
    by_service_port: dict[Any, int] = {}
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]

    def claim(i: int, value: int) -> Cause | None:
        if value not in old_ports and value not in claimed:
            try:
                PORT_RANGE.allocate(value, index, owner)
            except AllocationError as exc:
                return v.invalid(f"spec.ports[{i}].nodePort", value, str(exc))
        claimed.add(value)
        return None

    for i, port in enumerate(ports):
        requested = port.get("nodePort")
        if requested:
            if not isinstance(requested, int) or isinstance(requested, bool):
                continue  # validation reports it
            cause = claim(i, requested)
            if cause:
                return [cause]
            by_service_port.setdefault(port.get("port"), requested)
            continue
        if not allocate_new:
            continue
        # One service port number (say TCP and UDP 53) shares one node port.
        same = by_service_port.get(port.get("port"))
        if same is None:
            same = next((p["nodePort"] for p in ports[i + 1:]
                         if p.get("port") == port.get("port") and isinstance(p.get("nodePort"), int)
                         and p["nodePort"]), None)
            if same is not None:
                cause = claim(i, same)
                if cause:
                    return [cause]
        if same is None:
            try:
                same = PORT_RANGE.allocate_next(rng, index, claimed)
            except AllocationError as exc:
                raise_internal(f"failed to allocate a nodePort: {exc}")
            claimed.add(same)
        port["nodePort"] = same
        by_service_port[port.get("port")] = same
    return []


def raise_internal(message: str) -> NoReturn:
    raise errors.StatusError(500, "InternalError",
                      f"Internal error occurred: {message}",
                      {"causes": [{"message": message}]})


# -- validation -----------------------------------------------------------------------


def _dns1035_errors(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _DNS1035_LABEL.match(value):
        errs.append(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
            "with an alphabetic character, and end with an alphanumeric character (e.g. "
            f"'my-name',  or 'abc-123', regex used for validation is '{DNS1035_LABEL_FMT}')")
    return errs


def port_num_errors(value: Any) -> list[str]:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
        return ["must be between 1 and 65535, inclusive"]
    return []


def _go_service_port(protocol: Any, port: Any) -> str:
    """``%#v`` of the core.ServicePort key ValidateService reports duplicates with."""
    return ('core.ServicePort{Name:"", Protocol:"' + str(protocol) + '", AppProtocol:(*string)'
            f"(nil), Port:{port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, "
            'StrVal:""}, NodePort:0}')


def validate_service(obj: Obj, old: Obj | None) -> list[Cause]:
    spec = obj.get("spec")
    out: list[Cause] = []
    name = obj["metadata"].get("name") or ""
    # object_meta checked DNS-1123; a Service name must also be a DNS-1035 label.
    if name and not v.dns1123_label_errors(name):
        out += [v.invalid("metadata.name", name, e) for e in _dns1035_errors(name)]
    if not isinstance(spec, dict):
        return out + [v.required("spec")]
    stype = spec.get("type")
    ports = spec.get("ports") or []
    if not isinstance(ports, list):
        return out + [v.invalid("spec.ports", ports, "must be a list")]
    headless = is_headless(spec)
    if old is not None:
        old_spec = old.get("spec") or {}
        if stype != "ExternalName" and old_spec.get("type") != "ExternalName" and \
                old_spec.get("clusterIP") and spec.get("clusterIP") != old_spec.get("clusterIP"):
            out.append(v.invalid("spec.clusterIP", spec.get("clusterIP") or "",
                                 "field is immutable"))
    if not ports and not headless and stype != "ExternalName":
        out.append(v.required("spec.ports"))
    if stype == "ExternalName":
        if spec.get("clusterIP"):
            out.append(v.forbidden("spec.clusterIP", "may not be set for ExternalName services"))
        ext = spec.get("externalName")
        if not ext:
            out.append(v.required("spec.externalName"))
        else:
            out += [v.invalid("spec.externalName", ext, e)
                    for e in v.dns1123_subdomain_errors(str(ext).rstrip("."))]
    elif headless and stype in ("NodePort", "LoadBalancer"):
        out.append(v.invalid("spec.clusterIPs[0]", "None",
                             f"may not be set to 'None' for {stype} services"))

    names: set[str] = set()
    for i, port in enumerate(ports):
        path = f"spec.ports[{i}]"
        if not isinstance(port, dict):
            out.append(v.invalid(path, port, "must be an object"))
            continue
        pname = port.get("name") or ""
        if len(ports) > 1 and not pname:
            out.append(v.required(f"{path}.name"))
        elif pname:
            out += [v.invalid(f"{path}.name", pname, e) for e in v.dns1123_label_errors(pname)]
            if pname in names:
                out.append(v.duplicate(f"{path}.name", pname))
            names.add(pname)
        out += [v.invalid(f"{path}.port", port.get("port"), e)
                for e in port_num_errors(port.get("port"))]
        protocol = port.get("protocol")
        if protocol not in PROTOCOLS:
            out.append(v.not_supported(f"{path}.protocol", protocol, PROTOCOLS))
        target = port.get("targetPort")
        if isinstance(target, str):
            out += [v.invalid(f"{path}.targetPort", target, e) for e in port_name_errors(target)]
        else:
            out += [v.invalid(f"{path}.targetPort", target, e) for e in port_num_errors(target)]
        node_port = port.get("nodePort")
        if node_port:
            if stype == "ClusterIP":
                out.append(v.forbidden(f"{path}.nodePort",
                                       "may not be used when `type` is 'ClusterIP'"))
            elif stype == "ExternalName":
                out.append(v.forbidden(f"{path}.nodePort",
                                       "may not be used when `type` is 'ExternalName'"))
            else:
                out += [v.invalid(f"{path}.nodePort", node_port, e)
                        for e in port_num_errors(node_port)]

    seen_node_ports: set[tuple[Any, Any]] = set()
    seen_ports: set[tuple[Any, Any]] = set()
    for i, port in enumerate(p for p in ports if isinstance(p, dict)):
        if port.get("nodePort"):
            key = (port.get("protocol"), port.get("nodePort"))
            if key in seen_node_ports:
                out.append(v.duplicate(f"spec.ports[{i}].nodePort", port["nodePort"]))
            seen_node_ports.add(key)
        key = (port.get("protocol"), port.get("port"))
        if key in seen_ports:
            out.append(("FieldValueDuplicate", f"spec.ports[{i}]",
                        "Duplicate value: " + _go_service_port(*key)))
        seen_ports.add(key)

    if spec.get("selector") is not None:
        out += v.labels("spec.selector", spec.get("selector"))
    affinity = spec.get("sessionAffinity")
    if affinity not in ("ClientIP", "None"):
        out.append(v.not_supported("spec.sessionAffinity", affinity, ["ClientIP", "None"]))
    elif affinity == "ClientIP":
        timeout = dig(spec, "sessionAffinityConfig", "clientIP", "timeoutSeconds")
        if not isinstance(timeout, int) or not 0 < timeout <= 86400:
            out.append(v.invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", timeout,
                                 "must be greater than 0 and less than 86400"))
    if stype not in SERVICE_TYPES:
        out.append(v.not_supported("spec.type", stype, SERVICE_TYPES))
    etp = spec.get("externalTrafficPolicy")
    if not externally_accessible(spec):
        if etp:
            out.append(v.invalid("spec.externalTrafficPolicy", etp,
                                 "may only be set for externally-accessible services"))
    elif etp not in ("Cluster", "Local"):
        out.append(v.not_supported("spec.externalTrafficPolicy", etp, ["Cluster", "Local"]))
    itp = spec.get("internalTrafficPolicy")
    if itp is not None and itp not in ("Cluster", "Local"):
        out.append(v.not_supported("spec.internalTrafficPolicy", itp, ["Cluster", "Local"]))
    return out


class ServiceStrategy(Strategy):
    def prepare_create(self, api: Api, obj: Obj) -> None:
        obj["status"] = {"loadBalancer": {}}

    def default(self, api: Api, obj: Obj) -> None:
        set_defaults_service(obj)

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        if not isinstance(obj.get("spec"), dict):
            return [v.required("spec")]
        if old is not None and obj.get("spec") == old.get("spec"):
            return validate_service(obj, old)  # status or metadata only
        causes = allocate(api, obj, old)
        if causes:
            return causes
        return validate_service(obj, old)


class EndpointsStrategy(Strategy):
    has_status = False


register_strategy(SERVICES, ServiceStrategy())
register_strategy(ENDPOINTS, EndpointsStrategy())
register_strategy(ENDPOINTSLICES, EndpointsStrategy())
