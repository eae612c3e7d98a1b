"""Child processes of a traced program: ``multiprocessing`` (fork, spawn, forkserver),
``ProcessPoolExecutor``, ``subprocess`` Python and non-Python children, ``os.exec*``, children
killed by a signal and children that outlive their parent.

Every program runs under plain ``python`` and under the CLI; output and exit status must agree
(support.processes). Every child trace the parent lists is read strictly and checked
(support.processes.child_traces); it holds the child's own calls. Every child process has the
suite's timeout (support.timeouts): a hang fails, it never blocks the suite.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support import Trace, check_trace, decode, run_cli, run_python, write
from support.processes import (
    assert_same_as_untraced,
    child_entries,
    child_traces,
    wait_until_finished,
)

POOL = """
import multiprocessing as mp, sys

def work(n):
    total = 0
    for i in range(n):
        total += i % 7
    return total

if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    with ctx.Pool(4) as pool:
        print(pool.map(work, range(3000, 3040)))
"""

EXECUTOR = """
from concurrent.futures import ProcessPoolExecutor

def square(n):
    return n * n

if __name__ == "__main__":
    with ProcessPoolExecutor(max_workers=2) as ex:
        print(list(ex.map(square, range(12))))
"""

SUBPROCESS = """
import subprocess, sys

def launch(arg):
    done = subprocess.run([sys.executable, "child.py", arg], capture_output=True, text=True)
    return done.returncode, done.stdout.strip()

print(launch("7"))
print(subprocess.run(["/bin/echo", "not python"], capture_output=True, text=True).stdout.strip())
if len(sys.argv) > 1:  # a preexec_fn makes subprocess fork through CPython's fork hooks
    done = subprocess.run([sys.executable, "child.py", "8"], preexec_fn=lambda: None)
    print("with preexec_fn", done.returncode)
"""

CHILD = """
import sys

def triple(v):
    return v * 3

print("child got", triple(int(sys.argv[1])))
sys.exit(int(sys.argv[1]) % 5)
"""

KILLED = """
import os, signal, sys, time

def tick(i):
    return i + 1

def child():
    i = 0
    while True:
        i = tick(i)
        time.sleep(0.01)

pid = os.fork()
if pid == 0:
    child()
time.sleep(1.5)
os.kill(pid, getattr(signal, sys.argv[1]))
_, status = os.waitpid(pid, 0)
print("child ended", os.waitstatus_to_exitcode(status))
"""

OUTLIVED = """
import os, subprocess, sys

def start(marker):
    subprocess.Popen([sys.executable, "late.py", marker])
    return "started"

print(start(sys.argv[1]))
"""

LATE = """
import sys, time

def finish(path):
    with open(path, "w") as f:
        f.write("done")
    return path

time.sleep(1.0)
finish(sys.argv[1])
"""

EXEC = """
import os, sys

def before():
    return "exec next"

print(before(), flush=True)
os.execv(sys.executable, [sys.executable, "child.py", "9"])
"""


def _both(
    tmp_path: Path, program: str, *args: str, fmt: str = "binary", flags: tuple[str, ...] = ()
) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str], Trace]:
    script = write(tmp_path / "prog.py", program)
    untraced = run_python(script, *args, cwd=tmp_path)
    trace_dir = tmp_path / "trace"
    traced = run_cli("--trace-dir", trace_dir, "--format", fmt, *flags, script, *args, cwd=tmp_path)
    assert traced.returncode == 0, traced.stderr[-3000:]
    trace = Trace(trace_dir)
    check_trace(trace)
    return traced, untraced, trace


def _all_traces(trace: Trace) -> list[Trace]:
    """The trace's children, grandchildren, ...: every one complete and valid."""
    found = []
    for child in child_traces(trace):
        found.append(child)
        found.extend(_all_traces(child))
    return found


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_pool_of_four_records_every_worker(method: str, tmp_path: Path) -> None:
    traced, untraced, trace = _both(tmp_path, POOL, method)
    assert_same_as_untraced(traced, untraced)
    assert "work" not in trace.call_names()  # the parent only hands out the work
    traces = _all_traces(trace)
    workers = [t for t in traces if t.calls_of("work")]
    assert 1 <= len(workers) <= 4
    # every task ran in exactly one worker, and each worker's results are the real ones
    calls = [decode(t.arg(c, "n")) for t in workers for c in t.calls_of("work")]
    assert sorted(calls) == list(range(3000, 3040))
    for t in workers:
        for call, result in zip(t.calls_of("work"), t.returns_of("work"), strict=True):
            n = decode(t.arg(call, "n"))
            assert decode(result) == sum(i % 7 for i in range(n))
        # the pool ends its workers with SIGTERM (Pool.__exit__) or by a sentinel
        status = t.metadata["process_exit_status"]
        assert status["code"] in (0, -15), status
        if status["code"] == -15:
            assert status["label"] == "signal SIGTERM"
    kinds = {t.metadata["process"]["started_by"] for t in traces}
    assert kinds == ({"fork"} if method == "fork" else {"spawn"} | ({"fork"} if method ==
                     "forkserver" else set()))  # fmt: skip
    if method == "forkserver":
        # the workers are forked by the fork server, a child of the parent: grandchildren
        server = [t for t in traces if child_entries(t)]
        assert len(server) == 1 and "forkserver" in " ".join(server[0].metadata["process"]["argv"])


def test_process_pool_executor(tmp_path: Path) -> None:
    traced, untraced, trace = _both(tmp_path, EXECUTOR)
    assert_same_as_untraced(traced, untraced)
    workers = [t for t in _all_traces(trace) if t.calls_of("square")]
    assert workers
    args = sorted(decode(t.arg(c, "n")) for t in workers for c in t.calls_of("square"))
    assert args == list(range(12))


@pytest.mark.parametrize("fmt", ["binary", "json", "ctfs"])
def test_subprocess_python_child_is_recorded_and_other_programs_are_left_alone(
    fmt: str, tmp_path: Path
) -> None:
    write(tmp_path / "child.py", CHILD)
    traced, untraced, trace = _both(tmp_path, SUBPROCESS, fmt=fmt)
    assert_same_as_untraced(traced, untraced)
    assert traced.stdout.splitlines() == ["(2, 'child got 21')", "not python"]
    (entry,) = child_entries(trace)  # /bin/echo is not recorded
    assert entry["started_by"] == "spawn"
    assert entry["argv"][1:] == ["child.py", "7"]
    assert entry["exit_status"] == {"code": 2, "label": None}
    (child,) = child_traces(trace)
    assert child.metadata["format"] == fmt
    assert child.metadata["program"] == str(tmp_path / "child.py")
    assert child.metadata["args"] == ["7"]
    assert [decode(r) for r in child.returns_of("triple")] == [21]
    assert "launch" not in child.call_names()


def test_subprocess_with_preexec_fn_records_the_program_not_the_fork(tmp_path: Path) -> None:
    write(tmp_path / "child.py", CHILD)
    traced, untraced, trace = _both(tmp_path, SUBPROCESS, "preexec")
    assert_same_as_untraced(traced, untraced)
    assert traced.stdout.splitlines()[-1] == "with preexec_fn 3"
    entries = child_entries(trace)
    assert [e["started_by"] for e in entries] == ["spawn", "spawn"]  # no trace of the fork
    assert sorted(e["argv"][-1] for e in entries) == ["7", "8"]
    assert all(c.calls_of("triple") for c in child_traces(trace))


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_child_killed_by_a_signal(how: str, tmp_path: Path) -> None:
    traced, untraced, trace = _both(tmp_path, KILLED, how)
    assert_same_as_untraced(traced, untraced)
    expected = -signal.Signals[how].value
    assert f"child ended {expected}" in traced.stdout
    (entry,) = child_entries(trace)
    child_dir = trace.dir / entry["trace"]
    if how == "SIGKILL":
        # nothing could run: the trace is cut short, its records older than a tick are there
        assert entry["exit_status"] is None
        child = Trace(child_dir, strict=False)
        assert len(child.calls_of("tick")) > 10
    else:
        # SIGTERM: the recorder finishes the trace, then the child dies of the signal
        assert entry["exit_status"] == {"code": expected, "label": "signal SIGTERM"}
        (child,) = child_traces(trace)
        assert len(child.calls_of("tick")) > 10
        assert child.calls_of("child")  # still running when the signal came: closed at stop


def test_parent_exits_before_its_child(tmp_path: Path) -> None:
    write(tmp_path / "late.py", LATE)
    script = write(tmp_path / "prog.py", OUTLIVED)
    untraced = run_python(script, str(tmp_path / "untraced.txt"), cwd=tmp_path)
    marker = tmp_path / "traced.txt"
    trace_dir = tmp_path / "trace"
    traced = run_cli("--trace-dir", trace_dir, script, str(marker), cwd=tmp_path)
    assert_same_as_untraced(traced, untraced)
    # the parent's trace was finished while the child slept (or had not even started): the
    # child adds itself to the finished parent's list when it starts and again when it ends
    (child_dir,) = (trace_dir / "children").iterdir()
    wait_until_finished(child_dir)
    assert marker.read_text() == "done"
    trace = Trace(trace_dir)
    check_trace(trace)
    (entry,) = child_entries(trace)
    assert entry["trace"] == f"children/{child_dir.name}"
    assert entry["exit_status"] == {"code": 0, "label": None}
    (child,) = child_traces(trace)
    assert [decode(r) for r in child.returns_of("finish")] == [str(marker)]


def test_exec_finishes_the_trace_and_the_new_program_is_recorded(tmp_path: Path) -> None:
    write(tmp_path / "child.py", CHILD)
    script = write(tmp_path / "prog.py", EXEC)
    untraced = run_python(script, cwd=tmp_path)
    trace_dir = tmp_path / "trace"
    traced = run_cli("--trace-dir", trace_dir, script, cwd=tmp_path)
    assert traced.returncode == untraced.returncode == 4  # the exec'd program's status
    assert traced.stdout == untraced.stdout == "exec next\nchild got 27\n"
    trace = Trace(trace_dir)  # complete: finished before the exec
    check_trace(trace)
    assert "before" in trace.call_names()
    assert trace.metadata["process_exit_status"]["code"] is None
    pid = trace.metadata["process"]["pid"]
    meta = wait_until_finished(trace_dir / "children" / f"{pid}-1")
    assert meta["process"]["started_by"] == "exec"
    trace = Trace(trace_dir)  # the exec'd program added itself to the finished list
    (entry,) = child_entries(trace)
    assert entry == {
        "pid": pid,
        "argv": [sys.executable, "child.py", "9"],
        "started_by": "exec",
        "trace": f"children/{pid}-1",
        "exit_status": {"code": 4, "label": None},
    }
    (child,) = child_traces(trace)
    assert [decode(r) for r in child.returns_of("triple")] == [27]


def test_no_follow_children_leaves_spawned_children_alone(tmp_path: Path) -> None:
    write(tmp_path / "child.py", CHILD)
    # the inherited CODETRACER_TRACE names the parent's trace: a child must not take it
    script = write(tmp_path / "prog.py", SUBPROCESS)
    trace_dir = tmp_path / "trace"
    proc = run_python(
        script,
        cwd=tmp_path,
        env={"CODETRACER_TRACE": str(trace_dir), "CODETRACER_FOLLOW_CHILDREN": "0"},
    )
    assert proc.returncode == 0, proc.stderr
    trace = Trace(trace_dir)
    check_trace(trace)
    assert "launch" in trace.call_names()
    assert "triple" not in trace.call_names()
    assert child_entries(trace) == []
    assert not (trace_dir / "children").exists()


def test_auto_start_from_the_environment_needs_no_import(tmp_path: Path) -> None:
    write(tmp_path / "child.py", CHILD)
    script = write(tmp_path / "prog.py", SUBPROCESS)  # never imports the recorder
    trace_dir = tmp_path / "trace"
    proc = run_python(script, cwd=tmp_path, env={"CODETRACER_TRACE": str(trace_dir)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    trace = Trace(trace_dir)
    check_trace(trace)
    assert [decode(r) for r in trace.returns_of("launch")] == [(2, "child got 21")]
    (child,) = child_traces(trace)
    assert [decode(r) for r in child.returns_of("triple")] == [21]


def test_without_the_variables_the_pth_imports_nothing(tmp_path: Path) -> None:
    code = "import sys; print(sorted(m for m in sys.modules if m.startswith('codetracer')))"
    proc = run_python("-c", code, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_the_pth_names_the_variables_of_the_policy_table() -> None:
    import site

    import codetracer_python_recorder_core as core

    (pth,) = [
        Path(d) / "codetracer_python_recorder.pth"
        for d in site.getsitepackages()
        if (Path(d) / "codetracer_python_recorder.pth").exists()
    ][:1]
    text = pth.read_text()
    assert text.startswith("import ")
    for name in ("CODETRACER_TRACE", core.ENV_CHILD_SESSION):
        assert f'"{name}"' in text


def test_child_session_value_is_json_the_child_understands(tmp_path: Path) -> None:
    code = f"""
import json, os, codetracer_python_recorder as ctr
with ctr.trace({str(tmp_path / "t")!r}, format="json"):
    value = json.loads(os.environ["CODETRACER_CHILD_SESSION"])
print(json.dumps(value), "CODETRACER_CHILD_SESSION" in os.environ)
"""
    proc = run_python("-c", code, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text, present = proc.stdout.rsplit(" ", 1)
    value = json.loads(text)
    assert present.strip() == "False"  # restored when the recording stopped
    assert value["follow"] is True
    assert value["format"] == "json"
    assert value["parent_dir"] == str(tmp_path / "t")
    assert value["policy"]["follow_children"] is True
    assert sys.platform != "win32"
