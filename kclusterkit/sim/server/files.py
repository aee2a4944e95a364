"""What a served cluster keeps on disk while it runs, and its removal when it stops.

A served cluster writes two things clients need: the CA certificate (a
``kclusterkit-tls-*`` folder) and a kubeconfig holding its bearer token
(``kclusterkit-sim-<port>.kubeconfig`` by default). Both are dead once the server stops, so
the server removes them then, and at interpreter exit for servers nobody stopped (daemon
threads in tests). A kubeconfig path that existed before is the user's file: it is
rewritten (mode 0600) but not deleted.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from pathlib import Path

from kclusterkit.sim.server.kubeconfig import write_kubeconfig
from kclusterkit.sim.server.tls import PREFIX

_live: set[ServedFiles] = set()
_lock = threading.Lock()


class ServedFiles:
    def __init__(self) -> None:
        self.ca_dir: Path | None = None
        self.kubeconfig: Path | None = None
        self._owns_kubeconfig = False
        with _lock:
            _live.add(self)

    def write_ca(self, ca_pem: bytes) -> Path:
        """The CA certificate in a private ``kclusterkit-tls-*`` folder (for ``verify=``)."""
        self.ca_dir = Path(tempfile.mkdtemp(prefix=PREFIX))
        path = self.ca_dir / "ca.crt"
        path.write_bytes(ca_pem)
        return path

    def write_kubeconfig(self, path: Path, url: str, token: str, ca_pem: bytes | None, *,
                         default_path: bool = False) -> Path:
        """Write it 0600; ours to remove when it is the default path or did not exist."""
        if self.kubeconfig is None:
            self._owns_kubeconfig = default_path or not path.exists()
        self.kubeconfig = write_kubeconfig(path, url, token, ca_pem=ca_pem)
        return self.kubeconfig

    def remove(self) -> None:
        if self.ca_dir is not None:
            shutil.rmtree(self.ca_dir, ignore_errors=True)
            self.ca_dir = None
        if self.kubeconfig is not None and self._owns_kubeconfig:
            self.kubeconfig.unlink(missing_ok=True)
        self.kubeconfig = None
        with _lock:
            _live.discard(self)


@atexit.register
def _remove_all() -> None:
    with _lock:
        pending = list(_live)
    for files in pending:
        files.remove()
