"""Parameter types and the catalog: what a feature may write, and what the catalog promises."""

from __future__ import annotations

import parse
import pytest

from kclusterkit.steps import catalog
from kclusterkit.steps._support import display_pattern, expand_plurals
from kclusterkit.steps.types import TYPES, BadValue, format_duration, parse_duration


@pytest.mark.parametrize(("text", "seconds"), [
    ("30 seconds", 30), ("1 second", 1), ("1 minute", 60), ("2 minutes", 120), ("90s", 90),
    ("2m", 120), ("1 hour", 3600), ("1 minute 30 seconds", 90), ("1 minute and 30 seconds", 90),
    ("0.5 seconds", 0.5),
])
def test_durations(text: str, seconds: float) -> None:
    found = parse.parse("within {d:Duration}", f"within {text}", TYPES)
    assert found is not None and found["d"] == seconds
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("text", "seconds"), [
    ("1m30s", 90), ("1h2m", 3720), ("1 minute, 30 seconds", 90), ("2 Minutes", 120),
])
def test_compact_and_spelt_out_durations(text: str, seconds: float) -> None:
    found = parse.parse("within {d:Duration}", f"within {text}", TYPES)
    assert found is not None and found["d"] == seconds


@pytest.mark.parametrize("text", ["a while", "soon seconds"])
def test_not_durations(text: str) -> None:
    assert parse.parse("within {d:Duration}", f"within {text}", TYPES) is None


@pytest.mark.parametrize(("text", "why"), [
    ("30", "30 has no unit"), ("5 days", "unknown unit 'days'"),
    ("-1 seconds", "a duration cannot be negative"),
])
def test_a_duration_in_its_place_that_does_not_parse_says_why(text: str, why: str) -> None:
    found = parse.parse("within {d:Duration}", f"within {text}", TYPES)
    assert isinstance(found["d"], BadValue)
    assert str(found["d"]) == (f'"{text}" is not accepted here ({why}): expected a duration '
                               "like 30 seconds, 2 minutes, 1m30s or 1 minute 30 seconds")


@pytest.mark.parametrize(("pattern", "text", "expected"), [
    ("with {n:N} replicas", "with -1 replicas", "a whole number, 0 or more (like 3)"),
    ("with {n:N} replicas", "with 1.5 replicas", "a whole number, 0 or more (like 3)"),
    ("requesting {cpu:Cpu} CPU", "requesting 100x CPU", "a CPU quantity like 100m, 0.5 or 2"),
    ("and {m:Memory} memory", "and 1Gb memory", "a memory quantity like 256Mi, 1Gi or 500M"),
])
def test_a_number_in_its_place_that_does_not_parse_says_what_is_accepted(
        pattern: str, text: str, expected: str) -> None:
    found = parse.parse(pattern, text, TYPES)
    (value,) = found.named.values()
    assert isinstance(value, BadValue) and str(value).endswith(f"expected {expected}")


def test_quoted_fields_do_not_swallow_quotes() -> None:
    pattern = 'a deployment "{name:Q}" running "{image:Q}" with {n:N} replicas'
    found = parse.parse(pattern, 'a deployment "web" running "busybox:1.36 sh -c \'exit 1\'" '
                        "with 2 replicas", TYPES)
    assert found is not None
    assert (found["name"], found["image"], found["n"]) == ("web", "busybox:1.36 sh -c 'exit 1'", 2)


@pytest.mark.parametrize(("seconds", "text"), [
    (30, "30s"), (0.5, "0.5s"), (60, "1m"), (90, "1m30s"), (3720, "1h2m"), (12.25, "12.2s"),
])
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_plural_expansion() -> None:
    assert sorted(expand_plurals("{a:N} node(s) and {b:N} pod(s)")) == [
        "{a:N} node and {b:N} pod", "{a:N} node and {b:N} pods",
        "{a:N} nodes and {b:N} pod", "{a:N} nodes and {b:N} pods"]
    assert display_pattern('deployment "{name:Q}" has {n:N} pod(s)') == \
        'deployment "{name}" has {n} pod(s)'


def test_every_step_has_a_description_and_an_example_that_it_matches() -> None:
    steps = catalog()
    assert len(steps) >= 25
    for doc in steps:
        assert doc.description, f"{doc.pattern}: no one-line description"
        assert doc.example, f"{doc.pattern}: no 'Example:' line"
        keyword, _, text = doc.example.partition(" ")
        assert keyword in ("Given", "When", "Then", "And", "But"), doc.example
        assert any(parse.parse(p, text, TYPES) for p in doc.patterns), \
            f"example {doc.example!r} does not match {doc.patterns}"


def test_no_two_steps_match_the_same_example() -> None:
    steps = catalog()
    for doc in steps:
        text = doc.example.partition(" ")[2]
        matching = [other.pattern for other in steps
                    if any(parse.parse(p, text, TYPES) for p in other.patterns)]
        assert matching == [doc.pattern], f"{doc.example!r} is matched by {matching}"
