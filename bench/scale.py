"""Scale benchmark: a 1,000-node cluster running 30,000 pods, in virtual time.

Prints how long (wall clock) it takes for every pod to be Running, the scheduler's
throughput (pods bound per wall second spent scheduling) and peak memory. Figures only:
no timed assertions. The last line is machine-readable.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import sys
import time

from kclusterkit.sim.cluster import Cluster, ClusterSpec, NodeShape
from kclusterkit.sim.resources import PODS


def deployment(name: str, replicas: int) -> dict:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{
                    "name": "app", "image": "nginx:1.25",
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                }]},
            },
        },
    }


def bare_pod(name: str, app: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": app}},
        "spec": {"containers": [{
            "name": "app", "image": "nginx:1.25",
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
        }]},
    }


def running(cluster: Cluster) -> int:
    return sum(1 for p in cluster.store.iter(PODS)
               if (p.get("status") or {}).get("phase") == "Running")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--pods", type=int, default=30000)
    parser.add_argument("--deployments", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bare-pods", action="store_true",
                        help="create pods directly instead of through Deployments")
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="virtual seconds to wait for every pod to run")
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary")
    args = parser.parse_args(argv)

    profiler = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    spec = ClusterSpec(control_plane_nodes=1, worker_nodes=args.nodes,
                       node=NodeShape(cpu="32", memory="128Gi", pods=110))
    cluster = Cluster(spec, seed=args.seed)
    built = time.perf_counter()
    per = [args.pods // args.deployments] * args.deployments
    for i in range(args.pods - sum(per)):
        per[i] += 1
    for d, count in enumerate(per):
        name = f"app-{d:03d}"
        if args.bare_pods:
            for i in range(count):
                cluster.api.create(bare_pod(f"{name}-{i:05d}", name))
        else:
            cluster.api.create(deployment(name, count))
    created = time.perf_counter()
    clock = cluster.clock
    deadline = clock.now + args.timeout
    done = 0
    while clock.now < deadline:
        clock.run_until(clock.now + 1.0)
        done = running(cluster)
        if done >= args.pods:
            break
    finished = time.perf_counter()
    if profiler:
        profiler.disable()
    scheduler = cluster.scheduler
    wall = finished - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"cluster built in {built - started:.2f}s wall "
          f"({args.nodes} workers + 1 control plane)")
    print(f"objects created in {created - built:.2f}s wall")
    print(f"{done}/{args.pods} pods Running after {clock.now:.1f}s virtual, "
          f"{finished - created:.2f}s wall")
    print(f"scheduler: {scheduler.bound} pods bound in {scheduler.busy_seconds:.2f}s "
          f"of scheduling cycles")
    print(f"store revision {cluster.store.revision}, clock events {clock.events_run}")
    if profiler:
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(25)
        stats.sort_stats("tottime").print_stats(25)
    print(f"nodes={args.nodes} pods={done} wall_s={wall:.2f} "
          f"sched_pods_per_s={scheduler.pods_per_second():.0f} peak_rss_mib={peak_mib:.0f}")
    return 0 if done >= args.pods else 1


if __name__ == "__main__":
    sys.exit(main())
