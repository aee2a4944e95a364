"""The one YAML loader: aliases and nesting bounded, ordinary anchors still fine."""

from __future__ import annotations

import pytest

from kclusterkit import safe_yaml


def bomb(levels: int = 8) -> str:
    """Billion laughs: each level lists the previous one nine times (9**levels leaves)."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_its_line() -> None:
    with pytest.raises(safe_yaml.MarkedError) as info:
        safe_yaml.load(bomb())
    assert "excessive aliasing" in str(info.value)
    assert info.value.problem_mark is not None and info.value.problem_mark.line == 4


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    for text in ("[" * 20_000 + "]" * 20_000, "a:\n" + "".join(
            " " * i + "a:\n" for i in range(1, 200))):
        with pytest.raises(safe_yaml.MarkedError) as info:
            safe_yaml.load(text)
        assert f"exceeded max depth of {safe_yaml.MAX_DEPTH}" in str(info.value)


def test_ordinary_anchors_and_merge_keys_still_load() -> None:
    text = "base: &b {image: nginx, ports: [80]}\nweb: *b\napi:\n  <<: *b\n  image: agnhost\n"
    assert safe_yaml.load(text) == {"base": {"image": "nginx", "ports": [80]},
                                    "web": {"image": "nginx", "ports": [80]},
                                    "api": {"image": "agnhost", "ports": [80]}}
    assert safe_yaml.load_all("a: 1\n---\nb: 2\n") == [{"a": 1}, {"b": 2}]
