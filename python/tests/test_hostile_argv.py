"""Hostile argv and file names (issue #17 item 4).

A program whose arguments or file name are not valid UTF-8 (``$'\\xff'``, ``caf\\xe9.py``: Python
holds them surrogate-escaped, ``'\\udcff'``) runs under the recorder exactly as under plain
``python`` — same output, same exit status, no traceback — also under
``--on-recorder-error disable``; the trace records the surrogate-escaped text (``\\udcff``).
An unexpected (non-``RecorderError``) exception from the core at start is a recorder failure
handled by the policy, never a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import Trace, check_trace, run_cli, run_python, write

NAME = os.fsdecode(b"caf\xe9.py")  # 'caf\udce9.py'
ARGS = [os.fsdecode(b"\xff"), "plain", os.fsdecode(b"--opt=\xfe")]
PROGRAM = """
import sys

def show(items):
    return ascii(items)

print(ascii(sys.argv[0].rsplit("/", 1)[-1]), show(sys.argv[1:]))
sys.exit(3)
"""


def program_lines(stderr: str) -> list[str]:
    """stderr without the recorder's own lines."""
    return [line for line in stderr.splitlines() if not line.startswith("codetracer: ")]


@pytest.mark.parametrize("on_error", ["abort", "disable"])
def test_non_utf8_argv_and_script_name_run_as_under_python(on_error: str, tmp_path: Path) -> None:
    script = write(tmp_path / NAME, PROGRAM)
    plain = run_python(script, *ARGS, cwd=tmp_path)
    assert plain.returncode == 3, plain.stderr
    assert plain.stdout == "'caf\\udce9.py' ['\\udcff', 'plain', '--opt=\\udcfe']\n"
    flags = ["--trace-dir", "t", "--propagate-script-exit", "--on-recorder-error", on_error]
    traced = run_cli(*flags, script, *ARGS, cwd=tmp_path)
    assert traced.stdout == plain.stdout
    assert program_lines(traced.stderr) == program_lines(plain.stderr)
    assert traced.returncode == 3, traced.stderr
    assert "Traceback" not in traced.stderr, traced.stderr
    assert "recording disabled" not in traced.stderr, traced.stderr

    view = Trace(tmp_path / "t")
    check_trace(view)
    meta = view.metadata
    assert meta["args"] == ["\\udcff", "plain", "--opt=\\udcfe"]
    assert meta["program"] == str(tmp_path / "caf\\udce9.py")
    assert str(tmp_path / "caf\\udce9.py") in view.paths
    (show,) = view.calls_of("show")
    assert [e["text"] for e in view.arg(show, "items")["elements"]][1] == "plain"
    assert view.metadata["process_exit_status"]["code"] == 3


def test_non_utf8_arguments_of_a_module_run(tmp_path: Path) -> None:
    write(tmp_path / "mod_prog.py", PROGRAM)
    plain = run_python("-m", "mod_prog", *ARGS, cwd=tmp_path)
    traced = run_cli("--trace-dir", "t", "-m", "mod_prog", *ARGS, cwd=tmp_path)
    assert traced.returncode == 0, traced.stderr  # the program's 3 is reported, not propagated
    assert traced.stdout == plain.stdout
    assert "Traceback" not in traced.stderr
    assert Trace(tmp_path / "t").metadata["args"] == ["\\udcff", "plain", "--opt=\\udcfe"]


@pytest.mark.parametrize("on_error", ["abort", "disable"])
def test_an_unexpected_exception_at_start_follows_the_policy(on_error: str, tmp_path: Path) -> None:
    """The core raising something that is not a RecorderError (here: a TypeError from a
    broken start) is a recorder failure: exit 1 under abort, the program untraced under
    disable; never a traceback."""
    write(tmp_path / "prog.py", "print('the program ran')\n")
    write(
        tmp_path / "sitecustomize.py",
        """
        import codetracer_python_recorder_core as core
        def broken(*args, **kwargs):
            raise TypeError("a broken native start")
        core.start_tracing = broken
        """,
    )
    env = {"PYTHONPATH": str(tmp_path)}
    proc = run_cli("--on-recorder-error", on_error, "prog.py", cwd=tmp_path, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "codetracer: " in proc.stderr and "ERR_INTERNAL" in proc.stderr, proc.stderr
    assert "a broken native start" in proc.stderr
    if on_error == "abort":
        assert proc.returncode == 1
        assert proc.stdout == ""
    else:
        assert proc.returncode == 0
        assert proc.stdout == "the program ran\n"
