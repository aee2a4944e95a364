@stateful
Feature: Stateful sets keep their names, their order and their data
  A stateful set's pods are numbered from 0, start one after another, are found by name
  through the set's headless service, and each keeps its own claim: a replaced pod comes
  back with the same name and the same volume, and scaling in leaves the claims behind.

  Scenario: Pods start in order with stable names
    Given a stateful set "web" running "busybox:1.36 sleep 3600" with 3 replicas
    Then stateful set "web" has 3 ready pods within 3 minutes
    And the pods of stateful set "web" are named "web-0, web-1, web-2"
    And the pods of stateful set "web" started one after another in order

  Scenario: Each pod has its own DNS name through the headless service
    Given a stateful set "web" running "busybox:1.36 sleep 3600" with 2 replicas started in parallel
    Then stateful set "web" has 2 ready pods within 2 minutes
    And in pod "web-0" the name "web-1.web" resolves to the IP of pod "web-1" within 1 minute
    And in pod "web-1" the name "web-0.web.{namespace}.svc.cluster.local" resolves to the IP of pod "web-0" within 1 minute

  @storage
  Scenario: A replaced pod keeps its name, its claim and its data
    Given the cluster has a default StorageClass
    And a stateful set "db" running "busybox:1.36 sleep 3600" with 2 replicas, each with a claim of 1Gi mounted at "/data"
    Then stateful set "db" has 2 ready pods within 3 minutes
    When I run "sh -c 'echo kept > /data/f'" in pod "db-0"
    And I delete pod "db-0"
    Then pod "db-0" of stateful set "db" keeps its claim within 2 minutes
    And in pod "db-0" the file "/data/f" contains "kept"

  @storage
  Scenario: Scaling in removes the highest pods and keeps their claims
    Given the cluster has a default StorageClass
    And a stateful set "db" running "busybox:1.36 sleep 3600" with 3 replicas, each with a claim of 1Gi mounted at "/data"
    Then stateful set "db" has 3 ready pods within 3 minutes
    When I scale stateful set "db" to 1 replica
    Then stateful set "db" has 1 ready pod within 2 minutes
    And the pods of stateful set "db" are named "db-0"
    And claims "data-db-0, data-db-1, data-db-2" exist
