@network @disruptive
Feature: The network plugin makes nodes Ready
  A kubelet reports its node NotReady until the network plugin is in
  (NetworkPluginNotReady); the node lifecycle controller then taints the node so nothing is
  scheduled there. The plugin is a DaemonSet (kind's kindnet): once its pod on a node has
  written the CNI config there, that node turns Ready and the waiting pods start.

  Scenario: Nodes wait for the network plugin, and so do pods
    Given a cluster without a network plugin
    Then every node is NotReady because the network plugin is not ready, and takes no pods, within 1 minute
    Given a deployment "web" running "nginx:1.25" with 2 replicas
    Then 2 pods of deployment "web" are Pending within 1 minute
    And the scheduler reports "node.kubernetes.io/not-ready" for them
    When the network plugin is installed
    Then every node is Ready within 1 minute
    And deployment "web" has 2 ready pods within 2 minutes
