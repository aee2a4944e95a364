"""The API server's CRD controllers: naming, establishing, finalizing; and serving.

apiextensions-apiserver runs them inside the API server (not in kube-controller-manager):

- NamingConditionController (pkg/controller/status/naming_controller.go): accepts the
  requested names unless another CRD of the group already holds one, setting
  ``status.acceptedNames`` and ``NamesAccepted`` (True ``NoConflicts`` "no conflicts
  found", or False ``PluralConflict``/``SingularConflict``/``ShortNamesConflict``/
  ``KindConflict``/``ListKindConflict`` "\\"x\\" is already in use"), and ``Established``
  False (``Installing`` "the initial names have been accepted" or ``NotAccepted`` "not
  all names are accepted") until the establishing controller sees it;
- EstablishingController (pkg/controller/establish/establishing_controller.go): sets
  ``Established`` True ``InitialNamesAccepted``; from then on the crdHandler serves the
  resource (here: ``Api.custom``);
- CRDFinalizer (pkg/controller/finalizer/crd_finalizer.go): on a deleted CRD, condition
  ``Terminating`` True ``InstanceDeletionInProgress``, every custom object deleted, then
  ``Terminating`` False ``InstanceDeletionCompleted`` "removed all instances" and the
  ``customresourcecleanup`` finalizer removed, which lets the CRD go and its API with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kclusterkit.kube.meta import Obj, clone, dig
from kclusterkit.sim import errors
from kclusterkit.sim.apiextensions.crd import CLEANUP_FINALIZER, CRDS, is_true, set_condition
from kclusterkit.sim.apiextensions.registry import served_from
from kclusterkit.sim.controllers.util import RetryingQueue

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api

# crd_finalizer.go waits for the instances to go, polling every 5 seconds.
FINALIZER_POLL_SECONDS = 5.0
_NAME_KEYS = ("plural", "singular", "shortNames", "kind", "listKind", "categories")


class CustomResourceDefinitionControllers:
    """The three controllers over one work queue of CRD names (each sync runs them in turn,
    as each upstream controller reacts to the others' status writes)."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store
        self.queue = RetryingQueue(api.clock, self.sync)
        self.store.subscribe(CRDS, self._on_crd)
        for crd in list(self.store.iter(CRDS)):
            self.queue.add(crd["metadata"]["name"])

    def _on_crd(self, etype: str, obj: Obj, old: Obj | None) -> None:
        self.queue.add(obj["metadata"]["name"])

    def sync(self, name: object) -> None:
        key = str(name)
        crd = self.store.get(CRDS, "", key)
        if crd is None:
            self.api.custom.remove(key)
            self._requeue_group(key)
            return
        if crd["metadata"].get("deletionTimestamp"):
            self._finalize(crd)
            return
        names_differ = _normal((crd.get("spec") or {}).get("names") or {}) != \
            _normal(_accepted(crd))
        if names_differ and self._name(crd):
            return  # the status write brings the next sync
        if is_true(crd, "NamesAccepted") and not is_true(crd, "Established"):
            self._establish(crd)
            return
        if is_true(crd, "Established"):
            self.api.custom.install(served_from(crd))

    # -- naming -------------------------------------------------------------------------
    def _name(self, crd: Obj) -> bool:
        """Accept what names can be accepted; whether the status was written."""
        spec = crd.get("spec") or {}
        requested = spec.get("names") or {}
        accepted = dict(_accepted(crd))
        resources, kinds = self._names_in_group(spec.get("group", ""))
        names = dict(accepted)
        cond = {"type": "NamesAccepted", "status": "Unknown"}

        def conflict(reason: str, text: str) -> None:
            cond.update(status="False", reason=reason, message=f'"{text}" is already in use')

        for key, reason, used in (("plural", "PluralConflict", resources),
                                  ("singular", "SingularConflict", resources)):
            wanted = requested.get(key, "")
            if wanted != accepted.get(key, "") and wanted in used:
                conflict(reason, wanted)
            else:
                names[key] = wanted
        shorts = list(requested.get("shortNames") or [])
        if shorts != list(accepted.get("shortNames") or []):
            clashes = [s for s in shorts if s not in (accepted.get("shortNames") or [])
                       and s not in (accepted.get("plural"), accepted.get("singular"))
                       and s in resources]
            if clashes:
                # utilerrors.NewAggregate: one error bare, several in [..., ...].
                texts = [f'"{s}" is already in use' for s in clashes]
                cond.update(status="False", reason="ShortNamesConflict",
                            message=texts[0] if len(texts) == 1
                            else "[" + ", ".join(texts) + "]")
            else:
                names["shortNames"] = shorts
        for key, reason in (("kind", "KindConflict"), ("listKind", "ListKindConflict")):
            wanted = requested.get(key, "")
            if wanted != accepted.get(key, "") and wanted in kinds:
                conflict(reason, wanted)
            else:
                names[key] = wanted
        if requested.get("categories"):
            names["categories"] = list(requested["categories"])
        else:
            names.pop("categories", None)
        if cond["status"] == "Unknown":
            cond.update(status="True", reason="NoConflicts", message="no conflicts found")
        established = clone(dig(crd, "status", "conditions") and _find(crd, "Established")
                            or {"type": "Established", "status": "False",
                                "reason": "NotAccepted",
                                "message": "not all names are accepted"})
        if established.get("status") != "True" and cond["status"] == "True":
            established = {"type": "Established", "status": "False", "reason": "Installing",
                           "message": "the initial names have been accepted"}
        established.pop("lastTransitionTime", None)
        updated = clone(crd)
        names = _normal(names)
        if names == _accepted(crd) and _same(_find(crd, "NamesAccepted"), cond):
            return False
        updated.setdefault("status", {})["acceptedNames"] = names
        now = self.api.clock.timestamp()
        set_condition(updated, cond, now)
        set_condition(updated, established, now)
        if not self._update_status(updated):
            return False
        self._requeue_group(crd["metadata"]["name"])
        return True

    def _names_in_group(self, group: str) -> tuple[set[str], set[str]]:
        resources: set[str] = set()
        kinds: set[str] = set()
        for other in self.store.iter(CRDS):
            if (other.get("spec") or {}).get("group") != group:
                continue
            names = _accepted(other)
            # naming_controller.go getAcceptedNamesForGroup: every CRD of the group,
            # including this one (its own accepted names are checked against themselves).
            resources.update(n for n in (names.get("plural"), names.get("singular")) if n)
            resources.update(names.get("shortNames") or [])
            kinds.update(n for n in (names.get("kind"), names.get("listKind")) if n)
        return resources, kinds

    def _requeue_group(self, name: str) -> None:
        group = name.split(".", 1)[1] if "." in name else ""
        for other in self.store.iter(CRDS):
            if (other.get("spec") or {}).get("group") == group and \
                    other["metadata"]["name"] != name:
                self.queue.add(other["metadata"]["name"])

    # -- establishing -------------------------------------------------------------------
    def _establish(self, crd: Obj) -> None:
        updated = clone(crd)
        set_condition(updated, {"type": "Established", "status": "True",
                                "reason": "InitialNamesAccepted",
                                "message": "the initial names have been accepted"},
                      self.api.clock.timestamp())
        # Served before it says so: whoever sees Established=True can use the API at once.
        self.api.custom.install(served_from(updated))
        if not self._update_status(updated) and self.store.get(CRDS, "", crd["metadata"][
                "name"]) is None:
            self.api.custom.remove(crd["metadata"]["name"])

    # -- finalizing ---------------------------------------------------------------------
    def _finalize(self, crd: Obj) -> None:
        name = crd["metadata"]["name"]
        if CLEANUP_FINALIZER not in (crd["metadata"].get("finalizers") or []):
            return
        served = self.api.custom.get(name)
        if served is not None:
            served.terminating = True
        in_progress = {"type": "Terminating", "status": "True",
                       "reason": "InstanceDeletionInProgress",
                       "message": "CustomResource deletion is in progress"}
        if not _same(_find(crd, "Terminating"), in_progress):
            updated = clone(crd)
            set_condition(updated, in_progress, self.api.clock.timestamp())
            self._update_status(updated)
            return
        remaining = 0
        if served is not None and is_true(crd, "Established"):
            res = next(iter(served.resources.values()), None)
            for obj in list(self.store.iter(res)) if res is not None else []:
                meta = obj["metadata"]
                if not meta.get("deletionTimestamp"):
                    try:
                        self.api.delete(res, meta.get("namespace", ""), meta["name"])
                    except errors.StatusError as exc:
                        if exc.code != 404:
                            raise
            remaining = self.store.count(res) if res is not None else 0
        if remaining:
            self.queue.add_after(name, FINALIZER_POLL_SECONDS)
            return
        updated = clone(crd)
        set_condition(updated, {"type": "Terminating", "status": "False",
                                "reason": "InstanceDeletionCompleted",
                                "message": "removed all instances"},
                      self.api.clock.timestamp())
        if not self._update_status(updated):
            return
        # The API goes before the CRD does: whoever sees it gone finds no API either.
        self.api.custom.remove(name)
        latest = clone(self.store.get(CRDS, "", name) or updated)
        latest["metadata"]["finalizers"] = [
            f for f in latest["metadata"].get("finalizers") or [] if f != CLEANUP_FINALIZER]
        try:
            self.api.update(latest)
        except errors.StatusError as exc:
            if exc.code == 409:
                self.queue.add(name)
            elif exc.code != 404:
                raise

    def _update_status(self, crd: Obj) -> bool:
        try:
            self.api.update(crd, subresource="status")
            return True
        except errors.StatusError as exc:
            # Deleted or changed meanwhile: the change's event brings us back.
            if exc.code not in (404, 409):
                raise
            return False


def _accepted(crd: Obj) -> dict[str, object]:
    found = dig(crd, "status", "acceptedNames")
    return found if isinstance(found, dict) else {}


def _normal(names: dict[str, object]) -> dict[str, object]:
    """Names as the API serialises them: empty lists and strings left out (omitempty),
    but plural and kind always present."""
    out = {k: names[k] for k in _NAME_KEYS if names.get(k) not in (None, "", [])}
    out.setdefault("plural", "")
    out.setdefault("kind", "")
    return out


def _find(crd: Obj, ctype: str) -> Obj | None:
    for cond in dig(crd, "status", "conditions") or []:
        if cond.get("type") == ctype:
            return dict(cond)
    return None


def _same(old: Obj | None, new: Obj) -> bool:
    """IsCRDConditionEquivalent: type, status, reason and message."""
    return old is not None and all(old.get(k) == new.get(k)
                                   for k in ("type", "status", "reason", "message"))
