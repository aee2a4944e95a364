"""The service account controller and the root CA publisher (kube-controller-manager's
``serviceaccount-controller`` and ``root-ca-cert-publisher``).

Every namespace gets a ``default`` ServiceAccount (pkg/controller/serviceaccount/
serviceaccounts_controller.go) and a ``kube-root-ca.crt`` ConfigMap holding the cluster's CA
(pkg/controller/certificates/rootcacertpublisher/publisher.go); both come back when
deleted. The pod's projected service account volume reads the CA from that ConfigMap.

Knowingly different in timing: both are created as the namespace is admitted, where
upstream's controllers react within milliseconds and the ServiceAccount admission plugin
retries its lookup of ``default`` ten times while they do (admission.go getServiceAccount):
a pod created right after its namespace is admitted on a real cluster too.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.kube.meta import Obj
from kclusterkit.sim import errors
from kclusterkit.sim.api import Api
from kclusterkit.sim.resources import NAMESPACES, for_plural

SERVICE_ACCOUNTS = for_plural("", "serviceaccounts")
CONFIG_MAPS = for_plural("", "configmaps")
DEFAULT_SA = "default"
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
ROOT_CA_ANNOTATION = "kubernetes.io/description"
ROOT_CA_DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters.")
# The in-process cluster serves no TLS: its bundle says so instead of posing as a certificate.
IN_PROCESS_CA = ("-----BEGIN CERTIFICATE-----\n"
                 "a simulated cluster without TLS has no CA; sim serve publishes its own\n"
                 "-----END CERTIFICATE-----\n")


class ServiceAccountsController:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store
        self.ca_pem = IN_PROCESS_CA
        for ns in list(self.store.iter(NAMESPACES)):
            self.sync(ns["metadata"]["name"])
        self.store.subscribe(NAMESPACES, self._on_namespace)
        self.store.subscribe(SERVICE_ACCOUNTS, self._on_owned)
        self.store.subscribe(CONFIG_MAPS, self._on_owned)

    def set_ca(self, pem: str) -> None:
        """The served simulator's CA: republish it in every namespace."""
        self.ca_pem = pem
        for ns in list(self.store.iter(NAMESPACES)):
            self.sync(ns["metadata"]["name"])

    def _on_namespace(self, etype: str, obj: Obj, old: Obj | None) -> None:
        if etype != "DELETED":
            self.sync(obj["metadata"]["name"])

    def _on_owned(self, etype: str, obj: Obj, old: Obj | None) -> None:
        name = obj["metadata"]["name"]
        if etype == "DELETED" and name in (DEFAULT_SA, ROOT_CA_CONFIGMAP):
            self.api.clock.call_soon(self.sync, obj["metadata"]["namespace"])
        elif etype == "MODIFIED" and name == ROOT_CA_CONFIGMAP:
            self.api.clock.call_soon(self.sync, obj["metadata"]["namespace"])

    def sync(self, namespace: str) -> None:
        ns = self.store.get(NAMESPACES, "", namespace)
        if ns is None or ns["metadata"].get("deletionTimestamp") or \
                self.api.unavailable_reason:
            return
        if self.store.get(SERVICE_ACCOUNTS, namespace, DEFAULT_SA) is None:
            self._create({"apiVersion": "v1", "kind": "ServiceAccount",
                          "metadata": {"name": DEFAULT_SA, "namespace": namespace}})
        data = {"ca.crt": self.ca_pem}
        current = self.store.get(CONFIG_MAPS, namespace, ROOT_CA_CONFIGMAP)
        if current is None:
            self._create({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": ROOT_CA_CONFIGMAP, "namespace": namespace,
                                       "annotations": {ROOT_CA_ANNOTATION:
                                                       ROOT_CA_DESCRIPTION}},
                          "data": data})
        elif current.get("data") != data:
            try:
                self.api.update({**current, "data": data})
            except errors.StatusError:
                pass

    def _create(self, obj: dict[str, Any]) -> None:
        try:
            self.api.create(obj)
        except errors.StatusError as exc:
            if exc.code not in (403, 404, 409):  # namespace going away, or a race
                raise
