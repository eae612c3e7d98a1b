"""``input()`` at a terminal (stdin and stdout a pty): the prompt and the typed line are
recorded although the builtin reads with ``PyOS_Readline``, bypassing the stream proxies, and
the user sees exactly what an untraced run shows."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.checks import check_trace
from support.run import SUBPROCESS_TIMEOUT, child_env, write
from support.trace import Trace
from test_io_capture import READ, WRITE, WRITE_OTHER, io_events, line_of

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")

PROGRAM = """
{imports}
name = input("name? ")  # INPUT
print("hello", name)  # PRINT
"""


def at_terminal(argv: list[str], cwd: Path, typed: bytes, prompt: bytes) -> tuple[bytes, int]:
    """Run ``argv`` with stdin, stdout and stderr on a pty; type ``typed`` once ``prompt``
    shows. Returns (everything the terminal showed, exit code)."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=child_env(), stdin=slave, stdout=slave, stderr=slave, close_fds=True
    )
    os.close(slave)
    shown = b""
    deadline = time.monotonic() + SUBPROCESS_TIMEOUT
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"timed out; the terminal showed {shown!r}")
            ready, _, _ = select.select([master], [], [], min(remaining, 1.0))
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every slave end is closed (the child exited)
                break
            if not chunk:
                break
            before = prompt in shown
            shown += chunk
            if not before and prompt in shown:
                os.write(master, typed)
        return shown, proc.wait(timeout=SUBPROCESS_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=SUBPROCESS_TIMEOUT)
        os.close(master)


def shown_by_program(shown: bytes) -> bytes:
    """The terminal's output without the recorder's summary line (and the line ends as sent)."""
    lines = shown.replace(b"\r\n", b"\n").splitlines(keepends=True)
    return b"".join(line for line in lines if not line.startswith(b"codetracer: trace written"))


@pytest.mark.parametrize(
    ("imports", "prompt_kind"),
    [("", WRITE_OTHER), ("import readline", WRITE)],
    ids=["plain-stdio", "gnu-readline"],
)
def test_input_at_a_terminal_records_prompt_and_line(
    tmp_path: Path, imports: str, prompt_kind: int
) -> None:
    if imports:
        pytest.importorskip("readline")
    script = write(tmp_path / "prog.py", PROGRAM.format(imports=imports))
    untraced, untraced_rc = at_terminal(
        [sys.executable, str(script)], tmp_path, b"ada\n", b"name? "
    )
    trace_dir = tmp_path / "trace"
    argv = [sys.executable, "-m", "codetracer_python_recorder", "--trace-dir", str(trace_dir),
            "--format", "json", str(script)]  # fmt: skip
    traced, traced_rc = at_terminal(argv, tmp_path, b"ada\n", b"name? ")
    assert (traced_rc, untraced_rc) == (0, 0), traced
    assert b"codetracer: trace written" in traced, traced
    assert b"hello ada" in untraced, untraced
    assert shown_by_program(traced) == shown_by_program(untraced)

    trace = Trace(trace_dir)
    check_trace(trace)
    at_input, at_print = line_of(script, "# INPUT"), line_of(script, "# PRINT")
    assert io_events(trace) == [
        (prompt_kind, "name? ", at_input),
        (READ, "ada\n", at_input),
        (WRITE, "hello ada\n", at_print),
    ]


def test_input_with_stdout_piped_is_recorded_once_by_the_proxies(tmp_path: Path) -> None:
    """stdin a tty but stdout a pipe: ``input()`` takes the stream path (no audit double)."""
    script = write(tmp_path / "prog.py", PROGRAM.format(imports=""))
    trace_dir = tmp_path / "trace"
    master, slave = os.openpty()
    try:
        os.write(master, b"bob\n")
        proc = subprocess.run(
            [sys.executable, "-m", "codetracer_python_recorder", "--trace-dir", str(trace_dir),
             "--format", "json", str(script)],
            cwd=tmp_path, env=child_env(), stdin=slave, capture_output=True,
            timeout=SUBPROCESS_TIMEOUT, check=False,
        )  # fmt: skip
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"name? hello bob\n"
    trace = Trace(trace_dir)
    check_trace(trace)
    at_input = line_of(script, "# INPUT")
    assert io_events(trace) == [
        (WRITE, "name? ", at_input),
        (READ, "bob\n", at_input),
        (WRITE, "hello bob\n", line_of(script, "# PRINT")),
    ]
