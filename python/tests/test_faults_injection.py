"""Injected recorder failures at start, at a line, at a return and at finish (SPEC §7).

The test build of the core has the cargo feature ``failure-injection``: the variable
``CODETRACER_TEST_INJECT_FAILURE=start|line|return|finish`` (optionally ``-panic``) makes the
recorder fail there. Under ``abort`` the error surfaces (CLI exit 1, ``ERR_INTERNAL``); under
``disable`` the program runs to completion untraced with its own output and exit status, and
the CLI exits 0 saying what happened. Partial files are removed unless ``keep_partial_trace``.
"""

from __future__ import annotations

import json
from pathlib import Path

import codetracer_python_recorder as ctr
import codetracer_python_recorder_core as core
import pytest
from support import Trace, run_cli, run_python, write

pytestmark = pytest.mark.skipif(
    not core.build_info().get("failure_injection"),
    reason="the installed core was built without the `failure-injection` feature "
    "(nox -s test-py builds it with the feature; maturin develop --features failure-injection)",
)

ENV = "CODETRACER_TEST_INJECT_FAILURE"
POINTS = ["start", "line", "return", "finish"]

PROGRAM = """
import sys

def square(x):
    y = x * x
    return y

total = 0
for i in range(5):
    total += square(i)
    print("step", i, total)
print("done", total, file=sys.stderr)
sys.exit(7)
"""


def leftover(trace_dir: Path) -> list[str]:
    if not trace_dir.is_dir():
        return []
    return sorted(p.name for p in trace_dir.iterdir() if p.name.startswith("trace"))


@pytest.fixture
def program(tmp_path: Path) -> Path:
    return write(tmp_path / "prog.py", PROGRAM)


@pytest.fixture
def untraced(program: Path, tmp_path: Path) -> tuple[str, str, int]:
    proc = run_python(program, cwd=tmp_path)
    assert proc.returncode == 7
    return proc.stdout, proc.stderr, proc.returncode


def trailer(stderr: str) -> dict[str, object]:
    result: dict[str, object] = json.loads(stderr.strip().splitlines()[-1])
    return result


# --- the CLI --------------------------------------------------------------------------------


@pytest.mark.parametrize("point", POINTS)
def test_cli_abort(
    point: str, program: Path, tmp_path: Path, untraced: tuple[str, str, int]
) -> None:
    proc = run_cli(
        "--json-errors", "--propagate-script-exit", program, cwd=tmp_path, env={ENV: point}
    )
    assert proc.returncode == 1, proc.stderr
    assert "error[ERR_INTERNAL]" in proc.stderr
    assert f"injected failure at {point}" in proc.stderr
    t = trailer(proc.stderr)
    assert t["error_code"] == "ERR_INTERNAL"
    assert t["error_kind"] == "internal"
    assert t["context"] == {"injected": point}
    if point == "start":
        assert proc.stdout == ""  # abort at start: the program never ran
    else:
        assert proc.stdout == untraced[0]  # the program itself was not harmed
        assert "done 30" in proc.stderr
    assert leftover(tmp_path / "trace-out") == []


@pytest.mark.parametrize("point", POINTS)
def test_cli_disable(
    point: str, program: Path, tmp_path: Path, untraced: tuple[str, str, int]
) -> None:
    proc = run_cli(
        "--on-recorder-error", "disable", "--propagate-script-exit", "--json-errors",
        program, cwd=tmp_path, env={ENV: point},
    )  # fmt: skip
    # the program's own output and exit status are exactly those of an untraced run
    assert proc.stdout == untraced[0]
    assert proc.returncode == untraced[2] == 7
    assert untraced[1] in proc.stderr
    # stderr says what happened
    assert "recording disabled" in proc.stderr
    assert "ERR_INTERNAL" in proc.stderr
    assert f"injected failure at {point}" in proc.stderr
    t = trailer(proc.stderr)
    assert t["error_code"] == "ERR_INTERNAL"
    assert leftover(tmp_path / "trace-out") == []


@pytest.mark.parametrize("point", POINTS)
def test_cli_disable_exits_0_without_propagation(point: str, program: Path, tmp_path: Path) -> None:
    proc = run_cli("--on-recorder-error", "disable", program, cwd=tmp_path, env={ENV: point})
    assert proc.returncode == 0, proc.stderr
    assert "recording disabled" in proc.stderr


def test_cli_disable_from_the_environment(program: Path, tmp_path: Path) -> None:
    proc = run_cli(
        program, cwd=tmp_path, env={ENV: "line", "CODETRACER_ON_RECORDER_ERROR": "disable"}
    )
    assert proc.returncode == 0, proc.stderr
    assert "recording disabled" in proc.stderr


@pytest.mark.parametrize("point", ["line", "return", "finish"])
def test_cli_keep_partial_trace(point: str, program: Path, tmp_path: Path) -> None:
    proc = run_cli(
        "--on-recorder-error", "disable", "--keep-partial-trace", "--format", "json",
        program, cwd=tmp_path, env={ENV: point},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    trace = tmp_path / "trace-out"
    assert {"trace.json", "trace_metadata.json"} <= set(leftover(trace))
    meta = json.loads((trace / "trace_metadata.json").read_text())
    assert meta["program"].endswith("prog.py")
    assert meta["process_exit_status"]["code"] == 7
    view = Trace(trace)  # finalised and readable
    assert view.function_names[0] == "<toplevel>"
    if point == "finish":  # everything up to the end was recorded
        assert view.call_names().count("square") == 5
    else:  # recording stopped at the failure
        assert view.call_names().count("square") < 5


@pytest.mark.parametrize("point", ["line", "finish"])
def test_cli_abort_with_keep_partial_trace(point: str, program: Path, tmp_path: Path) -> None:
    proc = run_cli(
        "--keep-partial-trace", "--format", "json", program, cwd=tmp_path, env={ENV: point}
    )
    assert proc.returncode == 1
    assert "ERR_INTERNAL" in proc.stderr
    trace = tmp_path / "trace-out"
    assert "trace_metadata.json" in leftover(trace)
    Trace(trace)  # readable


# --- the API --------------------------------------------------------------------------------


def work() -> int:
    total = 0
    for i in range(3):
        total += i * i
    return total


@pytest.mark.parametrize("point", ["line", "return"])
def test_api_disable_turns_is_tracing_false(
    point: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, point)
    session = ctr.start(tmp_path / "t", policy={"on_recorder_error": "disable"})
    try:
        assert work() == 5  # the program is unharmed
        assert not ctr.is_tracing()  # the failure (at the first line/return) detached it
    finally:
        summary = session.stop()
    assert summary is not None
    assert summary["disabled"]["code"] == "ERR_INTERNAL"
    assert summary["disabled"]["kind"] == "internal"
    assert point in summary["disabled"]["message"]
    assert summary["files"] == []
    assert leftover(tmp_path / "t") == []


@pytest.mark.parametrize("point", ["line", "return", "finish"])
def test_api_abort_raises_internal_error_at_stop(
    point: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, point)
    session = ctr.start(tmp_path / "t")
    try:
        assert work() == 5
    finally:
        with pytest.raises(ctr.InternalError) as info:
            session.stop()
    assert info.value.code == "ERR_INTERNAL"
    assert info.value.kind == "internal"
    assert info.value.context == {"injected": point}
    assert not ctr.is_tracing()
    assert leftover(tmp_path / "t") == []


def test_api_start_failure_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "start")
    with pytest.raises(ctr.InternalError) as info:
        ctr.start(tmp_path / "t")
    assert info.value.code == "ERR_INTERNAL"
    assert not ctr.is_tracing()
    assert leftover(tmp_path / "t") == []
    monkeypatch.delenv(ENV)
    ctr.start(tmp_path / "t2").stop()  # the tool id was released
    assert "trace_metadata.json" in leftover(tmp_path / "t2")


# --- panics become InternalError --------------------------------------------------------------


@pytest.mark.parametrize("point", POINTS)
def test_a_panic_becomes_internal_error(
    point: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, f"{point}-panic")
    if point == "start":
        with pytest.raises(ctr.InternalError) as info:
            ctr.start(tmp_path / "t")
    else:
        session = ctr.start(tmp_path / "t")
        try:
            assert work() == 5
            if point in ("line", "return"):
                assert not ctr.is_tracing()  # the panic stopped the recording at once
            else:
                assert ctr.is_tracing()
        finally:
            with pytest.raises(ctr.InternalError) as info:
                session.stop()
    assert info.value.code == "ERR_INTERNAL"
    assert "panic" in str(info.value)
    assert f"injected panic at {point}" in str(info.value)
    assert not ctr.is_tracing()
    assert leftover(tmp_path / "t") == []
    monkeypatch.delenv(ENV)
    ctr.start(tmp_path / "again").stop()  # nothing was left installed


def test_a_panic_under_disable_lets_the_program_finish(
    program: Path, tmp_path: Path, untraced: tuple[str, str, int]
) -> None:
    proc = run_cli(
        "--on-recorder-error", "disable", "--propagate-script-exit", program,
        cwd=tmp_path, env={ENV: "line-panic"},
    )  # fmt: skip
    assert proc.stdout == untraced[0]
    assert proc.returncode == 7
    assert "recording disabled" in proc.stderr
    assert "ERR_INTERNAL" in proc.stderr
    assert "panicked" in proc.stderr
