@load-balancing
Feature: A Service shares requests among its ready pods

  Background:
    Given a deployment "echo" running "agnhost:2.53 netexec" with 3 replicas
    And a service "echo" on port 80 targeting port 8080 of deployment "echo"
    And deployment "echo" is available within 1 minute

  Scenario: Requests are spread over every ready pod
    When 300 requests are sent to service "echo"
    Then every ready pod of deployment "echo" answered between 60 and 140 of them
    And none of them failed
