@storage
Feature: Data outlives pods
  A claim asks the cluster's default StorageClass for a volume. What a pod writes there
  belongs to the volume, not the pod: a replacement pod mounting the same claim finds it.
  A pod whose claim does not exist is never started, and a claim in use is not deleted
  from under its pod. A network-attached volume follows its pod to any node, attached to
  one node at a time, and a claim of a class that allows it grows while in use.

  Background:
    Given the cluster has a default StorageClass

  @critical
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
    Then the pod of deployment "db" is unschedulable because "persistentvolumeclaim" within 1 minute
    And the pod of deployment "db" is unschedulable because "not found" within 1 minute
    And the pod of deployment "db" stays Pending for 1 minute

  Scenario: A claim waits for its first pod, and its volume then keeps that pod's node
    Given the default StorageClass waits for the first consumer
    And a persistent volume claim "data" of 1Gi
    Then claim "data" is Pending with event "WaitForFirstConsumer" within 30 seconds
    And claim "data" stays Pending for 30 seconds
    Given a deployment "db" running "busybox:1.36 sleep 3600" with 1 replica, mounting claim "data" at "/data"
    Then claim "data" is Bound within 2 minutes
    And deployment "db" has 1 ready pod within 2 minutes
    And the volume of claim "data" is on the node of the pod of deployment "db"
    When I delete a pod of deployment "db"
    Then deployment "db" has 1 ready pod within 2 minutes
    And the volume of claim "data" is on the node of the pod of deployment "db"

  Scenario: A claim in use is kept until its pod is gone
    Given a persistent volume claim "data" of 1Gi
    And a deployment "db" running "busybox:1.36 sleep 3600" with 1 replica, mounting claim "data" at "/data"
    And deployment "db" has 1 ready pod within 2 minutes
    When I delete claim "data"
    Then claim "data" is still Terminating for 30 seconds
    When I scale deployment "db" to 0 replicas
    Then claim "data" no longer exists within 2 minutes

  Scenario: A database keeps its rows when its pod is replaced
    Given a persistent volume claim "data" of 1Gi
    And a deployment "db" running "mysql:8.0" with 1 replica, mounting claim "data" at "/var/lib/mysql"
    Then in the pod of deployment "db" the command "mysql -uroot -pkclusterkit -e 'CREATE DATABASE IF NOT EXISTS shop; CREATE TABLE IF NOT EXISTS shop.orders (id INT); SELECT COUNT(*) FROM shop.orders'" prints "0" within 3 minutes
    When I run "mysql -uroot -pkclusterkit -e 'INSERT INTO shop.orders VALUES (1), (2)'" in the pod of deployment "db"
    Then it succeeds
    When I delete a pod of deployment "db"
    Then in the pod of deployment "db" the command "mysql -uroot -pkclusterkit -N -e 'SELECT COUNT(*) FROM shop.orders'" prints "2" within 3 minutes

  Scenario: A postgres database keeps its rows when its pod is replaced
    Given a persistent volume claim "data" of 1Gi
    And a deployment "db" running "postgres:16" with 1 replica, mounting claim "data" at "/var/lib/postgresql/data"
    Then in the pod of deployment "db" the command "psql -U postgres -c 'CREATE TABLE IF NOT EXISTS orders (id int)'" prints "CREATE TABLE" within 3 minutes
    When I run "psql -U postgres -c 'INSERT INTO orders VALUES (1), (2), (3)'" in the pod of deployment "db"
    Then it prints "INSERT 0 3"
    When I delete a pod of deployment "db"
    Then in the pod of deployment "db" the command "psql -U postgres -tAc 'SELECT count(*) FROM orders'" prints "3" within 3 minutes

  Scenario: A network-attached volume follows its pod to another node, one node at a time
    Given the cluster has a network-attached StorageClass
    And a persistent volume claim "data" of 1Gi on the network-attached StorageClass
    And a pod "writer" running "busybox:1.36 sleep 3600", mounting claim "data" at "/data"
    Then pod "writer" is running within 2 minutes
    When I run "sh -c 'echo hello > /data/probe.txt'" in pod "writer"
    Given a pod "reader" running "busybox:1.36 sleep 3600", mounting claim "data" at "/data", on another node than pod "writer"
    Then pod "reader" waits with a Multi-Attach error within 1 minute
    When I delete pod "writer"
    Then pod "reader" is running within 3 minutes
    And in pod "reader" the file "/data/probe.txt" contains "hello"

  Scenario: A claim of an expandable class grows while its pod runs
    Given the cluster has a network-attached StorageClass
    And the network-attached StorageClass allows volume expansion
    And a persistent volume claim "data" of 1Gi on the network-attached StorageClass
    And a pod "app" running "busybox:1.36 sleep 3600", mounting claim "data" at "/data"
    Then pod "app" is running within 2 minutes
    When I resize claim "data" to 2Gi
    Then claim "data" is resized to 2Gi within 2 minutes
    And resizing claim "data" to 1Gi is refused with "field can not be less than status.capacity"
