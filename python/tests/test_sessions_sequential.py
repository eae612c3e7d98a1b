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
        a, b = Trace(first), Trace(second)
        assert [decode(v) for v in a.returns_of("alpha")] == [2 * round_]
        assert "beta" not in a.function_names
        assert [decode(v) for v in b.returns_of("beta")] == [round_ + 1]
        # alpha's code was already seen (and its events enabled) by the first session: the
        # second one declares it again and records it from scratch.
        assert [decode(v) for v in b.returns_of("alpha")] == [2 * (10 + round_)]
        assert 2 * (10 + round_) in b.int_values("doubled")
        for t in (a, b):
            assert_balanced(t)


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
