@acceptance
Feature: A freshly provisioned cluster is fit for use
  Non-destructive checks to run right after a cluster is built. Each one works in a
  namespace of its own and removes it afterwards; what the cluster lacks (no pods in
  kube-system, no default StorageClass) is skipped with the reason, never passed.

  @nodes
  Scenario: Every node is Ready and reports its kubelet version
    Then every node is Ready within 2 minutes
    And every node reports its kubelet version

  @system-pods
  Scenario: The system pods are running
    Then every system pod is running within 2 minutes

  @network
  Scenario: The pod network carries traffic between pods on every pair of nodes
    Given a probe pod "server" running "agnhost:2.53 netexec" on every node
    And a probe pod "client" running "busybox:1.36 sleep 3600" on every node
    Then every probe pod "server" is running within 2 minutes
    And every probe pod "client" is running within 2 minutes
    And every probe pod "client" reaches every probe pod "server" on port 8080

  @dns
  Scenario: Cluster DNS answers for services and pods
    Given a pod "client" running "busybox:1.36 sleep 3600"
    And a probe pod "target" running "agnhost:2.53 netexec" on every node
    And pod "client" is running within 2 minutes
    And every probe pod "target" is running within 2 minutes
    Then in pod "client" the name "kubernetes.default" resolves to the cluster IP of service "default/kubernetes"
    And in pod "client" the DNS name of every probe pod "target" resolves to its IP

  @services
  Scenario: A Service's ClusterIP and its NodePort on every node serve nginx
    Given a pod "client" running "busybox:1.36 sleep 3600"
    And pod "client" is running within 2 minutes
    When I deploy "nginx:1.25" as "hello" with 2 replicas and expose it on a NodePort
    Then deployment "hello" is available within 2 minutes
    And service "hello" has 2 ready endpoints within 1 minute
    When I run "wget -qO- -T 5 http://hello" in pod "client"
    Then it prints "Welcome to nginx!"
    And from pod "client" the NodePort of service "hello" on every node answers "Welcome to nginx!"

  @storage
  Scenario: The default StorageClass provisions and binds a claim
    Given the cluster has a default StorageClass
    When I claim 1Gi of storage as "data" for pod "writer"
    Then claim "data" is Bound within 3 minutes

  @rbac
  Scenario: RBAC denies a service account that was granted nothing
    Given a service account "kk-unprivileged"
    Then service account "kk-unprivileged" cannot list pods
    And service account "kk-unprivileged" cannot create deployments.apps
    And service account "kk-unprivileged" cannot list secrets in namespace "kube-system"

  @api-latency
  Scenario: The API server answers a burst of requests within the SLO
    When I make 100 API requests in a burst
    Then the 99th percentile of their latency is at most 1000 ms
