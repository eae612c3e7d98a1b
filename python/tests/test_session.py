"""session.py: TraceSession lifecycle."""

from __future__ import annotations

from pathlib import Path

import codetracer_python_recorder as ctr
from support import Trace, assert_balanced


def work(n: int) -> int:
    return sum(range(n))


def test_session_attributes_stop_is_idempotent(tmp_path: Path) -> None:
    session = ctr.start(tmp_path / "t", format=ctr.TRACE_JSON)
    assert session.path == tmp_path / "t"
    assert session.format == "json"
    assert session.active
    assert "active" in repr(session)
    work(3)
    session.flush()
    first = session.stop()
    assert not session.active
    assert session.stop() is first  # second stop: same summary, no error
    session.flush()  # flushing a stopped session is harmless
    assert "stopped" in repr(session)
    assert first["format"] == "json"
    view = Trace(tmp_path / "t")
    assert "work" in view.function_names
    assert 3 in view.int_values("n")
    assert_balanced(view)


def test_session_as_context_manager(tmp_path: Path) -> None:
    with ctr.start(tmp_path / "t") as session:
        work(2)
    assert session.summary is not None
    assert not ctr.is_tracing()
    view = Trace(tmp_path / "t")
    assert "work" in view.function_names
    assert_balanced(view)


def test_module_stop_stops_the_session(tmp_path: Path) -> None:
    session = ctr.start(tmp_path / "t")
    work(1)
    summary = ctr.stop(exit_code=0)
    assert summary == session.summary
    view = Trace(tmp_path / "t")
    assert "work" in view.function_names
