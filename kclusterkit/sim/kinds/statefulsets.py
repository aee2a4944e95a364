"""StatefulSets and ReplicationControllers as the API server admits them.

Defaults follow pkg/apis/apps/v1/defaults.go (SetDefaults_StatefulSet) and
pkg/apis/core/v1/defaults.go (SetDefaults_ReplicationController); validation follows
pkg/apis/apps/validation (ValidateStatefulSetSpec) and pkg/apis/core/validation
(ValidateReplicationControllerSpec) for the fields a scenario is likely to get wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kclusterkit.kube.meta import Obj
from kclusterkit.sim import validation as v
from kclusterkit.sim.kinds.apps import validate_selector_and_template
from kclusterkit.sim.kinds.pods import default_pod_template, validate_pod_spec
from kclusterkit.sim.resources import REPLICATIONCONTROLLERS, STATEFULSETS
from kclusterkit.sim.strategy import Cause, Strategy, register_strategy

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api


class StatefulSetStrategy(Strategy):
    tracks_generation = True

    def prepare_create(self, api: Api, obj: Obj) -> None:
        obj["status"] = {"replicas": 0, "availableReplicas": 0}

    def default(self, api: Api, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            return
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        strategy = spec.setdefault("updateStrategy", {})
        if isinstance(strategy, dict):
            strategy.setdefault("type", "RollingUpdate")
            if strategy["type"] == "RollingUpdate":
                rolling = strategy.setdefault("rollingUpdate", {})
                if isinstance(rolling, dict):
                    rolling.setdefault("partition", 0)
        spec.setdefault("revisionHistoryLimit", 10)
        retention = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
        if isinstance(retention, dict):
            retention.setdefault("whenDeleted", "Retain")
            retention.setdefault("whenScaled", "Retain")
        for template in spec.get("volumeClaimTemplates") or ():
            if isinstance(template, dict):
                template.setdefault("apiVersion", "v1")
                template.setdefault("kind", "PersistentVolumeClaim")
                template.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
                template.setdefault("status", {}).setdefault("phase", "Pending")
        default_pod_template(spec)

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [v.required("spec")]
        out = v.required_one_of("spec.podManagementPolicy", spec.get("podManagementPolicy"),
                                ["OrderedReady", "Parallel"])
        strategy = spec.get("updateStrategy") or {}
        out += v.required_one_of("spec.updateStrategy.type", strategy.get("type"),
                                 ["OnDelete", "RollingUpdate"])
        partition = (strategy.get("rollingUpdate") or {}).get("partition")
        if partition is not None:
            out += v.non_negative("spec.updateStrategy.rollingUpdate.partition", partition)
        retention = spec.get("persistentVolumeClaimRetentionPolicy") or {}
        for field in ("whenDeleted", "whenScaled"):
            out += v.required_one_of(f"spec.persistentVolumeClaimRetentionPolicy.{field}",
                                     retention.get(field), ["Retain", "Delete"])
        out += v.non_negative("spec.replicas", spec.get("replicas"))
        out += v.non_negative("spec.minReadySeconds", spec.get("minReadySeconds"))
        out += validate_selector_and_template(spec)
        for i, template in enumerate(spec.get("volumeClaimTemplates") or ()):
            if not (template.get("metadata") or {}).get("name"):
                out.append(v.required(f"spec.volumeClaimTemplates[{i}].metadata.name",
                                      "name or generateName is required"))
        if old is not None:
            # ValidateStatefulSetUpdate: only these spec fields may change.
            allowed = ("replicas", "template", "updateStrategy", "minReadySeconds",
                       "persistentVolumeClaimRetentionPolicy", "ordinals",
                       "revisionHistoryLimit")
            old_spec = {k: val for k, val in (old.get("spec") or {}).items() if k not in allowed}
            new_spec = {k: val for k, val in spec.items() if k not in allowed}
            if old_spec != new_spec:
                out.append(v.forbidden(
                    "spec", "updates to statefulset spec for fields other than 'replicas', "
                    "'ordinals', 'template', 'updateStrategy', "
                    "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
                    "forbidden"))
        return out


class ReplicationControllerStrategy(Strategy):
    tracks_generation = True

    def prepare_create(self, api: Api, obj: Obj) -> None:
        obj["status"] = {"replicas": 0}

    def default(self, api: Api, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            return
        spec.setdefault("replicas", 1)
        template = spec.get("template")
        # SetDefaults_ReplicationController: selector and labels from the template's labels.
        if isinstance(template, dict):
            labels = (template.get("metadata") or {}).get("labels") or {}
            if not spec.get("selector") and labels:
                spec["selector"] = dict(labels)
            if not (obj["metadata"].get("labels")) and labels:
                obj["metadata"]["labels"] = dict(labels)
        default_pod_template(spec)

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [v.required("spec")]
        out = v.non_negative("spec.replicas", spec.get("replicas"))
        selector = spec.get("selector") or {}
        if not selector:
            out.append(v.required("spec.selector"))
        template = spec.get("template")
        if not isinstance(template, dict):
            out.append(v.required("spec.template"))
            return out
        labels = (template.get("metadata") or {}).get("labels") or {}
        if selector and any(labels.get(k) != val for k, val in selector.items()):
            out.append(v.invalid("spec.template.metadata.labels", v.go_string_map(labels),
                                 "`selector` does not match template `labels`"))
        out += validate_pod_spec("spec.template.spec", template.get("spec"))
        policy = (template.get("spec") or {}).get("restartPolicy")
        if policy and policy != "Always":
            out.append(v.not_supported("spec.template.spec.restartPolicy", policy, ["Always"]))
        return out


register_strategy(STATEFULSETS, StatefulSetStrategy())
register_strategy(REPLICATIONCONTROLLERS, ReplicationControllerStrategy())
