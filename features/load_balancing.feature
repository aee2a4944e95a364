@load-balancing
Feature: A Service shares requests among its ready pods
  Requests to a Service land on its ready pods, each with an equal chance; a pod that is
  not ready gets none of them.

  Background:
    Given a deployment "echo" running "agnhost:2.53 netexec" with 3 replicas
    And a service "echo" on port 80 targeting port 8080 of deployment "echo"
    And deployment "echo" is available within 1 minute

  Scenario: Requests are spread over every ready pod
    When 300 requests are sent to service "echo"
    Then every ready pod of deployment "echo" answered between 60 and 140 of them
    And none of them failed

  Scenario: A pod that is not ready gets no traffic
    When a pod of deployment "echo" stops being ready
    Then service "echo" has 2 ready endpoints within 1 minute
    When 100 requests are sent to service "echo"
    Then that pod answered none of them
    And every ready pod of deployment "echo" answered between 25 and 75 of them
