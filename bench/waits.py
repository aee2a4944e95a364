"""How fast a KubeDriver wait notices a change, and what it costs the API server.

Serves a simulated cluster over HTTP in this process, then repeats: start a wait whose
check reads a ConfigMap through the driver; after a pause, change the ConfigMap on the
server's own thread; time from that change to the wait returning. Also counts the HTTP
requests each wait sent (a polling wait would send one or more per look).

    PYTHONPATH=. python bench/waits.py [--waits 40] [--pause 0.05] [--full]

The last line is ``key=value`` pairs (reaction_p50_ms, reaction_p99_ms,
requests_per_wait …); figures only, no assertions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kclusterkit.driver.base import Observation
from kclusterkit.driver.kube import KubeDriver
from kclusterkit.sim.server import serve_in_thread


class CoreCluster:
    """Clock, store and API only: the wait's path (HTTP, watch, mirror) is what is timed."""

    def __init__(self) -> None:
        from kclusterkit.sim import kinds  # noqa: F401  (admission strategies)
        from kclusterkit.sim.api import Api
        from kclusterkit.sim.clock import Clock
        from kclusterkit.sim.cluster import ClusterSpec
        from kclusterkit.sim.store import Store

        self.spec = ClusterSpec()
        self.clock = Clock(1, datetime.now(UTC).replace(microsecond=0))
        self.store = Store()
        self.api = Api(self.clock, self.store)
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waits", type=int, default=40)
    parser.add_argument("--pause", type=float, default=0.05,
                        help="seconds between starting a wait and the change")
    parser.add_argument("--full", action="store_true",
                        help="serve a full simulated cluster (nodes, controllers) instead")
    args = parser.parse_args(argv)

    kubeconfig = Path(tempfile.mkdtemp(prefix="kk-bench-")) / "kubeconfig"
    factory = None if args.full else CoreCluster
    handle = serve_in_thread(cluster_factory=factory, kubeconfig_path=kubeconfig)
    driver = KubeDriver.from_config({"kubeconfig": str(kubeconfig)}, run_id="bench",
                                    target="sim-api")
    try:
        driver.open_scenario("bench waits")
        ns = driver.namespace
        driver.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe"},
                       "data": {"i": "0"}})
        reactions: list[float] = []
        requests: list[int] = []
        evaluations: list[int] = []
        for i in range(1, args.waits + 1):
            changed: dict[str, float] = {}
            looks = [0]

            def change(i: int = i, changed: dict[str, float] = changed) -> None:
                time.sleep(args.pause)

                def on_server(cluster: Any, changed: dict[str, float] = changed) -> None:
                    from kclusterkit.sim.resources import lookup

                    cm = cluster.api.get(lookup("configmaps"), ns, "probe")
                    cm["data"]["i"] = str(i)
                    changed["at"] = time.monotonic()
                    cluster.api.update(cm)

                handle.call(on_server)

            def check(i: int = i, looks: list[int] = looks) -> Observation:
                looks[0] += 1
                cm = driver.get("configmaps", "probe")
                value = (cm or {}).get("data", {}).get("i")
                return Observation(value == str(i), f"i={value}")

            before = driver.rest.requests
            writer = threading.Thread(target=change, daemon=True)
            writer.start()
            result = driver.wait_until(check, 10, kinds=("configmaps",))
            seen = time.monotonic()
            writer.join()
            if not result.ok:
                print(f"wait {i} timed out: {result.last.seen}", file=sys.stderr)
                return 1
            reactions.append((seen - changed["at"]) * 1000)
            requests.append(driver.rest.requests - before)
            evaluations.append(looks[0])
        driver.close_scenario(passed=True)
    finally:
        driver.close()
        handle.stop()

    p50, p99 = percentile(reactions, 0.5), percentile(reactions, 0.99)
    print(f"{args.waits} waits, change {args.pause * 1000:.0f} ms after each wait started")
    print(f"reaction: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(reactions):.1f} ms")
    print(f"requests per wait: {statistics.mean(requests):.1f} (list + watch per kind); "
          f"checks per wait: {statistics.mean(evaluations):.1f}")
    print(f"waits={args.waits} reaction_p50_ms={p50:.1f} reaction_p99_ms={p99:.1f} "
          f"reaction_max_ms={max(reactions):.1f} requests_per_wait={statistics.mean(requests):.1f} "
          f"checks_per_wait={statistics.mean(evaluations):.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
