@self-healing
Feature: Self-healing
  A deployment keeps its declared number of pods running: a deleted pod is replaced and a
  crashed container is restarted, without anyone stepping in.

  Background:
    Given a cluster with 1 control-plane node and 2 worker nodes
    And a deployment "web" running "nginx:1.25" with 3 replicas
    And deployment "web" is available within 1 minute

  Scenario: A deleted pod is replaced
    When I delete a pod of deployment "web"
    Then deployment "web" has 3 ready pods within 30 seconds
    And the deleted pod no longer exists

  Scenario: A crashing container is restarted in place
    When the container of a pod of deployment "web" crashes
    Then that pod has restarted 1 time within 30 seconds
    And deployment "web" has 3 ready pods within 30 seconds
