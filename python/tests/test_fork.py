"""``os.fork()`` in a traced program: no hang, no warning, the parent's trace intact.

Every program runs twice, under plain ``python`` and under the recorder's CLI, with the same
arguments; output and exit status must agree (support.processes). A hang hits the child
process timeout (support.timeouts).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import FORMATS, Trace, check_trace, run_cli, run_python, write
from support.processes import assert_same_as_untraced

FORK = """
import os, sys

def child_work(n):
    total = 0
    for i in range(n):
        total += i * i
    return total

def parent_work(n):
    return n + 1

def main(how):
    pid = os.fork()
    if pid == 0:
        print("child", child_work(2000), flush=True)
        if how == "os_exit":
            os._exit(7)
        if how == "raise":
            raise ValueError("the child fails")
        return "child returned"
    _, status = os.waitpid(pid, 0)
    print("parent", parent_work(1), "child status", os.waitstatus_to_exitcode(status))
    return "parent returned"

print(main(sys.argv[1]))
"""

FORK_IN_THREAD = """
import os, threading

def child_work(n):
    return n * 3

def forker(results):
    pid = os.fork()
    if pid == 0:
        print("child", child_work(5), flush=True)
        os._exit(0)
    results.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))

results = []
thread = threading.Thread(target=forker, args=(results,))
thread.start()
thread.join()
print("parent saw", results)
"""

MANY_FORKS = """
import os

def busy(n):
    return [i * 2 for i in range(n)]

for round in range(40):
    busy(3000)  # keeps the writer thread busy at the moment of the fork
    pid = os.fork()
    if pid == 0:
        os._exit(round % 3)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == round % 3
print("done")
"""


def _both(tmp_path: Path, program: str, fmt: str, *args: str) -> tuple[object, object, Path]:
    script = write(tmp_path / "prog.py", program)
    trace_dir = tmp_path / "trace"
    untraced = run_python(script, *args, cwd=tmp_path)
    traced = run_cli("--trace-dir", trace_dir, "--format", fmt, script, *args, cwd=tmp_path)
    return traced, untraced, trace_dir


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("how", ["os_exit", "return", "raise"])
def test_fork_child_ends_and_parent_trace_is_intact(fmt: str, how: str, tmp_path: Path) -> None:
    traced, untraced, trace_dir = _both(tmp_path, FORK, fmt, how)
    assert_same_as_untraced(traced, untraced)  # type: ignore[arg-type]
    assert "parent 2" in traced.stdout  # type: ignore[attr-defined]
    trace = Trace(trace_dir)
    check_trace(trace)
    assert "parent_work" in trace.call_names()
    # the child never wrote into the parent's files
    assert "child_work" not in trace.call_names()
    assert trace.metadata["process_exit_status"]["code"] == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_fork_in_a_thread(fmt: str, tmp_path: Path) -> None:
    traced, untraced, trace_dir = _both(tmp_path, FORK_IN_THREAD, fmt)
    assert_same_as_untraced(traced, untraced)  # type: ignore[arg-type]
    assert "parent saw [0]" in traced.stdout  # type: ignore[attr-defined]
    trace = Trace(trace_dir)
    check_trace(trace)
    assert "forker" in trace.call_names()


@pytest.mark.parametrize("fmt", FORMATS)
def test_forty_forks_while_the_writer_is_busy(fmt: str, tmp_path: Path) -> None:
    traced, untraced, trace_dir = _both(tmp_path, MANY_FORKS, fmt)
    assert_same_as_untraced(traced, untraced)  # type: ignore[arg-type]
    assert "multi-threaded" not in traced.stderr  # type: ignore[attr-defined]
    trace = Trace(trace_dir)
    check_trace(trace)
    assert len(trace.calls_of("busy")) == 40
