"""Which fields each kind can be selected by (``fieldSelector``), as upstream converts them.

The API server passes every field selector term through the kind's field label conversion
before listing or watching; an unknown label is a 400, never an empty or a full list.
Tables from pkg/apis/core/v1/conversion.go (Pod, Node, Event, Namespace, Secret, Service,
ReplicationController) and pkg/apis/apps/v1/conversion.go (ReplicaSet); every other kind
uses runtime.DefaultMetaV1FieldSelectorConversion (metadata.name and metadata.namespace,
with its own wording). events.k8s.io Events are left unchecked (knowingly lenient).
"""

from __future__ import annotations

from kclusterkit.sim.resources import Resource

_CORE_EVENT = ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
               "involvedObject.uid", "involvedObject.apiVersion",
               "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
               "reportingComponent", "source", "type", "metadata.namespace", "metadata.name")
SUPPORTED: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "Pod"): ("metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy",
                  "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork",
                  "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName"),
    ("", "Node"): ("metadata.name", "spec.unschedulable"),
    ("", "ReplicationController"): ("metadata.name", "metadata.namespace", "status.replicas"),
    ("", "Event"): _CORE_EVENT,
    ("", "Namespace"): ("status.phase", "metadata.name"),
    ("", "Secret"): ("type", "metadata.namespace", "metadata.name"),
    ("", "Service"): ("metadata.namespace", "metadata.name", "spec.clusterIP", "spec.type"),
    ("apps", "ReplicaSet"): ("metadata.name", "metadata.namespace", "status.replicas"),
}
# Old v1 clients send spec.host for pods.
_RENAMED = {("", "Pod", "spec.host"): "spec.nodeName"}
_UNCHECKED = {("events.k8s.io", "Event")}


class FieldLabelError(ValueError):
    pass


def convert(res: Resource, label: str) -> str:
    """The label to select on; raises FieldLabelError with upstream's message."""
    kind = (res.group, res.kind)
    if kind in _UNCHECKED:
        return label
    renamed = _RENAMED.get((*kind, label))
    if renamed is not None:
        return renamed
    supported = SUPPORTED.get(kind)
    if supported is None:
        if label in ("metadata.name", "metadata.namespace"):
            return label
        raise FieldLabelError(f'"{label}" is not a known field selector: only '
                              '"metadata.name", "metadata.namespace"')
    if label not in supported:
        raise FieldLabelError(f"field label not supported: {label}")
    return label
