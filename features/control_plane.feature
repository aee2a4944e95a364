@control-plane @disruptive
Feature: The control plane is made of parts that fail
  The API server is the only way in, etcd holds the cluster's state, the scheduler decides
  where a pod runs and the controller manager makes it so. Each runs as a static pod in
  kube-system on the control-plane node; when one stops, the work it does stops with it,
  the pods already running keep running, and the work resumes when it returns.

  Background:
    Given a cluster with 1 control-plane node and 2 worker nodes
    And a deployment "web" running "nginx:1.25" with 3 replicas
    And deployment "web" is available within 1 minute

  Scenario: Every component runs as a pod in kube-system
    Then every pod in kube-system is running within 2 minutes
    And every control-plane node runs its control-plane pods within 1 minute

  Scenario: Without a scheduler new pods wait, and are placed when it returns
    When the scheduler stops
    And I scale deployment "web" to 5 replicas
    Then 2 pods of deployment "web" stay Pending for 1 minute
    When the scheduler starts again
    Then deployment "web" has 5 ready pods within 1 minute

  Scenario: Without a controller manager a deleted pod is not replaced until it returns
    When the controller manager stops
    And I delete a pod of deployment "web"
    Then deployment "web" has 2 ready pods for 1 minute
    When the controller manager starts again
    Then deployment "web" has 3 ready pods within 1 minute

  Scenario: Without its API server the cluster cannot be managed, and its pods keep running
    When the API server stops
    Then the API server does not answer for 30 seconds
    When the API server starts again
    Then the API server answers within 30 seconds
    And the cluster can be managed within 30 seconds
    And deployment "web" has 3 ready pods within 10 seconds

  Scenario: Without etcd the API server cannot serve; the data is still there after
    When etcd stops
    Then the API server does not answer for 30 seconds
    When etcd starts again
    Then the API server answers within 30 seconds
    And deployment "web" has 3 ready pods within 30 seconds

  Scenario: A restart of the API server loses no object
    When the API server restarts
    Then the API server answers within 30 seconds
    And deployment "web" has 3 ready pods within 30 seconds

  Scenario: Losing the only control-plane node leaves the cluster unmanageable until it returns
    When the control-plane node fails
    Then the API server does not answer for 1 minute
    When that node recovers
    Then the API server answers within 1 minute
    And the cluster can be managed within 1 minute
    And deployment "web" has 3 ready pods within 1 minute

  Scenario: Without CoreDNS names stop resolving
    Given a service "web" exposing deployment "web"
    And a pod "client" running "busybox:1.36 sleep 3600"
    And pod "client" is running within 1 minute
    Then in pod "client" the name "web" resolves to the cluster IP of service "web"
    When cluster DNS stops
    Then cluster DNS has no ready pod within 1 minute
    And in pod "client" the name "web" does not resolve
    When cluster DNS starts again
    Then cluster DNS is ready within 1 minute
    And in pod "client" the name "web" resolves to the cluster IP of service "web"
