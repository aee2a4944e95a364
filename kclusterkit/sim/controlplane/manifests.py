"""What kubeadm puts on a cluster: static pods per control-plane node, and the addons.

Shapes follow kubeadm's manifests (cmd/kubeadm/app/phases/controlplane/manifests.go,
phases/etcd/local.go, phases/addons/proxy/manifests.go, phases/addons/dns/manifests.go) for
v1.34: names ``<component>-<node>``, labels ``component``/``tier: control-plane``,
``priorityClassName: system-node-critical`` with hostNetwork, the CPU requests kubeadm sets
(apiserver 250m, controller manager 200m, scheduler 100m, etcd 100m/100Mi), kube-proxy
tolerating everything, CoreDNS with 2 replicas, its /ready probe on 8181, 100m/70Mi
requests and the control-plane toleration. The network plugin is kind's kindnet.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.kube.meta import Obj

#: kubeadm's component names, in the order a control-plane node starts them
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
ETCD_IMAGE = "registry.k8s.io/etcd:3.6.4-0"  # kubeadm constants.go, v1.34
COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.12.1"
KINDNET_IMAGE = "docker.io/kindest/kindnetd:v20250512-df8de77b"
SYSTEM_NODE_CRITICAL = 2000001000  # scheduling.SystemCriticalPriority + 1000
SYSTEM_CLUSTER_CRITICAL = 2000000000

_CPU = {"etcd": "100m", "kube-apiserver": "250m", "kube-controller-manager": "200m",
        "kube-scheduler": "100m"}


def mirror_pod(component: str, node: str, version: str, config_hash: str,
               seen: str, node_uid: str) -> Obj:
    """The mirror pod the kubelet creates for a static pod manifest (pkg/kubelet/pod/
    mirror_client.go: the config.mirror annotation and the Node as controller owner)."""
    image = ETCD_IMAGE if component == "etcd" else f"registry.k8s.io/{component}:{version}"
    resources: dict[str, Any] = {"requests": {"cpu": _CPU[component]}}
    if component == "etcd":
        resources["requests"]["memory"] = "100Mi"
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": f"{component}-{node}", "namespace": "kube-system",
            "labels": {"component": component, "tier": "control-plane"},
            "annotations": {"kubernetes.io/config.hash": config_hash,
                            "kubernetes.io/config.mirror": config_hash,
                            "kubernetes.io/config.seen": seen,
                            "kubernetes.io/config.source": "file"},
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node,
                                 "uid": node_uid, "controller": True}],
        },
        "spec": {
            "nodeName": node, "hostNetwork": True,
            "priorityClassName": "system-node-critical", "priority": SYSTEM_NODE_CRITICAL,
            "tolerations": [{"operator": "Exists", "effect": "NoExecute"}],
            "containers": [{
                "name": component, "image": image, "command": [component],
                "resources": resources,
            }],
        },
    }


def _daemonset(name: str, labels: dict[str, str], image: str, command: list[str],
               requests: dict[str, str] | None) -> Obj:
    container: dict[str, Any] = {"name": name, "image": image, "command": command}
    if requests:
        container["resources"] = {"requests": requests}
    return {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": "kube-system", "labels": dict(labels)},
        "spec": {
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"labels": dict(labels)}, "spec": {
                "hostNetwork": True, "priorityClassName": "system-node-critical",
                "priority": SYSTEM_NODE_CRITICAL,
                "nodeSelector": {"kubernetes.io/os": "linux"},
                "tolerations": [{"operator": "Exists"}],
                "containers": [container]}},
        },
    }


def kube_proxy(version: str) -> Obj:
    """kubeadm's kube-proxy DaemonSet (phases/addons/proxy/manifests.go)."""
    return _daemonset("kube-proxy", {"k8s-app": "kube-proxy"},
                      f"registry.k8s.io/kube-proxy:{version}",
                      ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
                       "--hostname-override=$(NODE_NAME)"], None)


def network_plugin() -> Obj:
    """kind's kindnet DaemonSet, the network plugin of a kind cluster."""
    return _daemonset("kindnet", {"app": "kindnet", "k8s-app": "kindnet", "tier": "node"},
                      KINDNET_IMAGE, ["/bin/kindnetd"], {"cpu": "100m", "memory": "50Mi"})


def coredns() -> Obj:
    """kubeadm's CoreDNS Deployment (phases/addons/dns/manifests.go)."""
    labels = {"k8s-app": "kube-dns"}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system", "labels": dict(labels)},
        "spec": {
            "replicas": 2,
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}},
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"labels": dict(labels)}, "spec": {
                "priorityClassName": "system-cluster-critical",
                "priority": SYSTEM_CLUSTER_CRITICAL,
                "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                {"key": "node-role.kubernetes.io/control-plane",
                                 "effect": "NoSchedule"}],
                "nodeSelector": {"kubernetes.io/os": "linux"},
                # kubeadm's manifest: replicas on different nodes where it can
                "affinity": {"podAntiAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [{
                        "weight": 100,
                        "podAffinityTerm": {
                            "labelSelector": {"matchExpressions": [{
                                "key": "k8s-app", "operator": "In",
                                "values": ["kube-dns"]}]},
                            "topologyKey": "kubernetes.io/hostname"}}]}},
                "containers": [{
                    "name": "coredns", "image": COREDNS_IMAGE,
                    "args": ["-conf", "/etc/coredns/Corefile"],
                    "resources": {"limits": {"memory": "170Mi"},
                                  "requests": {"cpu": "100m", "memory": "70Mi"}},
                    "ports": [{"containerPort": 53, "name": "dns", "protocol": "UDP"},
                              {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                              {"containerPort": 9153, "name": "metrics", "protocol": "TCP"}],
                    "livenessProbe": {"httpGet": {"path": "/health", "port": 8080,
                                                  "scheme": "HTTP"},
                                      "initialDelaySeconds": 60, "timeoutSeconds": 5,
                                      "successThreshold": 1, "failureThreshold": 5},
                    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181,
                                                   "scheme": "HTTP"}},
                }],
            }},
        },
    }
