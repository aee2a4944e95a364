@scaling
Feature: Scaling by hand
  A deployment runs as many pods as it is told to, up and down.

  Background:
    Given a cluster with 1 control-plane node and 2 worker nodes
    And a deployment "web" running "nginx:1.25" with 2 replicas
    And deployment "web" is available within 1 minute

  Scenario: Scale out
    When I scale deployment "web" to 5 replicas
    Then deployment "web" has 5 ready pods within 1 minute

  Scenario: Scale in
    When I scale deployment "web" to 1 replica
    Then deployment "web" has 1 pod within 1 minute
