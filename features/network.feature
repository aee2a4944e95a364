@network
Feature: Pods reach each other across nodes
  With the network plugin in, every pod can open a connection to every other pod by its
  IP, whichever node either runs on, and to a Service by its name; a port nobody listens
  on refuses. busybox in the client pod has nc, ping and hostname -i to check it by hand.

  Background:
    Given a deployment "echo" running "agnhost:2.53 netexec" with 2 replicas, no two on the same node
    And a service "echo" on port 80 targeting port 8080 of deployment "echo"
    And a pod "client" running "busybox:1.36 sleep 3600"
    And pod "client" is running within 1 minute
    And deployment "echo" is available within 1 minute

  Scenario: A pod reaches pods on every node by IP and through their Service
    Then the pods of deployment "echo" run on 2 different nodes within 10 seconds
    And pod "client" can reach every pod of deployment "echo" on port 8080 within 30 seconds
    And pod "client" can reach service "echo" on port 80 within 30 seconds

  Scenario: A port nobody listens on is not reachable
    Then pod "client" cannot reach any pod of deployment "echo" on port 9999 for 10 seconds
    And pod "client" cannot reach service "echo" on port 81 for 10 seconds

  Scenario: busybox says its own address; a Service's virtual IP does not answer ping
    When I run "hostname -i" in pod "client"
    Then it prints "10.244."
    When I run "ping -c 1 echo" in pod "client"
    Then it fails with exit code 1
