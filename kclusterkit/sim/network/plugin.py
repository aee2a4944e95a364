"""The network plugin as kind has it: the ``kindnet`` DaemonSet in kube-system.

Upstream the kubelet knows nothing of a particular plugin: the container runtime reports
``NetworkReady=false`` (reason NetworkPluginNotReady, "Network plugin returns error: cni
plugin not initialized") until a CNI config file appears in ``/etc/cni/net.d`` on that
node, and the kubelet's Ready condition carries that message (pkg/kubelet/nodestatus
setters.go ReadyCondition, from runtimeState.networkErrors). In kind that file is written
by the kindnetd pod the DaemonSet runs on each node. So here:

- each kubelet holds ``cni_configured`` (the node's /etc/cni/net.d has a config); a node
  provisioned with the plugin (``ClusterSpec.network_plugin``) starts with it, as a kind
  cluster is handed over once kindnet has run;
- the kindnetd container, once it runs on a node, writes it (``images.Plan.cni_config``);
- :func:`install` creates the DaemonSet through the API, as ``kubectl apply`` of kind's
  manifest does; :func:`remove` deletes it through the API and takes the CNI config off
  every node (what a hook does on a kind node: ``kubectl -n kube-system delete ds
  kindnet`` and ``rm /etc/cni/net.d/10-kindnet.conflist``), since a deleted DaemonSet
  alone leaves the file behind.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.sim import errors
from kclusterkit.sim.controlplane import manifests
from kclusterkit.sim.resources import DAEMONSETS

NAMESPACE = "kube-system"
NAME = "kindnet"
CNI_CONFIG = "/etc/cni/net.d/10-kindnet.conflist"


def install(cluster: Any) -> None:
    """Create kind's kindnet DaemonSet (if absent); nodes turn Ready as its pods run."""
    cluster.spec.network_plugin = True
    if cluster.store.get(DAEMONSETS, NAMESPACE, NAME) is None:
        try:
            cluster.api.create(manifests.network_plugin())
        except errors.StatusError as exc:
            if exc.code != 409:
                raise


def remove(cluster: Any) -> None:
    """Delete the DaemonSet (its pods go with it) and the CNI config of every node: each
    kubelet reports NotReady at once."""
    cluster.spec.network_plugin = False
    if cluster.store.get(DAEMONSETS, NAMESPACE, NAME) is not None:
        try:
            cluster.api.delete(DAEMONSETS, NAMESPACE, NAME, propagation="Background")
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
    for kubelet in cluster.nodes.kubelets.values():
        kubelet.set_cni_configured(False)
