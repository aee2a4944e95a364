"""The cluster's nodes: kubelets registering their Node, heartbeating, and failing on cue.

Upstream every kubelet registers its own Node object, renews a Lease in
``kube-node-lease`` every 10 s and re-posts its status when something changes (or every
5 minutes); the node lifecycle controller watches those heartbeats. Here one manager
owns every node's kubelet and drives the heartbeats of all of them from one timer, so a
1,000-node cluster costs one clock event per heartbeat period instead of a thousand.
The manager is also where specs reach inside nodes: failing a node, crashing a container,
and (in phase 2) asking what a pod serves, runs or prints.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from kclusterkit.sim import errors, images, shell
from kclusterkit.sim.kubelet.kubelet import Container, Kubelet, PodRun
from kclusterkit.sim.kubelet.logs import LogLine, LogOptions, render
from kclusterkit.sim.kubelet.prober import Prober
from kclusterkit.sim.meta import Obj
from kclusterkit.sim.quantity import memory_bytes
from kclusterkit.sim.resources import LEASES, NODES, PODS

CONTROL_PLANE_ROLE = "node-role.kubernetes.io/control-plane"
# kubelet --eviction-hard defaults: memory.available<100Mi, nodefs.available<10%.
EVICTION_HARD_MEMORY = 100 * 1024 * 1024
NODE_STATUS_REPORT_FREQUENCY = 300.0  # kubelet nodeStatusReportFrequency (5 min)
NETWORK_NOT_READY = ("container runtime network not ready: NetworkReady=false "
                     "reason:NetworkPluginNotReady message:Network plugin returns error: "
                     "cni plugin not initialized")
KERNEL_VERSION = "6.8.0-60-generic"
OS_IMAGE = "Debian GNU/Linux 12 (bookworm)"
CONTAINER_RUNTIME = "containerd://2.1.3"


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = version.lstrip("v").split("-", 1)[0].split(".")
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        return (1, 34, 0)


class NodeManager:
    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.api = cluster.api
        self.clock = cluster.clock
        self.store = cluster.store
        self.timings = cluster.timings
        self.kubelets: dict[str, Kubelet] = {}
        self._dirty: dict[str, tuple[Kubelet, PodRun]] = {}
        self._flush_timer: Any = None
        self._last_posted: dict[str, float] = {}
        self._registered = 0
        self._claims: dict[tuple[str, str], dict[str, str]] = {}
        self.prober = Prober(self)
        self.store.subscribe(PODS, self._on_pod)

    # -- nodes ------------------------------------------------------------------------
    def add_node(self, name: str, control_plane: bool = False) -> Kubelet:
        """A new machine joins: its kubelet registers the Node and starts heartbeating."""
        spec = self.cluster.spec
        shape = (spec.control_plane_node or spec.node) if control_plane else spec.node
        index = self._registered
        self._registered += 1
        host_ip = f"172.18.0.{index + 2}"
        pod_cidr = f"10.244.{index}.0/24"
        kubelet = Kubelet(self, name, host_ip, pod_cidr)
        self.kubelets[name] = kubelet
        self.api.create(self._node_object(name, shape, host_ip, pod_cidr, control_plane))
        self._create_lease(name)
        for reason, message in (
            ("Starting", "Starting kubelet."),
            ("NodeHasSufficientMemory", f"Node {name} status is now: NodeHasSufficientMemory"),
            ("NodeHasNoDiskPressure", f"Node {name} status is now: NodeHasNoDiskPressure"),
            ("NodeHasSufficientPID", f"Node {name} status is now: NodeHasSufficientPID"),
            ("NodeAllocatableEnforced", "Updated Node Allocatable limit across pods"),
        ):
            self._node_event(name, reason, message)
        if self._network_ready():
            self._node_event(name, "NodeReady", f"Node {name} status is now: NodeReady")
        self._last_posted[name] = self.clock.now
        return kubelet

    def _network_ready(self) -> bool:
        return bool(self.cluster.spec.network_plugin)

    def _node_event(self, name: str, reason: str, message: str) -> None:
        # The kubelet's node reference carries the node name as its UID.
        ref = {"kind": "Node", "apiVersion": "v1", "metadata": {"name": name, "uid": name}}
        self.api.record_event(ref, "Normal", reason, message, "kubelet", name)

    def _node_object(self, name: str, shape: Any, host_ip: str, pod_cidr: str,
                     control_plane: bool) -> Obj:
        rng = self.clock.rng
        labels = {
            "beta.kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
        }
        taints = []
        if control_plane:
            labels[CONTROL_PLANE_ROLE] = ""
            labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
            taints.append({"key": CONTROL_PLANE_ROLE, "effect": "NoSchedule"})
        memory = memory_bytes(shape.memory)
        storage = memory_bytes(shape.ephemeral_storage)
        capacity = {
            "cpu": str(shape.cpu),
            "ephemeral-storage": f"{storage // 1024}Ki",
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "0",
            "memory": f"{memory // 1024}Ki",
            "pods": str(shape.pods),
        }
        allocatable = dict(capacity)
        allocatable["memory"] = f"{max(memory - EVICTION_HARD_MEMORY, 0) // 1024}Ki"
        allocatable["ephemeral-storage"] = str(storage - storage // 10)
        version = self.cluster.spec.kubernetes_version
        spec: dict[str, Any] = {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr]}
        if taints:
            spec["taints"] = taints
        node_info = {
            "architecture": "amd64",
            "bootID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "containerRuntimeVersion": CONTAINER_RUNTIME,
            "kernelVersion": KERNEL_VERSION,
            # DisableNodeKubeProxyVersion is on by default since v1.33: the kubelet no
            # longer reports it, and the field serialises empty.
            "kubeProxyVersion": "" if _version_tuple(version) >= (1, 33) else version,
            "kubeletVersion": version,
            "machineID": f"{rng.getrandbits(128):032x}",
            "operatingSystem": "linux",
            "osImage": OS_IMAGE,
            "systemUUID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "swap": {"capacity": 0},
        }
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": labels,
                "annotations": {
                    "kubeadm.alpha.kubernetes.io/cri-socket":
                        "unix:///run/containerd/containerd.sock",
                    "node.alpha.kubernetes.io/ttl": "0",
                    "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                },
            },
            "spec": spec,
            "status": {
                "capacity": capacity,
                "allocatable": allocatable,
                "conditions": self._conditions(None),
                "addresses": [{"type": "InternalIP", "address": host_ip},
                              {"type": "Hostname", "address": name}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": node_info,
                "images": [],
                "runtimeHandlers": [
                    {"name": "runc", "features": {"recursiveReadOnlyMounts": True,
                                                  "userNamespaces": True}},
                    {"name": "", "features": {"recursiveReadOnlyMounts": True,
                                              "userNamespaces": True}},
                ],
                "features": {"supplementalGroupsPolicy": True},
            },
        }

    def _conditions(self, previous: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
        """The kubelet's node conditions now; transition times kept from ``previous``."""
        now = self.clock.timestamp()
        ready = self._network_ready()
        wanted = [
            ("MemoryPressure", "False", "KubeletHasSufficientMemory",
             "kubelet has sufficient memory available"),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "False", "KubeletHasSufficientPID",
             "kubelet has sufficient PID available"),
            ("Ready", "True" if ready else "False",
             "KubeletReady" if ready else "KubeletNotReady",
             "kubelet is posting ready status" if ready else NETWORK_NOT_READY),
        ]
        before = {c["type"]: c for c in previous or []}
        out = []
        for ctype, status, reason, message in wanted:
            old = before.get(ctype)
            transition = old["lastTransitionTime"] if old and old["status"] == status else now
            out.append({"type": ctype, "status": status, "lastHeartbeatTime": now,
                        "lastTransitionTime": transition, "reason": reason,
                        "message": message})
        return out

    def _create_lease(self, name: str) -> None:
        node = self.store.get(NODES, "", name)
        owner = [{"apiVersion": "v1", "kind": "Node", "name": name,
                  "uid": node["metadata"]["uid"]}] if node else []
        lease = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": name, "namespace": "kube-node-lease", "ownerReferences": owner},
            "spec": {"holderIdentity": name,
                     "leaseDurationSeconds": int(self.timings.node_lease_duration),
                     "renewTime": self.clock.micro_timestamp()},
        }
        existing = self.store.get(LEASES, "kube-node-lease", name)
        if existing is None:
            self.api.create(lease)

    # -- heartbeats -------------------------------------------------------------------
    def start(self) -> None:
        renew = self.timings.node_lease_duration / 4  # leaseRenewIntervalFraction 0.25
        self.clock.call_later(renew, self._renew_leases, renew)
        frequency = self.timings.node_status_update_frequency
        self.clock.call_later(frequency, self._status_tick, frequency)

    def _renew_leases(self, every: float) -> None:
        self.clock.call_later(every, self._renew_leases, every)
        if self.api.unavailable_reason:
            return
        stamp = self.clock.micro_timestamp()
        for name, kubelet in self.kubelets.items():
            if not kubelet.alive:
                continue
            lease = self.store.get(LEASES, "kube-node-lease", name)
            if lease is None:
                self._create_lease(name)
                continue
            renewed = {**lease, "spec": {**lease["spec"], "renewTime": stamp}}
            try:
                self.api.update(renewed)
            except errors.StatusError:
                continue

    def _status_tick(self, every: float) -> None:
        """Every nodeStatusUpdateFrequency: post the node status if it changed, or when
        nodeStatusReportFrequency has passed since the last post (tryUpdateNodeStatus)."""
        self.clock.call_later(every, self._status_tick, every)
        if self.api.unavailable_reason:
            return
        for name, kubelet in self.kubelets.items():
            if kubelet.alive:
                self.post_status(name)

    def post_status(self, name: str, force: bool = False) -> None:
        node = self.store.get(NODES, "", name)
        if node is None:
            return
        status = node.get("status") or {}
        previous = status.get("conditions") or []
        wanted = self._conditions(previous)
        changed = [(c["type"], c["status"], c["reason"]) for c in wanted] != \
            [(c.get("type"), c.get("status"), c.get("reason")) for c in previous]
        due = self.clock.now - self._last_posted.get(name, 0.0) >= NODE_STATUS_REPORT_FREQUENCY
        if not (changed or due or force):
            return
        was_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in previous)
        updated = {**node, "status": {**status, "conditions": wanted,
                                      "images": self._images(name)}}
        try:
            self.api.update(updated, subresource="status")
        except errors.StatusError:
            return
        self._last_posted[name] = self.clock.now
        now_ready = wanted[-1]["status"] == "True"
        if now_ready and not was_ready:
            self._node_event(name, "NodeReady", f"Node {name} status is now: NodeReady")
        elif was_ready and not now_ready:
            self._node_event(name, "NodeNotReady", f"Node {name} status is now: NodeNotReady")

    def _images(self, name: str) -> list[dict[str, Any]]:
        from kclusterkit.sim import images

        kubelet = self.kubelets[name]
        out = []
        for ref in sorted(kubelet.images):
            out.append({"names": [images.image_id(ref), ref], "sizeBytes": images.image_size(ref)})
        return out

    def set_network_plugin(self, installed: bool) -> None:
        """Install (or remove) the network plugin: nodes turn Ready (or NotReady) at once."""
        self.cluster.spec.network_plugin = installed
        for name, kubelet in self.kubelets.items():
            if kubelet.alive:
                self.post_status(name)

    # -- faults -----------------------------------------------------------------------
    def kubelet_for(self, node_name: str) -> Kubelet:
        try:
            return self.kubelets[node_name]
        except KeyError:
            raise errors.not_found("nodes", "", node_name) from None

    def is_failed(self, node_name: str) -> bool:
        kubelet = self.kubelets.get(node_name)
        return kubelet is not None and not kubelet.alive

    def fail_node(self, name: str) -> None:
        """The node stops reporting: no heartbeats, no status; its containers keep running."""
        self.kubelet_for(name).fail()

    def recover_node(self, name: str) -> None:
        kubelet = self.kubelet_for(name)
        if kubelet.alive:
            return
        kubelet.recover()
        self._renew_one(name)
        self.post_status(name, force=True)

    def _renew_one(self, name: str) -> None:
        lease = self.store.get(LEASES, "kube-node-lease", name)
        if lease is None:
            self._create_lease(name)
            return
        try:
            self.api.update({**lease, "spec": {**lease["spec"],
                                               "renewTime": self.clock.micro_timestamp()}})
        except errors.StatusError:
            pass

    def _locate(self, namespace: str, pod: str, container: str | None = None
                ) -> tuple[Kubelet, PodRun, Container]:
        obj = self.store.get(PODS, namespace, pod)
        if obj is None:
            raise errors.not_found("pods", "", pod)
        node = obj["spec"].get("nodeName")
        kubelet = self.kubelets.get(node or "")
        pr = kubelet.pods.get(obj["metadata"]["uid"]) if kubelet else None
        if kubelet is None or pr is None:
            raise errors.bad_request(f'pod {pod} does not have a host assigned' if not node
                                     else f'pod "{pod}" is not running on its node yet')
        c = pr.container(container)
        if c is None:
            raise errors.bad_request(f"container {container} is not valid for pod {pod}")
        return kubelet, pr, c

    def crash_container(self, namespace: str, pod: str, container: str | None = None,
                        exit_code: int = 1) -> None:
        """The container's main process dies with ``exit_code`` (as if it crashed)."""
        kubelet, pr, c = self._locate(namespace, pod, container)
        kubelet.crash(pr, c, exit_code)

    # -- pod status plumbing (used by the kubelets) -----------------------------------
    def _on_pod(self, etype: str, obj: Obj, old: Obj | None) -> None:
        node = obj["spec"].get("nodeName")
        if not node:
            return
        kubelet = self.kubelets.get(node)
        if kubelet is not None:
            kubelet.on_pod(etype, obj, old)

    def mark_dirty(self, kubelet: Kubelet, pr: PodRun) -> None:
        self._dirty[pr.uid] = (kubelet, pr)
        if self._flush_timer is None:
            self._flush_timer = self.clock.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_timer = None
        dirty, self._dirty = self._dirty, {}
        for kubelet, pr in dirty.values():
            if not pr.done and kubelet.alive:
                self.write_status(kubelet, pr)

    def write_status(self, kubelet: Kubelet, pr: PodRun) -> None:
        """Send the pod's status to the API server if it differs from what is stored."""
        pod = self.store.get(PODS, pr.namespace, pr.name)
        if pod is None or pod["metadata"]["uid"] != pr.uid:
            return
        current = pod.get("status") or {}
        status = kubelet.build_status(pr, current, pod["metadata"].get("generation", 0))
        if status == current:
            return
        try:
            self.api.update({**pod, "status": status}, subresource="status")
        except errors.StatusError:
            # API unavailable or a race: try again shortly, as the status manager does.
            self._dirty[pr.uid] = (kubelet, pr)
            if self._flush_timer is None:
                self._flush_timer = self.clock.call_later(1.0, self._flush)

    # -- containers starting and stopping (the prober follows them) --------------------
    def container_started(self, kubelet: Kubelet, pr: PodRun, c: Container) -> None:
        self.prober.start(kubelet, pr, c)

    def container_stopped(self, kubelet: Kubelet, pr: PodRun, c: Container) -> None:
        self.prober.stop(c)

    # -- inside pods: environment, files, network -------------------------------------
    def container_env(self, kubelet: Kubelet, pr: PodRun, c: Container) -> dict[str, str]:
        """The environment a container starts with (kubelet_pods.go makeEnvironmentVariables)."""
        pod = self.store.get(PODS, pr.namespace, pr.name) or {"metadata": {}, "spec": {}}
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "HOSTNAME": pr.name}
        network = self.cluster.components.get("network")
        service_env = getattr(network, "service_env", None)
        if callable(service_env):
            env.update(service_env(pr.namespace, pr.spec.get("enableServiceLinks", True)))
        for source in c.spec.get("envFrom") or []:
            env.update(self._env_from(pr.namespace, source))
        for item in c.spec.get("env") or []:
            name = item.get("name")
            if not name:
                continue
            if "value" in item:
                env[name] = _expand(str(item.get("value") or ""), env)
            elif item.get("valueFrom"):
                value = self._env_value_from(pod, kubelet, pr, item["valueFrom"])
                if value is not None:
                    env[name] = value
        env.setdefault("HOME", "/root")
        return env

    def _env_from(self, namespace: str, source: dict[str, Any]) -> dict[str, str]:
        from kclusterkit.sim.resources import for_plural

        prefix = source.get("prefix") or ""
        for field, plural in (("configMapRef", "configmaps"), ("secretRef", "secrets")):
            ref = source.get(field)
            if not ref:
                continue
            obj = self.store.get(for_plural("", plural), namespace, ref.get("name", ""))
            if obj is None:
                return {}
            return {prefix + k: v for k, v in _data(obj).items()}
        return {}

    def _env_value_from(self, pod: Obj, kubelet: Kubelet, pr: PodRun,
                        source: dict[str, Any]) -> str | None:
        from kclusterkit.sim.resources import for_plural

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
                obj = self.store.get(for_plural("", plural), pr.namespace, ref.get("name", ""))
                return _data(obj).get(ref.get("key", "")) if obj is not None else None
        if source.get("resourceFieldRef"):
            return "0"
        return None

    def volume_fs(self, pod: Obj, volume: dict[str, Any]) -> dict[str, str] | None:
        """The files of a persistent volume the pod mounts (keyed by path in the volume).

        Storage hangs its volumes here; until then a claim's files are kept per claim, so
        they outlive the pod, as a bound PersistentVolume's would.
        """
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if not claim:
            return None
        key = (pod["metadata"].get("namespace", ""), claim)
        return self._claims.setdefault(key, {})

    def _mounts(self, kubelet: Kubelet, pr: PodRun, c: Container
                ) -> list[tuple[str, dict[str, str]]]:
        pod = self.store.get(PODS, pr.namespace, pr.name) or {"metadata": {
            "namespace": pr.namespace, "name": pr.name}, "spec": pr.spec}
        volumes = {v.get("name"): v for v in pr.spec.get("volumes") or []}
        mounts = []
        for mount in c.spec.get("volumeMounts") or []:
            volume = volumes.get(mount.get("name"))
            path = mount.get("mountPath")
            if volume is None or not path:
                continue
            files = self.volume_fs(pod, volume)
            if files is None:
                files = self._volume_files(kubelet, pr, volume)
            sub = (mount.get("subPath") or "").strip("/")
            if sub:
                files = _SubDir(files, "/" + sub)  # type: ignore[assignment]
            mounts.append((path, files))
        return mounts

    def _volume_files(self, kubelet: Kubelet, pr: PodRun, volume: dict[str, Any]
                      ) -> dict[str, str]:
        from kclusterkit.sim.resources import for_plural

        name = volume.get("name", "")
        if "hostPath" in volume:
            path = (volume.get("hostPath") or {}).get("path", "/")
            return kubelet.host_paths.setdefault(path, {})
        if name in pr.volumes:
            return pr.volumes[name]
        files: dict[str, str] = {}
        for field, plural in (("configMap", "configmaps"), ("secret", "secrets")):
            ref = volume.get(field)
            if ref is None:
                continue
            obj = self.store.get(for_plural("", plural), pr.namespace,
                                 ref.get("name") or ref.get("secretName") or "")
            if obj is not None:
                files.update({f"/{k}": v for k, v in _data(obj).items()})
        pr.volumes[name] = files
        return files

    def shell_context(self, kubelet: Kubelet, pr: PodRun, c: Container) -> shell.Context:
        """What a command inside the container sees: files, environment, DNS, HTTP."""
        mounts = self._mounts(kubelet, pr, c)
        c.files.setdefault("/etc/hostname", pr.name + "\n")
        files = shell.MountedFiles(c.files, mounts)
        ctx = shell.Context(env=dict(c.env), files=files, hostname=pr.name)
        for path, store in mounts:
            path = path.rstrip("/") or "/"
            parts = path.split("/")
            for i in range(2, len(parts) + 1):
                ctx.dirs.add("/".join(parts[:i]))
            for key in store:
                segments = (path + key).split("/")[:-1]
                for i in range(2, len(segments) + 1):
                    ctx.dirs.add("/".join(segments[:i]))
        ctx.dirs |= c.dirs
        network = self.cluster.components.get("network")
        pod = self.store.get(PODS, pr.namespace, pr.name)
        if network is not None and pod is not None:
            ctx.resolve = lambda name: network.resolve(pod, name)
            ctx.http = lambda url: _http(network, pod, url)
            ctx.fqdn = lambda name: _fqdn(network, pod, name)
            conf = getattr(network, "resolv_conf", None)
            if callable(conf):
                text = conf(pod)
                c.files.setdefault("/etc/resolv.conf", text)
                for line in text.splitlines():
                    if line.startswith("nameserver "):
                        ctx.nameserver = line.split()[1]
                        break
        if pr.ip:
            c.files.setdefault("/etc/hosts", _HOSTS.format(ip=pr.ip, name=pr.name))
        return ctx

    # -- inside pods: exec, logs, HTTP, readiness -------------------------------------
    def exec(self, namespace: str, pod: str, *args: Any, container: str | None = None,
             argv: list[str] | None = None, stdin: str | None = None
             ) -> tuple[int, str, str]:
        """Run ``argv`` in a running container: (exit code, stdout, stderr).

        Accepts ``exec(ns, pod, container, argv)`` and ``exec(ns, pod, argv, container=…)``.
        """
        if args and isinstance(args[0], (list, tuple)):
            argv = list(args[0])
        else:
            if args:
                container = args[0]
            if len(args) > 1:
                argv = list(args[1])
        argv = list(argv or [])
        kubelet, pr, c = self._locate(namespace, pod, container)
        phase = (self.store.get(PODS, namespace, pod) or {}).get("status", {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            raise errors.bad_request("cannot exec into a container in a completed pod; "
                                     f"current phase is {phase}")
        if c.state != "running":
            raise errors.bad_request(
                f'unable to upgrade connection: container not found ("{c.name}")')
        if not argv:
            raise errors.bad_request("you must specify at least one command for the container")
        ctx = self.shell_context(kubelet, pr, c)
        base = argv[0].rsplit("/", 1)[-1]
        if base in ("sh", "bash", "ash") and len(argv) >= 3 and argv[1] == "-c":
            script = argv[2]
        elif base in ("sh", "bash", "ash") and len(argv) == 1:
            script = stdin or ""
        elif base in shell.APPLETS:
            script = shell.join(argv)
        else:
            return 126, "", (
                "OCI runtime exec failed: exec failed: unable to start container process: "
                f'exec: "{argv[0]}": executable file not found in $PATH: unknown\n')
        before = set(ctx.dirs)
        result = shell.run(script, ctx)
        c.dirs |= {d for d in ctx.dirs - before if not any(
            d == m.rstrip("/") or d.startswith(m.rstrip("/") + "/")
            for m, _ in self._mounts(kubelet, pr, c))}
        if result.killed is not None:
            kubelet.signal(pr, c, result.killed)
            return 0, result.stdout, result.stderr
        return result.exit_code, result.stdout, result.stderr

    def log_lines(self, namespace: str, pod: str, container: str | None = None,
                  previous: bool = False) -> list[LogLine]:
        """The container's log lines with the cluster time each was written."""
        obj = self.store.get(PODS, namespace, pod)
        if obj is None:
            raise errors.not_found("pods", "", pod)
        names = [c["name"] for c in obj["spec"].get("containers") or []]
        if container is None and len(names) > 1:
            raise errors.bad_request(f"a container name must be specified for pod {pod}, "
                                     f"choose one of: [{' '.join(names)}]")
        kubelet, pr, c = self._locate(namespace, pod, container)
        if previous:
            if c.restart_count == 0 and not (c.state == "waiting" and c.term):
                raise errors.bad_request(
                    f'previous terminated container "{c.name}" in pod "{pod}" not found')
            return list(c.prev_logs if c.state == "running" or c.term is None else c.logs)
        if not c.ever_ran:
            raise errors.bad_request(f'container "{c.name}" in pod "{pod}" is waiting '
                                     f"to start: {c.reason or 'ContainerCreating'}")
        return list(c.logs)

    def logs(self, namespace: str, pod: str, container: str | None = None,
             previous: bool = False, options: LogOptions | None = None) -> str:
        """What ``kubectl logs`` prints for the container (``--previous``: the last run)."""
        lines = self.log_lines(namespace, pod, container, previous)
        return render(lines, options or LogOptions(), self.clock.epoch)

    def _listener(self, namespace: str, pod: str, port: int
                  ) -> tuple[Kubelet, PodRun, Container, bool] | None:
        obj = self.store.get(PODS, namespace, pod)
        if obj is None:
            return None
        kubelet = self.kubelets.get(obj["spec"].get("nodeName") or "")
        pr = kubelet.pods.get(obj["metadata"]["uid"]) if kubelet else None
        if kubelet is None or pr is None or pr.done:
            return None
        for c in pr.main:
            if c.state != "running" or c.plan is None:
                continue
            ports, http = images.listening_ports(c.plan, c.spec)
            if int(port) in ports:
                return kubelet, pr, c, http
        return None

    def listens(self, namespace: str, pod: str, port: int) -> bool:
        """Whether a running container of the pod accepts TCP connections on ``port``."""
        return self._listener(namespace, pod, port) is not None

    def http_get(self, namespace: str, pod: str, port: int, path: str = "/",
                 client_ip: str | None = None, user_agent: str | None = None
                 ) -> tuple[int, str] | None:
        """What the pod answers to ``GET path`` on ``port``; None: connection refused (or
        nothing speaking HTTP there)."""
        found = self._listener(namespace, pod, port)
        if found is None or not found[3]:
            return None
        kubelet, pr, c, _ = found
        return self._serve(kubelet, pr, c, path or "/", client_ip or kubelet.gateway,
                           user_agent or "curl/8.5.0")

    def _serve(self, kubelet: Kubelet, pr: PodRun, c: Container, path: str, client_ip: str,
               user_agent: str) -> tuple[int, str]:
        assert c.plan is not None and c.started_at is not None
        request = images.Request(path=path, hostname=pr.name, now=self.clock.datetime(),
                                 uptime=self.clock.now - c.started_at, client_ip=client_ip,
                                 user_agent=user_agent, env=c.env)
        response = images.serve(c.plan, c.spec, request)
        c.logs.extend((self.clock.now, line) for line in response.log)
        if response.exit_code is not None:
            self.clock.call_soon(kubelet._killed, pr, c, c.run, response.exit_code)
        return response.status, response.body

    def set_ready(self, namespace: str, pod: str, ready: bool) -> None:
        """Fault hook: the pod's readiness starts failing (its readiness endpoint answers
        503) or recovers. Without a readiness probe the containers turn unready at once."""
        kubelet, pr, _ = self._locate(namespace, pod)
        pr.unready = not ready
        for c in pr.main:
            if c.state != "running":
                continue
            probed = self.prober.readiness(c)
            if probed is None:
                c.ready = c.started and ready
            elif not ready:
                continue  # the probe notices after failureThreshold periods
            else:
                c.ready = probed
        self.mark_dirty(kubelet, pr)

    def run_probe(self, kubelet: Kubelet, pr: PodRun, c: Container, probe: dict[str, Any],
                  kind: str) -> tuple[bool, str]:
        """Run one probe against the container: (success, failure output)."""
        forced = pr.unready and kind == "readiness"
        if isinstance(probe.get("httpGet"), dict):
            spec = probe["httpGet"]
            port = _port_number(spec.get("port"), c.spec)
            path = spec.get("path") or "/"
            scheme = (spec.get("scheme") or "HTTP").lower()
            if forced:
                return False, "HTTP probe failed with statuscode: 503"
            found = self._listener(pr.namespace, pr.name, port)
            if found is None or found[2] is not c or not found[3]:
                return False, (f'Get "{scheme}://{pr.ip}:{port}{path}": dial tcp '
                               f"{pr.ip}:{port}: connect: connection refused")
            status, _ = self._serve(kubelet, pr, c, path, kubelet.gateway,
                                    f"kube-probe/{_minor(self.cluster.spec.kubernetes_version)}")
            if 200 <= status < 400:
                return True, ""
            return False, f"HTTP probe failed with statuscode: {status}"
        if isinstance(probe.get("tcpSocket"), dict):
            port = _port_number(probe["tcpSocket"].get("port"), c.spec)
            if forced or self._listener(pr.namespace, pr.name, port) is None:
                return False, f"dial tcp {pr.ip}:{port}: connect: connection refused"
            return True, ""
        if isinstance(probe.get("exec"), dict):
            command = list(probe["exec"].get("command") or [])
            try:
                code, out, err = self.exec(pr.namespace, pr.name, c.name, command)
            except errors.StatusError as exc:
                return False, exc.message
            if forced:
                return False, ""
            return code == 0, (out + err).rstrip("\n") if code else ""
        return not forced, ""  # grpc: taken as serving


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
    import re

    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: env.get(m.group(1), m.group(0)), value)


def _data(obj: Obj) -> dict[str, str]:
    import base64

    out = dict(obj.get("data") or {}) if obj.get("kind") != "Secret" else {}
    if obj.get("kind") == "Secret":
        for key, value in (obj.get("data") or {}).items():
            try:
                out[key] = base64.b64decode(value).decode()
            except (ValueError, UnicodeDecodeError):
                out[key] = ""
        out.update(obj.get("stringData") or {})
    return {k: str(v) for k, v in out.items()}


def _port_number(port: Any, container: dict[str, Any]) -> int:
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return int(p.get("containerPort") or 0)
    return 0


def _minor(version: str) -> str:
    parts = version.lstrip("v").split(".")
    return ".".join(parts[:2])


def _http(network: Any, pod: Obj, url: str) -> tuple[int, str]:
    result = network.http_request(pod, url)
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
    return int(result.status or 0), result.body


class _SubDir(dict):  # type: ignore[type-arg]
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


def start_nodes(cluster: Any) -> NodeManager:
    from kclusterkit.sim.nodelifecycle import start_node_lifecycle

    manager = NodeManager(cluster)
    spec = cluster.spec
    for i in range(spec.control_plane_nodes):
        manager.add_node("control-plane" if i == 0 else f"control-plane-{i + 1}",
                         control_plane=True)
    for i in range(spec.worker_nodes):
        manager.add_node(f"worker-{i + 1}")
    manager.start()
    cluster.components["nodelifecycle"] = start_node_lifecycle(cluster)
    return manager
