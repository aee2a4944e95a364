@autoscaling
Feature: Scaling with the load
  A HorizontalPodAutoscaler adds pods while their CPU use is over its target and takes them
  away once the load is gone (after its five-minute stabilization window). On a cluster
  without metrics-server these scenarios are skipped with that reason.

  Scenario: Scale out under load, back in once it stops
    Given a deployment "api" running "agnhost:2.53 netexec" with 2 replicas requesting 100m CPU
    And a service "api" exposing deployment "api"
    And deployment "api" is available within 1 minute
    And each request to "api" costs 5m CPU for 1 second
    And deployment "api" is autoscaled between 2 and 10 replicas at 50% CPU
    When service "api" receives 200 requests per second
    Then deployment "api" has at least 6 ready pods within 3 minutes
    When the load on service "api" stops
    Then deployment "api" has 2 pods within 10 minutes
