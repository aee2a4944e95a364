"""Status errors must read exactly as the API server's (apimachinery api/errors/errors.go)."""

from __future__ import annotations

from kclusterkit.sim import errors


def test_not_found_names_the_group_resource_and_puts_the_plural_in_details() -> None:
    # NewNotFound: "%s %q not found" with qualifiedResource.String(); details.kind = Resource.
    err = errors.not_found("deployments", "apps", "web")
    assert (err.code, err.reason) == (404, "NotFound")
    assert err.message == 'deployments.apps "web" not found'
    assert err.status["details"] == {"name": "web", "group": "apps", "kind": "deployments"}
    core = errors.not_found("pods", "", "p")
    assert core.message == 'pods "p" not found'
    assert core.status["details"] == {"name": "p", "kind": "pods"}


def test_already_exists_and_conflict_wording() -> None:
    # NewAlreadyExists / NewConflict (409) with the optimistic-lock error text.
    exists = errors.already_exists("deployments", "apps", "web")
    assert (exists.code, exists.reason) == (409, "AlreadyExists")
    assert exists.message == 'deployments.apps "web" already exists'
    conflict = errors.conflict("deployments", "apps", "web")
    assert (conflict.code, conflict.reason) == (409, "Conflict")
    assert conflict.message == (
        'Operation cannot be fulfilled on deployments.apps "web": the object has been '
        "modified; please apply your changes to the latest version and try again"
    )


def test_invalid_with_one_cause_has_no_brackets_and_kind_in_details() -> None:
    # NewInvalid: "%s %q is invalid: %v" of errs.ToAggregate(); details.kind = Kind.
    cause = ("FieldValueRequired", "spec.selector", "Required value")
    err = errors.invalid("Deployment", "apps", "web", [cause])
    assert (err.code, err.reason) == (422, "Invalid")
    assert err.message == 'Deployment.apps "web" is invalid: spec.selector: Required value'
    assert err.status["details"] == {
        "name": "web",
        "group": "apps",
        "kind": "Deployment",
        "causes": [
            {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.selector"}
        ],
    }


def test_invalid_with_several_causes_brackets_them_and_drops_repeated_texts() -> None:
    # utilerrors aggregate prints "[a, b]"; ToAggregate skips messages already seen,
    # but every cause stays in details.causes.
    a = ("FieldValueRequired", "spec.template.spec.containers[0].image", "Required value")
    b = ("FieldValueInvalid", "spec.replicas",
         "Invalid value: -1: must be greater than or equal to 0")
    err = errors.invalid("Deployment", "apps", "web", [a, b, a])
    assert err.message == (
        'Deployment.apps "web" is invalid: [spec.template.spec.containers[0].image: '
        "Required value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]"
    )
    assert len(err.status["details"]["causes"]) == 3


def test_invalid_without_causes_ends_after_is_invalid() -> None:
    assert errors.invalid("Pod", "", "p", []).message == 'Pod "p" is invalid'


def test_too_old_resource_version_is_expired_410() -> None:
    # NewResourceExpired: reason Expired (not the deprecated Gone), code 410.
    err = errors.too_old_resource_version(5, 42)
    assert (err.code, err.reason) == (410, "Expired")
    assert err.message == "too old resource version: 5 (42)"
    assert err.status["status"] == "Failure" and err.status["kind"] == "Status"
