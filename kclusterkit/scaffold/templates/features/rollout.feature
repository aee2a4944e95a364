@rollout
Feature: Releases roll forward without dropping a request

  Background:
    Given a deployment "web" running "nginx:1.24" with 4 replicas
    And a service "web" exposing deployment "web"
    And deployment "web" is available within 1 minute
    And a steady load of 20 requests per second on service "web"

  Scenario: A rolling update never drops a request
    When I update deployment "web" to image "nginx:1.25"
    Then deployment "web" runs "nginx:1.25" on 4 ready pods within 3 minutes
    And the rollout of deployment "web" completes within 1 minute
    And no request to service "web" failed while that happened
