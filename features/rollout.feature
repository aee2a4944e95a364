@rollout
Feature: Releases roll forward and back
  A new image rolls out pod by pod within maxSurge and maxUnavailable (25% each by
  default), so a Service in front never runs out of ready pods. A release that cannot
  start is reported once its progress deadline passes, and rolling back — to the previous
  revision or a named one — brings the old template back as a new revision.

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

  Scenario: A restart replaces every pod without dropping a request
    When I restart deployment "web"
    Then every pod of deployment "web" is replaced within 3 minutes
    And deployment "web" is at revision 2 within 30 seconds
    And no request to service "web" failed while that happened

  Scenario: A broken release is detected and rolled back
    When I update deployment "web" to image "nginx:0.0-missing"
    Then the rollout of deployment "web" fails with ProgressDeadlineExceeded within 11 minutes
    And no request to service "web" failed while that happened
    When I roll back deployment "web"
    Then deployment "web" runs "nginx:1.24" on 4 ready pods within 2 minutes
    And deployment "web" is at revision 3 within 30 seconds
    And the rollout history of deployment "web" has 2 revisions
    And no request to service "web" failed throughout

  Scenario: Roll back to a named revision
    When I update deployment "web" to image "nginx:1.25"
    Then the rollout of deployment "web" completes within 3 minutes
    When I update deployment "web" to image "nginx:1.26"
    Then the rollout of deployment "web" completes within 3 minutes
    When I roll back deployment "web" to revision 1
    Then deployment "web" runs "nginx:1.24" on 4 ready pods within 3 minutes
    And deployment "web" is at revision 4 within 30 seconds
    And the rollout history of deployment "web" has 3 revisions
    And no request to service "web" failed throughout

  Scenario: A paused rollout waits until it is resumed
    When I pause the rollout of deployment "web"
    And I update deployment "web" to image "nginx:1.25"
    Then deployment "web" keeps 4 pods on "nginx:1.24" for 1 minute
    When I resume the rollout of deployment "web"
    Then deployment "web" runs "nginx:1.25" on 4 ready pods within 3 minutes
    And no request to service "web" failed while that happened

  Scenario: Old revisions beyond the history limit are pruned
    Given deployment "web" keeps 1 old revision
    When I update deployment "web" to image "nginx:1.25"
    Then the rollout of deployment "web" completes within 3 minutes
    When I update deployment "web" to image "nginx:1.26"
    Then the rollout of deployment "web" completes within 3 minutes
    And deployment "web" has 2 replica sets within 1 minute
    And the rollout history of deployment "web" has 2 revisions
