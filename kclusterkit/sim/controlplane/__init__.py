"""The control plane as the parts kubeadm runs, each of which can stop.

``manifests`` holds what kubeadm writes: the static pods of each control-plane node
(etcd, kube-apiserver, kube-scheduler, kube-controller-manager) and the addons (kube-proxy
and the network plugin as DaemonSets, CoreDNS as a Deployment). ``components`` runs them:
which instance is up on which node, etcd's quorum, whether any API server answers, and
leader election of the scheduler and the controller manager through Leases.
"""

from __future__ import annotations
