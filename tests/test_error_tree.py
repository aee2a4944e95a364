"""One exception tree: ApiError picks its subclass by reason, then code; whoever raises it."""

from __future__ import annotations

import pickle

import pytest

from kclusterkit import errors
from kclusterkit.sim import errors as sim_errors


@pytest.mark.parametrize(("code", "reason", "kind"), [
    (404, "NotFound", errors.NotFound), (409, "Conflict", errors.Conflict),
    (409, "AlreadyExists", errors.AlreadyExists), (410, "Expired", errors.Gone),
    (422, "Invalid", errors.Invalid), (429, "TooManyRequests", errors.TooManyRequests),
    (403, "", errors.Forbidden), (503, "ServiceUnavailable", errors.ServerError),
    (599, "Odd", errors.ServerError), (418, "Teapot", errors.ApiError),
])
def test_an_api_error_is_typed_by_its_reason_or_code(code, reason, kind):
    exc = errors.ApiError(code, reason, "m")
    assert type(exc) is kind and isinstance(exc, errors.ClusterError)
    assert exc.status == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                          "status": "Failure", "message": "m", "reason": reason, "code": code}


def test_the_simulator_raises_the_same_type_the_driver_catches():
    exc = sim_errors.not_found("pods", "", "web")
    assert isinstance(exc, errors.NotFound)
    assert exc.status["details"] == {"name": "web", "kind": "pods"}
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is errors.NotFound and again.status == exc.status


def test_a_received_status_is_kept_and_its_causes_read():
    status = {"kind": "Status", "code": 422, "reason": "Invalid", "message": "bad",
              "details": {"causes": [{"field": "spec.replicas", "message": "must be >= 0"}]}}
    exc = errors.ApiError(422, "Invalid", "bad", status=status)
    assert exc.status is status and exc.causes[0]["field"] == "spec.replicas"


def test_whose_fault_it_was_is_a_type():
    assert not issubclass(errors.NotSupported, errors.ClusterError)  # a skip, not a failure
    assert not issubclass(errors.ConfigurationError, errors.ClusterError)
    assert not issubclass(errors.Refused, errors.ClusterError)
    for failure in (errors.Unreachable, errors.ClusterTimeout, errors.HookFailed):
        assert issubclass(failure, errors.ClusterError)
