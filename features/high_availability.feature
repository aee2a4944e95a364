@high-availability @disruptive
Feature: Several control-plane nodes keep the cluster manageable
  With one control-plane node, its failure leaves the cluster unmanageable while the pods
  already running keep serving. With three, etcd keeps its quorum, another API server
  answers, and the scheduler and controller manager of another node take the leases, so
  the cluster keeps healing itself.

  The scenarios tagged @ha need 3 control-plane nodes: make test runs them against clusters
  of that shape (environments/sim-ha.yaml in process, sim-ha-api.yaml served).

  Scenario: Losing the only control-plane node leaves running pods serving
    Given a cluster with 1 control-plane node and 2 worker nodes
    And a deployment "web" running "nginx:1.25" with 3 replicas
    And a service "web" exposing deployment "web"
    And deployment "web" is available within 1 minute
    And a steady load of 10 requests per second on service "web"
    When the control-plane node fails
    Then the API server does not answer for 1 minute
    When that node recovers
    Then the API server answers within 1 minute
    And no request to service "web" failed throughout

  @ha
  Scenario: Three control-plane nodes survive losing one
    Given a cluster with 3 control-plane nodes and 2 worker nodes
    And a deployment "web" running "nginx:1.25" with 3 replicas
    And deployment "web" is available within 1 minute
    When a control-plane node fails
    Then the API server answers within 30 seconds
    And the scheduler's lease is held by a node other than that node within 30 seconds
    And the controller manager's lease is held by a node other than that node within 30 seconds
    When I delete a pod of deployment "web"
    Then deployment "web" has 3 ready pods within 1 minute
    When that node recovers
    Then every pod in kube-system is running within 2 minutes

  @ha
  Scenario: Losing two of three control-plane nodes loses etcd's quorum
    Given a cluster with 3 control-plane nodes and 2 worker nodes
    And a deployment "web" running "nginx:1.25" with 2 replicas
    And deployment "web" is available within 1 minute
    When control-plane node "control-plane-2" fails
    Then the cluster can be managed within 30 seconds
    When control-plane node "control-plane-3" fails
    Then the API server does not answer for 30 seconds
    When control-plane node "control-plane-3" recovers
    Then the API server answers within 30 seconds
    And deployment "web" has 2 ready pods within 30 seconds
    When control-plane node "control-plane-2" recovers
    Then every pod in kube-system is running within 2 minutes

  @ha
  Scenario: A stopped scheduler's lease moves to another control-plane node
    Given a cluster with 3 control-plane nodes and 2 worker nodes
    And a deployment "web" running "nginx:1.25" with 2 replicas
    And deployment "web" is available within 1 minute
    When the scheduler on node "control-plane" stops
    And the scheduler on node "control-plane-2" stops
    Then the scheduler's lease is held by node "control-plane-3" within 30 seconds
    When I scale deployment "web" to 4 replicas
    Then deployment "web" has 4 ready pods within 1 minute
    When the scheduler on node "control-plane" starts again
    And the scheduler on node "control-plane-2" starts again
