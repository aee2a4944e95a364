@storage
Feature: Data outlives pods
  A claim asks the cluster's default StorageClass for a volume; what a pod writes there
  belongs to the volume, so the pod that replaces it finds it. A pod whose claim does not
  exist is never started.

  Background:
    Given the cluster has a default StorageClass

  Scenario: A file survives the replacement of its pod
    Given a persistent volume claim "data" of 1Gi
    And a deployment "db" running "busybox:1.36 sleep 3600" with 1 replica, mounting claim "data" at "/data"
    Then claim "data" is Bound within 2 minutes
    And deployment "db" has 1 ready pod within 2 minutes
    When I run "sh -c 'echo hello > /data/probe.txt'" in the pod of deployment "db"
    And I delete a pod of deployment "db"
    Then in the pod of deployment "db" the file "/data/probe.txt" contains "hello" within 2 minutes

  Scenario: A pod whose claim does not exist stays Pending
    Given a deployment "db" running "busybox:1.36 sleep 3600" with 1 replica, mounting claim "missing" at "/data"
    Then the pod of deployment "db" is unschedulable because "not found" within 1 minute
    And the pod of deployment "db" stays Pending for 1 minute
