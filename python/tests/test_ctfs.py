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
from support import PROGRAMS, record
from support.reference import CONTAINER, ctfscheck, ctfscheck_path

E2E = sorted(
    str(p.relative_to(PROGRAMS))
    for p in [*PROGRAMS.glob("*.py"), PROGRAMS / "twomods" / "main.py"]
    if not p.name.startswith("_") and not p.name.startswith("sideeffects")
)
THREADED = {"threads4.py", "edge_flow.py"}
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
