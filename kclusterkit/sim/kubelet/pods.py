"""What the kubelet gives a container: its environment, volumes and view of the network.

pkg/kubelet/kubelet_pods.go: makeEnvironmentVariables (service links, envFrom, env with
$(VAR) expansion and the downward API), makeMounts (configMap, secret, emptyDir, hostPath
and claim volumes, subPath), and the files the kubelet writes into every container
(/etc/hosts, /etc/resolv.conf, /etc/hostname). ``shell_context`` hands all of it to a
command run in the container (its main script or an exec).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj
from kclusterkit.sim import shell
from kclusterkit.sim.images import parse_image
from kclusterkit.sim.resources import NODES, PODS, for_plural
from kclusterkit.sim.shell.sql import APPLETS_BY_IMAGE

if TYPE_CHECKING:
    from kclusterkit.sim.kubelet.kubelet import Container, Kubelet, PodRun


def container_env(kubelet: Kubelet, pr: PodRun, c: Container) -> dict[str, str]:
    """The environment a container starts with (kubelet_pods.go makeEnvironmentVariables)."""
    pod = kubelet.cluster.store.get(PODS, pr.namespace, pr.name) or {"metadata": {}, "spec": {}}
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "HOSTNAME": pr.name}
    network = kubelet.cluster.network
    service_env = getattr(network, "service_env", None)
    if callable(service_env):
        env.update(service_env(pr.namespace, pr.spec.get("enableServiceLinks", True)))
    for source in c.spec.get("envFrom") or []:
        env.update(_env_from(kubelet, pr.namespace, source))
    for item in c.spec.get("env") or []:
        name = item.get("name")
        if not name:
            continue
        if "value" in item:
            env[name] = _expand(str(item.get("value") or ""), env)
        elif item.get("valueFrom"):
            value = _env_value_from(kubelet, pod, pr, item["valueFrom"])
            if value is not None:
                env[name] = value
    env.setdefault("HOME", "/root")
    return env


def _env_from(kubelet: Kubelet, namespace: str, source: dict[str, Any]) -> dict[str, str]:
    prefix = source.get("prefix") or ""
    for field, plural in (("configMapRef", "configmaps"), ("secretRef", "secrets")):
        ref = source.get(field)
        if not ref:
            continue
        obj = kubelet.cluster.store.get(for_plural("", plural), namespace, ref.get("name", ""))
        if obj is None:
            return {}
        return {prefix + k: v for k, v in _data(obj).items()}
    return {}


def _env_value_from(kubelet: Kubelet, pod: Obj, pr: PodRun,
                    source: dict[str, Any]) -> str | None:
    field = (source.get("fieldRef") or {}).get("fieldPath")
    if field:
        meta = pod.get("metadata") or {}
        simple = {"metadata.name": pr.name, "metadata.namespace": pr.namespace,
                  "metadata.uid": pr.uid, "spec.nodeName": kubelet.node_name,
                  "spec.serviceAccountName": pr.spec.get("serviceAccountName", "default"),
                  "status.podIP": pr.ip, "status.hostIP": kubelet.host_ip,
                  "status.podIPs": pr.ip, "status.hostIPs": kubelet.host_ip}
        if field in simple:
            return simple[field]
        for prefix, key in (("metadata.labels", "labels"),
                            ("metadata.annotations", "annotations")):
            if field.startswith(prefix + "['"):
                return (meta.get(key) or {}).get(field[len(prefix) + 2:-2], "")
        return ""
    for field, plural in (("configMapKeyRef", "configmaps"), ("secretKeyRef", "secrets")):
        ref = source.get(field)
        if ref:
            obj = kubelet.cluster.store.get(for_plural("", plural), pr.namespace,
                                            ref.get("name", ""))
            return _data(obj).get(ref.get("key", "")) if obj is not None else None
    if source.get("resourceFieldRef"):
        return "0"
    return None


def mounts(kubelet: Kubelet, pr: PodRun, c: Container
            ) -> list[tuple[str, dict[str, str]]]:
    pod = kubelet.cluster.store.get(PODS, pr.namespace, pr.name) or {"metadata": {
        "namespace": pr.namespace, "name": pr.name}, "spec": pr.spec}
    volumes = {v.get("name"): v for v in pr.spec.get("volumes") or []}
    mounts = []
    for mount in c.spec.get("volumeMounts") or []:
        volume = volumes.get(mount.get("name"))
        path = mount.get("mountPath")
        if volume is None or not path:
            continue
        files = kubelet.cluster.storage.volume_files(pod, volume)
        if files is None:
            files = _volume_files(kubelet, pr, volume)
        sub = (mount.get("subPath") or "").strip("/")
        if sub:
            files = SubDir(files, "/" + sub)  # type: ignore[assignment]
        mounts.append((path, files))
    return mounts


def _volume_files(kubelet: Kubelet, pr: PodRun, volume: dict[str, Any]
                  ) -> dict[str, str]:
    name = volume.get("name", "")
    if "hostPath" in volume:
        path = (volume.get("hostPath") or {}).get("path", "/")
        return kubelet.host_paths.setdefault(path, {})
    if "projected" in volume:  # the service account's token, CA and namespace
        if name not in pr.volumes:
            from kclusterkit.sim.kubelet.projected import projected_files

            pr.volumes[name] = projected_files(kubelet.cluster, pr.namespace, pr.name, volume)
        return pr.volumes[name]
    files = pr.volumes.setdefault(name, {})
    for field, plural in (("configMap", "configmaps"), ("secret", "secrets")):
        ref = volume.get(field)
        if ref is None:
            continue
        # The kubelet projects the object's current keys (it re-syncs configMap and
        # secret volumes, so an update reaches a running pod); ``items`` picks keys and
        # names their files.
        obj = kubelet.cluster.store.get(for_plural("", plural), pr.namespace,
                                        ref.get("name") or ref.get("secretName") or "")
        data = _data(obj) if obj is not None else {}
        items = ref.get("items")
        projected = ({f"/{i.get('path', '')}": data[i.get("key", "")] for i in items
                      if i.get("key") in data} if items
                     else {f"/{k}": v for k, v in data.items()})
        files.clear()
        files.update(projected)
    return files


def shell_context(kubelet: Kubelet, pr: PodRun, c: Container) -> shell.Context:
    """What a command inside the container sees: files, environment, DNS, HTTP."""
    mounted = mounts(kubelet, pr, c)
    c.files.setdefault("/etc/hostname", pr.name + "\n")
    files = shell.MountedFiles(c.files, mounted)
    ctx = shell.Context(env=dict(c.env), files=files, hostname=pr.name)
    ctx.applets = dict(APPLETS_BY_IMAGE.get(parse_image(c.spec.get("image", "")).family, {}))
    for path, store in mounted:
        path = path.rstrip("/") or "/"
        parts = path.split("/")
        for i in range(2, len(parts) + 1):
            ctx.dirs.add("/".join(parts[:i]))
        for key in store:
            segments = (path + key).split("/")[:-1]
            for i in range(2, len(segments) + 1):
                ctx.dirs.add("/".join(segments[:i]))
    ctx.dirs |= c.dirs
    network = kubelet.cluster.network
    pod = kubelet.cluster.store.get(PODS, pr.namespace, pr.name)
    if network is not None and pod is not None:
        ctx.resolve = lambda name: network.resolve(pod, name)
        ctx.dns_answers = lambda: network.dns.answers(pod)
        ctx.http = lambda url, method="GET", headers=None: _http(network, pod, url, method,
                                                                 headers)
        ctx.fqdn = lambda name: _fqdn(network, pod, name)
        ctx.tcp = lambda host, port: _tcp(kubelet.cluster, network, pod, host, port)
        ctx.ping = lambda host: _ping(kubelet.cluster, network, pod, host)
        conf = getattr(network, "resolv_conf", None)
        if callable(conf):
            text = conf(pod)
            c.files.setdefault("/etc/resolv.conf", text)
            for line in text.splitlines():
                if line.startswith("nameserver "):
                    ctx.nameserver = line.split()[1]
                    break
    ctx.ip = pr.ip or ""
    if pr.ip:
        c.files.setdefault("/etc/hosts", _HOSTS.format(ip=pr.ip, name=pr.name))
    return ctx


_HOSTS = ("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"
          "::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
          "fe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
          "{ip}\t{name}\n")


def _fqdn(network: Any, pod: Obj, name: str) -> str:
    """The fully qualified name the pod's resolver matched for ``name``."""
    try:
        from kclusterkit.sim.network.dns import candidates, pod_dns_config
    except ImportError:
        return name
    dns = getattr(network, "dns", None)
    if dns is None:
        return name
    for candidate in candidates(name, pod_dns_config(pod)):
        if dns.lookup(candidate):
            return candidate
    return name


def _expand(value: str, env: dict[str, str]) -> str:
    """$(VAR) references in env values (expansion.MappingFuncFor)."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: env.get(m.group(1), m.group(0)), value)


def _data(obj: Obj) -> dict[str, str]:
    out = dict(obj.get("data") or {}) if obj.get("kind") != "Secret" else {}
    if obj.get("kind") == "Secret":
        for key, value in (obj.get("data") or {}).items():
            try:
                out[key] = base64.b64decode(value).decode()
            except (ValueError, UnicodeDecodeError):
                out[key] = ""
        out.update(obj.get("stringData") or {})
    return {k: str(v) for k, v in out.items()}


def _tcp(cluster: Any, network: Any, pod: Obj, host: str, port: int) -> str | None:
    """A TCP handshake: routed by the network, accepted only by a listening container."""
    conn = network.connect(pod, host, port)
    if conn.error:
        return "resolve" if "resolve" in conn.error else \
            "timeout" if "timed out" in conn.error else "refused"
    if getattr(conn, "api_server", False):
        return None
    return None if cluster.nodes.listens(conn.namespace, conn.pod, conn.port) else "refused"


def _ping(cluster: Any, network: Any, pod: Obj, host: str) -> str | None:
    """ICMP echo: a pod's or node's address answers while its node works; a Service's
    virtual IP does not (kube-proxy only forwards its ports)."""
    ips = network.resolve(pod, host)
    if not ips:
        return None
    ip = ips[0]
    for other in cluster.store.iter(PODS):
        status = other.get("status") or {}
        if status.get("podIP") == ip and status.get("phase") == "Running":
            node = (other.get("spec") or {}).get("nodeName")
            return None if node and cluster.nodes.is_failed(node) else ip
    for node in cluster.store.iter(NODES):
        for address in (node.get("status") or {}).get("addresses") or []:
            if address.get("address") == ip:
                return None if cluster.nodes.is_failed(node["metadata"]["name"]) else ip
    return None


def _http(network: Any, pod: Obj, url: str, method: str = "GET",
          headers: dict[str, str] | None = None) -> tuple[int, str] | tuple[int, str, float]:
    result = network.http_request(pod, url, method, headers) if method != "GET" or headers \
        else \
        network.http_request(pod, url)
    if isinstance(result, tuple):
        return result[0], result[1]
    error = getattr(result, "error", None)
    if error:
        host = url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        if "resolve" in error:
            raise shell.NetworkError(f"bad address '{host}'")
        if "timed out" in error:
            raise shell.NetworkError("download timed out", timed_out=True)
        raise shell.NetworkError(f"can't connect to remote host ({host}): Connection refused")
    latency = getattr(result, "latency", 0.0)
    if latency > 0:  # the answer comes that much later (a throttled server's queue)
        return int(result.status or 0), result.body, latency
    return int(result.status or 0), result.body


class SubDir(dict):  # type: ignore[type-arg]
    """A volume's subPath seen as its own directory (keys are prefixed underneath)."""

    def __init__(self, base: dict[str, str], prefix: str) -> None:
        super().__init__()
        self.base = base
        self.prefix = prefix

    def __getitem__(self, key: str) -> str:
        return self.base[self.prefix + key]

    def __setitem__(self, key: str, value: str) -> None:
        self.base[self.prefix + key] = value

    def __delitem__(self, key: str) -> None:
        del self.base[self.prefix + key]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.prefix + key in self.base

    def __iter__(self) -> Iterator[str]:
        n = len(self.prefix)
        return iter([k[n:] for k in list(self.base) if k.startswith(self.prefix + "/")])

    def get(self, key: str, default: Any = None) -> Any:
        return self.base.get(self.prefix + key, default)

