"""CLI-like recording driver: ``python _driver.py TRACE_DIR FORMAT PROGRAM SUMMARY_JSON [ARGS]``.

start_tracing(activation_path=PROGRAM) → runpy.run_path(PROGRAM) → stop_tracing(status, error).
Exits with the program's status; the stop summary goes to SUMMARY_JSON (never to stdout, so
the program's stdout can be compared with an untraced run).
"""

import json
import os
import runpy
import sys
import traceback

from codetracer_python_recorder_core import _native


def main() -> int:
    trace_dir, fmt, program, summary_file, *args = sys.argv[1:]
    program = os.path.abspath(program)
    sys.argv = [program, *args]
    sys.path[0] = os.path.dirname(program)
    _native.start_tracing(trace_dir, fmt, program, program=program, args=args)
    status, error = 0, None
    try:
        runpy.run_path(program, run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        status = code if isinstance(code, int) else (0 if code is None else 1)
    except BaseException:
        error = traceback.format_exc()
        sys.stderr.write(error)
        status = 1
    sys.stdout.flush()
    summary = _native.stop_tracing(status, error)
    with open(summary_file, "w") as f:
        json.dump(summary, f)
    return status


if __name__ == "__main__":
    sys.exit(main())
