"""End-to-end: record real programs (control flow, names) and check the traces' content.

Every recording runs in a subprocess through ``programs/_driver.py`` (the CLI-like flow:
activation path = the program, ``runpy.run_path``, ``stop_tracing(status, error)``) and every
trace goes through ``check_trace`` (TRACE_FORMAT §7/§9) in both formats.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from support import (
    EVENT_ERROR,
    FORMATS,
    PROGRAMS,
    decode,
    record,
    run_untraced,
)

pytestmark = pytest.mark.parametrize("fmt", FORMATS)


def line_of(program: str, marker: str) -> int:
    """The 1-based line of ``program`` carrying the comment ``# @marker``."""
    lines = (PROGRAMS / program).read_text().splitlines()
    hits = [i + 1 for i, text in enumerate(lines) if text.rstrip().endswith(f"# @{marker}")]
    assert len(hits) == 1, (program, marker, hits)
    return hits[0]


def fib_calls(n: int, counter: Counter[int]) -> int:
    counter[n] += 1
    return n if n < 2 else fib_calls(n - 1, counter) + fib_calls(n - 2, counter)


def test_recursion_fib(fmt: str, tmp_path: Path) -> None:
    run = record("recursion.py", fmt, tmp_path)
    t = run.trace
    expected = Counter[int]()
    fib_calls(7, expected)
    assert run.proc.stdout.strip() == f"fib 13 calls {sum(expected.values())}"
    (fid,) = t.functions_named("fib")
    assert t.functions[fid]["line"] == line_of("recursion.py", "fib")
    assert Path(t.paths[t.functions[fid]["path_id"]]).name == "recursion.py"
    calls = t.calls_of("fib")
    assert len(calls) == sum(expected.values()) == 41
    assert Counter(decode(t.arg(c, "n")) for c in calls) == expected
    fib = {0: 0, 1: 1}
    for i in range(2, 8):
        fib[i] = fib[i - 1] + fib[i - 2]
    for name, call, ret in t.frames():
        if name == "fib":
            assert decode(ret) == fib[decode(t.arg(call, "n"))]
    # the toplevel returns the exit status, the module code is "<__main__>"
    assert t.returns()[-1] == {"kind": "Int", "i": 0, "type_id": t.returns()[-1]["type_id"]}
    assert "<__main__>" in t.function_names
    main = t.functions[t.functions_named("<__main__>")[0]]
    assert Path(t.paths[main["path_id"]]).name == "recursion.py"
    # the global `calls` is recorded inside fib (a global the code uses)
    assert max(decode(v) for v in t.values("calls")) == 41
    # a single-threaded program has no thread records
    assert t.thread_records() == []
    assert not t.errors()
    assert run.trace.metadata["process_exit_status"]["code"] == 0


def test_generators_resume_yield_throw_close(fmt: str, tmp_path: Path) -> None:
    run = record("generators.py", fmt, tmp_path)
    t = run.trace
    assert run.proc.stdout.splitlines() == ["caught thrown", "3 0 6 ready [0, 1, 4, 9]"]
    frames = [(call, ret) for name, call, ret in t.frames() if name == "counter"]
    # counter(3): start + 3 resumes; yields 0,1,2 then returns "done"
    first = frames[:4]
    assert t.arg_names(first[0][0]) == ["limit"]
    assert decode(t.arg(first[0][0], "limit")) == 3
    assert all(call["args"] == [] for call, _ in first[1:]), "a resume Call carries no args"
    assert [decode(r) for _, r in first] == [0, 1, 2, "done"]
    # g = counter(10): next -> 0, send(5) -> 6, close() -> GeneratorExit (or no event at all)
    rest = frames[4:]
    assert decode(t.arg(rest[0][0], "limit")) == 10
    assert [decode(r) for _, r in rest[:2]] == [0, 6]
    for call, ret in rest[2:]:
        assert ret["kind"] == "Raw" and "GeneratorExit" in ret["r"], ret
        assert t.arg_names(call) == ["exception"]
    # catcher: start, throw-resume with argument `exception`, close
    catcher = [(call, ret) for name, call, ret in t.frames() if name == "catcher"]
    assert decode(catcher[0][1]) == "ready"
    thrown = [(c, r) for c, r in catcher if t.arg_names(c) == ["exception"]]
    assert thrown, "no throw-resume Call with argument `exception`"
    exc = t.arg(thrown[0][0], "exception")
    assert exc["kind"] == "Raw" and "KeyError" in exc["r"] and "thrown" in exc["r"], exc
    assert decode(thrown[0][1]) == "ready"  # caught, loops, yields again
    # the generator expression: 4 yields then a None return
    gen = [ret for name, _, ret in t.frames() if name == "<genexpr>"]
    assert [decode(r) for r in gen] == [0, 1, 4, 9, None]


def test_async_coroutines(fmt: str, tmp_path: Path) -> None:
    run = record("coroutines.py", fmt, tmp_path)
    t = run.trace
    assert run.proc.stdout.strip() == "result 26"
    names = set(t.function_names)
    assert {"producer", "consumer", "main"} <= names
    # event-loop internals are not recorded
    for f in t.functions[1:]:
        assert Path(t.paths[f["path_id"]]).parent == PROGRAMS, (f, t.paths[f["path_id"]])
    starts = [c for c in t.calls_of("producer") if c["args"]]
    assert sorted(decode(t.arg(c, "n")) for c in starts) == [1, 2, 10]
    returns = [decode(r) for r in t.returns_of("producer")]
    assert sorted(r for r in returns if r is not None) == [2, 4, 20]
    assert 6 in [decode(r) for r in t.returns_of("consumer")]
    assert 26 in [decode(r) for r in t.returns_of("main")]


def test_caught_exception(fmt: str, tmp_path: Path) -> None:
    run = record("exceptions_caught.py", fmt, tmp_path)
    t = run.trace
    assert run.proc.stdout.strip() == "boom 1"
    inner = t.returns_of("inner")
    middle = t.returns_of("middle")
    assert inner[0] == {"kind": "Raw", "r": "ValueError: boom", "type_id": inner[0]["type_id"]}
    assert middle[0]["kind"] == "Raw" and middle[0]["r"] == "ValueError: boom"
    assert decode(inner[1]) == 0 and decode(middle[1]) == 1
    assert [decode(r) for r in t.returns_of("outer")] == ["boom"]
    assert t.errors() == []
    assert t.metadata["process_exit_status"]["code"] == 0


def test_uncaught_exception(fmt: str, tmp_path: Path) -> None:
    run = record("exceptions_uncaught.py", fmt, tmp_path)
    t = run.trace
    assert run.proc.returncode == 1
    assert run.proc.stdout.strip() == "before"
    for name in ("inner", "middle"):
        (ret,) = t.returns_of(name)
        assert ret["kind"] == "Raw" and ret["r"] == "ValueError: boom", (name, ret)
    events = t.of_kind("Event")
    assert events and events[-1]["kind"] == EVENT_ERROR
    assert "Traceback" in events[-1]["content"] and "ValueError: boom" in events[-1]["content"]
    # the Error event sits on the last step: no Step after it
    idx = max(i for i, (k, v) in enumerate(t.records) if k == "Event")
    assert all(k != "Step" for k, _ in t.records[idx:])
    assert decode(t.returns()[-1]) == 1
    assert t.metadata["process_exit_status"]["code"] == 1
    assert line_of("exceptions_uncaught.py", "inner") + 1 in t.lines_in("exceptions_uncaught.py")


def test_classes_and_methods(fmt: str, tmp_path: Path) -> None:
    run = record("classes.py", fmt, tmp_path)
    t = run.trace
    assert run.proc.stdout.strip() == "11 0 home@3,4"
    names = set(t.function_names)
    assert {
        "Point.__init__",
        "Point.moved",
        "Point.origin",
        "Labeled.__init__",
        "Labeled.describe",
        "Point",
        "Labeled",
    } <= names
    (fid,) = t.functions_named("Point.moved")
    assert t.functions[fid]["line"] == line_of("classes.py", "moved")
    (moved,) = t.calls_of("Point.moved")
    self_value = t.arg(moved, "self")
    assert self_value["kind"] == "Struct"
    assert t.type_of(self_value)["lang_type"].endswith("Point")
    assert {k: decode(v) for k, v in t.struct_fields(self_value).items()} == {"x": 1, "y": 2}
    assert decode(t.arg(moved, "dx")) == 10
    (describe,) = t.calls_of("Labeled.describe")
    lab = t.arg(describe, "self")
    assert t.type_of(lab)["lang_type"].endswith("Labeled")
    assert {k: decode(v) for k, v in t.struct_fields(lab).items()} == {
        "x": 3,
        "y": 4,
        "label": "home",
    }
    assert [decode(r) for r in t.returns_of("Labeled.describe")] == ["home@3,4"]
    # while __init__ runs, `self` gains attributes: each field set gets a matching type
    field_sets = {tuple(t.struct_fields(v)) for v in t.values("self")}
    assert {(), ("x",), ("x", "y")} <= field_sets
    assert [decode(r) for r in t.returns_of("Point.__init__")] == [None] * 4


def test_closures_lambdas_comprehensions(fmt: str, tmp_path: Path) -> None:
    run = record("closures.py", fmt, tmp_path)
    t = run.trace
    assert run.proc.stdout.strip() == (
        "16 17 42 [0, 1, 4, 9, 16] [0, 2, 4] {0: '0', 1: '1', 2: '2'}"
    )
    (fid,) = t.functions_named("outer.<locals>.inner")
    assert t.functions[fid]["line"] == line_of("closures.py", "inner")
    assert [decode(r) for r in t.returns_of("outer.<locals>.inner")] == [16, 17]
    # free variables are recorded as locals of inner, at inner's steps
    ret_line = line_of("closures.py", "inner_return")
    at_return = _values_at_line(t, "closures.py", ret_line)
    assert {"x": 1, "base": 5, "offset": 10, "total": 16}.items() <= at_return[0].items()
    # the cell variables of outer are its locals too
    assert 10 in [decode(v) for v in t.values("offset")]
    (lam,) = t.functions_named("<lambda>")
    assert t.functions[lam]["line"] == line_of("closures.py", "lambda")
    assert [decode(r) for r in t.returns_of("<lambda>")] == [42]
    assert [0, 1, 4, 9, 16] in [decode(v) for v in t.values("squares")]
    mapping = [decode(v) for v in t.values("mapping")]
    assert [(0, "0"), (1, "1"), (2, "2")] in mapping  # dict = Sequence of 2-Tuples


def _values_at_line(t, filename: str, line: int) -> list[dict[str, object]]:
    """Variables recorded at each step of ``filename:line``."""
    names = t.variable_names
    paths = t.paths
    out: list[dict[str, object]] = []
    current: dict[str, object] | None = None
    for k, v in t.records:
        if k == "Step":
            current = None
            if Path(paths[v["path_id"]]).name == filename and v["line"] == line:
                current = {}
                out.append(current)
        elif k == "Value" and current is not None:
            current[names[v["variable_id"]]] = decode(v["value"])
        elif k in ("Call", "Return"):
            current = None
    return out


def test_sys_exit_in_function(fmt: str, tmp_path: Path) -> None:
    run = record("sysexit.py", fmt, tmp_path)
    t = run.trace
    assert run.proc.returncode == 3
    assert run.proc.stdout.strip() == "leaving 3"
    assert decode(t.returns()[-1]) == 3
    assert t.metadata["process_exit_status"]["code"] == 3
    (leave,) = t.returns_of("leave")
    assert leave["kind"] == "Raw" and leave["r"].startswith("SystemExit"), leave
    assert len(t.returns_of("run")) == 1


def test_sys_exit_is_not_an_error(fmt: str, tmp_path: Path) -> None:
    t = record("sysexit.py", fmt, tmp_path).trace
    assert t.errors() == []


def test_two_modules_with_same_function_name(fmt: str, tmp_path: Path) -> None:
    run = record("twomods/main.py", fmt, tmp_path)
    t = run.trace
    assert run.proc.stdout.strip() == "2 4"
    helpers = [t.functions[i] for i in t.functions_named("helper")]
    assert len(helpers) == 2
    by_file = {Path(t.paths[f["path_id"]]).name: f["line"] for f in helpers}
    assert by_file == {
        "mod_a.py": line_of("twomods/mod_a.py", "helper_a"),
        "mod_b.py": line_of("twomods/mod_b.py", "helper_b"),
    }
    assert helpers[0]["path_id"] != helpers[1]["path_id"]
    # each helper's calls step into its own file
    assert line_of("twomods/mod_b.py", "helper_b") + 1 in t.lines_in("mod_b.py")
    assert line_of("twomods/mod_a.py", "helper_a") + 1 in t.lines_in("mod_a.py")
    assert {"<__main__>", "<mod_a>", "<mod_b>"} <= set(t.function_names)


def test_stdlib_is_not_recorded(fmt: str, tmp_path: Path) -> None:
    run = record("uses_stdlib.py", fmt, tmp_path)
    t = run.trace
    assert run.proc.stdout.strip() == '{"a": null, "b": [1, 2]}'
    for f in t.functions:
        assert Path(t.paths[f["path_id"]]).name == "uses_stdlib.py", f
    assert not any("json" in p for p in t.paths)
    assert [decode(r) for r in t.returns_of("encode")] == ['{"a": null, "b": [1, 2]}']
    assert t.function_names == ["<toplevel>", "<__main__>", "encode"]


@pytest.mark.parametrize(
    "program",
    [
        "recursion.py",
        "generators.py",
        "coroutines.py",
        "exceptions_caught.py",
        "exceptions_uncaught.py",
        "classes.py",
        "closures.py",
        "sysexit.py",
        "twomods/main.py",
        "uses_stdlib.py",
        "values.py",
        "selfref.py",
        "deepnest.py",
        "threads4.py",
    ],
)
def test_program_output_identical_to_untraced(fmt: str, program: str, tmp_path: Path) -> None:
    plain_dir = tmp_path / "plain"
    traced_dir = tmp_path / "traced"
    plain_dir.mkdir()
    traced_dir.mkdir()
    plain = run_untraced(program, plain_dir)
    run = record(program, fmt, traced_dir)
    assert run.proc.stdout == plain.stdout
    assert run.proc.returncode == plain.returncode


def test_exotic_control_flow(fmt: str, tmp_path: Path) -> None:
    """RecursionError unwinding ~1000 frames, throw() through ``yield from``, a suspended
    generator finalised by ``del``, an uncaught exception in a thread."""
    run = record("edge_flow.py", fmt, tmp_path)
    t = run.trace
    assert run.proc.stdout.splitlines() == [
        "recursion RecursionError",
        "1",
        "sub-caught",
        "cleanup",
        "done",
    ]
    downs = t.returns_of("down")
    assert len(downs) == len(t.calls_of("down")) > 900
    assert all(r["kind"] == "Raw" and r["r"].startswith("RecursionError") for r in downs)
    # throw() is delivered straight to the innermost generator (CPython semantics)
    sub = [(c, r) for n, c, r in t.frames() if n == "sub"]
    assert [decode(r) for _, r in sub][:2] == [1, "sub-caught"]
    assert t.arg_names(sub[1][0]) == ["exception"]
    # the thread's ValueError unwinds its frame; it is not the program's error
    (boom,) = t.returns_of("boom")
    assert boom["r"] == "ValueError: thread boom"
    assert t.errors() == []
    # the abandoned generator is closed on `ga = None`: GeneratorExit thrown in, finally runs
    abandon = [(c, r) for n, c, r in t.frames() if n == "gen_abandon"]
    assert decode(abandon[0][1]) == 1
    assert t.arg_names(abandon[-1][0]) == ["exception"]
    assert decode(abandon[-1][1]) == ("raw", "GeneratorExit")
