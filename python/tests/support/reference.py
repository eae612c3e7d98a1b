"""The reader the CodeTracer debugger links, run on every trace the tests read strictly.

``codetracer_trace_reader`` 0.17 (Rust) is wrapped by the example program
``crates/trace-stream/examples/reference_read.rs``; ``nox -s test-py`` builds it and names it
in ``CODETRACER_REFERENCE_READER``. Running the suite without it fails (it is the consumer's
verdict on every trace, not an optional extra): set the variable to the built program
(``cargo build -p codetracer-trace-stream --example reference_read``).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from support.timeouts import SUBPROCESS_TIMEOUT

READER_ENV = "CODETRACER_REFERENCE_READER"


def reference_read(trace_dir: Path) -> dict[str, Any]:
    """``{"records": N, "kinds": {kind: n}}`` as CodeTracer's reader loads ``trace_dir``."""
    program = os.environ.get(READER_ENV)
    assert program, (
        f"{READER_ENV} is not set: run the tests with `nox -s test-py`, or build the reader "
        "(cargo build -p codetracer-trace-stream --example reference_read) and point "
        f"{READER_ENV} at it"
    )
    proc = subprocess.run(
        [program, str(trace_dir)],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, f"CodeTracer's reader rejects {trace_dir}: {proc.stderr}"
    result: dict[str, Any] = json.loads(proc.stdout)
    return result
