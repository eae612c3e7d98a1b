"""Helpers of the multi-process tests: compare a traced run with the untraced one.

The recorder adds exactly one kind of line to a program's stderr, ``codetracer: ...`` (the
summary line of the CLI); everything else — stdout, the rest of stderr, the exit status — must
be what plain ``python`` gives. Process ids differ from run to run, so ``pid=N`` /
``pid N`` texts are normalised before comparing.
"""

from __future__ import annotations

import re
import subprocess

_PID = re.compile(r"\bpid[= ]\d+")


def program_stderr(stderr: str) -> str:
    """``stderr`` without the recorder's own ``codetracer:`` lines, pids normalised."""
    kept = [line for line in stderr.splitlines() if not line.startswith("codetracer: ")]
    return _PID.sub("pid=N", "\n".join(kept))


def assert_same_as_untraced(
    traced: subprocess.CompletedProcess[str],
    untraced: subprocess.CompletedProcess[str],
    *,
    sort_lines: bool = False,
) -> None:
    """The traced run printed and exited as the untraced one did (``sort_lines``: compare
    stdout as a multiset of lines, for programs whose processes interleave their output)."""
    assert traced.returncode == untraced.returncode, (traced.returncode, traced.stderr[-3000:])
    out, ref = traced.stdout, untraced.stdout
    if sort_lines:
        out, ref = "\n".join(sorted(out.splitlines())), "\n".join(sorted(ref.splitlines()))
    assert _PID.sub("pid=N", out) == _PID.sub("pid=N", ref)
    assert program_stderr(traced.stderr) == program_stderr(untraced.stderr), traced.stderr[-3000:]
    assert "multi-threaded" not in traced.stderr or "multi-threaded" in untraced.stderr
