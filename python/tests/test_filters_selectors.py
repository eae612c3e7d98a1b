"""End-to-end: ``obj:`` skips one function, ``ret:`` drops / redacts a return value.

``filter_projects/selectors/prog.py``: ``main`` calls ``Cart().total([1, 2, 3])`` and
``helper(5)``, which calls ``noisy(5)``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.filters import (
    DROPPED,
    FORMATS,
    REDACTED,
    copy_project,
    filter_stats,
    is_marker,
    record_cli,
)


@pytest.mark.parametrize("fmt", FORMATS)
def test_obj_skips_one_function_and_ret_drops_or_redacts_returns(fmt: str, tmp_path: Path) -> None:
    project = copy_project("selectors", tmp_path)
    proc, t = record_cli(
        project / "prog.py",
        tmp_path / "t",
        "--trace-filter",
        project / "ret_obj.toml",
        cwd=tmp_path,
        fmt=fmt,
    )
    assert proc.stdout.strip() == "6 11"

    # obj:__main__.noisy: no Function, no Call, no line of it; its caller is recorded.
    assert "noisy" not in t.function_names
    assert "junk" not in t.variable_names
    assert not {7, 8} & set(t.lines_in("prog.py"))
    assert t.call_names().count("helper") == 1

    # ret:Cart.total (drop): the Return stays, its value is the <dropped> marker.
    (total,) = t.returns_of("Cart.total")
    assert is_marker(total, DROPPED), total
    # ret:helper (redact): <redacted>.
    (helper,) = t.returns_of("helper")
    assert is_marker(helper, REDACTED), helper
    # Only the return values are touched: the caller's locals keep the real numbers.
    assert [v["i"] for v in t.values("t")][-1] == 6
    assert [v["i"] for v in t.values("h")][-1] == 11
    assert t.returns_of("main")[0]["kind"] == "None"

    stats = filter_stats(t)
    assert stats["value_drops"] == {"ret": 1, "local": 0, "arg": 0, "global": 0, "attr": 0}
    assert stats["value_redactions"] == {"ret": 1, "local": 0, "arg": 0, "global": 0, "attr": 0}


def test_obj_selector_uses_the_file_module_name_without_globals_naming(tmp_path: Path) -> None:
    """With --no-module-name-from-globals the script's module is named from its file
    (`prog`: its folder is sys.path[0]), so `obj:prog.noisy` matches and `obj:__main__.noisy`
    does not. Run from the script's own folder."""
    project = copy_project("selectors", tmp_path)
    _, by_file = record_cli(
        "prog.py",
        tmp_path / "a",
        "--no-module-name-from-globals",
        "--trace-filter",
        "obj_by_file_module.toml",
        cwd=project,
    )
    assert "<prog>" in by_file.function_names
    assert "noisy" not in by_file.function_names
    assert "helper" in by_file.call_names()
    _, by_main = record_cli(
        "prog.py",
        tmp_path / "b",
        "--no-module-name-from-globals",
        "--trace-filter",
        "ret_obj.toml",
        cwd=project,
    )
    assert by_main.call_names().count("noisy") == 1
    # ret: selectors name the function's qualname, independent of the module name.
    assert is_marker(by_main.returns_of("Cart.total")[0], DROPPED)


def test_obj_selector_module_name_does_not_depend_on_the_cwd(tmp_path: Path) -> None:
    project = copy_project("selectors", tmp_path)
    _, t = record_cli(
        project / "prog.py",
        tmp_path / "a",
        "--no-module-name-from-globals",
        "--trace-filter",
        project / "obj_by_file_module.toml",
        cwd=tmp_path,
    )
    assert "<prog>" in t.function_names, t.function_names
    assert "noisy" not in t.function_names


@pytest.mark.parametrize("fmt", FORMATS)
def test_global_redaction_generator_arg_drop_and_accumulated_patterns(
    fmt: str, tmp_path: Path
) -> None:
    """globals_prog.py with globals.toml (rule `pkg:**`: value_default allow, `local:metric_*`
    allow, `arg:user` drop, `global:visible` redact)."""
    project = copy_project("selectors", tmp_path)
    proc, t = record_cli(
        project / "globals_prog.py",
        tmp_path / "t",
        "--trace-filter",
        project / "globals.toml",
        cwd=tmp_path,
        fmt=fmt,
    )
    assert proc.stdout.strip() == "13 [0, 1]"
    # global:visible (this filter) and the builtin's secret global api_token: redacted at
    # every step where they are recorded (module level and inside f).
    for name, count in (("visible", 5), ("api_token", 6)):
        values = t.values(name)
        assert len(values) == count and all(is_marker(v, REDACTED) for v in values), values
    # The later filter's allow pattern / allow default do not undo the builtin's redaction.
    assert all(is_marker(v, REDACTED) for v in t.values("password"))
    assert is_marker(t.arg(t.calls_of("f")[0], "password"), REDACTED)
    assert [v["i"] for v in t.values("metric_x")] == [1, 1]
    # arg:user in a generator: absent from its (first) Call and from every step, resumes too.
    assert [t.arg_names(c) for c in t.calls_of("gen")] == [[], [], []]
    assert t.values("user") == []
    assert [v["i"] for v in t.values("i")] == [0, 0, 1, 1]
    stats = filter_stats(t)
    assert stats["value_redactions"] == {"global": 11, "local": 2, "arg": 1, "ret": 0, "attr": 0}
    # user: the generator's Call (arg) and its 5 line steps (locals)
    assert stats["value_drops"] == {"arg": 1, "local": 5, "global": 0, "ret": 0, "attr": 0}
