@maintenance
Feature: Nodes are drained and cordoned without breaking the service
  Before a node is upgraded it is cordoned (no new pods go there) and drained (its pods
  are evicted through the Eviction API, so PodDisruptionBudgets are honoured: an eviction
  the budget forbids is answered 429 and retried every 5 seconds until the replacement
  pod is ready elsewhere). Afterwards the node is uncordoned and takes pods again.

  Background:
    Given a deployment "web" running "nginx:1.25" with 4 replicas that become ready 1 minute after they start
    And a service "web" exposing deployment "web"
    And deployment "web" is available within 3 minutes

  Scenario: A drain respects the disruption budget and never drops a request
    Given at most 1 pod of deployment "web" may be disrupted at a time
    And the disruption budget of deployment "web" allows 1 disruption within 30 seconds
    And a steady load of 20 requests per second on service "web"
    When I drain the node running the most pods of deployment "web"
    Then that node runs no pod of deployment "web" within 3 minutes
    And that node is cordoned within 10 seconds
    And the disruption budget made the drain wait at least once
    And deployment "web" never had fewer than 3 ready pods while that happened
    And no request to service "web" failed while that happened
    And deployment "web" has 4 ready pods within 3 minutes

  Scenario: A budget that allows no disruption holds the drain
    Given at least 4 pods of deployment "web" must stay available
    And the disruption budget of deployment "web" allows 0 disruptions within 30 seconds
    When I try to drain the node running the most pods of deployment "web" for 1 minute
    Then the drain did not finish: the disruption budget refused every eviction
    And deployment "web" has 4 ready pods within 10 seconds

  Scenario: A cordoned node takes no new pods until it is uncordoned
    When I cordon the node running the most pods of deployment "web"
    Then that node is cordoned within 10 seconds
    When I scale deployment "web" to 6 replicas
    Then deployment "web" has 6 ready pods within 3 minutes
    And that node runs 2 pods of deployment "web"
    When I uncordon that node
    Then that node is schedulable within 10 seconds
    When I scale deployment "web" to 10 replicas
    Then deployment "web" has 10 ready pods within 3 minutes
    And that node runs at least 3 pods of deployment "web" within 10 seconds

  Scenario: A pod without a controller stops a drain unless it is forced
    Given a pod "bare" running "nginx:1.25"
    And pod "bare" is running within 1 minute
    When I try to drain the node running pod "bare"
    Then the drain was refused with "cannot delete Pods that declare no controller (use --force to override)"
    When I force-drain the node running pod "bare"
    Then pod "bare" does not exist within 1 minute
