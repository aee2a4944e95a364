@discovery
Feature: Pods find Services by name
  A pod reaches a Service by its DNS name — short, namespaced or fully qualified — and
  pods created after a Service also find it in their environment. Names that no Service
  owns do not resolve. "{namespace}" stands for the scenario's namespace.

  Background:
    Given a deployment "echo" running "agnhost:2.53 netexec" with 3 replicas
    And a service "echo" on port 80 targeting port 8080 of deployment "echo"
    And a pod "client" running "busybox:1.36 sleep 3600"
    And pod "client" is running within 1 minute

  Scenario: A pod finds a service by its short and its full DNS name
    Then in pod "client" the name "echo" resolves to the cluster IP of service "echo"
    And in pod "client" the name "echo.{namespace}" resolves to the cluster IP of service "echo"
    And in pod "client" the name "echo.{namespace}.svc.cluster.local" resolves to the cluster IP of service "echo"

  Scenario: Every pod finds the API server's own service
    Then in pod "client" the name "kubernetes.default" resolves to the cluster IP of service "default/kubernetes"

  Scenario: A name no service owns does not resolve
    Then in pod "client" the name "nope" does not resolve

  Scenario: A pod created after a service sees it in its environment
    Then pod "client" sees ECHO_SERVICE_HOST set to the cluster IP of service "echo"
    And pod "client" sees ECHO_SERVICE_PORT set to "80"

  Scenario: A pod knows its own name
    When I run "hostname" in pod "client"
    Then it prints "client"

  Scenario: A command that does not exist fails as a shell says
    When I run "sh -c 'no-such-command'" in pod "client"
    Then it fails with exit code 127

  Scenario: A file written in a pod can be read back
    When I run "sh -c 'echo hello > /tmp/x'" in the pod of deployment "echo"
    Then in the pod of deployment "echo" the file "/tmp/x" contains "hello" within 1 minute
