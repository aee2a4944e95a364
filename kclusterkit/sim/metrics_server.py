"""metrics-server: the resource metrics API (``metrics.k8s.io/v1beta1``) of one cluster.

Upstream metrics-server (kubernetes-sigs/metrics-server) scrapes every kubelet's
``/metrics/resource`` every ``--metric-resolution`` (15 s): per container a cumulative CPU
counter and a memory working set. It serves ``PodMetrics`` and ``NodeMetrics`` whose CPU
is the rate between a container's last two readings (``window`` is the time between
them, ``timestamp`` the later one) and whose memory is the last working set; a container
needs two readings of the same run before it has a CPU figure, so a pod appears one
resolution after it starts. Quantities are formatted as upstream's: CPU from nanocores
(``resource.NewScaledQuantity(n, -9)``, e.g. ``1500u``, ``5m``), memory from bytes
(``resource.NewQuantity(b, BinarySI)``, e.g. ``9Mi``, ``409600``).

The HPA controller and ``kubectl top`` read what this serves; the HTTP server exposes it
under ``/apis/metrics.k8s.io/v1beta1`` (sim/server/metrics_api.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj
from kclusterkit.sim.resources import NODES, PODS

if TYPE_CHECKING:
    from kclusterkit.sim.cluster import Cluster

GROUP_VERSION = "metrics.k8s.io/v1beta1"
METRIC_RESOLUTION = 15.0  # metrics-server --metric-resolution default
# What a node uses beyond its pods (the kubelet, the runtime, the system): cores, bytes.
NODE_SYSTEM_CPU = 0.06
NODE_SYSTEM_MEMORY = 520 * 2 ** 20


@dataclass
class _Reading:
    at: float
    run: int
    cpu: float  # cumulative core-seconds
    memory: int  # working set bytes


@dataclass
class ContainerPoint:
    name: str
    cpu: float  # cores over the window
    memory: int  # bytes


@dataclass
class PodPoint:
    namespace: str
    name: str
    timestamp: float
    window: float
    containers: list[ContainerPoint]


def format_cpu(cores: float) -> str:
    """A CPU quantity from nanocores, canonical as Go's DecimalSI prints it."""
    nanos = max(0, int(round(cores * 1e9)))
    if nanos == 0:
        return "0"
    for suffix, size in (("", 10 ** 9), ("m", 10 ** 6), ("u", 10 ** 3)):
        if nanos % size == 0:
            return f"{nanos // size}{suffix}"
    return f"{nanos}n"


def format_memory(nbytes: int) -> str:
    """A memory quantity from bytes, canonical as Go's BinarySI prints it."""
    nbytes = max(0, int(nbytes))
    if nbytes == 0:
        return "0"
    for suffix, size in (("Ei", 2 ** 60), ("Pi", 2 ** 50), ("Ti", 2 ** 40), ("Gi", 2 ** 30),
                         ("Mi", 2 ** 20), ("Ki", 2 ** 10)):
        if nbytes % size == 0:
            return f"{nbytes // size}{suffix}"
    return str(nbytes)


def go_duration(seconds: float) -> str:
    """A Go time.Duration string for a window (``15s``, ``14.5s``)."""
    text = f"{seconds:.9f}".rstrip("0").rstrip(".")
    return f"{text}s"


class MetricsServer:
    """Scrapes every kubelet each resolution; answers the resource metrics API."""

    def __init__(self, cluster: Cluster, resolution: float = METRIC_RESOLUTION) -> None:
        self.cluster = cluster
        self.clock = cluster.clock
        self.resolution = resolution
        self.enabled = True
        # (namespace, pod, container) → its last two readings
        self._readings: dict[tuple[str, str, str], list[_Reading]] = {}
        self._pods: dict[tuple[str, str], PodPoint] = {}
        self._nodes: dict[str, tuple[float, float, float, int]] = {}  # at, window, cpu, mem
        self.last_scrape: float | None = None
        self.clock.call_later(resolution, self._scrape)

    def _scrape(self) -> None:
        self.clock.call_later(self.resolution, self._scrape)
        if not self.enabled:
            return
        now = self.clock.now
        readings: dict[tuple[str, str, str], list[_Reading]] = {}
        pods: dict[tuple[str, str], PodPoint] = {}
        nodes: dict[str, tuple[float, float, float, int]] = {}
        for node_name, kubelet in self.cluster.nodes.kubelets.items():
            if not kubelet.alive:
                continue  # an unreachable kubelet is skipped, its last figures dropped
            node_cpu, node_mem, have_node = NODE_SYSTEM_CPU, NODE_SYSTEM_MEMORY, False
            previous_node = self._nodes.get(node_name)
            for pr in kubelet.pods.values():
                if pr.done:
                    continue
                points: list[ContainerPoint] = []
                window = self.resolution
                for c in pr.main:
                    use = c.usage
                    if use is None or c.state != "running":
                        continue
                    kubelet.refresh_usage(pr, c)
                    key = (pr.namespace, pr.name, c.name)
                    reading = _Reading(now, c.run, use.cpu_seconds(now), use.memory(now))
                    before = [r for r in self._readings.get(key, []) if r.run == c.run][-1:]
                    readings[key] = [*before, reading]
                    if before and now > before[0].at:
                        window = now - before[0].at
                        rate = (reading.cpu - before[0].cpu) / window
                        points.append(ContainerPoint(c.name, rate, reading.memory))
                        node_cpu += rate
                        node_mem += reading.memory
                        have_node = True
                    else:
                        node_mem += reading.memory
                if points:
                    pods[(pr.namespace, pr.name)] = PodPoint(pr.namespace, pr.name, now, window,
                                                             points)
            if previous_node is not None or have_node:
                nodes[node_name] = (now, self.resolution, node_cpu, node_mem)
            else:
                nodes[node_name] = (now, 0.0, node_cpu, node_mem)  # first reading: no rate yet
        self._readings = readings
        self._pods = pods
        self._nodes = nodes
        self.last_scrape = now

    # -- the API ----------------------------------------------------------------------
    def pod_points(self, namespace: str | None = None) -> list[PodPoint]:
        return [p for (ns, _), p in sorted(self._pods.items())
                if namespace is None or ns == namespace]

    def pod_metrics(self, namespace: str | None = None) -> list[Obj]:
        """PodMetrics objects, as ``GET /apis/metrics.k8s.io/v1beta1/…/pods`` lists them
        (label selection is the caller's: the objects carry the pods' labels)."""
        out = []
        store = self.cluster.store
        for point in self.pod_points(namespace):
            pod = store.get(PODS, point.namespace, point.name)
            if pod is None:
                continue
            meta = pod["metadata"]
            out.append({
                "kind": "PodMetrics", "apiVersion": GROUP_VERSION,
                "metadata": {"name": point.name, "namespace": point.namespace,
                             "creationTimestamp": self.clock.timestamp(self.clock.now),
                             "labels": dict(meta.get("labels") or {})},
                "timestamp": self.clock.timestamp(point.timestamp),
                "window": go_duration(point.window),
                "containers": [{"name": c.name, "usage": {"cpu": format_cpu(c.cpu),
                                                          "memory": format_memory(c.memory)}}
                               for c in point.containers],
            })
        return out

    def node_metrics(self) -> list[Obj]:
        out = []
        store = self.cluster.store
        for name, (at, window, cpu, memory) in sorted(self._nodes.items()):
            node = store.get(NODES, "", name)
            if node is None or window <= 0:
                continue
            out.append({
                "kind": "NodeMetrics", "apiVersion": GROUP_VERSION,
                "metadata": {"name": name,
                             "creationTimestamp": self.clock.timestamp(self.clock.now),
                             "labels": dict(node["metadata"].get("labels") or {})},
                "timestamp": self.clock.timestamp(at), "window": go_duration(window),
                "usage": {"cpu": format_cpu(cpu), "memory": format_memory(memory)},
            })
        return out


def metrics_list(kind: str, items: list[Any]) -> Obj:
    """The list object metrics-server answers with (``PodMetricsList``/``NodeMetricsList``)."""
    return {"kind": f"{kind}List", "apiVersion": GROUP_VERSION, "metadata": {}, "items": items}
