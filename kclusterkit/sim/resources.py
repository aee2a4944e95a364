"""The resource types the simulated API server serves, as discovery describes them.

One table drives storage keys, URL paths, discovery documents and kind lookups, so adding a
kind to the simulator is adding a row here plus its strategy in ``api``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = field(
        default=("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
    )
    categories: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        """Storage key, also the ``plural.group`` spelling errors and RBAC use."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def singular(self) -> str:
        return self.kind.lower()


RESOURCES: tuple[Resource, ...] = (
    Resource("", "v1", "Namespace", "namespaces", False, ("ns",), ("status", "finalize")),
    Resource("", "v1", "Node", "nodes", False, ("no",), ("status", "proxy")),
    Resource(
        "",
        "v1",
        "Pod",
        "pods",
        True,
        ("po",),
        ("status", "log", "exec", "binding", "eviction"),
        categories=("all",),
    ),
    Resource(
        "", "v1", "Service", "services", True, ("svc",), ("status", "proxy"), categories=("all",)
    ),
    Resource("", "v1", "Endpoints", "endpoints", True, ("ep",)),
    Resource("", "v1", "Event", "events", True, ("ev",)),
    Resource("", "v1", "ConfigMap", "configmaps", True, ("cm",)),
    Resource("", "v1", "Secret", "secrets", True),
    Resource("", "v1", "ServiceAccount", "serviceaccounts", True, ("sa",), ("token",)),
    Resource("", "v1", "PersistentVolume", "persistentvolumes", False, ("pv",), ("status",)),
    Resource(
        "", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, ("pvc",), ("status",)
    ),
    Resource(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        True,
        ("deploy",),
        ("status", "scale"),
        categories=("all",),
    ),
    Resource(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        True,
        ("rs",),
        ("status", "scale"),
        categories=("all",),
    ),
    Resource("apps", "v1", "ControllerRevision", "controllerrevisions", True),
    Resource("apps", "v1", "DaemonSet", "daemonsets", True, ("ds",), ("status",),
             categories=("all",)),
    Resource("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", True),
    Resource("coordination.k8s.io", "v1", "Lease", "leases", True),
    Resource("events.k8s.io", "v1", "Event", "events", True, ("ev",)),
    Resource(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        True,
        ("hpa",),
        ("status",),
        categories=("all",),
    ),
    Resource("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ("sc",)),
    Resource("rbac.authorization.k8s.io", "v1", "Role", "roles", True),
    Resource("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True),
    Resource("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False),
    Resource("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False),
    Resource("apps", "v1", "StatefulSet", "statefulsets", True, ("sts",), ("status", "scale"),
             categories=("all",)),
    Resource("batch", "v1", "Job", "jobs", True, (), ("status",), categories=("all",)),
    Resource("batch", "v1", "CronJob", "cronjobs", True, ("cj",), ("status",),
             categories=("all",)),
    Resource("", "v1", "ReplicationController", "replicationcontrollers", True, ("rc",),
             ("status", "scale"), categories=("all",)),
    # Create-only reviews nothing stores (sim.auth.reviews answers them).
    *(Resource(group, "v1", kind, kind.lower() + "s", namespaced, verbs=("create",))
      for group, kind, namespaced in (
          ("authentication.k8s.io", "TokenReview", False),
          ("authentication.k8s.io", "SelfSubjectReview", False),
          ("authorization.k8s.io", "LocalSubjectAccessReview", True),
          ("authorization.k8s.io", "SelfSubjectAccessReview", False),
          ("authorization.k8s.io", "SelfSubjectRulesReview", False),
          ("authorization.k8s.io", "SubjectAccessReview", False))),
    Resource("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ("pdb",),
             ("status",)),
    Resource("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True,
             ("netpol",)),
    Resource("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False, ("pc",)),
    Resource("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", False, (),
             ("status",)),
    # CustomResourceDefinitions and APIServices (sim.apiextensions); the custom resources
    # themselves are per cluster, in Api.custom.
    Resource("apiextensions.k8s.io", "v1", "CustomResourceDefinition",
             "customresourcedefinitions", False, ("crd", "crds"), ("status",),
             categories=("api-extensions",)),
    Resource("apiregistration.k8s.io", "v1", "APIService", "apiservices", False, (),
             ("status",), categories=("api-extensions",)),
    # Served in a second version, stored as autoscaling/v2's row (sim/conversion.py
    # converts; storage_of finds the stored row).
    Resource("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True,
             ("hpa",), ("status",), categories=("all",)),
)

_BY_KIND: dict[tuple[str, str], Resource] = {}
_BY_PLURAL: dict[tuple[str, str], Resource] = {}
STORAGE: dict[str, Resource] = {}
for _res in RESOURCES:
    _BY_KIND.setdefault((_res.api_version, _res.kind), _res)
    _BY_PLURAL.setdefault((_res.group, _res.plural), _res)
    # The first row of a kind is its storage version; later rows are other served versions.
    STORAGE.setdefault(_res.key, _res)


def storage_of(res: Resource) -> Resource:
    """The row whose version the store keeps ``res``'s objects in (``res`` itself but for
    another served version of a kind, as autoscaling/v1 HorizontalPodAutoscaler). A custom
    resource is not in this table: its objects are kept as they were written."""
    return STORAGE.get(res.key, res)


class UnknownResource(LookupError):
    pass


def for_kind(api_version: str, kind: str) -> Resource:
    try:
        return _BY_KIND[(api_version, kind)]
    except KeyError:
        raise UnknownResource(f'no matches for kind "{kind}" in version "{api_version}"') from None


def for_plural(group: str, plural: str) -> Resource:
    try:
        return _BY_PLURAL[(group, plural)]
    except KeyError:
        raise UnknownResource(
            f"the server could not find the requested resource ({plural})"
        ) from None


def lookup(name: str) -> Resource:
    """A resource by the names kubectl accepts: kind, plural, singular or short name."""
    lowered = name.lower()
    group = ""
    if "." in lowered:
        lowered, group = lowered.split(".", 1)
    for res in RESOURCES:
        if group and res.group != group:
            continue
        if lowered in (res.plural, res.singular, res.kind.lower(), *res.short_names):
            return res
    raise UnknownResource(f'the server doesn\'t have a resource type "{name}"')


# Shorthands the components use.
NAMESPACES = _BY_PLURAL[("", "namespaces")]
NODES = _BY_PLURAL[("", "nodes")]
PODS = _BY_PLURAL[("", "pods")]
SERVICES = _BY_PLURAL[("", "services")]
ENDPOINTS = _BY_PLURAL[("", "endpoints")]
EVENTS = _BY_PLURAL[("", "events")]
LEASES = _BY_PLURAL[("coordination.k8s.io", "leases")]
DEPLOYMENTS = _BY_PLURAL[("apps", "deployments")]
REPLICASETS = _BY_PLURAL[("apps", "replicasets")]
ENDPOINTSLICES = _BY_PLURAL[("discovery.k8s.io", "endpointslices")]
HPAS = _BY_PLURAL[("autoscaling", "horizontalpodautoscalers")]
PVS = _BY_PLURAL[("", "persistentvolumes")]
PVCS = _BY_PLURAL[("", "persistentvolumeclaims")]
DAEMONSETS = _BY_PLURAL[("apps", "daemonsets")]
STORAGECLASSES = _BY_PLURAL[("storage.k8s.io", "storageclasses")]
STATEFULSETS = _BY_PLURAL[("apps", "statefulsets")]
JOBS = _BY_PLURAL[("batch", "jobs")]
CRONJOBS = _BY_PLURAL[("batch", "cronjobs")]
REPLICATIONCONTROLLERS = _BY_PLURAL[("", "replicationcontrollers")]
CONTROLLERREVISIONS = _BY_PLURAL[("apps", "controllerrevisions")]
PDBS = _BY_PLURAL[("policy", "poddisruptionbudgets")]
NETWORKPOLICIES = _BY_PLURAL[("networking.k8s.io", "networkpolicies")]
PRIORITYCLASSES = _BY_PLURAL[("scheduling.k8s.io", "priorityclasses")]
VOLUMEATTACHMENTS = _BY_PLURAL[("storage.k8s.io", "volumeattachments")]
