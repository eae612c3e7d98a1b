"""IO capture (SPEC §8): stdout/stderr/stdin as Write/WriteOther/Read events on the line
that did them, in every mode, with the program's observable behaviour unchanged."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import codetracer_python_recorder as ctr
import pytest
from support.checks import check_trace
from support.run import run, write
from support.trace import Trace

WRITE, WRITE_OTHER, READ = 0, 2, 3
MODES = ("off", "proxies", "proxies+fd")
SUMMARY_PREFIX = "codetracer: trace written to "


def cli(*args: str | Path, cwd: Path, stdin: str | None = None) -> Any:
    """``python -m codetracer_python_recorder ARGS`` with ``stdin``; output kept byte for byte."""
    argv = [sys.executable, "-m", "codetracer_python_recorder", *args]
    return run(argv, cwd=cwd, input=stdin, errors="surrogateescape")


def record(
    tmp_path: Path,
    code: str,
    mode: str = "proxies",
    *,
    stdin: str | None = None,
    fmt: str = "json",
    name: str = "prog.py",
    files: dict[str, str] | None = None,
    flags: tuple[str, ...] = (),
) -> tuple[Any, Trace, Path]:
    """Record ``code`` with ``--io-capture MODE``; returns (process, trace, script)."""
    for rel, text in (files or {}).items():
        write(tmp_path / rel, text)
    script = write(tmp_path / name, code)
    trace_dir = tmp_path / f"trace-{mode}"
    proc = cli(
        "--trace-dir", trace_dir, "--format", fmt, "--io-capture", mode, *flags, script,
        cwd=tmp_path, stdin=stdin,
    )  # fmt: skip
    assert SUMMARY_PREFIX in proc.stderr, proc.stderr[-3000:]
    trace = Trace(trace_dir)
    check_trace(trace)
    return proc, trace, script


def io_events(trace: Trace) -> list[tuple[int, str, int | None]]:
    """(kind, content, line of the step it follows) of every IO event, in order."""
    out: list[tuple[int, str, int | None]] = []
    line: int | None = None
    for kind, value in trace.records:
        if kind == "Step":
            line = value["line"]
        elif kind == "Event" and value["kind"] in (WRITE, WRITE_OTHER, READ):
            out.append((value["kind"], value["content"], line))
    return out


def without_summary(stderr: str) -> str:
    """The recorder's own summary line is the last line of stderr; the rest is the program's."""
    lines = stderr.splitlines(keepends=True)
    assert lines and lines[-1].startswith(SUMMARY_PREFIX), stderr[-2000:]
    return "".join(lines[:-1])


def line_of(script: Path, marker: str) -> int:
    for n, text in enumerate(script.read_text().splitlines(), start=1):
        if marker in text:
            return n
    raise AssertionError(f"{marker!r} not in {script}")


def test_print_in_a_loop_is_one_write_per_call_on_the_print_line(tmp_path: Path) -> None:
    _, trace, script = record(
        tmp_path,
        """
        for i in range(3):
            print("value", i)  # PRINT
        """,
    )
    at = line_of(script, "# PRINT")
    writes = [(c, ln) for k, c, ln in io_events(trace) if k == WRITE]
    # print's four writes ("value", " ", "0", "\n") are one event.
    assert writes == [("value 0\n", at), ("value 1\n", at), ("value 2\n", at)]
    # No extra step: each event follows its line's own step.
    assert trace.lines_in(script.name).count(at) == 3


def test_print_of_a_call_belongs_to_the_print_line_not_the_callee(tmp_path: Path) -> None:
    _, trace, script = record(
        tmp_path,
        """
        def f(x):
            y = x * 2
            return y  # RETURN

        print(f(21))  # PRINT
        print("after")
        """,
    )
    events = io_events(trace)
    assert events == [(WRITE, "42\n", line_of(script, "# PRINT")),
                      (WRITE, "after\n", line_of(script, "# PRINT") + 1)]  # fmt: skip
    # The step before the "42" event is the print line re-stated after f's Return.
    kinds = [k for k, _ in trace.records]
    first_event = next(i for i, (k, v) in enumerate(trace.records)
                       if k == "Event" and v["content"] == "42\n")  # fmt: skip
    assert kinds[first_event - 1] == "Step"
    assert "Return" in kinds[first_event - 4 : first_event]


def test_output_of_skipped_library_code_belongs_to_the_recorded_caller(tmp_path: Path) -> None:
    filt = write(
        tmp_path / "skip.toml",
        """
        [meta]
        name = "skip-lib"
        version = 1

        [scope]
        default_exec = "trace"

        [[scope.rules]]
        selector = "pkg:noisy"
        exec = "skip"
        """,
    )
    _, trace, script = record(
        tmp_path,
        """
        import noisy

        def main():
            noisy.shout("hi")  # CALL
            return 0

        main()
        """,
        files={"noisy.py": "def shout(s):\n    helper = s.upper()\n    print(helper)\n"},
        flags=("--trace-filter", str(filt)),
    )
    assert "shout" not in trace.function_names
    events = io_events(trace)
    assert events == [(WRITE, "HI\n", line_of(script, "# CALL"))]


def test_stderr_is_write_other_and_partial_lines_are_kept(tmp_path: Path) -> None:
    _, trace, script = record(
        tmp_path,
        """
        import sys
        sys.stderr.write("warn: ")  # ERR1
        sys.stderr.write("half")  # ERR2
        sys.stdout.write("no newline")  # OUT
        """,
    )
    assert io_events(trace) == [
        (WRITE_OTHER, "warn: ", line_of(script, "# ERR1")),
        (WRITE_OTHER, "half", line_of(script, "# ERR2")),
        (WRITE, "no newline", line_of(script, "# OUT")),
    ]


def test_input_readlines_and_iteration_over_piped_stdin(tmp_path: Path) -> None:
    proc, trace, script = record(
        tmp_path,
        """
        import sys
        name = input("name? ")  # INPUT
        first = sys.stdin.readline()  # READLINE
        rest = []
        for line in sys.stdin:  # ITER
            rest.append(line)
            if len(rest) == 2:
                break
        tail = sys.stdin.readlines()  # READLINES
        print(name, first.strip(), rest, tail)
        """,
        stdin="ada\nb\nc\nd\ne\nf\n",
    )
    assert proc.stdout == "name? ada b ['c\\n', 'd\\n'] ['e\\n', 'f\\n']\n"
    events = io_events(trace)
    assert events[0] == (WRITE, "name? ", line_of(script, "# INPUT"))
    reads = [(c, ln) for k, c, ln in events if k == READ]
    assert reads == [
        ("ada\n", line_of(script, "# INPUT")),
        ("b\n", line_of(script, "# READLINE")),
        ("c\n", line_of(script, "# ITER")),
        ("d\n", line_of(script, "# ITER")),
        ("e\nf\n", line_of(script, "# READLINES")),
    ]


def test_binary_writes_and_reads_through_buffer(tmp_path: Path) -> None:
    proc, trace, script = record(
        tmp_path,
        """
        import sys
        data = sys.stdin.buffer.read(3)  # BREAD
        sys.stdout.flush()
        sys.stdout.buffer.write(b"bytes \\xff ok\\n")  # BWRITE
        sys.stdout.buffer.write(data)
        """,
        stdin="xyz",
    )
    events = io_events(trace)
    assert (READ, "xyz", line_of(script, "# BREAD")) in events
    assert (WRITE, "bytes \\xff ok\n", line_of(script, "# BWRITE")) in events
    assert proc.stdout == b"bytes \xff ok\nxyz".decode("utf-8", "surrogateescape")


def test_interleaved_threads_attribute_to_their_own_lines(tmp_path: Path) -> None:
    _, trace, script = record(
        tmp_path,
        """
        import threading
        barrier = threading.Barrier(2)

        def worker(tag):
            barrier.wait()
            for i in range(3):
                print(tag, i)  # WORKER

        t = threading.Thread(target=worker, args=("t",))
        t.start()
        barrier.wait()
        for i in range(3):
            print("main", i)  # MAIN
        t.join()
        """,
    )
    at = {"t": line_of(script, "# WORKER"), "main": line_of(script, "# MAIN")}
    by_line: dict[int | None, str] = {}
    for kind, content, line in io_events(trace):
        assert kind == WRITE
        by_line[line] = by_line.get(line, "") + content
    # Each thread's output, in its order, on its own line (threads may interleave pieces).
    assert by_line == {ln: "".join(f"{tag} {i}\n" for i in range(3)) for tag, ln in at.items()}
    metas = [json.loads(e["metadata"]) for e in trace.of_kind("Event")]
    assert len({m["thread"] for m in metas}) == 2


def test_a_program_that_swaps_sys_stdout_keeps_its_own_stream(tmp_path: Path) -> None:
    proc, trace, _ = record(
        tmp_path,
        """
        import contextlib, io, sys
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            print("captured by the program")
        saved = sys.stdout
        sys.stdout = io.StringIO()
        print("into the program's own StringIO")
        own = sys.stdout.getvalue()
        sys.stdout = saved
        print("back", len(buf.getvalue()), len(own))  # BACK
        """,
    )
    assert proc.stdout == "back 24 32\n"
    writes = [c for k, c, _ in io_events(trace) if k == WRITE]
    assert writes == ["back 24 32\n"]


def test_fd_mode_captures_os_write_and_child_processes_once(tmp_path: Path) -> None:
    if sys.platform == "win32":
        pytest.skip("fd capture is Unix only")
    proc, trace, script = record(
        tmp_path,
        """
        import os, subprocess, sys
        print("from print", flush=True)  # PRINT
        os.write(1, b"raw fd one\\n")
        os.write(2, b"raw fd two\\n")
        subprocess.run([sys.executable, "-c", "print('from child')"], check=True, timeout=600)
        import ctypes
        libc = ctypes.CDLL(None)
        libc.printf(b"from printf\\n")
        libc.fflush(None)
        print("last")
        """,
        mode="proxies+fd",
    )
    events = io_events(trace)
    contents = "".join(c for k, c, _ in events if k == WRITE)
    for text in ("from print\n", "raw fd one\n", "from child\n", "from printf\n", "last\n"):
        assert contents.count(text) == 1, (text, events)
    assert "raw fd two\n" in "".join(c for k, c, _ in events if k == WRITE_OTHER)
    assert (WRITE, "from print\n", line_of(script, "# PRINT")) in events
    assert proc.stdout == "from print\nraw fd one\nfrom child\nfrom printf\nlast\n"


def test_off_records_no_io_events(tmp_path: Path) -> None:
    _, trace, _ = record(tmp_path, "print('x')\nimport sys\nsys.stderr.write('y')\n", "off")
    assert io_events(trace) == []


PROGRAM = """
import io, os, sys
print("out 1")
sys.stderr.write("err 1\\n")
line = sys.stdin.readline()
wrapper = isinstance(sys.stdout, io.TextIOWrapper)
print("read", repr(line), sys.stdout.isatty(), sys.stdout.encoding, wrapper)
sys.stdout.buffer.write(b"raw\\xfe\\n")
sys.stdout.flush()
os.write(1, b"fd write\\n")
print("partial", end="")
sys.exit(3)
"""


@pytest.mark.parametrize("mode", MODES)
def test_observable_output_is_identical_to_the_untraced_run(tmp_path: Path, mode: str) -> None:
    script = write(tmp_path / "same.py", PROGRAM)
    untraced = run([sys.executable, script], cwd=tmp_path, input="hello\n",
                   errors="surrogateescape")  # fmt: skip
    traced = cli("--trace-dir", tmp_path / "t", "--io-capture", mode, "--propagate-script-exit",
                 script, cwd=tmp_path, stdin="hello\n")  # fmt: skip
    assert traced.returncode == untraced.returncode == 3
    assert traced.stdout == untraced.stdout
    assert without_summary(traced.stderr) == untraced.stderr
    trace = Trace(tmp_path / "t")
    events = io_events(trace)
    if mode == "off":
        assert events == []
    else:
        assert (WRITE, "out 1\n", line_of(script, 'print("out 1")')) in events
        assert (READ, "hello\n", line_of(script, "readline()")) in events
        assert (WRITE, "partial", line_of(script, "partial")) in events
    fd_events = [c for k, c, _ in events if c == "fd write\n"]
    assert len(fd_events) == (1 if mode == "proxies+fd" else 0)


def test_event_metadata_names_stream_thread_and_location(tmp_path: Path) -> None:
    _, trace, script = record(tmp_path, "import sys\nsys.stderr.write('e')\n", fmt="binary")
    (event,) = [e for e in trace.of_kind("Event") if e["kind"] == WRITE_OTHER]
    meta = json.loads(event["metadata"])
    assert meta["stream"] == "stderr"
    assert meta["path"] == str(script)
    assert meta["line"] == 2
    assert isinstance(meta["thread"], int)
    assert meta["source"] == "proxy"


def test_recording_under_pytest_capture_records_and_keeps_the_capture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sys.stdout
    session = ctr.start(tmp_path / "t", format="json")
    try:
        print("inside the recording")
        assert isinstance(sys.stdout, type(before)) and sys.stdout is not before
    finally:
        session.stop()
    assert sys.stdout is before
    assert capsys.readouterr().out == "inside the recording\n"
    trace = Trace(tmp_path / "t")
    assert [c for k, c, _ in io_events(trace)] == ["inside the recording\n"]


CLOSES = """
import sys
print("before close")
sys.stdout.close()
try:
    print("after close")
except ValueError as exc:
    sys.stderr.write(f"ValueError: {exc}\\n")
sys.stderr.write("done\\n")
"""


@pytest.mark.parametrize("mode", MODES)
def test_a_program_that_closes_stdout_behaves_as_untraced(tmp_path: Path, mode: str) -> None:
    script = write(tmp_path / "closes.py", CLOSES)
    untraced = run([sys.executable, script], cwd=tmp_path, errors="surrogateescape")
    traced = cli("--trace-dir", tmp_path / "t", "--io-capture", mode, script, cwd=tmp_path)
    assert traced.returncode == untraced.returncode
    assert traced.stdout == untraced.stdout == "before close\n"
    assert without_summary(traced.stderr) == untraced.stderr
    events = io_events(Trace(tmp_path / "t"))
    if mode != "off":
        assert [c for k, c, _ in events if k == WRITE] == ["before close\n"]
        assert [c for k, c, _ in events if k == WRITE_OTHER] == [
            "ValueError: I/O operation on closed file.\n",
            "done\n",
        ]


def test_the_native_write_path_records_what_the_stream_took(tmp_path: Path) -> None:
    """The proxy's ``write`` (the native tap): a short write records only the part taken, a
    failing write records nothing and raises as untraced, bytes-likes are decoded, lone
    surrogates (``surrogateescape``) are recorded with U+FFFD, an empty write is no event."""
    proc, trace, script = record(
        tmp_path,
        """
        import sys
        Tap = type(sys.stdout.write)
        class Short:
            def write(self, data):
                return 3
        assert Tap(Short(), 0, None, None)("abcdef") == 3  # SHORT
        try:
            sys.stdout.buffer.write("text")  # NOT_BYTES
        except TypeError as e:
            print("TypeError", type(e).__name__)  # CAUGHT
        sys.stdout.write("")
        sys.stdout.flush()
        sys.stdout.buffer.write(bytearray(b"ba "))  # BYTEARRAY
        sys.stdout.buffer.write(memoryview(b"\\xfe mv\\n"))  # MEMORYVIEW
        sys.stdout.reconfigure(errors="surrogateescape")
        print("s\\udcff")  # SURROGATE
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "TypeError TypeError\nba \udcfe mv\ns\udcff\n"
    assert io_events(trace) == [
        (WRITE, "abc", line_of(script, "# SHORT")),
        (WRITE, "TypeError TypeError\n", line_of(script, "# CAUGHT")),
        (WRITE, "ba ", line_of(script, "# BYTEARRAY")),
        (WRITE, "\\xfe mv\n", line_of(script, "# MEMORYVIEW")),
        (WRITE, "s\ufffd\n", line_of(script, "# SURROGATE")),
    ]
