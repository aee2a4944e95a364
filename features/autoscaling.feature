@autoscaling
Feature: Elastic scaling with the load
  A HorizontalPodAutoscaler reads what metrics-server reports: when the pods' CPU use goes
  over its target it adds pods, and once the load is gone it takes them away again, after
  its five-minute stabilization window. It never goes beyond its bounds. A container that
  uses more memory than its limit is OOMKilled and restarted.

  Background:
    Given a cluster with 1 control-plane node and 2 worker nodes
    And a deployment "api" running "agnhost:2.53 netexec" with 2 replicas requesting 100m CPU
    And a service "api" exposing deployment "api"
    And deployment "api" is available within 1 minute

  @critical
  Scenario: Scale out under load and back in once the load is gone
    Given each request to "api" costs 5m CPU for 1 second
    And deployment "api" is autoscaled between 2 and 10 replicas at 50% CPU
    When service "api" receives 200 requests per second
    Then a pod of deployment "api" uses more than 30m CPU within 1 minute
    And deployment "api" has at least 6 ready pods within 3 minutes
    And the autoscaler of deployment "api" wants 10 replicas within 2 minutes
    And deployment "api" has at least 10 ready pods within 2 minutes
    And deployment "api" has 10 ready pods for 4 minutes
    When the load on service "api" stops
    Then deployment "api" has 10 ready pods for 4 minutes
    And deployment "api" has 2 pods within 3 minutes

  Scenario: The autoscaler never goes beyond its maximum
    Given each request to "api" costs 100m CPU for 1 second
    And deployment "api" is autoscaled between 2 and 3 replicas at 50% CPU
    When service "api" receives 10 requests per second
    Then the autoscaler of deployment "api" is limited by its maximum within 2 minutes
    And deployment "api" has 3 ready pods within 2 minutes
    And deployment "api" has 3 ready pods for 1 minute

  Scenario: The autoscaler keeps its minimum
    Given deployment "api" is autoscaled between 3 and 5 replicas at 50% CPU
    Then deployment "api" has 3 ready pods within 1 minute
    When I scale deployment "api" to 1 replica
    Then deployment "api" has 3 ready pods within 1 minute
    And the autoscaler of deployment "api" wants 3 replicas within 1 minute

  Scenario: A container that outgrows its memory limit is OOMKilled and restarted
    Given a deployment "leaky" running "agnhost:2.53 netexec" with 1 replica limited to 64Mi memory
    And the memory of deployment "leaky" grows by 2Mi per second
    Then a pod of deployment "leaky" uses more than 32Mi memory within 1 minute
    And the container of a pod of deployment "leaky" is OOMKilled within 2 minutes
    And that pod's container was OOMKilled with exit code 137
    And that pod has restarted 1 time within 1 minute

  Scenario: A resource consumer burns what each request asks, on any cluster
    Given a deployment "consumer" running "resource-consumer:1.13" with 2 replicas requesting 100m CPU
    And a service "consumer" on port 80 targeting port 8080 of deployment "consumer"
    And deployment "consumer" is available within 1 minute
    And each request to "consumer" costs 18m CPU for 1 second
    And deployment "consumer" is autoscaled between 2 and 10 replicas at 50% CPU
    When service "consumer" receives 10 requests per second
    Then a pod of deployment "consumer" uses more than 30m CPU within 1 minute
    And the autoscaler of deployment "consumer" wants 4 replicas within 2 minutes
    And deployment "consumer" has at least 4 ready pods within 3 minutes
