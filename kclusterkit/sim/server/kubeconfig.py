"""A kubeconfig pointing kubectl and the kubernetes client at a simulated cluster."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import yaml

NAME = "kclusterkit-sim"


def kubeconfig(url: str, token: str, name: str = NAME,
               ca_data: str | None = None) -> dict[str, Any]:
    cluster: dict[str, Any] = {"server": url}
    if ca_data:
        cluster["certificate-authority-data"] = ca_data
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name,
                                                "namespace": "default"}}],
        "current-context": name,
        "preferences": {},
    }


def write_kubeconfig(path: str | os.PathLike[str], url: str, token: str, name: str = NAME,
                     ca_pem: bytes | None = None) -> Path:
    """Write the kubeconfig readable by the owner only (it holds the token)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # The creation mode applies only to a new file: an existing one keeps its mode unless
    # narrowed here, before the token is written.
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as fh:
        ca_data = base64.b64encode(ca_pem).decode() if ca_pem else None
        yaml.safe_dump(kubeconfig(url, token, name, ca_data), fh, sort_keys=False)
    return target
