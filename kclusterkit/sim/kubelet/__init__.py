"""The kubelet: one per node, owning everything that happens on it.

Laid out as upstream's ``pkg/kubelet``:

- ``kubelet``: the pod workers — admission, sandbox, image pulls, starting, restarting
  (CrashLoopBackOff), stopping containers, the pod status it generates (kuberuntime
  SyncPod, kubelet_pods.go getPhase/generateAPIPodStatus); a container's script runs
  there as a live process on the cluster clock (``sim.shell.Process``);
- ``node_status``: registering the Node, renewing its Lease, posting node status
  (kubelet_node_status.go, nodelease);
- ``status_manager``: writing pod status to the API server (status/status_manager.go);
- ``pods``: a container's environment, volumes and view of the network (kubelet_pods.go);
- ``prober``: startup, readiness and liveness probes (prober/);
- ``server``: exec, logs and what a running container answers (pkg/kubelet/server);
- ``logs``: container logs selected and formatted as kuberuntime/logs does.
"""
