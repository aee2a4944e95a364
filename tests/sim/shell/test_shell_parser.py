"""The sh grammar: what parses into which commands, and busybox's syntax errors."""

from __future__ import annotations

import pytest

from kclusterkit.sim.shell import ShellSyntaxError, parse
from kclusterkit.sim.shell.parser import ForLoop, IfCmd, Loop, Simple, tokenize


def test_quoting_keeps_single_quotes_literal() -> None:
    words = tokenize("echo \"$x y\" '$x' a\\ b")
    assert [w.raw() for w in words] == ["echo", "$x y", "$x", "a b"]
    assert words[1].parts == [("$x y", True)] and words[2].parts == [("$x", False)]


def test_lists_keep_their_connectors() -> None:
    items = parse("a && b || c; d")
    assert [connector for _, connector in items] == ["&&", "||", ";", ";"]
    assert all(isinstance(pipeline[0], Simple) for pipeline, _ in items)


def test_compound_commands() -> None:
    (loop, _), = [(p[0], c) for p, c in parse("while true; do sleep 1; done")]
    assert isinstance(loop, Loop) and not loop.until
    (for_loop,), _ = parse("for i in 1 2; do echo $i; done")[0]
    assert isinstance(for_loop, ForLoop) and for_loop.var == "i"
    (if_cmd,), _ = parse("if a; then b; elif c; then d; else e; fi")[0]
    assert isinstance(if_cmd, IfCmd) and len(if_cmd.branches) == 2 and if_cmd.otherwise


def test_redirections_are_parsed_onto_the_command() -> None:
    (cmd,), _ = parse("echo x > /tmp/f 2>&1")[0]
    assert [op for op, _ in cmd.redirects] == [">", "2>&1"]


@pytest.mark.parametrize(("script", "message"), [
    ("while true; do sleep 1", 'syntax error: unexpected "end of file" (expecting "done")'),
    ("echo 'open", "unterminated quoted string"),
    ("echo >", "syntax error: unexpected redirection"),
])
def test_syntax_errors(script: str, message: str) -> None:
    with pytest.raises(ShellSyntaxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(script)
