@acceptance
Feature: A freshly provisioned cluster is fit for use
  Right after a cluster is built: every node is Ready (so the network plugin works), and
  nginx deployed and exposed on a NodePort answers on every worker node.

  Scenario: nginx is reachable on a NodePort of every worker
    Given a cluster with 1 control-plane node and 2 worker nodes
    Then every node is Ready within 2 minutes
    When I deploy "nginx:1.25" as "hello" with 2 replicas and expose it on a NodePort
    Then an HTTP GET on that NodePort of every worker node returns 200 and "Welcome to nginx!" within 1 minute
