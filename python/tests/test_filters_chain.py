"""End-to-end: filter chains (SPEC §6) — ``a.toml::b.toml``, repeated ``--trace-filter``,
``CODETRACER_TRACE_FILTER``; later filters win.

``filter_projects/chain``: ``skip.toml`` skips ``libx`` and ``libx.**``; ``trace.toml`` has
a later rule ``pkg:literal:libx.core`` with ``exec = "trace"``. ``prog.py`` calls
``libx.outer(2)`` (which calls ``core.inner(2)``), ``core.inner(3)`` and ``json.dumps``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.filters import (
    FORMATS,
    Trace,
    chain,
    copy_project,
    filter_stats,
    record_cli,
)

ENV = "CODETRACER_TRACE_FILTER"
SKIP, TRACE = "skip-libx", "trace-libx-core"


def names(t: Trace) -> list[str]:
    return [name for name, _ in chain(t)]


def assert_core_reenabled(t: Trace) -> None:
    """libx.core traced (inner from the skipped outer and from main), libx itself skipped."""
    assert t.call_names().count("inner") == 2
    assert "outer" not in t.function_names
    assert sorted(Path(p).name for p in t.paths) == ["core.py", "prog.py"]
    assert [v["i"] for v in t.values("squared")] == [4, 9]


def assert_libx_skipped(t: Trace) -> None:
    assert not {"inner", "outer"} & set(t.function_names)
    assert [Path(p).name for p in t.paths] == ["prog.py"]
    # the caller's lines and values are still there
    assert {8, 9, 10, 11} <= set(t.lines_in("prog.py"))
    assert [v["i"] for v in t.values("b")][-1] == 9


CASES = {
    # id: (flags as file names, whether libx.core ends up traced, expected chain)
    "a::b": ([["skip.toml::trace.toml"]], True, [SKIP, TRACE]),
    "b::a": ([["trace.toml::skip.toml"]], False, [TRACE, SKIP]),
    "repeated a b": ([["skip.toml"], ["trace.toml"]], True, [SKIP, TRACE]),
    "repeated b a": ([["trace.toml"], ["skip.toml"]], False, [TRACE, SKIP]),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", list(CASES))
def test_chain_order_is_respected(case: str, fmt: str, tmp_path: Path) -> None:
    project = copy_project("chain", tmp_path)
    specs, core_traced, expected_chain = CASES[case]
    flags: list[str] = []
    for (spec,) in specs:
        flags += ["--trace-filter", "::".join(str(project / f) for f in spec.split("::"))]
    proc, t = record_cli(project / "prog.py", tmp_path / "t", *flags, cwd=tmp_path, fmt=fmt)
    assert proc.stdout.strip() == "[5, 9]"
    assert names(t) == ["builtin-default", *expected_chain]
    for (name, path), file in zip(chain(t)[1:], expected_chain, strict=True):
        assert name == file
        assert Path(path).parent.resolve() == project.resolve()
    if core_traced:
        assert_core_reenabled(t)
    else:
        assert_libx_skipped(t)
    assert filter_stats(t)["scopes_skipped"] > 0


def test_later_default_does_not_reenable_stdlib_but_a_later_rule_does(tmp_path: Path) -> None:
    project = copy_project("chain", tmp_path)
    _, by_default = record_cli(
        project / "prog.py",
        tmp_path / "a",
        "--trace-filter",
        project / "default_trace.toml",
        cwd=tmp_path,
    )
    assert "dumps" not in by_default.function_names
    assert not [p for p in by_default.paths if "json" in Path(p).parts]
    _, by_rule = record_cli(
        project / "prog.py",
        tmp_path / "b",
        "--trace-filter",
        project / "json_rule.toml",
        cwd=tmp_path,
    )
    assert by_rule.call_names().count("dumps") == 1
    assert "JSONEncoder.encode" in by_rule.call_names()
    assert [Path(p).name for p in by_rule.paths if "json" in Path(p).parts] == [
        "__init__.py",
        "encoder.py",
    ]


# ----------------------------------------------------------------- CODETRACER_TRACE_FILTER


def test_env_filter_is_applied(tmp_path: Path) -> None:
    project = copy_project("chain", tmp_path)
    _, t = record_cli(
        project / "prog.py", tmp_path / "t", cwd=tmp_path, env={ENV: str(project / "skip.toml")}
    )
    assert names(t) == ["builtin-default", SKIP]
    assert_libx_skipped(t)


def test_env_filter_chain_with_double_colon(tmp_path: Path) -> None:
    project = copy_project("chain", tmp_path)
    spec = f"{project / 'skip.toml'}::{project / 'trace.toml'}"
    _, t = record_cli(project / "prog.py", tmp_path / "t", cwd=tmp_path, env={ENV: spec})
    assert names(t) == ["builtin-default", SKIP, TRACE]
    assert_core_reenabled(t)


@pytest.mark.parametrize(
    ("env_file", "explicit_file", "core_traced"),
    [("skip.toml", "trace.toml", True), ("trace.toml", "skip.toml", False)],
)
def test_env_filters_come_before_explicit_ones(
    env_file: str, explicit_file: str, core_traced: bool, tmp_path: Path
) -> None:
    project = copy_project("chain", tmp_path)
    _, t = record_cli(
        project / "prog.py",
        tmp_path / "t",
        "--trace-filter",
        project / explicit_file,
        cwd=tmp_path,
        env={ENV: str(project / env_file)},
    )
    expected = [SKIP, TRACE] if core_traced else [TRACE, SKIP]
    assert names(t) == ["builtin-default", *expected]
    if core_traced:
        assert_core_reenabled(t)
    else:
        assert_libx_skipped(t)


def test_env_filter_comes_after_the_project_default(tmp_path: Path) -> None:
    """shop's project filter skips vendorlib; the env filter re-enables vendorlib.helpers."""
    shop = copy_project("shop", tmp_path)
    app = shop / "app"
    _, t = record_cli(
        app / "main.py", tmp_path / "t", cwd=tmp_path, env={ENV: str(app / "reenable_helpers.toml")}
    )
    assert names(t) == ["builtin-default", "shop-project", "reenable-helpers"]
    assert t.call_names().count("twice") == 2
    assert "compute" not in t.function_names


def test_same_file_in_env_and_explicit_is_loaded_once(tmp_path: Path) -> None:
    project = copy_project("chain", tmp_path)
    skip = str(project / "skip.toml")
    _, t = record_cli(
        project / "prog.py", tmp_path / "t", "--trace-filter", skip, cwd=tmp_path, env={ENV: skip}
    )
    assert names(t) == ["builtin-default", SKIP]
    assert_libx_skipped(t)


def test_same_file_in_env_and_explicit_is_loaded_once_whatever_the_spelling(
    tmp_path: Path,
) -> None:
    project = copy_project("chain", tmp_path)
    _, t = record_cli(
        project / "prog.py",
        tmp_path / "t",
        "--trace-filter",
        project / "skip.toml",
        cwd=project,
        env={ENV: "skip.toml"},
    )
    assert names(t) == ["builtin-default", SKIP]
