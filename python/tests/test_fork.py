"""``os.fork()`` in a traced program: no hang, no warning, the parent's trace intact, and the
child's own trace in ``children/<pid>-<n>/`` (or none with ``--no-follow-children``).

Every program runs twice, under plain ``python`` and under the recorder's CLI, with the same
arguments; output and exit status must agree (support.processes). A hang hits the child
process timeout (support.timeouts).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import FORMATS, Trace, check_trace, decode, run_cli, run_python, write
from support.processes import assert_same_as_untraced, child_entries, child_traces

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


def _both(
    tmp_path: Path, program: str, fmt: str, *args: str, flags: tuple[str, ...] = ()
) -> tuple[object, object, Path]:
    script = write(tmp_path / "prog.py", program)
    trace_dir = tmp_path / "trace"
    untraced = run_python(script, *args, cwd=tmp_path)
    traced = run_cli("--trace-dir", trace_dir, "--format", fmt, *flags, script, *args, cwd=tmp_path)
    return traced, untraced, trace_dir


CHILD_STATUS = {"os_exit": 7, "return": 0, "raise": 1}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("how", ["os_exit", "return", "raise"])
def test_fork_child_ends_and_parent_trace_is_intact(fmt: str, how: str, tmp_path: Path) -> None:
    traced, untraced, trace_dir = _both(tmp_path, FORK, fmt, how)
    assert_same_as_untraced(traced, untraced)  # type: ignore[arg-type]
    assert f"child status {CHILD_STATUS[how]}" in traced.stdout  # type: ignore[attr-defined]
    trace = Trace(trace_dir)
    check_trace(trace)
    assert "parent_work" in trace.call_names()
    # the child never wrote into the parent's files
    assert "child_work" not in trace.call_names()
    assert trace.metadata["process_exit_status"]["code"] == 0
    # the child's own trace, complete, from the line after fork()
    (entry,) = child_entries(trace)
    assert entry["started_by"] == "fork"
    assert entry["trace"] == f"children/{entry['pid']}-1"
    assert entry["exit_status"]["code"] == CHILD_STATUS[how]
    (child,) = child_traces(trace)
    assert "child_work" in child.call_names()
    assert "parent_work" not in child.call_names()
    assert [decode(r) for r in child.returns_of("child_work")] == [sum(i * i for i in range(2000))]
    assert child.metadata["process"]["parent"]["pid"] == trace.metadata["process"]["pid"]
    assert child.metadata["process"]["pid"] == entry["pid"]
    assert child.metadata["process_exit_status"]["code"] == CHILD_STATUS[how]
    if how == "raise":
        assert any("the child fails" in e for e in child.errors())
    assert child.metadata["format"] == fmt


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_follow_children_records_only_the_parent(fmt: str, tmp_path: Path) -> None:
    flags = ("--no-follow-children",)
    traced, untraced, trace_dir = _both(tmp_path, FORK, fmt, "return", flags=flags)
    assert_same_as_untraced(traced, untraced)  # type: ignore[arg-type]
    trace = Trace(trace_dir)
    check_trace(trace)
    assert "child_work" not in trace.call_names()
    assert child_entries(trace) == []
    assert not (trace_dir / "children").exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_fork_in_a_thread(fmt: str, tmp_path: Path) -> None:
    traced, untraced, trace_dir = _both(tmp_path, FORK_IN_THREAD, fmt)
    assert_same_as_untraced(traced, untraced)  # type: ignore[arg-type]
    assert "parent saw [0]" in traced.stdout  # type: ignore[attr-defined]
    trace = Trace(trace_dir)
    check_trace(trace)
    assert "forker" in trace.call_names()
    (child,) = child_traces(trace)
    assert child.call_names() == ["<toplevel>", "child_work"]  # the forking thread goes on
    assert [decode(r) for r in child.returns_of("child_work")] == [15]


@pytest.mark.parametrize("fmt", FORMATS)
def test_forty_forks_while_the_writer_is_busy(fmt: str, tmp_path: Path) -> None:
    traced, untraced, trace_dir = _both(tmp_path, MANY_FORKS, fmt)
    assert_same_as_untraced(traced, untraced)  # type: ignore[arg-type]
    assert "multi-threaded" not in traced.stderr  # type: ignore[attr-defined]
    trace = Trace(trace_dir)
    check_trace(trace)
    assert len(trace.calls_of("busy")) == 40
    kids = child_traces(trace)
    assert len(kids) == 40
    assert sorted(c.metadata["process_exit_status"]["code"] for c in kids) == sorted(
        r % 3 for r in range(40)
    )


NATIVE_ONLY = """
import os
from codetracer_python_recorder_core import _native

def child_work():
    return 5

_native.start_tracing({trace!r}, {fmt!r})
pid = os.fork()
if pid == 0:
    child_work()
    os._exit(0)
print("status", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
_native.stop_tracing(0)
"""


@pytest.mark.parametrize("fmt", FORMATS)
def test_fork_is_safe_however_the_recording_started(fmt: str, tmp_path: Path) -> None:
    # The native core registers its fork hooks itself: a recording started without the
    # Python layer forks safely too.
    trace_dir = tmp_path / "trace"
    script = write(tmp_path / "prog.py", NATIVE_ONLY.format(trace=str(trace_dir), fmt=fmt))
    proc = run_python(script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "status 0\n"
    assert proc.stderr == ""
    trace = Trace(trace_dir)
    check_trace(trace)
    assert "child_work" not in trace.call_names()
