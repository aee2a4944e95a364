@scaling
Feature: Scaling by hand
  A deployment runs as many pods as it is told to, up and down, and a pod that no node
  has room for waits, unscheduled, with the scheduler saying why.

  Background:
    Given a cluster with 1 control-plane node and 2 worker nodes

  @critical
  Scenario: Scale out
    Given a deployment "web" running "nginx:1.25" with 2 replicas
    And deployment "web" is available within 1 minute
    When I scale deployment "web" to 5 replicas
    Then deployment "web" has 5 ready pods within 1 minute

  Scenario: Scale in
    Given a deployment "web" running "nginx:1.25" with 5 replicas
    And deployment "web" is available within 1 minute
    When I scale deployment "web" to 2 replicas
    Then deployment "web" has 2 pods within 1 minute
    And deployment "web" has 2 ready pods for 1 minute

  Scenario: Scale to zero and back
    Given a deployment "web" running "nginx:1.25" with 3 replicas
    And deployment "web" is available within 1 minute
    When I scale deployment "web" to 0 replicas
    Then deployment "web" has 0 pods within 1 minute
    When I scale deployment "web" to 3 replicas
    Then deployment "web" has 3 ready pods within 1 minute

  Scenario: Pods that no node can fit stay Pending
    Given a deployment "big" running "nginx:1.25" with 4 replicas each requesting most of a worker node's CPU
    Then deployment "big" has 2 ready pods within 1 minute
    And 2 pods of deployment "big" stay Pending for 1 minute
    And the scheduler reports "Insufficient cpu" for them
