"""Test helpers, one package: run the recorder, read a trace back, check it.

- :mod:`support.run`: child processes (one :func:`child_env`, one generous
  :data:`SUBPROCESS_TIMEOUT`), the recording driver (:func:`record`), :func:`write`.
- :mod:`support.trace`: :class:`Trace`, the one view of a trace, read through the public
  ``codetracer_python_recorder.read_trace``; :func:`decode` of value records.
- :mod:`support.checks`: structural checks (:func:`check_trace`, :func:`assert_balanced`).
- :mod:`support.filters`: fixture projects of the trace-filter tests.

Tests import the *installed* packages (``nox -s test-py`` installs both wheels); pytest puts
``python/tests`` on ``sys.path`` (rootdir-relative imports), which is how ``support`` is found.
"""

from __future__ import annotations

from support.checks import assert_balanced, assert_no_recorder_frames, check_trace
from support.run import (
    FORMATS,
    PROGRAMS,
    SUBPROCESS_TIMEOUT,
    Run,
    child_env,
    console_script,
    record,
    record_code,
    run,
    run_cli,
    run_console_script,
    run_python,
    run_untraced,
    write,
)
from support.trace import (
    EVENT_ERROR,
    Trace,
    all_values,
    decode,
    max_value_depth,
    value_depth,
    value_nodes,
)

__all__ = [
    "EVENT_ERROR",
    "FORMATS",
    "PROGRAMS",
    "SUBPROCESS_TIMEOUT",
    "Run",
    "Trace",
    "all_values",
    "assert_balanced",
    "assert_no_recorder_frames",
    "check_trace",
    "child_env",
    "console_script",
    "decode",
    "max_value_depth",
    "record",
    "record_code",
    "run",
    "run_cli",
    "run_console_script",
    "run_python",
    "run_untraced",
    "value_depth",
    "value_nodes",
    "write",
]
