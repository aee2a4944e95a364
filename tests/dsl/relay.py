"""A TCP relay between a run and a served simulator, to put it at awkward moments.

Interrupts and lost clusters happen between bytes: a request the server has handled but
whose answer has not arrived, a server that stops answering mid-run. A byte pump in front
of a plain-HTTP served simulator can make those moments happen on cue:

- ``hold(b"POST /api/v1/namespaces ", seconds)``: the server handles the matching request
  at once, but its answer is held back; ``held`` is set while it is.
- ``freeze()``: from now on nothing is forwarded either way and new connections are
  accepted but never answered — what a SIGSTOPped API server looks like from outside;
- ``freeze_after(b"POST /apis/apps/v1/", nth=2)``: freeze once the nth matching request has
  been forwarded (the server does it; its answer never comes back);
- ``latency``: every answer waits that long (a slow link; works through TLS too).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any


class Relay:
    def __init__(self, upstream_port: int, latency: float = 0.0) -> None:
        self.latency = latency
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.frozen = threading.Event()
        self.held = threading.Event()
        self._hold: tuple[bytes, float] | None = None
        self._freeze_after: list[Any] | None = None  # [request start, matches left]
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True, name="relay-accept").start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def hold(self, request_start: bytes, seconds: float) -> None:
        """Hold back the answer to the next request that starts with ``request_start``."""
        with self._lock:
            self._hold = (request_start, seconds)

    def freeze(self) -> None:
        self.frozen.set()

    def freeze_after(self, request_start: bytes, nth: int = 1) -> None:
        with self._lock:
            self._freeze_after = [request_start, nth]

    def stop(self) -> None:
        self._stopped.set()
        self.frozen.set()
        with contextlib.suppress(OSError):
            self.listener.close()
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self._sockets.append(client)
            if self.frozen.is_set():
                continue  # accepted by the kernel, never answered
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            self._sockets.append(server)
            gate = threading.Event()
            gate.set()
            delay = [0.0]
            threading.Thread(target=self._pump, args=(client, server, gate, delay, True),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, gate, delay, False),
                             daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, gate: threading.Event,
              delay: list[float], upward: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                while self.frozen.is_set() and not self._stopped.is_set():
                    time.sleep(0.05)  # swallow nothing, forward nothing
                if self._stopped.is_set():
                    break
                freeze_now = False
                if upward:
                    with self._lock:
                        cue = self._freeze_after
                        if cue is not None and data.startswith(cue[0]):
                            cue[1] -= 1
                            freeze_now = cue[1] <= 0
                        hold = self._hold
                        if hold is not None and data.startswith(hold[0]):
                            self._hold = None
                            delay[0] = hold[1]
                            gate.clear()  # the next answer on this connection waits
                elif self.latency:
                    time.sleep(self.latency)
                if not upward and not gate.is_set():
                    self.held.set()
                    time.sleep(delay[0])
                    self.held.clear()
                    gate.set()
                dst.sendall(data)
                if freeze_now:
                    self.frozen.set()
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
