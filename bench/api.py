"""Served API latency: 20 concurrent clients over 1,000 ConfigMaps (get/list/create/patch).

The server runs in a child process (as `kclusterkit sim serve` would), so the clients'
JSON decoding does not share its interpreter. Prints figures, asserts nothing; the last
line is key=value pairs. Run: PYTHONPATH=. python bench/api.py [--objects N --clients N]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import ssl
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml


def core_cluster() -> Any:
    """The real cluster when it builds; else the clock/store/api core with namespaces."""
    try:
        from kclusterkit.sim.cluster import Cluster

        return Cluster(seed=0)
    except ImportError:
        pass
    from kclusterkit.sim import kinds  # noqa: F401
    from kclusterkit.sim.api import Api
    from kclusterkit.sim.clock import Clock
    from kclusterkit.sim.cluster import ClusterSpec
    from kclusterkit.sim.store import Store

    class Core:
        spec = ClusterSpec()
        clock = Clock(0)
        store = Store()
        api = Api(clock, store)

    Core.api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    return Core()


def serve(kubeconfig: str) -> None:
    from kclusterkit.sim.server import serve_in_thread

    handle = serve_in_thread(cluster_factory=core_cluster, kubeconfig_path=kubeconfig)
    print(handle.kubeconfig_path, flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    handle.stop()


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def run(kubeconfig: Path, objects: int, clients: int, rounds: int) -> dict[str, list[float]]:
    import aiohttp

    config = yaml.safe_load(kubeconfig.read_text())
    url = config["clusters"][0]["cluster"]["server"]
    token = config["users"][0]["user"]["token"]
    ctx: ssl.SSLContext | bool = False
    ca = config["clusters"][0]["cluster"].get("certificate-authority-data")
    if ca:
        ctx = ssl.create_default_context(cadata=base64.b64decode(ca).decode())
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    base = f"{url}/api/v1/namespaces/default/configmaps"
    times: dict[str, list[float]] = {"create": [], "get": [], "list": [], "patch": []}
    connector = aiohttp.TCPConnector(limit=clients, ssl=ctx)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:

        async def timed(op: str, method: str, path: str, body: Any = None,
                        ctype: str = "application/json") -> None:
            start = time.perf_counter()
            async with session.request(method, path, data=json.dumps(body) if body else None,
                                       headers={"Content-Type": ctype}) as resp:
                await resp.read()
                if resp.status >= 300:
                    raise RuntimeError(f"{method} {path}: {resp.status}")
            times[op].append((time.perf_counter() - start) * 1000)

        async def creator(worker: int) -> None:
            for i in range(worker, objects, clients):
                await timed("create", "POST", base, {
                    "metadata": {"name": f"cm-{i:05d}", "labels": {"bench": "api"}},
                    "data": {"key": "value" * 20, "index": str(i)}})

        await asyncio.gather(*(creator(w) for w in range(clients)))

        async def mixed(worker: int) -> None:
            for r in range(rounds):
                i = (worker * 7919 + r * 104729) % objects
                await timed("get", "GET", f"{base}/cm-{i:05d}")
                await timed("patch", "PATCH", f"{base}/cm-{i:05d}",
                            {"data": {"round": str(r)}}, "application/merge-patch+json")
                if r % 5 == 0:
                    await timed("list", "GET", base)

        await asyncio.gather(*(mixed(w) for w in range(clients)))
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--serve", metavar="KUBECONFIG")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    kubeconfig = Path(f"/tmp/kclusterkit-bench-api-{os.getpid()}.kubeconfig")
    child = subprocess.Popen([sys.executable, __file__, "--serve", str(kubeconfig)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    try:
        assert child.stdout is not None
        child.stdout.readline()
        started = time.perf_counter()
        times = asyncio.run(run(kubeconfig, args.objects, args.clients, args.rounds))
        wall = time.perf_counter() - started
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(10)
        kubeconfig.unlink(missing_ok=True)
    every = [t for values in times.values() for t in values]
    for op, values in times.items():
        print(f"{op:7s} n={len(values):5d} p50={pct(values, .5):7.2f} ms "
              f"p99={pct(values, .99):7.2f} ms mean={statistics.fmean(values):7.2f} ms")
    print(f"requests={len(every)} wall_s={wall:.2f} req_per_s={len(every) / wall:.0f}")
    fields = {"clients": args.clients, "objects": args.objects,
              "p50_ms": f"{pct(every, .5):.2f}", "p99_ms": f"{pct(every, .99):.2f}"}
    for op in ("get", "list", "create", "patch"):
        fields[f"{op}_p99_ms"] = f"{pct(times[op], .99):.2f}"
    print(" ".join(f"{k}={v}" for k, v in fields.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
