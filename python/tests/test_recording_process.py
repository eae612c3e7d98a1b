"""End-to-end: threads, recording started mid-stack, killed processes (SPEC §5.5, §9)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from support import (
    FORMATS,
    Trace,
    check_trace,
    decode,
    record,
    record_code,
)

pytestmark = pytest.mark.parametrize("fmt", FORMATS)


def test_four_concurrent_threads(fmt: str, tmp_path: Path) -> None:
    run = record("threads4.py", fmt, tmp_path)  # a deadlock hits the timeout
    t = run.trace
    rounds = 3000
    expected = sum(i % 7 for i in range(rounds))
    assert run.proc.stdout.strip() == str([(i, expected) for i in range(4)])
    thread_recs = t.thread_records()
    starts = {v for k, v in thread_recs if k == "ThreadStart"}
    assert len(starts) >= 2 and any(k == "ThreadSwitch" for k, _ in thread_recs)
    assert len(t.calls_of("work")) == 4
    assert len(t.calls_of("step")) == 4 * rounds
    assert [decode(r) for r in t.returns_of("work")] == [expected] * 4
    assert sorted(decode(t.arg(c, "tid")) for c in t.calls_of("work")) == [0, 1, 2, 3]
    # the threads really ran concurrently: at some point two threads had `work` open, and
    # every thread's records are balanced on their own (check_trace tracks depth per thread)
    open_work: dict[int, int] = {}
    cur: int | None = None  # None: the main (recording) thread, before and after switches
    overlap = False
    fns = t.functions
    stack: dict[int | None, list[str]] = {}
    for k, v in t.records:
        if k == "ThreadSwitch":
            cur = v if v in starts else None
        elif k == "Call":
            name = fns[v["function_id"]]["name"]
            stack.setdefault(cur, []).append(name)
            if name == "work":
                open_work[cur] = open_work.get(cur, 0) + 1
                overlap |= sum(1 for n in open_work.values() if n) >= 2
        elif k == "Return":
            name = stack[cur].pop()
            if name == "work":
                open_work[cur] -= 1
    assert overlap, "the four threads never had work() open at the same time"
    # each secondary thread ends with ThreadExit
    exits = [v for k, v in thread_recs if k == "ThreadExit"]
    assert len(exits) >= 4


def test_reused_thread_ids_pair_their_thread_records(fmt: str, tmp_path: Path) -> None:
    """64 threads, 4 at a time: a thread that gets the id of a finished one is a new
    thread lifetime (ThreadStart ... ThreadExit), never a continuation of the dead one."""
    run = record("threads_reuse.py", fmt, tmp_path)
    total = sum(n * 2 + 1 for n in range(64))
    assert run.proc.stdout.split() == [str(total), "64", "True"], run.proc.stdout  # ids reused
    t = run.trace
    live: set[int] = set()
    started = exited = 0
    main: int | None = None
    for k, v in t.thread_records():
        if k == "ThreadStart":
            assert v not in live, f"ThreadStart of {v}, which is running"
            live.add(v)
            started += 1
        elif k == "ThreadExit":
            assert v in live, f"ThreadExit of {v} without its ThreadStart"
            live.remove(v)
            exited += 1
        elif k == "ThreadSwitch" and v not in live:
            # only the main (recording) thread runs without a ThreadStart of its own
            assert main in (None, v), f"ThreadSwitch to {v}, which is not running"
            main = v
    assert live == set(), f"threads never exited: {live}"
    assert started == exited == 64, (started, exited)
    # every thread's calls are its own: 64 body/work/step calls, each returned in its thread
    for name in ("body", "work", "step"):
        assert len(t.calls_of(name)) == 64, name
    assert sorted(decode(r) for r in t.returns_of("work")) == sorted(n * 2 + 1 for n in range(64))


def test_single_thread_has_no_thread_records(fmt: str, tmp_path: Path) -> None:
    for program in ("recursion.py", "generators.py", "coroutines.py"):
        t = record(program, fmt, tmp_path).trace
        assert t.thread_records() == [], program


MID_STACK = """
import sys
from codetracer_python_recorder_core import _native

def helper(v):
    w = v * 3
    return w

def work():
    a = 1
    _native.start_tracing({trace!r}, {fmt!r})
    b = a + 1  # @after_start
    c = helper(b)
    return c

def outer():
    r = work()
    s = r + 1  # @outer_after
    return s

x = outer()
y = x + 1  # @module_after
summary = _native.stop_tracing(0)
print(x, y)
"""


def _line(code: str, marker: str) -> int:
    lines = textwrap.dedent(code).lstrip().splitlines()
    (hit,) = [i + 1 for i, text in enumerate(lines) if text.endswith(f"# @{marker}")]
    return hit


def test_recording_started_mid_stack(fmt: str, tmp_path: Path) -> None:
    trace_dir = tmp_path / "trace"
    code = MID_STACK.format(trace=str(trace_dir), fmt=fmt)
    proc = record_code(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "7 8"
    t = Trace(trace_dir)
    check_trace(t)  # no unmatched Returns for work/outer/<module>, which started unrecorded
    assert t.call_names() == ["<toplevel>", "helper"]
    assert [decode(r) for r in t.returns_of("helper")] == [6]
    lines = t.lines_in("snippet.py")
    for marker in ("after_start", "outer_after", "module_after"):
        assert _line(code, marker) in lines, (marker, lines)
    # the adopted frames' variables are recorded at their later lines
    assert 2 in [decode(v) for v in t.values("b")]
    assert 7 in [decode(v) for v in t.values("s")]


STOP_INSIDE = """
from codetracer_python_recorder_core import _native

def inner(n):
    if n == 0:
        _native.stop_tracing(5)
        return "stopped"
    return inner(n - 1)

_native.start_tracing({trace!r}, {fmt!r})
print(inner(3))
"""


def test_recording_stopped_inside_nested_calls(fmt: str, tmp_path: Path) -> None:
    trace_dir = tmp_path / "trace"
    proc = record_code(STOP_INSIDE.format(trace=str(trace_dir), fmt=fmt), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "stopped"
    t = Trace(trace_dir)
    check_trace(t)  # the open inner frames are closed at stop
    assert len(t.calls_of("inner")) == 4
    assert decode(t.returns()[-1]) == 5


KILLED = """
import os, signal
from codetracer_python_recorder_core import _native

def double(i):
    return i * 2

_native.start_tracing({trace!r}, {fmt!r})
total = 0
for i in range(50):
    total += double(i)
_native.flush_tracing()
after_flush = 1
import time
time.sleep(0.5)  # let the background writer catch up: see test_flush_is_synchronous
if {how!r} == "sigkill":
    os.kill(os.getpid(), signal.SIGKILL)
else:
    os._exit(0)
"""


@pytest.mark.parametrize("how", ["sigkill", "os_exit"])
def test_killed_process_leaves_readable_prefix(fmt: str, how: str, tmp_path: Path) -> None:
    trace_dir = tmp_path / "trace"
    proc = record_code(KILLED.format(trace=str(trace_dir), fmt=fmt, how=how), tmp_path)
    assert proc.returncode == (-9 if how == "sigkill" else 0), proc.stderr
    t = Trace(trace_dir, strict=False)
    recs = t.records
    assert [k for k, _ in recs[:4]] == ["Path", "Function", "Call", "Type"]
    calls = t.calls_of("double")
    assert len(calls) == 50
    assert sorted(decode(t.arg(c, "i")) for c in calls) == list(range(50))
    assert [decode(r) for r in t.returns_of("double")] == [2 * i for i in range(50)]
    assert 2450 in [decode(v) for v in t.values("total")]


KILLED_EARLY = """
import os, signal, time
from codetracer_python_recorder_core import _native

def early(n):
    return n + 1

def spin(i):
    return i

_native.start_tracing({trace!r}, {fmt!r})
early(41)
began = time.monotonic()
i = 0
while time.monotonic() - began < 0.8:
    spin(i)
    i += 1
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_killed_within_its_first_second_keeps_what_is_older_than_a_tick(
    fmt: str, tmp_path: Path
) -> None:
    # No flush, killed 0.8 s in: what was recorded before the last ~0.2 s is in the file.
    trace_dir = tmp_path / "trace"
    proc = record_code(KILLED_EARLY.format(trace=str(trace_dir), fmt=fmt), tmp_path)
    assert proc.returncode == -9, proc.stderr
    t = Trace(trace_dir, strict=False)
    (call,) = t.calls_of("early")
    assert decode(t.arg(call, "n")) == 41
    assert [decode(r) for r in t.returns_of("early")] == [42]
    assert len(t.calls_of("spin")) > 0


FLUSH_RACE = """
import os, sys
from codetracer_python_recorder_core import _native

def double(i):
    return i * 2

os.sched_setaffinity(0, {{0}})  # the writer thread inherits this CPU
_native.start_tracing({trace!r}, {fmt!r})
for i in range(5):
    double(i)
try:
    # the writer thread (SCHED_OTHER, same CPU) cannot run until this thread stops
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
except OSError:
    sys.exit(77)
_native.flush_tracing()
os._exit(0)
"""


def test_flush_is_synchronous(fmt: str, tmp_path: Path) -> None:
    if fmt == "json":
        pytest.skip("the race reproduces deterministically with the binary writer")
    for attempt in range(8):
        trace_dir = tmp_path / f"trace{attempt}"
        proc = record_code(FLUSH_RACE.format(trace=str(trace_dir), fmt=fmt), tmp_path)
        if proc.returncode == 77:
            pytest.skip("SCHED_FIFO is not permitted here")
        assert proc.returncode == 0, proc.stderr
        t = Trace(trace_dir, strict=False)
        assert len(t.calls_of("double")) == 5, f"attempt {attempt}: {len(t.records)} records"
