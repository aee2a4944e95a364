"""Running a served cluster: in a background thread (tests, the sim-api target) or in the
foreground until a signal (``kclusterkit sim serve``).

The cluster is built inside the server's own thread and event loop and touched only
there; other threads reach it through HTTP, or through ``ServerHandle.call`` which runs a
function on the server's loop.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from kclusterkit.sim.server.app import SimServer
from kclusterkit.sim.server.files import ServedFiles
from kclusterkit.sim.server.tls import certificates

T = TypeVar("T")
ClusterFactory = Callable[[], Any]


def default_factory(cluster_spec: Any = None, seed: int = 0) -> ClusterFactory:
    def build() -> Any:
        from kclusterkit.sim.cluster import Cluster

        # A served cluster lives in wall-clock time: its timestamps start now.
        epoch = datetime.now(UTC).replace(microsecond=0)
        return Cluster(cluster_spec, seed, epoch=epoch)

    return build


def default_kubeconfig_path(port: int) -> Path:
    return Path(tempfile.gettempdir()) / f"kclusterkit-sim-{port}.kubeconfig"


@dataclass
class Started:
    server: SimServer
    runner: web.AppRunner
    port: int
    url: str
    ca_pem: bytes | None
    ca_path: Path | None
    files: ServedFiles

    def write_kubeconfig(self, path: str | Path | None) -> Path:
        return self.files.write_kubeconfig(Path(path or default_kubeconfig_path(self.port)),
                                           self.url, self.server.token, self.ca_pem,
                                           default_path=path is None)

    async def stop(self) -> None:
        """Stop serving and remove what the server wrote to disk (CA folder, kubeconfig)."""
        try:
            await self.runner.cleanup()
        finally:
            self.files.remove()


async def start(cluster: Any, *, host: str = "127.0.0.1", port: int = 0, speed: float = 1.0,
                token: str | None = None, tls: bool = True) -> Started:
    """Serve ``cluster`` on the running loop: HTTPS with a token when openssl is there."""
    certs = certificates() if tls else None
    publisher = getattr(getattr(cluster, "controller_manager", None), "serviceaccounts", None)
    if certs is not None and publisher is not None:
        ca = certs.ca_pem
        publisher.set_ca(ca.decode() if isinstance(ca, bytes) else str(ca))
    server = SimServer(cluster, token or secrets.token_hex(16), speed,
                       require_auth=certs is not None)
    runner = web.AppRunner(server.app, access_log=None, handle_signals=False,
                           shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=certs.server_context() if certs else None)
    await site.start()
    bound = runner.addresses[0][1]
    server.address = f"{host}:{bound}"
    scheme = "https" if certs else "http"
    files = ServedFiles()
    ca_path = files.write_ca(certs.ca_pem) if certs else None
    return Started(server, runner, bound, f"{scheme}://{host}:{bound}",
                   certs.ca_pem if certs else None, ca_path, files)


@dataclass
class ServerHandle:
    url: str
    token: str
    kubeconfig_path: Path
    port: int
    ca_path: Path | None  # the CA certificate file (None when serving plain HTTP)
    _loop: asyncio.AbstractEventLoop = field(repr=False)
    _stop: asyncio.Event = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _server: SimServer = field(repr=False)

    def call(self, fn: Callable[[Any], T], timeout: float = 30.0) -> T:
        """Run ``fn(cluster)`` on the server's loop (the only thread the cluster lives in)."""
        future: Future[T] = Future()

        def run() -> None:
            try:
                future.set_result(fn(self._server.cluster))
            except BaseException as exc:  # handed to the caller
                future.set_exception(exc)
            self._server.kick()

        self._loop.call_soon_threadsafe(run)
        return future.result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(cluster_spec: Any = None, seed: int = 0, speed: float = 1.0, port: int = 0,
                    *, kubeconfig_path: str | Path | None = None,
                    cluster_factory: ClusterFactory | None = None,
                    host: str = "127.0.0.1", tls: bool = True) -> ServerHandle:
    """Serve a new cluster from a daemon thread; returns once the port is listening."""
    factory = cluster_factory or default_factory(cluster_spec, seed)
    ready = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            stop = asyncio.Event()
            cluster = factory()
            started = loop.run_until_complete(
                start(cluster, host=host, port=port, speed=speed, tls=tls))
            box.update(loop=loop, stop=stop, started=started)
            ready.set()
            loop.run_until_complete(stop.wait())
            loop.run_until_complete(started.stop())
        except BaseException as exc:  # reported to the starting thread
            box["error"] = exc
            ready.set()
        finally:
            loop.close()

    thread = threading.Thread(target=run, name="kclusterkit-sim-server", daemon=True)
    thread.start()
    ready.wait()
    if "error" in box:
        raise RuntimeError(f"simulated API server failed to start: {box['error']}") from box[
            "error"]
    started: Started = box["started"]
    path = started.write_kubeconfig(kubeconfig_path)
    return ServerHandle(started.url, started.server.token, path, started.port,
                        started.ca_path, box["loop"], box["stop"], thread, started.server)
