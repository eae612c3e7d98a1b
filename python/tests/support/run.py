"""Run Python, the recorder's CLI or a recording driver in a child process.

Every child gets :func:`child_env` (no ``CODETRACER_*`` variable of the test run's own
environment, no bytecode files, a fixed hash seed) and the one generous
:data:`SUBPROCESS_TIMEOUT`: the tests run on loaded 2-core machines beside other builds, and a
timeout is there to catch a hang (a deadlock), not to measure speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.checks import check_trace
from support.timeouts import SUBPROCESS_TIMEOUT, TIMEOUT_ENV
from support.trace import Trace

__all__ = ["SUBPROCESS_TIMEOUT", "TIMEOUT_ENV"]  # re-exported (defined in support.timeouts)

TESTS = Path(__file__).resolve().parent.parent
PROGRAMS = TESTS / "programs"
DRIVER = PROGRAMS / "_driver.py"
FORMATS = ("binary", "json")


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a child process: ours without ``CODETRACER_*``, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODETRACER_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONHASHSEED"] = "0"
    env.update(extra or {})
    return env


def run(
    argv: list[str | Path],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in ``cwd`` with :func:`child_env` and capture its output (text)."""
    return subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
        **kwargs,
    )


def write(path: Path, text: str) -> Path:
    """Write dedented ``text`` to ``path`` (creating parents) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def run_python(
    *args: str | Path, cwd: Path, env: Mapping[str, str] | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run ``python ARGS...`` in ``cwd`` and capture its output (``kwargs``: as for :func:`run`)."""
    return run([sys.executable, *args], cwd=cwd, env=env, **kwargs)


def run_cli(
    *args: str | Path, cwd: Path, env: Mapping[str, str] | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m codetracer_python_recorder ARGS...`` in ``cwd``."""
    return run_python("-m", "codetracer_python_recorder", *args, cwd=cwd, env=env, **kwargs)


def console_script() -> Path:
    """The installed ``codetracer-python-recorder`` executable (beside this interpreter)."""
    exe = Path(sys.executable).with_name("codetracer-python-recorder")
    assert exe.exists(), f"the console script is not installed: {exe}"
    return exe


def run_console_script(
    *args: str | Path, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``codetracer-python-recorder ARGS...`` itself, as a shell would."""
    return run([console_script(), *args], cwd=cwd, env=env)


# --------------------------------------------------------------------------- the driver


@dataclass
class Run:
    """A finished recording subprocess."""

    proc: subprocess.CompletedProcess[str]
    trace_dir: Path
    summary: dict[str, Any] | None = None
    _trace: Trace | None = field(default=None, repr=False)

    @property
    def trace(self) -> Trace:
        if self._trace is None:
            assert self.proc.returncode >= 0, f"recorder process died: {self.proc.stderr[-3000:]}"
            self._trace = Trace(self.trace_dir)
        return self._trace


def _program(program: str | Path) -> Path:
    program = Path(program)
    return program if program.is_absolute() else PROGRAMS / program


def record(
    program: str | Path,
    fmt: str,
    tmp_path: Path,
    *,
    args: list[str] | None = None,
    check: bool = True,
) -> Run:
    """Record ``program`` (a name in ``programs/`` or a path) through ``programs/_driver.py``.

    The driver is the CLI-like flow: ``start_tracing`` with the program as activation path,
    ``runpy.run_path``, ``stop_tracing(status, error)``. With ``check`` the driver must finish
    and the trace pass :func:`~support.checks.check_trace`.
    """
    program = _program(program)
    trace_dir = tmp_path / f"trace-{fmt}-{program.stem}"
    summary_file = tmp_path / f"summary-{fmt}-{program.stem}.json"
    proc = run_python(DRIVER, trace_dir, fmt, program, summary_file, *(args or []), cwd=tmp_path)
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else None
    result = Run(proc, trace_dir, summary)
    if check:
        assert summary_file.exists(), f"driver did not finish:\n{proc.stderr[-5000:]}"
        check_trace(result.trace)
    return result


def run_untraced(
    program: str | Path, tmp_path: Path, args: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``program`` (as for :func:`record`) under plain ``python``."""
    return run_python(_program(program), *(args or []), cwd=tmp_path)


def record_code(
    code: str, tmp_path: Path, *, name: str = "snippet.py"
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (dedented) as the script ``tmp_path/name`` (mid-stack starts, kills)."""
    script = write(tmp_path / name, code)
    return run_python(script, cwd=tmp_path)
