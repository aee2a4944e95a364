"""Preemption benchmark: a full cluster of low-priority pods, then pods of higher priority
that can only run by preempting them, in virtual time.

Prints the wall time until every high-priority pod runs, how many were preempted, and the
scheduler's busy time. Figures only: no timed assertions. The last line is
machine-readable.
"""

from __future__ import annotations

import argparse
import time

from kclusterkit.sim.cluster import Cluster, ClusterSpec, NodeShape
from kclusterkit.sim.resources import EVENTS, PODS


def _deployment(name: str, replicas: int, cpu: str, cls: str) -> dict:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {
                         "priorityClassName": cls,
                         "containers": [{"name": "c", "image": "nginx:1.25",
                                         "resources": {"requests": {"cpu": cpu}}}]}}}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--per-node", type=int, default=10, help="low pods per node")
    parser.add_argument("--high", type=int, default=50, help="high-priority pods")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    cluster = Cluster(ClusterSpec(worker_nodes=args.nodes,
                                  node=NodeShape(cpu="4", memory="64Gi")), seed=args.seed)
    for name, value in (("low", 100), ("high", 1000)):
        cluster.api.create({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                            "metadata": {"name": name}, "value": value})
    # kube-system takes some CPU on each worker: 350m per low pod fills what is left.
    cluster.api.create(_deployment("low", args.nodes * args.per_node, "350m", "low"))
    cluster.advance(60)
    started = time.perf_counter()
    busy_before = cluster.scheduler.busy_seconds
    cluster.api.create(_deployment("high", args.high, "1", "high"))
    running = 0
    for _ in range(600):
        cluster.advance(1)
        running = sum(1 for p in cluster.store.iter(PODS, "default")
                      if p["metadata"]["name"].startswith("high-")
                      and (p.get("status") or {}).get("phase") == "Running")
        if running >= args.high:
            break
    wall = time.perf_counter() - started
    preempted = sum(1 for e in cluster.store.iter(EVENTS, "default")
                    if e["reason"] == "Preempted")
    busy = cluster.scheduler.busy_seconds - busy_before
    print(f"nodes {args.nodes}, low pods {args.nodes * args.per_node}, high pods {args.high}")
    print(f"high pods running: {running} after {wall:.2f} s wall; {preempted} preempted; "
          f"scheduler busy {busy:.2f} s")
    print(f"RESULT nodes={args.nodes} high={args.high} running={running} "
          f"preempted={preempted} wall={wall:.3f} busy={busy:.3f}")


if __name__ == "__main__":
    main()
