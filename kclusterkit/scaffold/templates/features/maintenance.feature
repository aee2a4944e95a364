@maintenance
Feature: A node is drained without breaking the service
  Draining evicts a node's pods through the Eviction API, so a PodDisruptionBudget holds:
  the service keeps enough ready pods while they move. On a real cluster this changes a
  shared node, so the environment must set `allow_disruptive: true`.

  Scenario: A drain respects the disruption budget
    Given a deployment "web" running "nginx:1.25" with 4 replicas
    And a service "web" exposing deployment "web"
    And deployment "web" is available within 1 minute
    And at most 1 pod of deployment "web" may be disrupted at a time
    And the disruption budget of deployment "web" allows 1 disruption within 30 seconds
    When I drain the node running the most pods of deployment "web"
    Then that node runs no pod of deployment "web" within 3 minutes
    And deployment "web" never had fewer than 3 ready pods while that happened
    And deployment "web" has 4 ready pods within 3 minutes
