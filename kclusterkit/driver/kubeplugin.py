"""Installing the network plugin through the API, from the manifest the environment names.

On a kind cluster the network plugin is kindnet: a DaemonSet in kube-system (with its
ServiceAccount and RBAC) whose pod on each node writes the CNI config, after which that
node's kubelet reports Ready. Installing it is ``kubectl apply -f <manifest>``: the
environment's ``network_plugin_manifest`` names that file, and the driver creates each
object in it through the API (one that exists already is left as it is). These objects
are the cluster's, not the scenario's: they carry no run label and stay after the run.
Removing a plugin also means removing its CNI config from every node, which no API call
does, so removal stays the ``remove_network_plugin`` hook.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from kclusterkit import safe_yaml
from kclusterkit.driver.errors import ApiError, ConfigurationError

if TYPE_CHECKING:
    from kclusterkit.driver.kube import KubeDriver


def load_manifest(path: str) -> list[dict[str, Any]]:
    """The objects of the manifest file, checked: a clear error names the file."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigurationError(f"network_plugin_manifest: cannot read {path}: "
                                 f"{exc.strerror or exc}") from None
    try:
        docs = [d for d in safe_yaml.load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"network_plugin_manifest: {path} is not valid YAML: "
                                 f"{exc}") from None
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict) or not doc.get("apiVersion") or not doc.get("kind") \
                or not (doc.get("metadata") or {}).get("name"):
            raise ConfigurationError(f"network_plugin_manifest: {path}: document {i + 1} is "
                                     "not a Kubernetes object (apiVersion, kind, "
                                     "metadata.name)")
    if not docs:
        raise ConfigurationError(f"network_plugin_manifest: {path} holds no object")
    return docs


def apply_manifest(driver: KubeDriver, path: str) -> list[str]:
    """Create every object of the manifest that does not exist yet; what was created."""
    made = []
    for obj in load_manifest(path):
        res = driver.discovery.for_kind(obj["apiVersion"], obj["kind"])
        ns = (obj.get("metadata") or {}).get("namespace") or "default" if res.namespaced \
            else ""
        try:
            driver.rest.call("POST", res.path(ns), body=obj)
            made.append(f"{obj['kind']} {obj['metadata']['name']}")
        except ApiError as exc:
            if exc.code != 409:
                raise
    return made
