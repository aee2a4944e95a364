@smoke
Feature: The cluster serves a web application
  Every node is Ready, and nginx deployed and exposed on a NodePort answers on every
  worker node. ("the cluster has at least 2 worker nodes" is a step of
  this project's own: steps/team_steps.py.)

  Scenario: nginx is reachable on a NodePort of every worker
    Given a cluster with 1 control-plane node and 2 worker nodes
    Then every node is Ready within 2 minutes
    And the cluster has at least 2 worker nodes
    When I deploy "nginx:1.25" as "hello" with 2 replicas and expose it on a NodePort
    Then an HTTP GET on that NodePort of every worker node returns 200 and "Welcome to nginx!" within 1 minute
