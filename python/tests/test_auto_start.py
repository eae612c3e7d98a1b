"""auto_start.py: CODETRACER_TRACE starts at import and stops at exit, in a child process."""

from __future__ import annotations

from pathlib import Path

import pytest
from codetracer_python_recorder.auto_start import exit_status_of, launched_as_cli
from support import Trace, assert_balanced, run_python, write

PROGRAM = """
import sys
import codetracer_python_recorder

def square(v):
    return v * v

def main(mode):
    total = square(7)
    print("total", total)
    if mode == "exit3":
        sys.exit(3)
    if mode == "raise":
        raise RuntimeError("kaboom")

main(sys.argv[1] if len(sys.argv) > 1 else "ok")
"""


def _record(tmp_path: Path, mode: str, **env: str) -> tuple[object, Path]:
    script = write(tmp_path / "prog.py", PROGRAM)
    trace_dir = tmp_path / "trace"
    proc = run_python(script, mode, cwd=tmp_path, env={"CODETRACER_TRACE": str(trace_dir), **env})
    return proc, trace_dir


@pytest.mark.parametrize(("fmt", "events_file"), [("json", "trace.json"), ("ctfs", "trace.ct")])
def test_normal_exit_gives_a_complete_trace(tmp_path: Path, fmt: str, events_file: str) -> None:
    proc, trace_dir = _record(tmp_path, "ok", CODETRACER_FORMAT=fmt)
    assert proc.returncode == 0, proc.stderr  # type: ignore[attr-defined]
    assert "total 49" in proc.stdout  # type: ignore[attr-defined]
    assert (trace_dir / events_file).exists()
    view = Trace(trace_dir)
    assert {"square", "main"} <= set(view.function_names)
    assert 7 in view.int_values("v")
    assert_balanced(view)
    meta = view.metadata
    assert meta["process_exit_status"]["code"] == 0
    assert view.toplevel_return.get("i") == 0
    assert not view.errors()


def test_sys_exit_status_is_recorded(tmp_path: Path) -> None:
    proc, trace_dir = _record(tmp_path, "exit3")
    assert proc.returncode == 3  # behaviour unchanged
    view = Trace(trace_dir)
    assert view.metadata["process_exit_status"]["code"] == 3
    assert view.toplevel_return.get("i") == 3
    assert "square" in view.function_names
    assert_balanced(view)


def test_uncaught_exception_is_recorded_as_error(tmp_path: Path) -> None:
    proc, trace_dir = _record(tmp_path, "raise")
    assert proc.returncode == 1
    assert "RuntimeError: kaboom" in proc.stderr  # type: ignore[attr-defined]
    view = Trace(trace_dir)
    assert view.metadata["process_exit_status"]["code"] == 1
    assert any("kaboom" in e for e in view.errors())
    assert_balanced(view)


def test_invalid_format_never_breaks_the_import(tmp_path: Path) -> None:
    proc, trace_dir = _record(tmp_path, "ok", CODETRACER_FORMAT="xml")
    assert proc.returncode == 0
    assert "total 49" in proc.stdout  # type: ignore[attr-defined]
    stderr = proc.stderr  # type: ignore[attr-defined]
    assert "CODETRACER_FORMAT" in stderr
    assert "ERR_UNSUPPORTED_FORMAT" in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not (trace_dir / "trace.bin").exists()


def test_import_without_the_variable_does_nothing(tmp_path: Path) -> None:
    script = write(
        tmp_path / "p.py",
        """
        import codetracer_python_recorder as ctr
        print(ctr.is_tracing())
        """,
    )
    proc = run_python(script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
    assert proc.stderr == ""


@pytest.mark.parametrize(
    ("code", "status"), [(None, 0), (0, 0), (3, 3), ("message", 1), (True, 1), ([1], 1)]
)
def test_exit_status_of(code: object, status: int) -> None:
    assert exit_status_of(code) == status


def test_launched_as_cli_detection() -> None:
    assert launched_as_cli(["-m"], ["python", "-m", "codetracer_python_recorder", "x.py"])
    assert launched_as_cli(["-m"], ["python", "-X", "dev", "-mcodetracer_python_recorder"])
    assert launched_as_cli(
        ["/venv/bin/codetracer-python-recorder", "x.py"],
        ["python", "/venv/bin/codetracer-python-recorder"],
    )
    assert not launched_as_cli(["app.py"], ["python", "app.py", "-m", "codetracer_python_recorder"])
    assert not launched_as_cli(["-c"], ["python", "-c", "import codetracer_python_recorder"])
