"""Service accounts: the default one, admission, projected tokens and their life span."""

from __future__ import annotations

import pytest

from kclusterkit.sim.auth.admission import MOUNT_PATH
from kclusterkit.sim.auth.reviews import token_request
from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.errors import StatusError
from kclusterkit.sim.resources import PODS, for_plural

SAS = for_plural("", "serviceaccounts")


def _pod(name: str, sa: str | None = None, **spec: object) -> dict:
    body: dict = {"containers": [{"name": "c", "image": "busybox:1.36",
                                  "command": ["sleep", "3600"]}], **spec}
    if sa:
        body["serviceAccountName"] = sa
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "team"},
            "spec": body}


@pytest.fixture
def cluster() -> Cluster:
    c = Cluster(ClusterSpec(worker_nodes=1), seed=4)
    c.api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    return c


def test_every_namespace_gets_a_default_service_account_back(cluster: Cluster) -> None:
    assert cluster.store.get(SAS, "team", "default") is not None
    cluster.api.delete(SAS, "team", "default")
    cluster.advance(1)
    assert cluster.store.get(SAS, "team", "default") is not None


def test_a_pod_naming_a_missing_service_account_is_refused(cluster: Cluster) -> None:
    with pytest.raises(StatusError) as refused:
        cluster.api.create(_pod("p", "nobody"))
    assert refused.value.code == 403
    assert refused.value.message == ('pods "p" is forbidden: error looking up service account '
                                     'team/nobody: serviceaccount "nobody" not found')


def test_the_token_is_mounted_unless_automount_is_off(cluster: Cluster) -> None:
    made = cluster.api.create(_pod("p"))
    assert made["spec"]["serviceAccountName"] == "default"
    volume = made["spec"]["volumes"][-1]
    assert volume["name"].startswith("kube-api-access-")
    assert made["spec"]["containers"][0]["volumeMounts"][-1]["mountPath"] == MOUNT_PATH
    off = cluster.api.create(_pod("q", automountServiceAccountToken=False))
    assert "volumes" not in off["spec"] or not off["spec"]["volumes"]
    cluster.api.create({"apiVersion": "v1", "kind": "ServiceAccount",
                        "metadata": {"name": "quiet", "namespace": "team"},
                        "automountServiceAccountToken": False})
    assert not cluster.api.create(_pod("r", "quiet"))["spec"].get("volumes")


def test_a_projected_token_authenticates_until_its_pod_is_gone(cluster: Cluster) -> None:
    cluster.api.create(_pod("p"))
    cluster.advance(30)
    code, token, _ = cluster.nodes.exec("team", "p", ["cat", MOUNT_PATH + "/token"])
    assert code == 0
    user = cluster.access.authenticate(f"Bearer {token.strip()}")
    assert user.name == "system:serviceaccount:team:default"
    assert cluster.nodes.exec("team", "p", ["cat", MOUNT_PATH + "/namespace"])[1] == "team"
    cluster.api.delete(PODS, "team", "p", grace_period=0)
    cluster.advance(5)
    with pytest.raises(StatusError) as gone:
        cluster.access.authenticate(f"Bearer {token.strip()}")
    assert gone.value.code == 401


def test_token_requests_expire_and_are_validated(cluster: Cluster) -> None:
    answer = token_request(cluster.access, "team", "default", {"spec": {}})
    assert answer["spec"]["expirationSeconds"] == 3600
    token = answer["status"]["token"]
    assert cluster.access.authenticate(f"Bearer {token}").name.endswith(":team:default")
    cluster.advance(3601)
    with pytest.raises(StatusError):
        cluster.access.authenticate(f"Bearer {token}")
    with pytest.raises(StatusError) as short:
        token_request(cluster.access, "team", "default", {"spec": {"expirationSeconds": 60}})
    assert short.value.code == 422
    assert short.value.message == (
        'TokenRequest.authentication.k8s.io "default" is invalid: spec.expirationSeconds: '
        "Invalid value: 60: may not specify a duration less than 10 minutes")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(StatusError):
        cluster.access.authenticate(f"Bearer {tampered}")
