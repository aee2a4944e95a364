@self-healing
Feature: Self-healing
  A deployment keeps its declared number of pods running. When a pod is deleted or its
  container crashes, Kubernetes replaces or restarts it without anyone stepping in. A pod
  that no controller owns is another matter: once deleted, it is gone for good.

  Background:
    Given a cluster with 1 control-plane node and 2 worker nodes
    And a deployment "web" running "nginx:1.25" with 3 replicas
    And deployment "web" is available within 1 minute

  @critical
  Scenario: A deleted pod is replaced
    When I delete a pod of deployment "web"
    Then deployment "web" has 3 ready pods within 30 seconds
    And the deleted pod no longer exists within 30 seconds

  Scenario: Several deleted pods are replaced at once
    When I delete 2 pods of deployment "web"
    Then deployment "web" has 3 ready pods within 30 seconds
    And the deleted pods no longer exist within 30 seconds

  Scenario: A bare pod is not replaced
    Given a pod "lonely" running "nginx:1.25"
    And pod "lonely" is running within 1 minute
    When I delete pod "lonely"
    Then pod "lonely" does not exist within 1 minute
    And no pod replaces the deleted pod for 2 minutes

  @critical
  Scenario: A crashing container is restarted in place
    When the container of a pod of deployment "web" crashes
    Then that pod has restarted 1 time within 30 seconds
    And deployment "web" has 3 ready pods within 30 seconds

  Scenario: A container that always crashes backs off longer and longer
    Given a deployment "crasher" running "busybox:1.36 sh -c 'exit 1'" with 1 replica
    Then a pod of deployment "crasher" is in CrashLoopBackOff within 1 minute
    And that pod has restarted 4 times within 5 minutes, each back-off longer than the last
    And deployment "web" has 3 ready pods for 1 minute

  Scenario: A pod of a bare replica set is replaced
    Given a replica set "cache" running "nginx:1.25" with 2 replicas
    And replica set "cache" has 2 ready pods within 1 minute
    When I delete a pod of replica set "cache"
    Then replica set "cache" has 2 ready pods within 30 seconds
    And the deleted pod no longer exists within 30 seconds

  @disruptive
  Scenario: Pods of a failed node move to the healthy nodes
    When a worker node running pods of deployment "web" fails
    Then that node is NotReady within 1 minute
    And deployment "web" has 3 ready pods, none on that node, within 6 minutes
    When that node recovers
    Then every node is Ready within 1 minute
