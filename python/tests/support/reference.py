"""The consumer's verdict on every trace the tests read strictly.

Legacy traces (``trace.bin``, ``trace.json``): ``codetracer_trace_reader`` 0.17 (Rust), the
reader the CodeTracer debugger links, wrapped by the example program
``crates/trace-stream/examples/reference_read.rs``; ``nox -s test-py`` builds it and names it
in ``CODETRACER_REFERENCE_READER``. Running the suite without it fails (it is the consumer's
verdict on every trace, not an optional extra): set the variable to the built program
(``cargo build -p codetracer-trace-stream --example reference_read``).

CTFS containers (``trace.ct``): ``ctfscheck``, the independent checker that opens a ``.ct`` the
way the debugger does (``../shared/tools/ctfscheck.sh`` builds it), when
``CODETRACER_CTFSCHECK`` names it — ``nox -s test-py`` sets it when ``../shared/tools`` exists;
the project's own tests do not need it, so without it a container is checked by this
project's reader only.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from support.timeouts import SUBPROCESS_TIMEOUT

READER_ENV = "CODETRACER_REFERENCE_READER"
CTFSCHECK_ENV = "CODETRACER_CTFSCHECK"
CONTAINER = "trace.ct"


def _run(program: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [program, str(path)],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )


def reference_read(trace_dir: Path) -> dict[str, Any]:
    """``{"records": N, "kinds": {kind: n}}`` as CodeTracer's reader loads ``trace_dir``."""
    program = os.environ.get(READER_ENV)
    assert program, (
        f"{READER_ENV} is not set: run the tests with `nox -s test-py`, or build the reader "
        "(cargo build -p codetracer-trace-stream --example reference_read) and point "
        f"{READER_ENV} at it"
    )
    proc = _run(program, trace_dir)
    assert proc.returncode == 0, f"CodeTracer's reader rejects {trace_dir}: {proc.stderr}"
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def ctfscheck_path() -> str | None:
    """The checker named by ``CODETRACER_CTFSCHECK``, or ``None`` when it is not set."""
    return os.environ.get(CTFSCHECK_ENV) or None


def ctfscheck(container: Path) -> dict[str, Any]:
    """ctfscheck's JSON verdict on ``container`` (the variable must be set)."""
    program = ctfscheck_path()
    assert program, f"{CTFSCHECK_ENV} is not set"
    proc = _run(program, container)
    assert proc.stdout, f"ctfscheck printed nothing: {proc.stderr}"
    verdict: dict[str, Any] = json.loads(proc.stdout)
    return verdict


def consumer_check(trace_dir: Path, records: list[tuple[str, Any]]) -> None:
    """The consumer loads ``trace_dir`` with the same content as this project's reader."""
    kinds: dict[str, int] = {}
    for kind, _ in records:
        kinds[kind] = kinds.get(kind, 0) + 1
    container = trace_dir / CONTAINER
    if not container.exists():
        theirs = reference_read(trace_dir)
        assert theirs["records"] == len(records), (theirs, len(records))
        return
    if ctfscheck_path() is None:
        return
    verdict = ctfscheck(container)
    assert verdict["ok"] and not verdict["errors"], verdict
    expected = {
        "line_steps": kinds.get("Step", 0),
        "calls": kinds.get("Call", 0),
        "values": kinds.get("Value", 0),
        "events": kinds.get("Event", 0),
        "paths": kinds.get("Path", 0),
        "functions": kinds.get("Function", 0),
        "types": kinds.get("Type", 0),
        "varnames": kinds.get("VariableName", 0),
        "call_args": sum(len(v["args"]) for k, v in records if k == "Call"),
    }
    got = {key: verdict[key] for key in expected}
    assert got == expected, (got, expected)
