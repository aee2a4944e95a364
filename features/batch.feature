@batch
Feature: Batch work runs to completion
  A job runs pods until enough of them succeed, retrying failures with a growing pause
  until its back-off limit; a cron job starts a job at every scheduled minute. An indexed
  job gives each pod its own index, and a pod failure policy can end a job at once.

  Scenario: A job runs its pod to completion
    Given a job "migrate" running "busybox:1.36 sh -c 'sleep 5'"
    Then job "migrate" completes within 1 minute

  Scenario: A job runs several pods, a few at a time
    Given a job "work" running "busybox:1.36 sh -c 'sleep 5'" with 4 completions, 2 at a time
    Then job "work" completes within 2 minutes
    And job "work" has run 4 pods to completion, at most 2 at a time

  Scenario: A failing job gives up after its back-off limit
    Given a job "flaky" running "busybox:1.36 sh -c 'exit 1'" with a back-off limit of 2
    Then job "flaky" fails after 3 attempts within 3 minutes

  Scenario: A cron job starts a job every minute
    Given a cron job "tick" running "busybox:1.36 sh -c 'date'" on schedule "*/1 * * * *"
    Then cron job "tick" has run 2 times within 3 minutes

  Scenario: An indexed job runs every index once
    Given an indexed job "shard" running "busybox:1.36 sh -c 'echo shard $JOB_COMPLETION_INDEX'" with 4 completions, 2 at a time
    Then job "shard" completed indexes "0-3" within 2 minutes

  Scenario: A pod failure policy ends a job at a fatal exit code
    Given a job "fatal" running "busybox:1.36 sh -c 'exit 42'" that fails as a whole on exit code 42
    Then job "fatal" fails with reason "PodFailurePolicy" within 1 minute
