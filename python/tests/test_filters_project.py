"""End-to-end: the project default filter and an explicit filter (SPEC §6).

``filter_projects/shop``: ``.codetracer/trace-filter.toml`` skips the package ``vendorlib``;
``extra.toml`` redacts the local ``hidden`` and drops the argument ``user``. The program
``app/main.py`` (line numbers matter here):

     5 def greet(user, times):          #  greet("alice", 2): steps 5 6 7 8 9 8 9 8 10
     6     hidden = "h-" + str(times)
     7     total = 0
     8     for _ in range(times):
     9         total += len(user)
    10     return total + len(hidden)
    13 def callback(v):                 # called by the skipped vendorlib.apply
    18 def main():
    19     hidden = 41                  # steps 19 .. 24 in main
    20     r = vendorlib.compute(3)     # -> helpers.twice (both skipped)
    21     r2 = helpers.twice(r)
    22     r3 = vendorlib.apply(callback, hidden)
    23     g = greet("alice", 2)
    24     print(r, r2, r3, g)
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from support import run_python
from support.filters import (
    DROPPED,
    FORMATS,
    REDACTED,
    Trace,
    chain,
    copy_project,
    filter_stats,
    is_marker,
    raw_markers,
    record_cli,
    sha256_of,
)

EXPECTED_STDOUT = "60 120 126 13"
TRACED_FUNCTIONS = {"<toplevel>", "<__main__>", "main", "callback", "greet"}
VENDOR_FUNCTIONS = {"compute", "twice", "apply"}
# Values of `hidden` (redacted): main steps 20..24 (5), greet steps 7 8 9 8 9 8 10 (7).
HIDDEN_VALUES = 12
# `user` (dropped): once in greet's Call, then at each of greet's 8 line steps as a local.
GREET_LINE_STEPS = 8
# vendorlib code objects that run: 2 module bodies, compute, twice, apply.
VENDOR_CODE_OBJECTS = 5


def same_path(recorded: str, expected: Path, workdir: str) -> bool:
    """A recorded filter path names ``expected`` (a relative path as given on the command
    line is relative to the metadata's ``workdir``)."""
    return (Path(workdir) / recorded).resolve() == expected.resolve()


def assert_shop_content(t: Trace, app: Path) -> None:
    # vendorlib is skipped entirely: no Path, no Function, no Call from it.
    assert not [p for p in t.paths if "vendorlib" in p], t.paths
    assert set(t.function_names) == TRACED_FUNCTIONS, t.function_names
    assert not VENDOR_FUNCTIONS & set(t.call_names())
    # (an API recording's <toplevel> names the runner script)
    assert [Path(p).resolve() for p in t.paths if Path(p).name != "runner.py"] == [
        (app / "main.py").resolve()
    ]
    # ... while the callers' lines are recorded, and a callback the skipped code calls too.
    assert set(t.lines_in("main.py")) >= {1, 2, 19, 20, 21, 22, 23, 24, 27}
    (cb,) = t.calls_of("callback")
    assert t.arg(cb, "v")["i"] == 42
    assert [r["i"] for r in t.returns_of("callback")] == [126]
    # `hidden` (local:hidden): every Value is Raw <redacted>, in main and in greet.
    hidden = t.values("hidden")
    assert len(hidden) == HIDDEN_VALUES
    assert all(is_marker(v, REDACTED) for v in hidden), hidden
    # `user` (arg:user, drop): absent from greet's Call args and from every later step.
    (greet,) = t.calls_of("greet")
    assert t.arg_names(greet) == ["times"]
    assert t.arg(greet, "times")["i"] == 2
    assert t.values("user") == []
    assert [r["i"] for r in t.returns_of("greet")] == [13]
    # Other values are untouched.
    assert [v["i"] for v in t.values("total")][-1] == 10
    assert raw_markers(t, DROPPED) == {"value": 0, "arg": 0, "ret": 0, "field": 0}


def assert_shop_metadata(t: Trace, shop: Path, extra: Path) -> None:
    filters = t.metadata["trace_filter"]["filters"]
    workdir = t.metadata["workdir"]
    assert [f["name"] for f in filters] == ["builtin-default", "shop-project", "shop-extra"]
    builtin, project, explicit = filters
    assert builtin["path"] == "<inline:builtin-default>" and builtin["version"] == 1
    assert len(builtin["sha256"]) == 64
    project_file = shop / ".codetracer" / "trace-filter.toml"
    assert same_path(project["path"], project_file, workdir), project
    assert Path(project["path"]).is_absolute()  # found by the recorder
    assert project["version"] == 3
    assert project["sha256"] == sha256_of(project_file)
    assert same_path(explicit["path"], extra, workdir), explicit
    assert explicit["version"] == 1
    assert explicit["sha256"] == sha256_of(extra)

    stats = filter_stats(t)
    assert stats["scopes_skipped"] >= VENDOR_CODE_OBJECTS
    # Counters agree with the markers written into the trace.
    markers = raw_markers(t, REDACTED)
    assert stats["value_redactions"] == {
        "local": HIDDEN_VALUES,
        "global": 0,
        "arg": 0,
        "ret": 0,
        "attr": 0,
    }
    assert markers == {"value": HIDDEN_VALUES, "arg": 0, "ret": 0, "field": 0}
    assert stats["value_drops"] == {
        "arg": 1,
        "local": GREET_LINE_STEPS,
        "global": 0,
        "ret": 0,
        "attr": 0,
    }


def decoy_cwd(tmp_path: Path) -> Path:
    """A working directory with its own project filter, which must NOT apply: the project
    default is searched from the script's folder, not from the cwd."""
    cwd = tmp_path / "elsewhere"
    (cwd / ".codetracer").mkdir(parents=True)
    (cwd / ".codetracer" / "trace-filter.toml").write_text(
        textwrap.dedent("""\
        [meta]
        name = "decoy"
        version = 1

        [[scope.rules]]
        selector = "pkg:**"
        exec = "skip"
        """)
    )
    return cwd


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("where", ["other-cwd", "script-dir"])
def test_project_default_plus_explicit_filter(fmt: str, where: str, tmp_path: Path) -> None:
    shop = copy_project("shop", tmp_path)
    app = shop / "app"
    extra = shop / "extra.toml"
    trace_dir = tmp_path / "trace"
    if where == "other-cwd":
        # The script is found by absolute path; the cwd holds an unrelated project filter.
        proc, t = record_cli(
            app / "main.py", trace_dir, "--trace-filter", extra, cwd=decoy_cwd(tmp_path), fmt=fmt
        )
    else:
        proc, t = record_cli(
            "main.py", trace_dir, "--trace-filter", "../extra.toml", cwd=app, fmt=fmt
        )
    assert proc.stdout.strip() == EXPECTED_STDOUT
    assert_shop_content(t, app)
    assert_shop_metadata(t, shop, extra)
    assert "decoy" not in [name for name, _ in chain(t)]


def test_project_filter_is_what_skips_vendorlib(tmp_path: Path) -> None:
    """Same program without `.codetracer/`: vendorlib is traced and exactly its 5 code objects
    are no longer counted as skipped."""
    shop = copy_project("shop", tmp_path)
    app = shop / "app"
    _, with_project = record_cli(app / "main.py", tmp_path / "with", cwd=tmp_path)
    shutil.rmtree(shop / ".codetracer")
    _, without = record_cli(app / "main.py", tmp_path / "without", cwd=tmp_path)
    assert [name for name, _ in chain(without)] == ["builtin-default"]
    assert set(without.function_names) >= VENDOR_FUNCTIONS
    assert [Path(p).name for p in without.paths if "vendorlib" in p] == [
        "__init__.py",
        "helpers.py",
    ]
    skipped = filter_stats(with_project)["scopes_skipped"]
    assert skipped - filter_stats(without)["scopes_skipped"] == VENDOR_CODE_OBJECTS
    # Without extra.toml nothing is redacted or dropped.
    first = without.values("hidden")[0]
    assert (first["kind"], first["i"]) == ("Int", 41)
    assert "user" in without.arg_names(without.calls_of("greet")[0])


def test_file_selector_is_relative_to_the_project_root(tmp_path: Path) -> None:
    """`file:app/vendorlib/**` matches paths relative to the folder holding `.codetracer/`."""
    shop = copy_project("shop", tmp_path)
    app = shop / "app"
    (shop / ".codetracer" / "trace-filter.toml").write_text(
        '[meta]\nname = "empty-project"\nversion = 1\n'
    )
    _, t = record_cli(
        app / "main.py", tmp_path / "t", "--trace-filter", app / "skip_by_file.toml", cwd=tmp_path
    )
    assert not [p for p in t.paths if "vendorlib" in p], t.paths
    assert not VENDOR_FUNCTIONS & set(t.function_names)
    assert [name for name, _ in chain(t)] == ["builtin-default", "empty-project", "skip-by-file"]
    assert filter_stats(t)["scopes_skipped"] >= VENDOR_CODE_OBJECTS


def test_later_explicit_rule_reenables_a_module_the_project_skips(tmp_path: Path) -> None:
    shop = copy_project("shop", tmp_path)
    app = shop / "app"
    _, t = record_cli(
        app / "main.py",
        tmp_path / "t",
        "--trace-filter",
        app / "reenable_helpers.toml",
        cwd=tmp_path,
    )
    # twice runs twice: from the skipped compute, and from main.
    assert t.call_names().count("twice") == 2
    assert not {"compute", "apply"} & set(t.function_names)
    assert [Path(p).name for p in t.paths] == ["main.py", "helpers.py"]


def test_api_start_with_project_default_and_trace_filter(tmp_path: Path) -> None:
    """`start(trace_filter=...)` with `start_on_enter=` the script: the project default is
    found from the script's folder too."""
    shop = copy_project("shop", tmp_path)
    app = shop / "app"
    extra = shop / "extra.toml"
    trace_dir = tmp_path / "api-trace"
    runner = tmp_path / "runner.py"
    runner.write_text(
        textwrap.dedent(f"""\
        import json, runpy, sys
        import codetracer_python_recorder as ctr
        script = {str(app / "main.py")!r}
        sys.path.insert(0, {str(app)!r})
        ctr.start({str(trace_dir)!r}, format="json", start_on_enter=script,
                  trace_filter={str(extra)!r})
        runpy.run_path(script, run_name="__main__")
        print(json.dumps(ctr.stop()), file=sys.stderr)
        """)
    )
    proc = run_python(runner, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == EXPECTED_STDOUT
    t = Trace(trace_dir)
    assert_shop_content(t, app)
    assert_shop_metadata(t, shop, extra)
    assert json.loads(proc.stderr.strip().splitlines()[-1])["format"] == "json"
