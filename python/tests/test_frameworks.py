"""--pytest / --unittest through the CLI, and the activation/filter trap (activation decides
when, the filters decide what; an empty trace is never reported as a plain success)."""

from __future__ import annotations

from pathlib import Path

from support import (
    Trace,
    assert_balanced,
    assert_no_recorder_frames,
    decode,
    run_cli,
    run_python,
    write,
)
from support.filters import chain

CALC = """
def add(a, b):
    total = a + b
    return total
"""

PYTEST_SUITE = """
from calc import add

def test_add_ok():
    assert add(2, 3) == 5

def test_add_bad():
    result = add(2, 2)
    assert result == 5
"""

UNITTEST_SUITE = """
import unittest
from calc import add

class AddTest(unittest.TestCase):
    def test_add(self):
        self.assertEqual(add(40, 2), 42)

if __name__ == "__main__":
    unittest.main()
"""

FRAMEWORK_PATH_PARTS = ("/_pytest/", "/pluggy/", "/pytest/", "/iniconfig/", "/unittest/")


def _framework_paths(trace: Trace) -> list[str]:
    """Files of framework code in the trace's functions (``<toplevel>`` names the program)."""
    return [
        path
        for name, path in zip(trace.function_names, trace.function_paths, strict=True)
        if name != "<toplevel>" and any(part in path for part in FRAMEWORK_PATH_PARTS)
    ]


def test_pytest_records_tests_and_code_under_test_not_pytest(tmp_path: Path) -> None:
    write(tmp_path / "calc.py", CALC)
    write(tmp_path / "test_calc.py", PYTEST_SUITE)
    out = tmp_path / "t"
    proc = run_cli("--trace-dir", out, "--pytest", "-q", "-p", "no:cacheprovider",
                   "test_calc.py", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr  # the recording succeeded; pytest's 1 is reported
    assert "1 failed, 1 passed" in proc.stdout
    assert "the program exited with status 1" in proc.stderr
    trace = Trace(out)
    names = trace.function_names
    assert "test_add_ok" in names and "test_add_bad" in names and "add" in names
    assert [decode(trace.arg(c, "a")) for c in trace.calls_of("add")] == [2, 2]
    assert [decode(v) for v in trace.returns_of("add")] == [5, 4]
    assert 2 + 2 in trace.int_values("result")
    assert _framework_paths(trace) == []
    assert not any(n.startswith(("<_pytest", "<pluggy")) for n in names)
    assert decode(trace.toplevel_return) == 1
    assert_balanced(trace)
    assert_no_recorder_frames(trace)


def test_pytest_exit_status_propagates(tmp_path: Path) -> None:
    write(tmp_path / "calc.py", CALC)
    write(tmp_path / "test_calc.py", PYTEST_SUITE)
    proc = run_cli("--trace-dir", tmp_path / "t", "--propagate-script-exit", "--pytest", "-q",
                   "-p", "no:cacheprovider", "test_calc.py", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    proc = run_cli("--trace-dir", tmp_path / "t2", "--propagate-script-exit", "--pytest", "-q",
                   "-p", "no:cacheprovider", "test_calc.py", "-k", "ok", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "1 passed" in proc.stdout
    proc = run_cli("--trace-dir", tmp_path / "t3", "--propagate-script-exit", "--pytest", "-q",
                   "-p", "no:cacheprovider", "nothing_here.py", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 4, proc.stderr  # pytest's usage error status


def test_no_framework_filters_records_pytest_internals(tmp_path: Path) -> None:
    # `--version` keeps the run short: a whole session of pytest internals is millions of events.
    # pytest is an installed package: "just my code" skips it unless libraries are asked for.
    out = tmp_path / "t"
    proc = run_cli("--trace-dir", out, "--no-framework-filters", "--include-libraries",
                   "--pytest", "--version", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "pytest" in proc.stdout + proc.stderr
    trace = Trace(out)
    assert [name for name, _ in chain(trace)] == ["builtin-default"]
    assert any("/_pytest/" in p for p in trace.function_paths)
    with_filter = tmp_path / "t2"
    proc = run_cli("--trace-dir", with_filter, "--pytest", "--version", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [name for name, _ in chain(Trace(with_filter))] == ["builtin-default", "builtin-pytest"]
    assert _framework_paths(Trace(with_filter)) == []


def test_unittest_records_tests_and_code_under_test_not_unittest(tmp_path: Path) -> None:
    write(tmp_path / "calc.py", CALC)
    write(tmp_path / "test_calc.py", UNITTEST_SUITE)
    out = tmp_path / "t"
    proc = run_cli("--trace-dir", out, "--propagate-script-exit", "--unittest", "-v",
                   "test_calc", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "test_add (test_calc.AddTest" in proc.stderr and "OK" in proc.stderr
    trace = Trace(out)
    assert "AddTest.test_add" in trace.function_names
    assert [decode(v) for v in trace.returns_of("add")] == [42]
    assert _framework_paths(trace) == []
    assert_balanced(trace)


def test_unittest_failure_status(tmp_path: Path) -> None:
    write(tmp_path / "calc.py", CALC)
    write(tmp_path / "test_calc.py", UNITTEST_SUITE.replace("42)", "43)"))
    proc = run_cli("--trace-dir", tmp_path / "t", "--propagate-script-exit", "--unittest",
                   "test_calc", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "FAILED (failures=1)" in proc.stderr


SKIP_MAIN = """
[meta]
name = "skip-main"
version = 1

[[scope.rules]]
selector = "file:glob:**/main.py"
exec = "skip"
"""

MAIN = """
import helper
helper.work(3)
"""

HELPER = """
def work(n):
    doubled = n * 2
    return doubled
"""


def _run_skipped_main(tmp_path: Path, main: str, *flags: str) -> tuple[int, str, Path]:
    """Record ``main.py`` (importing ``helper``) with a filter that skips ``main.py``."""
    write(tmp_path / "main.py", main)
    write(tmp_path / "helper.py", HELPER)
    write(tmp_path / "skip.toml", SKIP_MAIN)
    out = tmp_path / "t"
    proc = run_cli("--trace-dir", out, *flags, "--trace-filter", "skip.toml", "main.py",
                   cwd=tmp_path)  # fmt: skip
    return proc.returncode, proc.stderr, out


def test_activation_file_skipped_by_the_filters_still_starts_recording(tmp_path: Path) -> None:
    status, stderr, out = _run_skipped_main(tmp_path, MAIN)
    assert status == 0, stderr
    assert "warning" not in stderr
    trace = Trace(out)
    assert "work" in trace.function_names
    assert "<__main__>" not in trace.function_names  # what: the filters skip main.py
    assert [decode(v) for v in trace.returns_of("work")] == [6]
    assert not any(
        p.endswith("/main.py")
        for n, p in zip(trace.function_names, trace.function_paths, strict=True)
        if n != "<toplevel>"
    )
    assert_balanced(trace)


GATE_API = """
import sys
import codetracer_python_recorder as ctr
import helper

session = ctr.start(sys.argv[1], start_on_enter="skipped_mod.py", trace_filter="skip.toml")
import skipped_mod   # its module code opens the gate, and calls helper.work(3)
helper.work(100)     # after skipped_mod's frame returned: the gate is closed
session.stop()
"""

SKIP_MOD = SKIP_MAIN.replace("main.py", "skipped_mod.py")


def test_a_skipped_activation_frame_still_closes_the_gate(tmp_path: Path) -> None:
    write(tmp_path / "helper.py", HELPER)
    write(tmp_path / "skipped_mod.py", "import helper\nhelper.work(3)\n")
    write(tmp_path / "skip.toml", SKIP_MOD)
    script = write(tmp_path / "gate.py", GATE_API)
    proc = run_python(script, tmp_path / "t", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    trace = Trace(tmp_path / "t")
    assert [decode(v) for v in trace.returns_of("work")] == [6]
    assert "<skipped_mod>" not in trace.function_names
    assert_balanced(trace)


RAISING_MAIN = """
import helper
helper.work(1)
raise ValueError("boom")
"""


def test_an_uncaught_exception_leaving_a_skipped_activation_file_is_recorded(
    tmp_path: Path,
) -> None:
    status, stderr, out = _run_skipped_main(tmp_path, RAISING_MAIN, "--propagate-script-exit")
    assert status == 1
    assert "ValueError: boom" in stderr
    trace = Trace(out)
    assert [decode(v) for v in trace.returns_of("work")] == [2]
    assert any("boom" in e for e in trace.errors())


def test_stdlib_module_run_warns_that_the_trace_is_empty(tmp_path: Path) -> None:
    data = write(tmp_path / "data.json", '{"a": [1, 2]}\n')
    out = tmp_path / "t"
    proc = run_cli("--trace-dir", out, "-m", "json.tool", data, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert '"a": [' in proc.stdout  # the program behaves as untraced
    assert "warning: the trace is empty" in proc.stderr
    assert "the filters skip the activation file" in proc.stderr
    assert "json/tool.py" in proc.stderr


def test_activation_file_that_never_runs_warns(tmp_path: Path) -> None:
    write(tmp_path / "main.py", "x = 1\n")
    other = write(tmp_path / "other.py", "y = 2\n")
    proc = run_cli("--trace-dir", tmp_path / "t", "--activation-path", other, "main.py",
                   cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "warning: the trace is empty" in proc.stderr
    assert "never ran" in proc.stderr


def test_pytest_module_with_the_pytest_filter_is_no_longer_empty(tmp_path: Path) -> None:
    # The trap of the issue: `-m pytest --trace-filter builtin-pytest` recorded nothing.
    write(tmp_path / "calc.py", CALC)
    write(tmp_path / "test_calc.py", PYTEST_SUITE)
    out = tmp_path / "t"
    proc = run_cli("--trace-dir", out, "--trace-filter", "builtin-pytest", "-m", "pytest", "-q",
                   "-p", "no:cacheprovider", "test_calc.py", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr
    trace = Trace(out)
    assert {"test_add_ok", "test_add_bad", "add"} <= set(trace.function_names)
    assert _framework_paths(trace) == []
