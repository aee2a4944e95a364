"""``kclusterkit sim serve``: a simulated cluster on 127.0.0.1 until SIGINT/SIGTERM.

Prints the URL and the kubeconfig path so ``kubectl --kubeconfig PATH …`` can be used
right away; the first line printed is the kubeconfig path alone when ``--print-kubeconfig``
is given, for scripts that start the server as a subprocess.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import sys
from pathlib import Path
from typing import Any

from kclusterkit.sim.server.runner import default_factory, start


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kclusterkit sim serve",
                                description="Serve a simulated cluster over the Kubernetes API.")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    p.add_argument("--kubeconfig", type=Path, default=None, help="where to write the kubeconfig")
    p.add_argument("--speed", type=float, default=None,
                   help="virtual seconds per wall second (default 1)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    p.add_argument("--workers", type=int, default=None, help="worker nodes (default 2)")
    p.add_argument("--control-planes", type=int, default=None,
                   help="control-plane nodes (default 1)")
    p.add_argument("--env", type=Path, default=None,
                   help="environment YAML whose `cluster:` section shapes the cluster")
    p.add_argument("--watch-history-mib", type=float, default=None,
                   help="memory budget of past events kept for watches, in MiB of JSON "
                        "(default 64); older watches get 410 Expired")
    p.add_argument("--exit-with-stdin", action="store_true",
                   help="stop when standard input closes: the process that started this one "
                        "holds the other end, so the server never outlives it, not even a "
                        "SIGKILL of it")
    p.add_argument("--print-kubeconfig", action="store_true",
                   help="print only the kubeconfig path (for scripts)")
    return p


def _env_settings(path: Path | None) -> dict[str, Any]:
    """The ``cluster:`` section of an environment file, with its ``timings:`` beside it."""
    if path is None:
        return {}
    from kclusterkit import safe_yaml

    try:
        data = safe_yaml.load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, safe_yaml.Error) as exc:
        raise SystemExit(f"kclusterkit sim serve: --env {path}: {' '.join(str(exc).split())}"
                         ) from None
    section = data.get("cluster", data) if isinstance(data, dict) else {}
    section = dict(section) if isinstance(section, dict) else {}
    timings = data.get("timings") if isinstance(data, dict) else None
    if isinstance(timings, dict):
        section["timings"] = timings
    return section


def cluster_spec(args: argparse.Namespace, env: dict[str, Any]) -> Any:
    from kclusterkit.sim.cluster import ClusterSpec, NodeShape

    spec = ClusterSpec()
    workers = args.workers if args.workers is not None else env.get(
        "worker_nodes", env.get("workers"))
    planes = args.control_planes if args.control_planes is not None else env.get(
        "control_plane_nodes", env.get("control_planes"))
    if workers is not None:
        spec.worker_nodes = int(workers)
    if planes is not None:
        spec.control_plane_nodes = int(planes)
    if env.get("kubernetes_version"):
        spec.kubernetes_version = str(env["kubernetes_version"])
    if "network_plugin" in env:
        spec.network_plugin = bool(env["network_plugin"])
    if "default_storage_class" in env:
        spec.default_storage_class = bool(env["default_storage_class"])
    if "network_storage_class" in env:
        spec.network_storage_class = bool(env["network_storage_class"])
    if isinstance(env.get("zones"), list):
        spec.zones = tuple(str(z) for z in env["zones"])
    if isinstance(env.get("timings"), dict):
        from kclusterkit.sim.timings import Timings

        spec.timings = Timings().updated(env["timings"])
    node = env.get("node")
    if isinstance(node, dict):
        spec.node = NodeShape(**{k: v for k, v in node.items()
                                 if k in ("cpu", "memory", "pods", "ephemeral_storage")})
    return spec


async def serve(args: argparse.Namespace) -> int:
    env = _env_settings(args.env)
    seed = args.seed if args.seed is not None else int(env.get("seed", 0))
    speed = args.speed if args.speed is not None else float(env.get("speed", 1.0))
    cluster = default_factory(cluster_spec(args, env), seed)()
    if args.watch_history_mib is not None:
        cluster.store.history_bytes = int(args.watch_history_mib * 2**20)
    # Signals first: a script that reads the kubeconfig line may stop us right away.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if args.exit_with_stdin:
        _stop_at_end_of_input(loop, stop)
    started = await start(cluster, port=args.port, speed=speed)
    try:
        url = started.url
        path = started.write_kubeconfig(args.kubeconfig)
        if args.print_kubeconfig:
            print(path, flush=True)
        else:
            print(f"kclusterkit simulated cluster serving at {url} (speed {speed:g}x, "
                  f"seed {seed})")
            print(f"kubeconfig: {path}")
            print(f"try: kubectl --kubeconfig {path} get nodes", flush=True)
        await stop.wait()
    finally:
        await started.stop()
    return 0


def _stop_at_end_of_input(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    fd = sys.stdin.fileno()

    def readable() -> None:
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(fd)
            stop.set()

    loop.add_reader(fd, readable)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    from kclusterkit.redact import install_logging

    install_logging()  # a failed request's log line never shows a token
    try:
        code = asyncio.run(serve(args))
    except OSError as exc:
        print(f"kclusterkit sim serve: {exc}", file=sys.stderr)
        return 1
    # Stopped: sockets closed, files removed, the cluster unreachable. Freeing its objects
    # one by one at interpreter exit took over a second after a 20,000-pod scale-up; the
    # process is about to end, so the collector is told to leave them (SIGTERM → exit
    # stays well under a second).
    gc.freeze()
    return code
