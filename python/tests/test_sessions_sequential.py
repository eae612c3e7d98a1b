"""Sequential sessions in one process (the pytest plugin's per-test recordings): start → stop →
start works, re-acquires the tool id, and each trace is complete and independent."""

from __future__ import annotations

import sys
from pathlib import Path

import codetracer_python_recorder as ctr
from support import Trace, assert_balanced, decode, write


def alpha(n: int) -> int:
    doubled = n * 2
    return doubled  # noqa: RET504 - the local is what the test reads back


def beta(n: int) -> int:
    return n + 1


def _tool_holders() -> list[str]:
    return [name for i in range(6) if (name := sys.monitoring.get_tool(i)) is not None]


def _assert_round(a: Trace, b: Trace, round_: int) -> None:
    """``a`` recorded ``alpha(round_)``; ``b`` ``beta(round_)`` then ``alpha(10 + round_)``."""
    assert [decode(v) for v in a.returns_of("alpha")] == [2 * round_]
    assert "beta" not in a.function_names
    assert [decode(v) for v in b.returns_of("beta")] == [round_ + 1]
    # alpha's code was already seen (and its events enabled) while recording ``a``: ``b``
    # declares it again and records it from scratch.
    assert [decode(v) for v in b.returns_of("alpha")] == [2 * (10 + round_)]
    assert 2 * (10 + round_) in b.int_values("doubled")
    for t in (a, b):
        assert_balanced(t)


def test_start_stop_start_gives_independent_complete_traces(tmp_path: Path) -> None:
    before = _tool_holders()
    for round_ in range(3):
        first = tmp_path / f"a{round_}"
        with ctr.trace(first):
            alpha(round_)
        assert _tool_holders() == before  # the tool id is released at every stop
        second = tmp_path / f"b{round_}"
        with ctr.trace(second):
            beta(round_)
            alpha(10 + round_)
        _assert_round(Trace(first), Trace(second), round_)


def test_code_skipped_by_one_session_is_recorded_by_the_next(tmp_path: Path) -> None:
    # A DISABLE returned for skipped code in one session must not blind the next one.
    skip = write(
        tmp_path / "skip.toml",
        '[meta]\nname = "skip-beta"\nversion = 1\n\n[[scope.rules]]\n'
        'selector = "obj:regex:(^|\\\\.)beta$"\nexec = "skip"\n',
    )
    with ctr.trace(tmp_path / "a", trace_filter=skip):
        beta(1)
        alpha(1)
    a = Trace(tmp_path / "a")
    assert "beta" not in a.function_names and "alpha" in a.function_names
    with ctr.trace(tmp_path / "b"):
        beta(5)
    assert [decode(v) for v in Trace(tmp_path / "b").returns_of("beta")] == [6]


def test_an_edited_filter_file_takes_effect_in_the_next_session(tmp_path: Path) -> None:
    # The compiled chain is reused by the next session with the same chain, unless a filter
    # file changed (size or modification time).
    rules = (
        '[meta]\nname = "f"\nversion = 1\n\n[[scope.rules]]\n'
        'selector = "obj:regex:(^|\\\\.){}$"\nexec = "skip"\n'
    )
    spec = write(tmp_path / "f.toml", rules.format("beta"))
    with ctr.trace(tmp_path / "a", trace_filter=spec):
        beta(1)
        alpha(1)
    with ctr.trace(tmp_path / "b", trace_filter=spec):  # same chain: the cached engine
        beta(2)
        alpha(2)
    write(spec, rules.format("alpha"))
    with ctr.trace(tmp_path / "c", trace_filter=spec):
        beta(3)
        alpha(3)
    a, b, c = (Trace(tmp_path / n) for n in "abc")
    assert "beta" not in a.function_names and [decode(v) for v in a.returns_of("alpha")] == [2]
    assert "beta" not in b.function_names and [decode(v) for v in b.returns_of("alpha")] == [4]
    assert "alpha" not in c.function_names and [decode(v) for v in c.returns_of("beta")] == [4]
    # Each session counts its own skips (a reused engine starts from zero).
    stats = [t.metadata["trace_filter"]["stats"]["scopes_skipped"] for t in (a, b)]
    assert 0 < stats[1] <= stats[0]


def test_a_recording_that_is_not_durable_writes_its_metadata_at_the_end(tmp_path: Path) -> None:
    from codetracer_python_recorder.formats import DEFAULT_FORMAT
    from codetracer_python_recorder.session import start_session

    target = tmp_path / "t"
    session = start_session(target, DEFAULT_FORMAT, program="p.py", durable=False)
    try:
        alpha(4)
        # No snapshot at the start: the metadata and path table come with the stop.
        assert not (target / "trace_metadata.json").exists()
        assert not (target / "trace_paths.json").exists()
    finally:
        session.stop(exit_code=0)
    session.sync()
    trace = Trace(target)
    assert [decode(v) for v in trace.returns_of("alpha")] == [8]
    assert trace.metadata["program"] == "p.py"
    assert trace.metadata["process_exit_status"]["code"] == 0
    assert_balanced(trace)


def test_a_series_keeps_one_tracer_and_gives_independent_complete_traces(tmp_path: Path) -> None:
    # The plugin's per-test recordings: the tracer stays installed between the recordings of
    # a series (its decisions kept), yet every trace declares its own functions and values.
    from codetracer_python_recorder.formats import DEFAULT_FORMAT
    from codetracer_python_recorder.session import active_session, end_series, start_session

    before = _tool_holders()
    try:
        for round_ in range(3):
            first = start_session(tmp_path / f"a{round_}", DEFAULT_FORMAT, series=True)
            alpha(round_)
            first.stop(exit_code=0)
            # Idle between two recordings: the tool id stays held, nothing is recording.
            assert _tool_holders() == [*before, "codetracer"]
            assert active_session() is None
            beta(99)  # runs while idle: in no trace
            second = start_session(tmp_path / f"b{round_}", DEFAULT_FORMAT, series=True)
            beta(round_)
            alpha(10 + round_)
            second.stop(exit_code=0)
            a, b = Trace(tmp_path / f"a{round_}"), Trace(tmp_path / f"b{round_}")
            _assert_round(a, b, round_)
            assert [t.metadata["process_exit_status"]["code"] for t in (a, b)] == [0, 0]
    finally:
        end_series()
    assert _tool_holders() == before  # released by end_series


def test_a_start_with_other_settings_ends_the_series(tmp_path: Path) -> None:
    # Code the series' filters skip (disabled while its tracer stayed installed) is recorded
    # by the next recording with other filters: the idle tracer is released first.
    from codetracer_python_recorder.formats import DEFAULT_FORMAT
    from codetracer_python_recorder.session import end_series, start_session

    skip = write(
        tmp_path / "skip.toml",
        '[meta]\nname = "skip-beta"\nversion = 1\n\n[[scope.rules]]\n'
        'selector = "obj:regex:(^|\\\\.)beta$"\nexec = "skip"\n',
    )
    before = _tool_holders()
    try:
        for name in ("s1", "s2"):
            session = start_session(
                tmp_path / name, DEFAULT_FORMAT, trace_filter=[str(skip)], series=True
            )
            beta(1)
            alpha(1)
            session.stop(exit_code=0)
        with ctr.trace(tmp_path / "plain"):
            beta(5)
        assert _tool_holders() == before
    finally:
        end_series()
    for name in ("s1", "s2"):
        t = Trace(tmp_path / name)
        assert "beta" not in t.function_names and "alpha" in t.function_names
    assert [decode(v) for v in Trace(tmp_path / "plain").returns_of("beta")] == [6]
