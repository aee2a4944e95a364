"""The applets and the interpreter's plain semantics, run at once (as an exec)."""

from __future__ import annotations

import pytest

from kclusterkit.sim import shell


@pytest.mark.parametrize(("script", "code", "stdout"), [
    ("echo a && echo b", 0, "a\nb\n"),
    ("false && echo no || echo yes", 0, "yes\n"),
    ("x=hello; echo \"$x world\" '$x'", 0, "hello world $x\n"),
    ("for i in 1 2 3; do echo $i; done", 0, "1\n2\n3\n"),
    ("if [ -f /nope ]; then echo y; else echo n; fi", 0, "n\n"),
    ("echo hi | grep h", 0, "hi\n"),
    ("foo", 127, ""),
    ("exit 5; echo never", 5, ""),
])
def test_shell_scripts(script: str, code: int, stdout: str) -> None:
    result = shell.run(script, shell.Context())
    assert (result.exit_code, result.stdout) == (code, stdout)


def test_shell_unknown_command_wording() -> None:
    result = shell.run("foo --bar", shell.Context())
    assert result.stderr == "sh: foo: not found\n"


def test_files_and_directories() -> None:
    ctx = shell.Context()
    result = shell.run("mkdir -p /data/a && echo x > /data/a/f && cat /data/a/f; ls /data", ctx)
    assert (result.exit_code, result.stdout) == (0, "x\na\n")
    assert ctx.files["/data/a/f"] == "x\n"


def test_usleep_waits_microseconds() -> None:
    assert shell.run("usleep 250000", shell.Context()).elapsed == 0.25
