"""``trace.ct``: every e2e program recorded as a CTFS container reads back with exactly the
records of the binary format (the deterministic ones; the threaded one with the same
calls), and — when ``CODETRACER_CTFSCHECK`` names the independent checker, as ``nox -s
test-py`` sets it when ``../shared/tools`` exists — the checker opens it the way the CodeTracer
debugger does with zero errors and the same counts.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from support import PROGRAMS, Trace, decode, record, run_cli, write
from support.reference import CONTAINER, ctfscheck, ctfscheck_path

E2E = sorted(
    str(p.relative_to(PROGRAMS))
    for p in [*PROGRAMS.glob("*.py"), PROGRAMS / "twomods" / "main.py"]
    if not p.name.startswith("_") and not p.name.startswith("sideeffects")
)
THREADED = {"threads4.py", "edge_flow.py", "threads_reuse.py"}
NONDETERMINISTIC = THREADED  # thread scheduling and thread ids differ between two runs


@pytest.mark.parametrize("program", E2E)
def test_every_program_reads_back_as_in_the_binary_format(program: str, tmp_path: Path) -> None:
    ct = record(program, "ctfs", tmp_path)
    binary = record(program, "binary", tmp_path)
    assert ct.proc.stdout == binary.proc.stdout
    assert ct.proc.returncode == binary.proc.returncode
    assert [p.name for p in ct.trace_dir.glob("trace.*")] == [CONTAINER]
    assert ct.trace.metadata["format"] == "ctfs"
    if program in NONDETERMINISTIC:
        assert Counter(ct.trace.call_names()) == Counter(binary.trace.call_names())
        assert sorted(ct.trace.returns(), key=str) == sorted(binary.trace.returns(), key=str)
    else:
        assert len(ct.trace.events) == len(binary.trace.events)
        for i, (a, b) in enumerate(zip(ct.trace.events, binary.trace.events, strict=True)):
            assert a == b, f"record #{i}"
    assert ct.summary is not None and binary.summary is not None
    assert ct.summary["events"] == len(ct.trace.events)


@pytest.mark.skipif(ctfscheck_path() is None, reason="CODETRACER_CTFSCHECK is not set")
@pytest.mark.parametrize("program", E2E)
def test_every_program_passes_the_independent_checker(program: str, tmp_path: Path) -> None:
    run = record(program, "ctfs", tmp_path)
    verdict = ctfscheck(run.trace_dir / CONTAINER)
    assert verdict["ok"] is True and verdict["errors"] == [], verdict
    assert verdict["warnings"] == [], verdict["warnings"]
    assert verdict["version"] == 4 and verdict["meta_dat_version"] == 3
    assert verdict["column_aware"] is True
    assert verdict["layout"].startswith("split-streams")
    assert verdict["calls"] == len(run.trace.of_kind("Call"))
    assert verdict["line_steps"] == len(run.trace.of_kind("Step"))
    assert verdict["program"] == str(PROGRAMS / program)
    assert verdict["recorder_id"].startswith("codetracer-python-recorder/")
    errors = len(run.trace.errors())
    assert verdict["end_of_program"] == ("error" if errors else "normal")
    if program in THREADED:
        assert len(verdict["threads"]) >= 2
    else:
        assert verdict["threads"] == []


KILLED = """
import os, signal, time

def double(i):
    return i * 2

def spin(i):
    return i

total = 0
for i in range(9000):  # 18000 line steps: four sealed steps chunks of 4096
    total += i
for i in range(300):
    double(i)
for i in range(2500):  # 5000 more: the calls of double lie in sealed steps chunks
    total += i
began = time.monotonic()
i = 0
while time.monotonic() - began < 0.6:  # recording on, past a tick: all of the above is published
    spin(i)
    i += 1
    time.sleep(0.01)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_container_keeps_what_the_readme_says(tmp_path: Path) -> None:
    """README "A killed process": this project's reader gets every record older than a tick
    (calls, returns and values included); the debugger's path (ctfscheck) opens it with zero
    errors: the sealed steps/values chunks, the call tree of the calls entered before the last
    sealed step (those not ended by then ending there) and the paths in ``meta.dat``."""
    script = write(tmp_path / "killed.py", KILLED)
    trace_dir = tmp_path / "trace"
    proc = run_cli("--trace-dir", trace_dir, "--format", "ctfs", script, cwd=tmp_path)
    assert proc.returncode == -9, proc.stderr
    assert [p.name for p in trace_dir.glob("trace.*")] == [CONTAINER]
    t = Trace(trace_dir, strict=False)
    calls = t.calls_of("double")
    assert len(calls) == 300
    assert [decode(t.arg(c, "i")) for c in calls] == list(range(300))
    assert [decode(r) for r in t.returns_of("double")] == [2 * i for i in range(300)]
    assert sum(range(9000)) in [decode(v) for v in t.values("total")]
    if ctfscheck_path() is None:
        return
    verdict = ctfscheck(trace_dir / CONTAINER)
    assert verdict["ok"] is True and verdict["errors"] == [], verdict
    assert verdict["warnings"] == [], verdict["warnings"]
    steps = len(t.of_kind("Step"))
    shown = verdict["steps"]
    assert 5 * 4096 <= shown <= steps
    assert shown % verdict["steps_chunk_size"] == 0  # sealed chunks only
    assert verdict["value_records"] == shown
    # The call tree: every call entered before the last sealed step (a call's first step is
    # the step it was made at), with its arguments.
    entered: list[str] = []
    args = 0
    seen = 0
    for kind, payload in t.records:
        if kind == "Step":
            seen += 1
        elif kind == "Call" and max(seen - 1, 0) < shown:
            entered.append(t.function_name(payload["function_id"]))
            args += len(payload["args"])
    assert verdict["calls"] == len(entered), (verdict["calls"], Counter(entered))
    assert verdict["root_calls"] == 1 and entered[0] == "<toplevel>"
    assert entered.count("double") == 300  # the spin calls lie in the steps not sealed yet
    assert verdict["call_args"] == args
    # meta.dat names the paths the tables hold
    assert verdict["meta_paths"] == verdict["paths"] >= 1
