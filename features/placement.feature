@placement
Feature: Pods go where their placement rules say
  Replicas are kept apart (one per node, spread over zones), steered to the nodes that
  have what they need (labels, node affinity) and kept off others (taints). What cannot
  be placed stays Pending with the scheduler's reason. The cluster has two zones, zone-a
  and zone-b, one worker in each.

  Scenario: No two replicas share a node, and the one too many waits
    Given a deployment "web" running "nginx:1.25" with 3 replicas, no two on the same node
    Then 1 pod of deployment "web" is Pending within 1 minute
    And the scheduler reports "didn't match pod anti-affinity rules" for them
    And the pods of deployment "web" run on 2 different nodes within 1 minute
    And no two pods of deployment "web" share a node

  Scenario: Replicas spread evenly over the zones
    Given a deployment "web" running "nginx:1.25" with 4 replicas spread over zones with a maximum skew of 1
    Then deployment "web" has 4 ready pods within 1 minute
    And the pods of deployment "web" run in 2 different zones within 10 seconds
    And the pods of deployment "web" are spread over zones within a skew of 1

  Scenario: A label steers pods to a node, and removing it strands new ones
    Given node "worker-2" is labelled "disk=ssd"
    And a deployment "db" running "nginx:1.25" with 2 replicas on nodes labelled "disk=ssd"
    Then deployment "db" has 2 ready pods within 1 minute
    And every pod of deployment "db" runs on a node labelled "disk=ssd"
    And none of the pods of deployment "db" is on node "worker-1"
    When I remove label "disk" from node "worker-2"
    And I scale deployment "db" to 3 replicas
    Then 1 pod of deployment "db" is Pending within 1 minute
    And the scheduler reports "didn't match Pod's node affinity/selector" for them
    And deployment "db" has 2 ready pods within 10 seconds

  Scenario: A preferred label draws pods without forcing them
    Given node "worker-1" is labelled "cache=warm"
    And a deployment "cache" running "nginx:1.25" with 2 replicas preferring nodes labelled "cache=warm"
    Then deployment "cache" has 2 ready pods within 1 minute
    And the pods of deployment "cache" run on 1 different node within 10 seconds
    And every pod of deployment "cache" runs on a node labelled "cache=warm"

  Scenario: Pods follow the pods they must run beside
    Given a deployment "web" running "nginx:1.25" with 1 replica
    And deployment "web" is available within 1 minute
    And a deployment "sidecar" running "nginx:1.25" with 3 replicas beside the pods of deployment "web"
    Then deployment "sidecar" has 3 ready pods within 1 minute
    And the pods of deployment "sidecar" run on 1 different node within 10 seconds

  Scenario: A taint keeps pods off a node until they tolerate it or it is removed
    Given node "worker-1" is tainted "dedicated=db:NoSchedule"
    And a deployment "web" running "nginx:1.25" with 3 replicas
    Then deployment "web" has 3 ready pods within 1 minute
    And none of the pods of deployment "web" is on node "worker-1"
    Given a deployment "db" running "nginx:1.25" with 4 replicas tolerating "dedicated=db:NoSchedule"
    Then deployment "db" has 4 ready pods within 1 minute
    And the pods of deployment "db" run on 2 different nodes within 10 seconds

  Scenario: A pod of higher priority makes room by preempting one of lower priority
    Given a priority class "batch" with value 100
    And a priority class "critical" with value 1000
    And a deployment "jobs" of priority class "batch" running "nginx:1.25" with 2 replicas each requesting most of a worker node's CPU
    And deployment "jobs" is available within 1 minute
    When a pod "urgent" of priority class "critical" running "nginx:1.25" requests most of a worker node's CPU
    Then pod "urgent" preempts 1 pod of deployment "jobs" within 1 minute
    And pod "urgent" is running within 2 minutes
    And 1 pod of deployment "jobs" is Pending within 1 minute
    And the scheduler reports "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling" for them

  Scenario: A class that never preempts waits for room instead
    Given a priority class "batch" with value 100
    And a priority class "polite" with value 1000 that never preempts
    And a deployment "jobs" of priority class "batch" running "nginx:1.25" with 2 replicas each requesting most of a worker node's CPU
    And deployment "jobs" is available within 1 minute
    When a pod "patient" of priority class "polite" running "nginx:1.25" requests most of a worker node's CPU
    Then pod "patient" is Pending with "preemption: not eligible due to preemptionPolicy=Never." within 30 seconds
    And no pod of deployment "jobs" was preempted
