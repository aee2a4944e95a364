"""Live-process benchmark: a busybox load generator making a GET every 0.05 cluster seconds.

The load generator's script (the contract the KubeDriver's traffic relies on) runs on the
cluster clock: each wget at its own instant through the simulated network, each line
logged with its time. Prints the requests made, the wall time per cluster minute and per
request, and the cost of idle sleep loops. Figures only: no timed assertions.
"""

from __future__ import annotations

import argparse
import time

from kclusterkit.sim.cluster import Cluster, ClusterSpec

LOAD = ("while true; do wget -qO- -T 2 'http://web/hostname' 2>&1; s=$?; echo; "
        "echo \"@@kk-exit $s\"; sleep 0.05; done")


def pod(name: str, image: str, labels: dict[str, str] | None = None, **container: object
        ) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"containers": [{"name": "c", "image": image, **container}]}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0, help="cluster minutes to run")
    parser.add_argument("--idle", type=int, default=50, help="pods running sleep loops")
    args = parser.parse_args()

    cluster = Cluster(ClusterSpec(worker_nodes=2), seed=1)
    for i in range(3):
        cluster.api.create(pod(f"web-{i}", "registry.k8s.io/e2e-test-images/agnhost:2.53",
                               {"app": "web"}, args=["netexec", "--http-port=8080"]))
    cluster.api.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                        "spec": {"selector": {"app": "web"},
                                 "ports": [{"port": 80, "targetPort": 8080}]}})
    for i in range(args.idle):
        cluster.api.create(pod(f"idle-{i}", "busybox:1.36",
                               command=["sh", "-c", "while true; do sleep 1; done"]))
    cluster.advance(10)
    cluster.api.create(pod("load", "busybox:1.36", command=["sh", "-c", LOAD]))
    cluster.advance(1)
    seconds = args.minutes * 60
    start = time.perf_counter()
    cluster.advance(seconds)
    wall = time.perf_counter() - start
    lines = cluster.nodes.log_lines("default", "load")
    requests = sum(1 for _, line in lines if line.startswith("@@kk-exit"))
    failed = sum(1 for _, line in lines if line.startswith("@@kk-exit") and line != "@@kk-exit 0")
    print(f"{requests} requests ({failed} failed) in {seconds:.0f} cluster s, "
          f"{args.idle} idle sleep-loop pods alongside")
    print(f"wall: {wall:.2f} s = {wall / args.minutes:.2f} s per cluster minute, "
          f"{wall / max(requests, 1) * 1e6:.0f} us per request")
    print(f"requests={requests} failed={failed} wall_s={wall:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
