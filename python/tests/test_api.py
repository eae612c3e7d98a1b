"""api.py: start/stop/flush/is_tracing/trace, recorded in-process and read back."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import codetracer_python_recorder as ctr
import pytest
from support import Trace, assert_balanced, assert_no_recorder_frames, write

HERE = Path(__file__).name


def fib(n: int) -> int:
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def compute() -> int:
    x = 41
    x += 1
    return x


def explode() -> None:
    raise ValueError("boom")


@pytest.mark.parametrize("fmt", [ctr.TRACE_BINARY, ctr.TRACE_JSON, ctr.TRACE_CTFS])
def test_start_stop_records_calls_steps_and_values(tmp_path: Path, fmt: str) -> None:
    session = ctr.start(tmp_path / "t", format=fmt)
    assert ctr.is_tracing()
    fib(4)
    compute()
    summary = ctr.stop()
    assert not ctr.is_tracing()
    assert summary is not None
    assert summary["events"] > 0  # type: ignore[operator]
    assert session.format == fmt

    view = Trace(tmp_path / "t")
    assert {"fib", "compute"} <= set(view.function_names)
    assert view.call_names().count("fib") == 9  # fib(4) makes 9 calls
    assert view.lines_in(HERE)  # lines of this file were stepped
    assert {41, 42} <= set(view.int_values("x"))
    assert_balanced(view)
    expected_file = {"binary": "trace.bin", "json": "trace.json", "ctfs": "trace.ct"}[fmt]
    assert {p.name for p in (tmp_path / "t").glob("trace.*")} == {expected_file}


def test_every_format_reads_back_the_same(tmp_path: Path) -> None:
    for fmt in (ctr.TRACE_BINARY, ctr.TRACE_JSON, ctr.TRACE_CTFS):
        with ctr.trace(tmp_path / fmt, format=fmt):
            fib(3)
    binary, json_, ctfs = (Trace(tmp_path / f) for f in ("binary", "json", "ctfs"))
    assert binary.call_names() == json_.call_names() == ctfs.call_names()
    assert [line for _, line in binary.steps()] == [line for _, line in json_.steps()]

    # the same records in the same order (values compared as the format's JSON shapes), but
    # for the loop variable `fmt` of this test, recorded with its own value in each
    def without_fmt(t: Trace) -> list[object]:
        fmt_ids = {i for i, n in enumerate(t.variable_names) if n == "fmt"}
        return [
            e for k, e in zip(t.records, t.events, strict=True)
            if not (k[0] == "Value" and k[1]["variable_id"] in fmt_ids)
        ]  # fmt: skip

    assert without_fmt(binary) == without_fmt(ctfs)


@pytest.mark.parametrize("fmt", [ctr.TRACE_BINARY, ctr.TRACE_CTFS])
def test_flush_writes_while_recording(tmp_path: Path, fmt: str) -> None:
    ctr.start(tmp_path / "t", format=fmt)
    fib(5)
    ctr.flush()
    assert any(p.stat().st_size > 0 for p in (tmp_path / "t").iterdir())
    # what was flushed reads back while the recording goes on
    assert "fib" in Trace(tmp_path / "t", strict=False).function_names
    ctr.stop()
    view = Trace(tmp_path / "t")
    assert "fib" in view.function_names
    assert_balanced(view)


def test_double_start_raises_already_tracing(tmp_path: Path) -> None:
    ctr.start(tmp_path / "first")
    try:
        with pytest.raises(ctr.UsageError) as info:
            ctr.start(tmp_path / "second")
        assert info.value.code == "ERR_ALREADY_TRACING"
        assert ctr.is_tracing()  # the first recording goes on
        compute()
    finally:
        ctr.stop()
    view = Trace(tmp_path / "first")
    assert "compute" in view.function_names
    assert_balanced(view)


def test_stop_without_recording_is_a_no_op() -> None:
    assert ctr.stop() is None
    ctr.flush()  # no error either


def test_start_from_inside_a_function_is_balanced(tmp_path: Path) -> None:
    def inner(v: int) -> int:
        return v * 2

    def outer() -> int:
        ctr.start(tmp_path / "t", format=ctr.TRACE_JSON)
        result = inner(21)
        ctr.stop()
        return result

    assert outer() == 42
    view = Trace(tmp_path / "t")
    assert any(name.endswith("inner") for name in view.function_names)
    assert_balanced(view)
    assert_no_recorder_frames(view)
    assert 21 in view.int_values("v")


def test_trace_context_manager(tmp_path: Path) -> None:
    with ctr.trace(tmp_path / "t", format="JSON") as session:
        assert isinstance(session, ctr.TraceSession)
        assert session.path == tmp_path / "t"
        assert session.format == ctr.TRACE_JSON
        fib(2)
    assert not ctr.is_tracing()
    view = Trace(tmp_path / "t")
    assert "fib" in view.function_names
    assert_balanced(view)
    assert_no_recorder_frames(view)


def test_trace_context_manager_stops_on_exception(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="boom"), ctr.trace(tmp_path / "t"):
        explode()
    assert not ctr.is_tracing()
    view = Trace(tmp_path / "t")
    assert "explode" in view.function_names
    assert_balanced(view)


def test_start_on_enter_records_only_from_the_activation_file(tmp_path: Path) -> None:
    module_file = write(
        tmp_path / "activated.py",
        """
        def run(n):
            total = 0
            for i in range(n):
                total += i
            return total
        """,
    )
    spec = importlib.util.spec_from_file_location("activated", module_file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    ctr.start(tmp_path / "t", start_on_enter=module_file)
    compute()  # before activation: not recorded
    assert module.run(4) == 6
    ctr.stop()
    view = Trace(tmp_path / "t")
    assert "run" in view.function_names
    assert "compute" not in view.function_names
    assert set(view.lines_in("activated.py")) >= {2, 3, 4, 5}
    assert_balanced(view)


def test_bad_format_is_rejected_before_starting(tmp_path: Path) -> None:
    with pytest.raises(ctr.UsageError) as info:
        ctr.start(tmp_path / "t", format="xml")
    assert info.value.code == "ERR_UNSUPPORTED_FORMAT"
    assert not ctr.is_tracing()


def test_public_names() -> None:
    for name in (
        "start", "stop", "is_tracing", "flush", "trace", "read_trace", "TraceSession",
        "TRACE_BINARY", "TRACE_JSON", "DEFAULT_FORMAT", "RecorderError", "UsageError",
        "EnvironmentError", "TargetError", "InternalError", "__version__",
    ):  # fmt: skip
        assert hasattr(ctr, name), name
        assert name in ctr.__all__ or name == "__version__"
    assert issubclass(ctr.UsageError, ctr.RecorderError)
    assert ctr.__version__ == "0.4.0"
