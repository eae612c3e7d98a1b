"""Helpers of the multi-process tests: compare a traced run with the untraced one, and find
the traces of child processes.

The recorder adds exactly one kind of line to a program's stderr, ``codetracer: ...`` (the
summary line of the CLI); everything else — stdout, the rest of stderr, the exit status — must
be what plain ``python`` gives. Process ids differ from run to run, so ``pid=N`` /
``pid N`` texts are normalised before comparing.

A recorded child process writes its trace into ``PARENT/children/<pid>-<n>/``; the parent's
``trace_metadata.json`` lists them (``children``: ``pid``, ``argv``, ``started_by``,
``trace``, ``exit_status``).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

from support.checks import check_trace
from support.timeouts import SUBPROCESS_TIMEOUT
from support.trace import Trace

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


def child_entries(trace: Trace) -> list[dict[str, Any]]:
    """The ``children`` list of a trace's metadata."""
    entries = trace.metadata.get("children")
    assert isinstance(entries, list), f"no children list in {trace.metadata}"
    return entries


def wait_until_finished(trace_dir: Path, timeout: float = SUBPROCESS_TIMEOUT) -> dict[str, Any]:
    """Wait until the recording in ``trace_dir`` wrote its exit status (a child that outlives
    its parent finishes later); return its metadata."""
    deadline = time.monotonic() + timeout
    meta_file = trace_dir / "trace_metadata.json"
    while True:
        if meta_file.exists():
            meta: dict[str, Any] = json.loads(meta_file.read_text())
            if meta.get("process_exit_status") is not None:
                return meta
        assert time.monotonic() < deadline, f"{trace_dir} never finished"
        time.sleep(0.05)


def child_traces(trace: Trace) -> list[Trace]:
    """Every child trace a trace lists, read strictly (each must be complete and valid on its
    own: support.checks.check_trace), waiting for children still running."""
    found = []
    for entry in child_entries(trace):
        child_dir = trace.dir / entry["trace"]
        wait_until_finished(child_dir)
        child = Trace(child_dir)
        check_trace(child)
        found.append(child)
    return found
