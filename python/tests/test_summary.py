"""summary.py and ``codetracer-python-recorder summary``: a streaming summary of a trace."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import codetracer_python_recorder as ctr
import pytest
from codetracer_python_recorder import summary
from support import FORMATS, record, run_cli, run_console_script, write

# square: 5 calls x (definition step + 1 line) = 10 steps; total: 1 call, the definition
# step, `s = 0`, the `for` line 6 times, the loop body 5 times and the return = 14 steps;
# the module: 5 steps (its first line, the two defs, the print, and the print line stated
# again after total's Return for the Write event of its output: IO capture is on by default).
PROGRAM = """
def square(x):
    return x * x


def total(n):
    s = 0
    for i in range(n):
        s += square(i)
    return s


print(total(5))
"""

FAILING = """
def explode(n):
    raise ValueError(f"boom {n}")


explode(7)
"""


def by_name(functions: list[summary.FunctionStats]) -> dict[str, tuple[int, int]]:
    return {f["name"]: (f["calls"], f["steps"]) for f in functions}


def record_program(tmp_path: Path, text: str, fmt: str) -> Path:
    script = write(tmp_path / "prog.py", text)
    proc = run_cli("--trace-dir", tmp_path / "t", "--format", fmt, script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "t"


@pytest.mark.parametrize("fmt", FORMATS)
def test_counts_of_a_known_program(tmp_path: Path, fmt: str) -> None:
    out = record_program(tmp_path, PROGRAM, fmt)
    stats = ctr.summarize_trace(out)
    assert by_name(stats["top_by_calls"]) == {
        "square": (5, 10),
        "total": (1, 14),
        "<__main__>": (1, 5),
        "<toplevel>": (1, 0),
    }
    assert stats["top_by_calls"][0]["name"] == "square"
    assert [f["name"] for f in stats["top_by_steps"]] == ["total", "square", "<__main__>"]
    square = stats["top_by_calls"][0]
    assert Path(square["path"]).name == "prog.py"
    assert square["line"] == 1
    assert stats["functions"] == 4
    kinds = stats["records_by_kind"]
    assert kinds["Call"] == kinds["Return"] == 8
    assert kinds["Step"] == 29  # 10 + 14 + 5, every step belongs to one function
    assert kinds["Event"] == 1  # the Write of "30\n"
    assert stats["records"] == sum(kinds.values()) == len(ctr.read_trace(out))
    assert list(kinds.values()) == sorted(kinds.values(), reverse=True)
    assert stats["threads"] == 1
    assert stats["errors"] == {"count": 0, "first": []}
    assert stats["exit_status"] == {"code": 0, "label": None}
    assert stats["format"] == fmt
    events_file = "trace.bin" if fmt == "binary" else "trace.json"
    assert set(stats["files"]) == {events_file, "trace_metadata.json", "trace_paths.json"}
    assert stats["files"][events_file] == (out / events_file).stat().st_size
    assert stats["total_bytes"] == sum(stats["files"].values())
    assert Path(str(stats["program"])).name == "prog.py"
    assert stats["args"] == []


def test_top_limits_the_function_lists(tmp_path: Path) -> None:
    out = record_program(tmp_path, PROGRAM, "json")
    stats = ctr.summarize_trace(out, top=1)
    assert by_name(stats["top_by_calls"]) == {"square": (5, 10)}
    assert by_name(stats["top_by_steps"]) == {"total": (1, 14)}
    assert stats["functions"] == 4


def test_an_uncaught_exception_and_its_exit_status(tmp_path: Path) -> None:
    out = record_program(tmp_path, FAILING, "binary")
    stats = ctr.summarize_trace(out)
    assert stats["errors"]["count"] == 1
    assert "ValueError: boom 7" in stats["errors"]["first"][0]
    assert stats["exit_status"] == {"code": 1, "label": "uncaught exception"}
    assert by_name(stats["top_by_calls"])["explode"] == (1, 2)
    text = summary.format_summary(stats)
    assert "errors: 1\n  ValueError: boom 7" in text
    assert "exit status: 1" in text


def test_threads(tmp_path: Path) -> None:
    run = record("threads4.py", "binary", tmp_path)  # main + 4 worker threads
    stats = ctr.summarize_trace(run.trace_dir)
    assert stats["threads"] == 5
    calls = by_name(stats["top_by_calls"])
    # each on its own thread's stack: step = its definition step + 1 line; work = the
    # definition step, `ready.wait()`, `acc = 0`, the `for` line 3001 times, its body 3000
    # times, 2 lines
    assert calls["step"] == (4 * 3000, 4 * 3000 * 2)
    assert calls["work"] == (4, 4 * (1 + 1 + 1 + 3001 + 3000 + 2))


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (0, {"code": 0, "label": None}),
        (3, {"code": 3, "label": None}),
        ({"code": 1, "label": "ValueError"}, {"code": 1, "label": "ValueError"}),
        ({"code": None, "label": "SIGKILL"}, {"code": None, "label": "SIGKILL"}),
        (None, None),
        ("nonsense", None),
    ],
)
def test_exit_status_old_int_and_new_dict(tmp_path: Path, stored: Any, expected: Any) -> None:
    out = record_program(tmp_path, PROGRAM, "json")
    meta_file = out / "trace_metadata.json"
    meta = json.loads(meta_file.read_text())
    meta["process_exit_status"] = stored
    meta_file.write_text(json.dumps(meta))
    assert ctr.summarize_trace(out)["exit_status"] == expected


def test_missing_metadata_is_tolerated(tmp_path: Path) -> None:
    out = record_program(tmp_path, PROGRAM, "json")
    (out / "trace_metadata.json").unlink()
    stats = ctr.summarize_trace(out)
    assert stats["exit_status"] is None
    assert stats["program"] is None
    assert stats["format"] == "json"  # from the events file
    assert "exit status: unknown" in summary.format_summary(stats)


def test_streams_through_iter_trace(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Synthetic records: the summary only ever sees an iterator (never a list), and a step of
    # one thread is counted for the innermost frame of that thread.
    records: list[dict[str, object]] = [
        {"Path": "/p/m.py"},
        {"Function": {"path_id": 0, "line": 1, "name": "<toplevel>"}},
        {"Call": {"function_id": 0, "args": []}},
        {"Function": {"path_id": 0, "line": 3, "name": "f"}},
        {"Step": {"path_id": 0, "line": 3}},
        {"Call": {"function_id": 1, "args": []}},
        {"ThreadStart": 9},
        {"ThreadSwitch": 9},
        {"Function": {"path_id": 0, "line": 7, "name": "g"}},
        {"Step": {"path_id": 0, "line": 7}},
        {"Call": {"function_id": 2, "args": []}},
        {"Step": {"path_id": 0, "line": 8}},
        {"ThreadSwitch": 1},  # back to the first thread (it never had a ThreadStart)
        {"Step": {"path_id": 0, "line": 4}},
        {"Return": {"return_value": {"kind": "None", "type_id": 0}}},
        {"ThreadSwitch": 9},
        {"Return": {"return_value": {"kind": "None", "type_id": 0}}},
        {"ThreadExit": 9},
        {"ThreadSwitch": 1},
        {"Event": {"kind": 11, "metadata": "", "content": "Traceback ...\nKeyError: 'k'"}},
        {"Return": {"return_value": {"kind": "None", "type_id": 0}}},
    ]
    seen: list[object] = []

    def fake_iter_trace(path: object, *, strict: bool = False) -> Iterator[dict[str, object]]:
        seen.append((path, strict))
        yield from records

    monkeypatch.setattr(summary, "iter_trace", fake_iter_trace)
    stats = summary.summarize_trace(tmp_path, strict=True)
    assert seen == [(tmp_path, True)]
    assert by_name(stats["top_by_calls"]) == {"<toplevel>": (1, 0), "f": (1, 2), "g": (1, 2)}
    assert stats["threads"] == 2
    assert stats["errors"] == {"count": 1, "first": ["Traceback ...\nKeyError: 'k'"]}
    assert stats["records"] == len(records)
    assert stats["format"] == "unknown"


# --------------------------------------------------------------------------- the command


def test_summary_command(tmp_path: Path) -> None:
    out = record_program(tmp_path, PROGRAM, "binary")
    proc = run_console_script("summary", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert f"trace: {out} (binary, " in text
    assert "exit status: 0" in text
    assert "threads: 1" in text
    assert "records: " in text and "Step 29" in text
    assert "square (prog.py:1)" in text
    lines = text.splitlines()
    at = lines.index("top by steps:")
    assert lines[at + 2].split()[:3] == ["1", "14", "total"]


def test_summary_command_json(tmp_path: Path) -> None:
    script = write(tmp_path / "prog.py", PROGRAM)
    assert run_cli("--format", "json", script, cwd=tmp_path).returncode == 0  # ./trace-out
    proc = run_cli("summary", "--json", "--top", "2", cwd=tmp_path)  # DIR defaults to it
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    assert set(stats) == set(summary.TraceStats.__annotations__)
    assert stats["trace_dir"] == "trace-out"
    assert by_name(stats["top_by_calls"]) == {"square": (5, 10), "<toplevel>": (1, 0)}
    assert stats["exit_status"] == {"code": 0, "label": None}


def test_summary_of_no_trace_is_an_error(tmp_path: Path) -> None:
    proc = run_cli("summary", tmp_path, cwd=tmp_path)
    assert proc.returncode == 1
    assert "error[ERR_INVALID_TRACE]" in proc.stderr


def test_summary_usage_errors(tmp_path: Path) -> None:
    for argv in (["summary", "--top", "x"], ["summary", "--top", "-1"], ["summary", "a", "b"]):
        proc = run_cli(*argv, cwd=tmp_path)
        assert proc.returncode == 2, (argv, proc.stderr)
        assert "summary" in proc.stderr


def test_a_script_named_summary_still_records(tmp_path: Path) -> None:
    # `summary` is the subcommand only as the very first argument.
    write(tmp_path / "summary", PROGRAM)
    for i, argv in enumerate((["./summary"], ["--", "summary"], ["--format", "json", "summary"])):
        out = tmp_path / f"t{i}"
        proc = run_cli("--trace-dir", out, *argv, cwd=tmp_path)
        assert proc.returncode == 0, (argv, proc.stderr)
        assert proc.stdout.strip() == "30"
        assert by_name(ctr.summarize_trace(out)["top_by_calls"])["square"] == (5, 10)
