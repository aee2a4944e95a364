"""A script as a live process: it runs to each wait, and each line is written at its time."""

from __future__ import annotations

import math

from kclusterkit.sim.shell import FOREVER, Context, NetworkError, Process, run


def live(script: str, clock: list[float] | None = None, **ctx: object
         ) -> tuple[Process, list[tuple[float, str, str]]]:
    """A process whose log lines are stamped with a fake clock the test advances."""
    lines: list[tuple[float, str, str]] = []
    clock = clock if clock is not None else [0.0]
    context = Context(**ctx)  # type: ignore[arg-type]
    context.write = lambda stream, line: lines.append((clock[0], stream, line))
    process = Process(script, context)
    process.clock = clock  # type: ignore[attr-defined]
    return process, lines


def drive(process: Process, until: float) -> float | None:
    """Resume the process at each instant it asks for, up to ``until``; its exit time."""
    clock = process.clock  # type: ignore[attr-defined]
    while clock[0] <= until:
        wait = process.resume()
        if wait is None:
            return clock[0]
        if wait == FOREVER:
            return None
        clock[0] += wait
    return None


def test_each_command_runs_at_its_own_instant() -> None:
    process, lines = live("echo one; sleep 2; echo two; exit 4")
    assert drive(process, 10) == 2.0
    assert process.exit_code == 4
    assert lines == [(0.0, "stdout", "one"), (2.0, "stdout", "two")]


def test_a_request_in_a_loop_happens_every_period() -> None:
    clock = [0.0]
    requests: list[float] = []

    def http(url: str) -> tuple[int, str]:
        requests.append(clock[0])
        return 200, "web-1"

    script = ("while true; do wget -qO- -T 2 'http://web/hostname' 2>&1; s=$?; echo; "
              "echo \"@@kk-exit $s\"; sleep 0.05; done")
    process, lines = live(script, clock, http=http)
    drive(process, 0.2)
    assert [round(t, 2) for t in requests] == [0.0, 0.05, 0.1, 0.15, 0.2]
    # The body has no newline of its own: `echo` ends its line, as in a real log.
    assert [line for _, _, line in lines[:2]] == ["web-1", "@@kk-exit 0"]
    assert [round(t, 2) for t, _, line in lines if line == "web-1"] == [0.0, 0.05, 0.1, 0.15,
                                                                          0.2]


def test_a_timed_out_request_takes_its_timeout() -> None:
    def http(url: str) -> tuple[int, str]:
        raise NetworkError("download timed out", timed_out=True)

    process, lines = live("wget -qO- -T 2 http://web/; echo \"@@kk-exit $?\"", http=http)
    assert drive(process, 10) == 2.0
    assert lines == [(2.0, "stderr", "wget: download timed out"),
                     (2.0, "stdout", "@@kk-exit 1")]


def test_sleep_infinity_and_sleep_loops_block_without_spinning() -> None:
    process, _ = live("echo hi; sleep infinity")
    assert process.resume() == math.inf
    # A loop of nothing but sleeps blocks once rather than waking every second.
    process, _ = live("while true; do sleep 1; done")
    assert process.resume() == math.inf
    process, lines = live("while true; do echo tick; sleep 1; done")
    assert [process.resume() for _ in range(3)] == [1.0, 1.0, 1.0] and len(lines) == 3
    process, lines = live("while true; do sleep x; done")  # prints its error, spinning
    assert process.resume() == math.inf and lines[0] == (0.0, "stderr",
                                                         "sleep: invalid number 'x'")


def test_a_loop_that_never_waits_blocks_for_ever_instead_of_hanging() -> None:
    process, _ = live("while true; do true; done")
    assert process.resume() == FOREVER and process.forever


def test_exec_replaces_the_shell() -> None:
    process, lines = live("echo start; exec sleep 3600; echo never")
    assert drive(process, 7200) == 3600 and process.exit_code == 0
    assert [line for _, _, line in lines] == ["start"]
    assert run("exec false; echo never", Context()).exit_code == 1
    assert run("exec echo hi; echo never", Context()).stdout == "hi\n"


def test_a_failed_redirection_fails_the_command_with_busybox_wording() -> None:
    # ash redirectsafe(): "result should be 1, not 2"; the command does not run.
    result = run("echo x > /nonexistent/dir/f", Context())
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "sh: can't create /nonexistent/dir/f: nonexistent directory\n"
    result = run("echo x > /nonexistent/dir/f; echo $?", Context())
    assert (result.exit_code, result.stdout) == (0, "1\n")


def test_stopping_a_process_ends_it() -> None:
    process, lines = live("while true; do echo tick; sleep 1; done")
    process.resume()
    process.stop()
    assert process.resume() is None and lines == [(0.0, "stdout", "tick")]


def test_run_counts_waits_and_gives_exact_output() -> None:
    result = run("echo -n hi; sleep 2; echo there; sleep 1", Context())
    assert (result.exit_code, result.stdout, result.elapsed) == (0, "hithere\n", 3.0)
    assert result.output == [(2.0, "hithere")]
    assert run("sleep infinity", Context()).forever
