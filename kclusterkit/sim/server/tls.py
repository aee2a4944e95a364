"""A throwaway certificate authority and serving certificate for 127.0.0.1.

kubectl (client-go's clientcmd) sends credentials only over TLS, so a served cluster that
wants bearer-token authentication must speak HTTPS. The ``cryptography`` package is not a
dependency of kclusterkit, so the certificates come from the ``openssl`` command; without
it the server falls back to plain HTTP (and cannot require a token, see ``app``).

Keys stay off disk as far as the ssl module allows: openssl writes them into a private
temporary folder that is removed as soon as they are read, and ``server_context`` loads the
chain from a second private folder removed right after loading. What a served cluster
keeps on disk while it runs (the CA certificate, for clients) is in ``ServedFiles``.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

_CA_EXT = ("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
           "subjectKeyIdentifier=hash\n")
_LEAF_EXT = ("basicConstraints=critical,CA:FALSE\n"
             "keyUsage=critical,digitalSignature\n"
             "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
             "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
PREFIX = "kclusterkit-tls-"


@dataclass(frozen=True)
class Certs:
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        work = Path(tempfile.mkdtemp(prefix=PREFIX))  # mode 0700
        try:
            (work / "server.crt").write_bytes(self.cert_pem)
            (work / "server.key").write_bytes(self.key_pem)
            context.load_cert_chain(work / "server.crt", work / "server.key")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return context


_cached: Certs | None = None


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def certificates() -> Certs | None:
    """Certificates for this process (made once), or None when openssl is unavailable."""
    global _cached
    if _cached is not None:
        return _cached
    if shutil.which("openssl") is None:
        return None
    work = Path(tempfile.mkdtemp(prefix=PREFIX))
    try:
        (work / "ca.ext").write_text(_CA_EXT)
        (work / "leaf.ext").write_text(_LEAF_EXT)
        ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
        _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "3650",
                 "-subj", "/CN=kclusterkit-sim-ca", "-extensions", "v3_ca", "-addext",
                 "keyUsage=critical,keyCertSign,cRLSign", cwd=work)
        _openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr",
                 "-subj", "/CN=kclusterkit-sim", cwd=work)
        _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", "server.crt", "-days", "825",
                 "-extfile", "leaf.ext", cwd=work)
        _cached = Certs((work / "ca.crt").read_bytes(), (work / "server.crt").read_bytes(),
                        (work / "server.key").read_bytes())
    except (subprocess.SubprocessError, OSError):
        return None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return _cached
