"""Per-kind admission rules, registered by kind (upstream's registry strategies).

Each kind's module (``sim.kinds``, ``sim.network.services``) registers a ``Strategy`` for
its resource: defaults, what a client may not set, validation, graceful deletion. The API
server (``sim.api``) looks them up here, so the kinds never import the API server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kclusterkit.kube.meta import Obj
from kclusterkit.sim.resources import Resource

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api

Cause = tuple[str, str, str]  # (reason, field path, message)


class Strategy:
    """Per-kind admission rules, as upstream's registry strategies hold them."""

    # Whether spec changes bump metadata.generation (controllers' observedGeneration).
    tracks_generation = False
    # Whether the main resource ignores status, and the status subresource ignores the rest.
    has_status = True

    def default(self, api: Api, obj: Obj) -> None:
        """Fill defaults on create and update (defaulting runs on every decode upstream)."""

    def admit(self, api: Api, obj: Obj) -> None:
        """Admission plugins on create (mutating, then validating): may refuse with a Status."""

    def prepare_create(self, api: Api, obj: Obj) -> None:
        """Reset what a client may not set on create (status for most kinds)."""

    def prepare_status_update(self, api: Api, obj: Obj, old: Obj) -> None:
        """The status strategy's PrepareForUpdate: fix up a status write before validation."""

    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        return []

    def prepare_storage(self, obj: Obj) -> None:
        """The validated object as the store keeps it (a custom resource written in one of
        its CRD's other versions is kept in the storage version)."""

    def after_delete_request(self, api: Api, obj: Obj, grace: float | None) -> Obj | None:
        """Return an updated object to keep (graceful deletion) or None to remove now."""
        return None


_STRATEGIES: dict[str, Strategy] = {}


def register_strategy(res: Resource, strategy: Strategy) -> None:
    _STRATEGIES[res.key] = strategy


def strategy_for(res: Resource) -> Strategy:
    return _STRATEGIES.get(res.key) or _DEFAULT_STRATEGY


_DEFAULT_STRATEGY = Strategy()
