"""The service environment variables the kubelet gives every container it starts.

Docker-links-style variables (``WEB_SERVICE_HOST``, ``WEB_PORT_80_TCP_ADDR`` …) are how
pods found services before DNS, and programs still read them; the names and the set of
services follow pkg/kubelet/envvars and kubelet_pods.go getServiceEnvVarMap.
"""

from __future__ import annotations

from kclusterkit.kube.meta import Obj, dig
from kclusterkit.sim.resources import SERVICES
from kclusterkit.sim.store import Store

MASTER_SERVICES = ("kubernetes",)  # from the default namespace, for every pod


def _env_name(name: str) -> str:
    out = name.replace(".", "_").replace("-", "_").upper()
    return "_" + out if out[:1].isdigit() else out


def _has_cluster_ip(service: Obj) -> bool:
    ip = dig(service, "spec", "clusterIP")
    return bool(ip) and ip != "None"


def _host_port(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def from_services(services: list[Obj]) -> dict[str, str]:
    """envvars.FromServices."""
    env: dict[str, str] = {}
    for service in services:
        if not _has_cluster_ip(service):
            continue
        spec = service["spec"]
        ports = spec.get("ports") or []
        if not ports:
            continue
        prefix = _env_name(service["metadata"]["name"])
        ip = spec["clusterIP"]
        env[prefix + "_SERVICE_HOST"] = ip
        env[prefix + "_SERVICE_PORT"] = str(ports[0]["port"])
        for port in ports:
            if port.get("name"):
                env[f"{prefix}_SERVICE_PORT_{_env_name(port['name'])}"] = str(port["port"])
        for i, port in enumerate(ports):
            protocol = port.get("protocol") or "TCP"
            url = f"{protocol.lower()}://{_host_port(ip, port['port'])}"
            if i == 0:
                env[prefix + "_PORT"] = url
            port_prefix = f"{prefix}_PORT_{port['port']}_{protocol.upper()}"
            env[port_prefix] = url
            env[port_prefix + "_PROTO"] = protocol.lower()
            env[port_prefix + "_PORT"] = str(port["port"])
            env[port_prefix + "_ADDR"] = ip
    return env


def service_env(store: Store, namespace: str, enable_service_links: bool = True
                ) -> dict[str, str]:
    """getServiceEnvVarMap: ``kubernetes`` always, the namespace's services if links are on."""
    chosen: dict[str, Obj] = {}
    for name in MASTER_SERVICES:
        service = store.get(SERVICES, "default", name)
        if service is not None and _has_cluster_ip(service):
            chosen[name] = service
    if enable_service_links:
        for service in store.iter(SERVICES, namespace):
            if _has_cluster_ip(service):
                chosen[service["metadata"]["name"]] = service
    return from_services([chosen[name] for name in sorted(chosen)])
