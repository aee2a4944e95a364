@canary
Feature: A canary takes its share of traffic
  A canary deployment whose pods the stable Service also selects gets a share of the
  requests proportional to its ready replicas. Promoting it rolls the stable deployment
  to the canary's image; aborting it deletes the canary and all traffic is back on stable.

  Which pod answered is read from the answer itself: agnhost netexec's /hostname names the
  pod, on the simulator and on a real cluster alike.

  Background:
    Given a deployment "web" running "agnhost:2.52 netexec" with 4 replicas
    And a service "web" exposing deployment "web"
    And a deployment "web-canary" running "agnhost:2.53 netexec" with 1 replica behind service "web"
    And deployment "web" is available within 1 minute
    And deployment "web-canary" is available within 1 minute

  Scenario: The canary's share follows its ready replicas
    When 1000 requests are sent to service "web"
    Then about 20% of them were answered by deployment "web-canary"
    And about 80% of them were answered by deployment "web"
    And none of them failed

  Scenario: Promote the canary
    Given a steady load of 20 requests per second on service "web"
    When I promote deployment "web-canary" into deployment "web"
    Then deployment "web" runs "agnhost:2.53" on 4 ready pods within 3 minutes
    And service "web" routes only to pods of deployment "web" within 1 minute
    And no request to service "web" failed while that happened

  Scenario: Abort the canary
    When I delete deployment "web-canary"
    Then service "web" routes only to pods of deployment "web" within 1 minute
    When 200 requests are sent to service "web"
    Then all of them were answered by deployment "web"
    And deployment "web" runs "agnhost:2.52" on 4 ready pods within 1 minute
