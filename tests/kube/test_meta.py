from __future__ import annotations

import pytest

from kclusterkit.kube.meta import (
    SelectorError,
    labels_match,
    parse_label_selector,
    selector_matches,
    selector_string,
)


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("app=web", {"app": "web"}, True),
        ("app=web", {"app": "db"}, False),
        ("app!=web", {}, True),
        ("tier in (a, b)", {"tier": "b"}, True),
        ("tier notin (a,b)", {"tier": "b"}, False),
        ("app,!canary", {"app": "x"}, True),
        ("app,!canary", {"app": "x", "canary": "1"}, False),
        ("app==web,tier=fe", {"app": "web", "tier": "fe"}, True),
    ],
)
def test_string_selectors(selector: str, labels: dict, expected: bool) -> None:
    assert labels_match(labels, parse_label_selector(selector)) is expected


def test_garbage_selector_is_rejected() -> None:
    with pytest.raises(SelectorError):
        parse_label_selector("app in (a")


def test_label_selector_object_and_its_string_form() -> None:
    sel = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}],
    }
    assert selector_matches(sel, {"app": "web", "tier": "a"})
    assert not selector_matches(sel, {"app": "web"})
    assert not selector_matches(None, {"app": "web"}), "a nil selector matches nothing"
    assert selector_string(sel) == "app=web,tier in (a,b)"
