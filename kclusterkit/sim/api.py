"""The API server's core: admission, the verbs, subresources and Events.

Everything that writes to the cluster — steps through the driver, the HTTP server, and the
simulated controllers and kubelets — goes through here, so defaulting, validation,
generation bumps and status/spec separation behave the same for all of them, as they do
upstream where every component is just another API client.

Objects passed in are copied; objects returned to callers outside the simulator are
copies. Components inside the simulator read the store directly (read-only).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from kclusterkit.kube.meta import (
    Obj,
    SelectorError,
    clone,
    dig,
    parse_field_selector,
    parse_label_selector,
    random_suffix,
    selector_matches,
)
from kclusterkit.sim import conversion, decoding, errors, fieldmanager, fieldpath
from kclusterkit.sim import patch as patching
from kclusterkit.sim.apiextensions.registry import CustomResources, scale_of, set_spec_replicas
from kclusterkit.sim.clock import Clock
from kclusterkit.sim.kinds.policy import update_disruption_allowed_condition
from kclusterkit.sim.resources import (
    EVENTS,
    NAMESPACES,
    PDBS,
    PODS,
    Resource,
    UnknownResource,
    for_kind,
    storage_of,
)
from kclusterkit.sim.store import Store
from kclusterkit.sim.strategy import Cause, Strategy, strategy_for

# plugin/pkg/admission/namespace/lifecycle: namespaces no one may delete.
IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")
# eviction.go MaxDisruptedPodSize: more unconfirmed evictions than this are refused.
MAX_DISRUPTED_POD_SIZE = 2000


class Api:
    def __init__(self, clock: Clock, store: Store) -> None:
        # The kinds register their admission strategies when imported; an API server
        # serves them all, however it was built.
        from kclusterkit.sim import kinds  # noqa: F401

        self.clock = clock
        self.store = store
        # Set by the cluster when the control plane cannot serve (quorum lost, all down).
        self.unavailable_reason: str | None = None
        # 503 when no API server runs, 500 when they run without etcd quorum.
        self.unavailable_code = 503
        # Hooks the rest of the cluster hangs on object life cycle (e.g. pod deletion).
        self._delete_hooks: list[Callable[[Resource, Obj], None]] = []
        # Event folding key -> (namespace, event name): keeps record_event O(1) when a
        # 30,000-pod namespace has tens of thousands of Events.
        self._event_index: dict[tuple[Any, ...], tuple[str, str]] = {}
        # Set by the cluster: who may do what (sim.auth); admission plugins read it.
        self.access: Any = None
        # The custom resources this server serves (Established CRDs, sim.apiextensions).
        self.custom = CustomResources()

    # -- helpers ----------------------------------------------------------------------
    def new_uid(self) -> str:
        return str(uuid.UUID(int=self.clock.rng.getrandbits(128), version=4))

    def check_available(self) -> None:
        """Refuse with 503 while the control plane cannot serve."""
        if self.unavailable_reason:
            if self.unavailable_code == 503:
                raise errors.unavailable(self.unavailable_reason)
            raise errors.StatusError(self.unavailable_code, "InternalError",
                                     self.unavailable_reason)

    def resource_of(self, obj: Obj) -> Resource:
        try:
            return for_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
        except UnknownResource as exc:
            custom = self.custom.for_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
            if custom is not None:
                return custom
            raise errors.StatusError(404, "NotFound", str(exc)) from None

    def strategy(self, res: Resource) -> Strategy:
        """The admission strategy of a built-in kind, or of a served custom resource."""
        return self.custom.strategy(res) or strategy_for(res)

    def _namespace_of(self, res: Resource, obj: Obj, namespace: str | None) -> str:
        meta = obj.setdefault("metadata", {})
        if not res.namespaced:
            meta.pop("namespace", None)
            return ""
        ns = meta.get("namespace") or namespace or "default"
        if namespace and meta.get("namespace") and meta["namespace"] != namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the "
                "request"
            )
        meta["namespace"] = ns
        return ns

    # -- create -----------------------------------------------------------------------
    def create(self, obj: Obj, namespace: str | None = None, *, dry_run: bool = False,
               decode: bool = False, manager: str | None = None) -> Obj:
        """``decode``: a client's object, checked against the Go types first (``decoding``);
        the simulator's own components write well-typed objects and skip that walk.
        ``manager``: the field manager the write is recorded for (``fieldmanager``)."""
        self.check_available()
        obj = clone(obj)
        res = self.resource_of(obj)
        if decode:
            decoding.check(res, obj)
        if not conversion.is_storage(res):  # another served version: convert, answer in it
            stored = self.create(conversion.to_storage(res, obj), namespace, dry_run=dry_run)
            return conversion.from_storage(res, stored)
        ns = self._namespace_of(res, obj, namespace)
        meta = obj["metadata"]
        if res.namespaced:
            namespace_obj = self.store.get(NAMESPACES, "", ns)
            if namespace_obj is None:
                raise errors.not_found("namespaces", "", ns)
            if dig(namespace_obj, "metadata", "deletionTimestamp"):
                shown = meta.get("name") or meta.get("generateName", "")
                raise errors.forbidden(
                    f'{res.key} "{shown}" is forbidden: unable to create new content in '
                    f"namespace {ns} because it is being terminated"
                )
        strategy = self.strategy(res)
        # Admission plugins run on the object as sent, before a generated name is chosen.
        strategy.admit(self, obj)
        generated = not meta.get("name") and bool(meta.get("generateName"))
        if generated:
            meta["name"] = meta["generateName"] + random_suffix(self.clock.rng.choice)
        for key in (
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ):
            meta.pop(key, None)
        strategy.prepare_create(self, obj)
        strategy.default(self, obj)
        if strategy.tracks_generation:
            meta["generation"] = 1
        if manager is not None:
            fieldmanager.update(None, obj, manager, res.api_version, self.clock.timestamp())
        causes = _validate_meta(res, obj) + strategy.validate(self, obj, None)
        if causes:
            raise errors.invalid(res.kind, res.group, meta.get("name") or "", causes)
        meta["uid"] = meta.get("uid") or self.new_uid()  # a strategy may need it (Job)
        meta["creationTimestamp"] = self.clock.timestamp()
        if dry_run:
            return obj
        # Upstream (RetryGenerateName, GA in 1.32) retries a generated name that collides.
        for _ in range(7 if generated else 0):
            if self.store.get(res, ns, meta["name"]) is None:
                break
            meta["name"] = meta["generateName"] + random_suffix(self.clock.rng.choice)
        strategy.prepare_storage(obj)
        stored = self.store.create(res, obj)
        return conversion.from_storage(res, clone(stored))

    # -- read -------------------------------------------------------------------------
    def get(self, res: Resource, namespace: str, name: str) -> Obj:
        self.check_available()
        return conversion.from_storage(res, clone(self.store.must_get(res, namespace, name)))

    def list(
        self,
        res: Resource,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> Obj:
        """A ``<Kind>List`` with the store revision it was read at."""
        self.check_available()
        try:
            labels = parse_label_selector(label_selector)
            fields = parse_field_selector(field_selector)
        except SelectorError as exc:
            raise errors.bad_request(str(exc)) from None
        items = self.store.list(res, namespace, labels, fields)
        return {
            "kind": f"{res.kind}List",
            "apiVersion": res.api_version,
            "metadata": {"resourceVersion": str(self.store.revision)},
            "items": [conversion.from_storage(res, clone(o)) for o in items],
        }

    # -- update -----------------------------------------------------------------------
    def update(
        self,
        obj: Obj,
        namespace: str | None = None,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        decode: bool = False,
        manager: str | None = None,
    ) -> Obj:
        self.check_available()
        obj = clone(obj)
        res = self.resource_of(obj)
        if decode:
            decoding.check(res, obj)
        if not conversion.is_storage(res):  # another served version: convert, answer in it
            stored = self.update(conversion.to_storage(res, obj), namespace,
                                 subresource=subresource, dry_run=dry_run)
            return conversion.from_storage(res, stored)
        ns = self._namespace_of(res, obj, namespace)
        name = obj["metadata"].get("name") or ""
        old = self.store.must_get(res, ns, name)
        return self._write(res, old, obj, subresource, dry_run=dry_run, manager=manager)

    def _write(
        self, res: Resource, old: Obj, obj: Obj, subresource: str | None, *, dry_run: bool = False,
        manager: str | None = None, via: str | None = None, skip_noop: bool = False,
    ) -> Obj:
        """``manager``: record the write for that field manager, through the subresource
        ``via`` (default ``subresource``); ``skip_noop``: an unchanged object is not
        written again (no new resourceVersion), as etcd3's GuaranteedUpdate."""
        strategy = self.strategy(res)
        meta = obj["metadata"]
        old_meta = old["metadata"]
        # Fields no client can change.
        for key in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        if strategy.has_status:
            if subresource == "status":
                # The status subresource changes status only (and metadata, as upstream).
                obj = {**clone(old), "metadata": meta, "status": obj.get("status", {})}
                strategy.prepare_status_update(self, obj, old)
            elif subresource is None:
                if "status" in old:
                    obj["status"] = clone(old["status"])
                else:
                    obj.pop("status", None)
        strategy.default(self, obj)
        if strategy.tracks_generation and subresource is None:
            if obj.get("spec") != old.get("spec"):
                meta["generation"] = old_meta.get("generation", 1) + 1
        if manager is not None:
            fieldmanager.update(old, obj, manager, res.api_version, self.clock.timestamp(),
                                via or subresource or "")
        elif "managedFields" in old_meta and "managedFields" not in meta:
            meta["managedFields"] = old_meta["managedFields"]
        causes = _validate_meta(res, obj) + strategy.validate(self, obj, old)
        if causes:
            raise errors.invalid(res.kind, res.group, meta.get("name") or "", causes)
        if dry_run:
            return obj
        if skip_noop and obj == {**old, "metadata": {**old_meta, "resourceVersion":
                                                    meta.get("resourceVersion")}}:
            return clone(old)
        # Finalizers cleared on an object being deleted: it goes now.
        if (
            old_meta.get("deletionTimestamp")
            and not meta.get("finalizers")
            and old_meta.get("finalizers")
            and not strategy.after_delete_request(self, obj, 0)
        ):
            strategy.prepare_storage(obj)
            self.store.update(res, obj)
            return conversion.from_storage(res, clone(self._remove(res, obj)))
        strategy.prepare_storage(obj)
        return conversion.from_storage(res, clone(self.store.update(res, obj)))

    def patch(
        self,
        res: Resource,
        namespace: str,
        name: str,
        body: Any,
        patch_type: str,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        manager: str | None = None,
        force: bool = False,
    ) -> Obj:
        """Apply a JSON, merge or strategic merge patch (``patch_type`` is the content type);
        an apply patch with a ``manager`` is server-side apply (``apply``)."""
        if manager is not None and \
                patch_type.split(";", 1)[0].strip() == patching.APPLY_PATCH:
            return self.apply(res, namespace, name, body, manager, force=force,
                              subresource=subresource, dry_run=dry_run)
        self.check_available()
        if not conversion.is_storage(res):
            # Patched as the client sees it (its version), then stored as the kind is.
            shown = self.get(res, namespace, name)
            try:
                patched = patching.apply(shown, body, patch_type)
            except patching.PatchError as exc:
                raise errors.StatusError(exc.code, exc.reason, str(exc)) from None
            if not isinstance(patched, dict):
                raise errors.bad_request("the patch did not produce an object")
            decoding.check(res, patched)
            patched["apiVersion"], patched["kind"] = res.api_version, res.kind
            patched.setdefault("metadata", {})["name"] = name
            if res.namespaced:
                patched["metadata"]["namespace"] = namespace
            storage = storage_of(res)
            old = self.store.must_get(storage, namespace, name)
            written = self._write(storage, old, conversion.to_storage(res, patched),
                                  subresource, dry_run=dry_run)
            return conversion.from_storage(res, written)
        old = self.store.must_get(res, namespace if res.namespaced else "", name)
        if patch_type == patching.STRATEGIC_MERGE_PATCH and self.custom.served_for(res):
            # handlers/patch.go: custom resources do not accept strategic merge patches.
            raise errors.StatusError(
                415, "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types "
                f"include: {patching.APPLY_PATCH}, {patching.JSON_PATCH}, "
                f"{patching.MERGE_PATCH}")
        try:
            patched = patching.apply(clone(old), body, patch_type)
        except patching.PatchError as exc:
            raise errors.StatusError(exc.code, exc.reason, str(exc)) from None
        if not isinstance(patched, dict):
            raise errors.bad_request("the patch did not produce an object")
        decoding.check(res, patched)
        patched.setdefault("metadata", {})
        patched["apiVersion"], patched["kind"] = old["apiVersion"], old["kind"]
        patched["metadata"]["name"] = name
        if res.namespaced:
            patched["metadata"]["namespace"] = namespace
        # A patch carries no precondition unless it sets resourceVersion itself.
        if patched["metadata"].get("resourceVersion") == old["metadata"]["resourceVersion"]:
            pass
        return self._write(res, old, patched, subresource, dry_run=dry_run, manager=manager)

    def apply(self, res: Resource, namespace: str, name: str, config: Any, manager: str, *,
              force: bool = False, subresource: str | None = None,
              dry_run: bool = False) -> Obj:
        """Server-side apply of ``config`` by ``manager`` (``fieldmanager.apply``): merged
        with field ownership, a 409 on another manager's field unless ``force``; an absent
        object is created from it."""
        self.check_available()
        if not isinstance(config, dict):
            raise errors.bad_request("the applied configuration must be an object")
        ns = namespace if res.namespaced else ""
        live = self.store.get(res, ns, name)
        if live is None and subresource is not None:
            raise errors.not_found(res.plural, res.group, name)
        now = self.clock.timestamp()
        reset: tuple[str, ...] = ()
        if self.strategy(res).has_status:
            reset = ("spec",) if subresource == "status" else ("status",)
        try:
            merged = fieldmanager.apply(live, config, manager, res.api_version, now,
                                        force=force, subresource=subresource or "",
                                        reset=reset)
        except fieldpath.FieldsError as exc:
            raise errors.bad_request(str(exc)) from None
        merged["apiVersion"], merged["kind"] = res.api_version, res.kind
        meta = merged.setdefault("metadata", {})
        meta["name"] = name
        if res.namespaced:
            meta["namespace"] = ns
        if live is None:
            return self.create(merged, ns or None, dry_run=dry_run, decode=True)
        decoding.check(res, merged)
        return self._write(res, live, merged, subresource, dry_run=dry_run, skip_noop=True)

    # -- scale subresource ------------------------------------------------------------
    def get_scale(self, res: Resource, namespace: str, name: str) -> Obj:
        self.check_available()
        obj = self.store.must_get(res, namespace, name)
        custom = self._custom_scale(res, obj)
        if custom is not None:
            return scale_of(obj, custom)
        return _scale_of(obj)

    def _custom_scale(self, res: Resource, obj: Obj) -> dict[str, Any] | None:
        served = self.custom.served_for(res)
        return served.scale(res.version) if served is not None else None

    def update_scale(self, res: Resource, namespace: str, name: str, replicas: int,
                     resource_version: str | None = None, *, dry_run: bool = False,
                     manager: str | None = None) -> Obj:
        """The ``scale`` subresource's update: a Scale that names a resourceVersion must name
        the current one (optimistic concurrency, as every update), however it arrives."""
        self.check_available()
        old = self.store.must_get(res, namespace, name)
        decoding.check_scale({"spec": {"replicas": replicas}})  # int32, as the decoder
        if resource_version and resource_version != old["metadata"]["resourceVersion"]:
            raise errors.conflict(res.plural, res.group, name)
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise errors.invalid(
                "Scale",
                "autoscaling",
                name,
                [
                    (
                        "FieldValueInvalid",
                        "spec.replicas",
                        f"Invalid value: {replicas}: must be greater than or equal to 0",
                    )
                ],
            )
        obj = clone(old)
        custom = self._custom_scale(res, old)
        if custom is not None:
            set_spec_replicas(obj, custom, replicas)
            written = obj if dry_run else self._write(res, old, obj, None)
            return scale_of(written, custom)
        obj["spec"]["replicas"] = replicas
        if dry_run:
            return _scale_of(obj)
        return _scale_of(self._write(res, old, obj, None, manager=manager, via="scale"))

    # -- binding ----------------------------------------------------------------------
    def bind(self, namespace: str, name: str, node: str) -> Obj:
        """The ``pods/binding`` subresource: set spec.nodeName once, with PodScheduled=True,
        in one write. The scheduler and HTTP clients both bind through here.

        pkg/registry/core/pod/storage/storage.go (BindingREST.assignPod): errors that are not
        already API errors become Conflicts on ``pods/binding``.
        """
        self.check_available()
        if not node:
            raise errors.invalid("Binding", "", name, [("FieldValueRequired", "target.name",
                                                         "Required value")])
        current = self.store.must_get(PODS, namespace, name)
        problem = None
        if current["metadata"].get("deletionTimestamp"):
            problem = f"pod {name} is being deleted, cannot be assigned to a host"
        elif current["spec"].get("nodeName"):
            problem = f'pod {name} is already assigned to node "{current["spec"]["nodeName"]}"'
        if problem:
            raise errors.StatusError(409, "Conflict", f'Operation cannot be fulfilled on '
                                     f'pods/binding "{name}": {problem}',
                                     {"name": name, "kind": "pods/binding"})
        spec = dict(current["spec"])
        spec["nodeName"] = node
        status = dict(current.get("status") or {})
        conditions = [c for c in status.get("conditions") or []
                      if c.get("type") != "PodScheduled"]
        conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                           "lastTransitionTime": self.clock.timestamp()})
        status["conditions"] = conditions
        bound = {**current, "metadata": dict(current["metadata"]), "spec": spec,
                 "status": status}
        return self.store.update(PODS, bound, check_version=False)

    # -- eviction ---------------------------------------------------------------------
    def evict(self, namespace: str, name: str, delete_options: dict[str, Any] | None = None,
              *, dry_run: bool = False) -> None:
        """The ``pods/eviction`` subresource (pkg/registry/core/pod/storage/eviction.go).

        A pod that is terminal, Pending or already being deleted is deleted at once
        (canIgnorePDB). Otherwise its one PodDisruptionBudget decides: none — delete; more
        than one — 500; a budget the controller has not caught up with, or one that
        allows no disruption — 429 "Cannot evict pod as it would violate the pod's
        disruption budget." with the budget's figures as the cause (kubectl drain retries
        it every 5 seconds); else the budget's disruptionsAllowed is decremented and the
        pod recorded in its disruptedPods (checkAndDecrement), the pod gets the
        DisruptionTarget condition, and it is deleted with the eviction's deleteOptions.
        A pod that is not Ready may go without decrementing when the budget is met
        (IfHealthyBudget, the default) or always (AlwaysAllow).
        """
        self.check_available()
        options = delete_options or {}
        pod = self.store.must_get(PODS, namespace, name)
        phase = (pod.get("status") or {}).get("phase")
        if phase not in ("Succeeded", "Failed", "Pending") and \
                not pod["metadata"].get("deletionTimestamp"):
            labels = pod["metadata"].get("labels") or {}
            pdbs = [p for p in self.store.iter(PDBS, namespace)
                    if selector_matches(p["spec"].get("selector"), labels)]
            if len(pdbs) > 1:
                raise errors.StatusError(
                    500, "InternalError",
                    "Internal error occurred: This pod has more than one "
                    "PodDisruptionBudget, which the eviction subresource does not support.",
                    {"causes": [{"message": "This pod has more than one PodDisruptionBudget, "
                                            "which the eviction subresource does not "
                                            "support."}]})
            if pdbs and not self._evict_without_budget(pod, pdbs[0]):
                pdb = clone(pdbs[0])
                self._check_and_decrement(pdb, name)
                if not dry_run:
                    update_disruption_allowed_condition(pdb["status"], self.clock.timestamp())
                    pdb["status"].setdefault("disruptedPods", {})[name] = \
                        self.clock.timestamp()
                    self.update(pdb, subresource="status")
        if not dry_run and not pod["metadata"].get("deletionTimestamp"):
            self._add_disruption_target(pod)
        self.delete(PODS, namespace, name, grace_period=options.get("gracePeriodSeconds"),
                    propagation=options.get("propagationPolicy"),
                    preconditions=options.get("preconditions"), dry_run=dry_run)

    @staticmethod
    def _evict_without_budget(pod: Obj, pdb: Obj) -> bool:
        """An unhealthy pod under UnhealthyPodEvictionPolicy (eviction.go)."""
        ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                    for c in (pod.get("status") or {}).get("conditions") or [])
        if ready:
            return False
        if pdb["spec"].get("unhealthyPodEvictionPolicy") == "AlwaysAllow":
            return True
        status = pdb.get("status") or {}
        return status.get("currentHealthy", 0) >= status.get("desiredHealthy", 0) > 0

    @staticmethod
    def _check_and_decrement(pdb: Obj, pod_name: str) -> None:
        """checkAndDecrement: refuse, or take one disruption off the budget."""
        status = pdb.setdefault("status", {})
        name = pdb["metadata"]["name"]
        message = "Cannot evict pod as it would violate the pod's disruption budget."
        if status.get("observedGeneration", 0) < pdb["metadata"].get("generation", 0):
            raise errors.StatusError(
                429, "TooManyRequests", message,
                {"causes": [{"reason": "DisruptionBudget",
                             "message": f"The disruption budget {name} is still being "
                                        "processed by the server."}]})
        allowed = status.get("disruptionsAllowed", 0)
        if allowed < 0:
            raise errors.forbidden("pdb disruptions allowed is negative")
        if len(status.get("disruptedPods") or {}) > MAX_DISRUPTED_POD_SIZE:
            raise errors.forbidden("DisruptedPods map too big - too many evictions not "
                                   "confirmed by PDB controller")
        if allowed == 0:
            raise errors.StatusError(
                429, "TooManyRequests", message,
                {"causes": [{"reason": "DisruptionBudget",
                             "message": f"The disruption budget {name} needs "
                                        f"{status.get('desiredHealthy', 0)} healthy pods and "
                                        f"has {status.get('currentHealthy', 0)} currently"}]})
        status["disruptionsAllowed"] = allowed - 1

    def _add_disruption_target(self, pod: Obj) -> None:
        """The DisruptionTarget condition eviction adds before deleting (GA in 1.31)."""
        status = clone(pod.get("status") or {})
        cond = {"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                "lastTransitionTime": self.clock.timestamp(),
                "reason": "EvictionByEvictionAPI", "message": "Eviction API: evicting"}
        status["conditions"] = [c for c in status.get("conditions") or []
                                if c.get("type") != "DisruptionTarget"] + [cond]
        try:
            self.update({**pod, "status": status}, subresource="status")
        except errors.StatusError:
            pass

    # -- delete -----------------------------------------------------------------------
    def delete(
        self,
        res: Resource,
        namespace: str,
        name: str,
        *,
        grace_period: float | None = None,
        propagation: str | None = None,
        preconditions: dict[str, str] | None = None,
        dry_run: bool = False,
    ) -> Obj:
        """Delete; returns the object while it terminates, or a success Status once gone."""
        self.check_available()
        if not conversion.is_storage(res):
            return conversion.from_storage(res, self.delete(
                storage_of(res), namespace, name, grace_period=grace_period,
                propagation=propagation, preconditions=preconditions, dry_run=dry_run))
        ns = namespace if res.namespaced else ""
        old = self.store.must_get(res, ns, name)
        if res is NAMESPACES and name in IMMORTAL_NAMESPACES:
            # The NamespaceLifecycle admission plugin refuses these deletions.
            raise errors.forbidden(f'namespaces "{name}" is forbidden: this namespace may not '
                                   "be deleted")
        meta = old["metadata"]
        if preconditions:
            if preconditions.get("uid") and preconditions["uid"] != meta["uid"]:
                raise errors.StatusError(
                    409,
                    "Conflict",
                    (
                        f'Operation cannot be fulfilled on {res.key} "{name}": '
                        f"Precondition failed: UID in precondition: {preconditions['uid']}, "
                        f"UID in object meta: {meta['uid']}"
                    ),
                )
            wanted = preconditions.get("resourceVersion")
            if wanted and wanted != meta["resourceVersion"]:
                raise errors.StatusError(
                    409,
                    "Conflict",
                    (
                        f'Operation cannot be fulfilled on {res.key} "{name}": '
                        f"Precondition failed: ResourceVersion in precondition: {wanted}, "
                        f"ResourceVersion in object meta: {meta['resourceVersion']}"
                    ),
                )
        if dry_run:
            return clone(old)
        propagation = propagation or self._default_propagation(res)
        obj = clone(old)
        finalizers = list(obj["metadata"].get("finalizers") or [])
        if propagation == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        elif propagation == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        if finalizers != list(obj["metadata"].get("finalizers") or []):
            obj["metadata"]["finalizers"] = finalizers
        keep = self.strategy(res).after_delete_request(self, obj, grace_period)
        if keep is None and not finalizers:
            return self._success_status(res, self._remove(res, old))
        target = keep if keep is not None else obj
        if not target["metadata"].get("deletionTimestamp"):
            target["metadata"]["deletionTimestamp"] = self.clock.timestamp()
            target["metadata"].setdefault("deletionGracePeriodSeconds", 0)
        stored = self.store.update(res, target, check_version=False)
        return clone(stored)

    def _default_propagation(self, res: Resource) -> str:
        # Upstream: background for everything but the legacy extensions/v1beta1 groups.
        return "Background"

    def _remove(self, res: Resource, obj: Obj) -> Obj:
        meta = obj["metadata"]
        gone = self.store.delete(res, meta.get("namespace", ""), meta["name"])
        for hook in list(self._delete_hooks):
            hook(res, gone)
        return gone

    def finish_delete(self, res: Resource, namespace: str, name: str) -> None:
        """Remove an object whose graceful deletion has completed (kubelet, grace 0)."""
        obj = self.store.get(res, namespace, name)
        if obj is not None and not obj["metadata"].get("finalizers"):
            self._remove(res, obj)

    def finalize_namespace(self, name: str, finalizers: list[str]) -> Obj:
        """The ``namespaces/{name}/finalize`` subresource: replace ``spec.finalizers``.

        A terminating namespace left with no finalizers is removed, as upstream's namespace
        storage does (ShouldDeleteDuringUpdate).
        """
        self.check_available()
        old = self.store.must_get(NAMESPACES, "", name)
        obj = clone(old)
        obj.setdefault("spec", {})["finalizers"] = list(finalizers)
        stored = self.store.update(NAMESPACES, obj, check_version=False)
        if old["metadata"].get("deletionTimestamp") and not finalizers \
                and not old["metadata"].get("finalizers"):
            return clone(self._remove(NAMESPACES, stored))
        return clone(stored)

    def on_delete(self, hook: Callable[[Resource, Obj], None]) -> None:
        self._delete_hooks.append(hook)

    @staticmethod
    def _success_status(res: Resource, gone: Obj) -> Obj:
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {
                "name": gone["metadata"]["name"],
                **({"group": res.group} if res.group else {}),
                "kind": res.plural,
                "uid": gone["metadata"]["uid"],
            },
        }

    # -- events -----------------------------------------------------------------------
    def record_event(
        self,
        involved: Obj,
        etype: str,
        reason: str,
        message: str,
        component: str,
        host: str | None = None,
        field_path: str | None = None,
        related: Obj | None = None,
        action: str | None = None,
    ) -> None:
        """Record a core/v1 Event, folding repeats into ``count`` as the event recorder does.
        ``related`` and ``action`` are what the events.k8s.io recorder adds (the scheduler's
        ``Eventf(regarding, related, type, reason, action, note)``)."""
        meta = involved["metadata"]
        ns = meta.get("namespace") or "default"
        ref = {
            "kind": involved.get("kind"),
            "namespace": meta.get("namespace", ""),
            "name": meta["name"],
            "uid": meta.get("uid", ""),
            "apiVersion": involved.get("apiVersion"),
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        if not ref["namespace"]:
            del ref["namespace"]
        if field_path:
            ref["fieldPath"] = field_path
        now = self.clock.timestamp()
        source = {"component": component, **({"host": host} if host else {})}
        fold_key = (ns, ref["uid"], reason, message, etype, component, host, field_path)
        known = self._event_index.get(fold_key)
        existing = self.store.get(EVENTS, *known) if known else None
        if existing is not None and existing["involvedObject"].get("uid") == ref["uid"] \
                and existing["reason"] == reason and existing["message"] == message:
            updated = clone(existing)
            updated["count"] = existing.get("count", 1) + 1
            updated["lastTimestamp"] = now
            self.store.update(EVENTS, updated, check_version=False)
            return
        # Upstream names events <object>.<hex unix nanos>; the clock gives the nanos.
        nanos = int(self.clock.datetime().timestamp() * 1e9) + self.store.revision
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{meta['name']}.{nanos:x}",
                "namespace": ns,
                "uid": self.new_uid(),
                "creationTimestamp": now,
            },
            "involvedObject": ref,
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": etype,
            "eventTime": None,
            "reportingComponent": component,
            "reportingInstance": host or "",
        }
        if related is not None:
            rmeta = related["metadata"]
            event["related"] = {"kind": related.get("kind"),
                                "apiVersion": related.get("apiVersion"),
                                "namespace": rmeta.get("namespace", ""),
                                "name": rmeta["name"], "uid": rmeta.get("uid", "")}
        if action:
            event["action"] = action
        self.store.create(EVENTS, event)
        self._event_index[fold_key] = (ns, event["metadata"]["name"])


def _scale_of(obj: Obj) -> Obj:
    meta = obj["metadata"]
    from kclusterkit.kube.meta import selector_string

    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta.get("namespace", ""),
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": dig(obj, "spec", "replicas", default=0)},
        "status": {
            "replicas": dig(obj, "status", "replicas", default=0),
            # scaleFromDeployment: LabelSelectorAsSelector(...).String(), sorted by key.
            "selector": selector_string(dig(obj, "spec", "selector"), sort=True),
        },
    }


def _validate_meta(res: Resource, obj: Obj) -> list[Cause]:
    from kclusterkit.sim import validation

    return validation.object_meta(res, obj)
