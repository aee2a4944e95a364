"""The kubelet: one per node, owning everything that happens on it.

Laid out as upstream's ``pkg/kubelet``: ``kubelet`` runs pods and their containers
(kuberuntime's SyncPod), ``prober`` runs probes (``prober/``), ``logs`` formats container
logs as ``kuberuntime/logs`` does.
"""
