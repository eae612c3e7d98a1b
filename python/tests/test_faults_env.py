"""Bad input and a hostile environment: every error code of SPEC §7 that needs no injection.

Each test reads back what it claims: the exception's ``code``/``kind``/``context``, the CLI's
exit status and stderr, and what is (not) left on disk.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import codetracer_python_recorder as ctr
import codetracer_python_recorder_core as core
import pytest
from support import Trace, assert_balanced, run, run_cli, run_python, write

HELLO = """
import sys
print("hello from the program")
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
"""

TRACE_FILES = ("trace.bin", "trace.json", "trace_metadata.json", "trace_paths.json")


def leftover(trace_dir: Path) -> list[str]:
    """The trace files (and temporaries) present in ``trace_dir``."""
    if not trace_dir.is_dir():
        return []
    return sorted(p.name for p in trace_dir.iterdir() if p.name.startswith("trace"))


# --- ERR_TRACE_DIR_CONFLICT / ERR_TRACE_DIR_CREATE_FAILED / ERR_IO at start ----------------


def test_a_file_where_the_trace_dir_should_be(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("not a directory")
    with pytest.raises(ctr.EnvironmentError) as info:
        ctr.start(tmp_path / "taken")
    assert info.value.code == "ERR_TRACE_DIR_CONFLICT"
    assert info.value.kind == "environment"
    assert info.value.context["path"] == str(tmp_path / "taken")
    assert (tmp_path / "taken").read_text() == "not a directory"  # untouched
    assert not ctr.is_tracing()


def test_trace_dir_below_a_file_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ctr.EnvironmentError) as info:
        ctr.start(tmp_path / "file" / "sub" / "trace")
    assert info.value.code == "ERR_TRACE_DIR_CREATE_FAILED"
    assert "cannot create the trace directory" in str(info.value)
    assert not ctr.is_tracing()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_unwritable_parent_directory(tmp_path: Path) -> None:
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        with pytest.raises(ctr.EnvironmentError) as info:
            ctr.start(parent / "trace")
        assert info.value.code == "ERR_TRACE_DIR_CREATE_FAILED"
    finally:
        parent.chmod(0o700)


def test_unwritable_location_even_for_root(tmp_path: Path) -> None:
    """/proc refuses new directories whoever asks."""
    with pytest.raises(ctr.EnvironmentError) as info:
        ctr.start("/proc/codetracer-cannot-be-here/trace")
    assert info.value.code == "ERR_TRACE_DIR_CREATE_FAILED"
    assert not ctr.is_tracing()


def test_a_directory_in_the_way_of_the_events_file(tmp_path: Path) -> None:
    trace = tmp_path / "t"
    (trace / "trace.bin").mkdir(parents=True)
    with pytest.raises(ctr.EnvironmentError) as info:
        ctr.start(trace)
    assert info.value.code == "ERR_IO"
    assert "trace.bin" in info.value.context["path"]
    assert not ctr.is_tracing()
    assert not (trace / "trace_metadata.json").exists()  # no half-made trace left
    # the recorder released everything: a fresh start elsewhere works
    session = ctr.start(tmp_path / "ok")
    session.stop()
    assert (tmp_path / "ok" / "trace_metadata.json").exists()


def test_cli_reports_directory_problems_with_exit_1(tmp_path: Path) -> None:
    script = write(tmp_path / "hello.py", HELLO)
    (tmp_path / "taken").write_text("x")
    proc = run_cli("--trace-dir", "taken", "--json-errors", script, cwd=tmp_path)
    assert proc.returncode == 1
    assert "error[ERR_TRACE_DIR_CONFLICT]" in proc.stderr
    trailer = json.loads(proc.stderr.strip().splitlines()[-1])
    assert trailer["error_code"] == "ERR_TRACE_DIR_CONFLICT"
    assert trailer["error_kind"] == "environment"
    assert "not a directory" in trailer["message"]
    assert trailer["context"]["path"].endswith("taken")
    assert "hello from the program" not in proc.stdout  # abort: the program did not run


# --- ERR_UNSUPPORTED_FORMAT / ERR_INVALID_FILTER / ERR_ALREADY_TRACING ------------------------


def test_unsupported_format(tmp_path: Path) -> None:
    with pytest.raises(ctr.UsageError) as info:
        ctr.start(tmp_path / "t", format="yaml")
    assert info.value.code == "ERR_UNSUPPORTED_FORMAT"
    # the native core checks too (it is the layer that converts errors)
    with pytest.raises(ctr.UsageError) as info:
        core.start_tracing(str(tmp_path / "t"), "yaml")
    assert info.value.code == "ERR_UNSUPPORTED_FORMAT"
    assert not ctr.is_tracing()
    assert not (tmp_path / "t").exists()


def test_cli_unsupported_format_is_a_usage_error(tmp_path: Path) -> None:
    script = write(tmp_path / "hello.py", HELLO)
    proc = run_cli("--format", "yaml", "--json-errors", script, cwd=tmp_path)
    assert proc.returncode == 2
    assert "ERR_UNSUPPORTED_FORMAT" in proc.stderr
    assert (
        json.loads(proc.stderr.strip().splitlines()[-1])["error_code"] == "ERR_UNSUPPORTED_FORMAT"
    )


@pytest.mark.parametrize("content", ["this is = = not toml [", "[scope]\nnonsense = 1\n"])
def test_invalid_filter(tmp_path: Path, content: str) -> None:
    filt = write(tmp_path / "f.toml", content)
    with pytest.raises(ctr.UsageError) as info:
        ctr.start(tmp_path / "t", trace_filter=filt)
    assert info.value.code == "ERR_INVALID_FILTER"
    assert not ctr.is_tracing()
    assert leftover(tmp_path / "t") == []


def test_missing_filter_file_is_an_invalid_filter(tmp_path: Path) -> None:
    """The user's input, like a malformed filter (issue #17): the same code and class."""
    with pytest.raises(ctr.UsageError) as info:
        ctr.start(tmp_path / "t", trace_filter=tmp_path / "missing.toml")
    assert info.value.code == "ERR_INVALID_FILTER"
    assert "missing.toml" in str(info.value)
    assert not ctr.is_tracing()


def test_starting_twice(tmp_path: Path) -> None:
    session = ctr.start(tmp_path / "a")
    try:
        with pytest.raises(ctr.UsageError) as info:
            ctr.start(tmp_path / "b")
        assert info.value.code == "ERR_ALREADY_TRACING"
        assert ctr.is_tracing()  # the first recording is unharmed
    finally:
        session.stop()
    assert not (tmp_path / "b").exists()
    assert (tmp_path / "a" / "trace_metadata.json").exists()


# --- ERR_TOOL_ID_IN_USE ------------------------------------------------------------------


def test_every_tool_id_taken(tmp_path: Path) -> None:
    child = write(
        tmp_path / "child.py",
        """
        import json, sys
        import codetracer_python_recorder as ctr
        mon = sys.monitoring
        taken = []
        for tool in range(6):
            try:
                mon.use_tool_id(tool, f"squatter{tool}")
                taken.append(tool)
            except ValueError:
                pass
        try:
            ctr.start(sys.argv[1])
        except ctr.RecorderError as exc:
            print(json.dumps({"code": exc.code, "kind": exc.kind, "message": str(exc)}))
        else:
            print(json.dumps({"code": None}))
        # every squatter still owns its id: the recorder took nothing
        print(json.dumps([mon.get_tool(t) for t in range(6)]))
        print("still running")
        """,
    )
    proc = run_python(child, tmp_path / "t", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    error = json.loads(lines[0])
    assert error["code"] == "ERR_TOOL_ID_IN_USE", error
    assert error["kind"] == "environment"
    assert json.loads(lines[1]) == [f"squatter{t}" for t in range(6)]
    assert lines[2] == "still running"
    assert leftover(tmp_path / "t") == []


# --- ERR_TRACE_MISSING ---------------------------------------------------------------------


def test_require_trace_with_an_activation_path_that_never_runs(tmp_path: Path) -> None:
    session = ctr.start(
        tmp_path / "t",
        start_on_enter=tmp_path / "never_imported.py",
        policy={"require_trace": True},
    )
    sum(range(10))
    with pytest.raises(ctr.EnvironmentError) as info:
        session.stop()
    assert info.value.code == "ERR_TRACE_MISSING"
    assert "require_trace" in str(info.value)
    assert not ctr.is_tracing()
    assert leftover(tmp_path / "t") == []


def test_without_require_trace_an_empty_recording_is_fine(tmp_path: Path) -> None:
    session = ctr.start(tmp_path / "t", start_on_enter=tmp_path / "never_imported.py")
    summary = session.stop()
    assert summary is not None
    assert summary["steps"] == 0
    assert (tmp_path / "t" / "trace_metadata.json").exists()


def test_cli_require_trace(tmp_path: Path) -> None:
    script = write(tmp_path / "hello.py", HELLO)
    other = write(tmp_path / "other.py", "x = 1\n")
    proc = run_cli(
        "--require-trace", "--activation-path", other, "--json-errors", script, "0", cwd=tmp_path
    )
    assert proc.returncode == 1, proc.stderr
    assert "hello from the program" in proc.stdout  # the program ran in full
    assert "error[ERR_TRACE_MISSING]" in proc.stderr
    assert json.loads(proc.stderr.strip().splitlines()[-1])["error_code"] == "ERR_TRACE_MISSING"
    assert leftover(tmp_path / "trace-out") == []

    # the env var does the same, and `disable` does not excuse a missing trace
    proc = run_cli(
        "--activation-path", other, "--on-recorder-error", "disable", script,
        cwd=tmp_path, env={"CODETRACER_REQUIRE_TRACE": "1"},
    )  # fmt: skip
    assert proc.returncode == 1
    assert "ERR_TRACE_MISSING" in proc.stderr


# --- ERR_IO: the disk fills up while writing --------------------------------------------------

BIG = """
import sys
total = 0
for i in range(200_000):
    text = "value %d" % i
    total += i
print("program finished", total)
sys.exit(3)
"""

LIMIT = 256 * 1024  # bytes a file of the child may grow to (RLIMIT_FSIZE)


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def run_cli_disk_full(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The CLI in a child whose files cannot grow past LIMIT (CPython ignores SIGXFSZ, so a
    write past the limit fails with EFBIG, as on a full disk)."""
    return run(
        [sys.executable, "-m", "codetracer_python_recorder", *args], cwd=cwd, preexec_fn=_limited
    )


@pytest.mark.parametrize("fmt", ["json", "binary"])
def test_disk_full_under_abort(tmp_path: Path, fmt: str) -> None:
    script = write(tmp_path / "big.py", BIG)
    proc = run_cli_disk_full(
        "--format", fmt, "--json-errors", "--propagate-script-exit", script, cwd=tmp_path
    )
    # the program ran to the end, untouched
    assert f"program finished {sum(range(200_000))}" in proc.stdout, proc.stderr
    # the recorder failed with ERR_IO and said so
    assert proc.returncode == 1, proc.stderr
    assert "error[ERR_IO]" in proc.stderr
    trailer = json.loads(proc.stderr.strip().splitlines()[-1])
    assert trailer["error_code"] == "ERR_IO"
    assert trailer["error_kind"] == "environment"
    # no partial or corrupt files left behind (no temporaries either)
    assert leftover(tmp_path / "trace-out") == []


def test_disk_full_under_disable(tmp_path: Path) -> None:
    script = write(tmp_path / "big.py", BIG)
    untraced = run_python(script, cwd=tmp_path)
    proc = run_cli_disk_full(
        "--format", "json", "--on-recorder-error", "disable", "--propagate-script-exit",
        script, cwd=tmp_path,
    )  # fmt: skip
    assert proc.stdout == untraced.stdout
    assert proc.returncode == untraced.returncode == 3
    assert "recording disabled" in proc.stderr
    assert "ERR_IO" in proc.stderr
    assert leftover(tmp_path / "trace-out") == []


def test_disk_full_keep_partial_trace_leaves_valid_metadata(tmp_path: Path) -> None:
    script = write(tmp_path / "big.py", BIG)
    proc = run_cli_disk_full(
        "--format", "json", "--on-recorder-error", "disable", "--keep-partial-trace",
        script, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    trace = tmp_path / "trace-out"
    assert "ERR_IO" in proc.stderr
    assert not any(name.endswith(".tmp") for name in leftover(trace))
    meta = trace / "trace_metadata.json"
    if meta.exists():  # metadata is small enough to fit; when written it is whole
        assert json.loads(meta.read_text())["program"].endswith("big.py")


def test_the_trace_of_a_small_program_fits_under_the_limit(tmp_path: Path) -> None:
    """Control: the limit itself does not break recording, only running out of room does."""
    script = write(tmp_path / "hello.py", HELLO)
    proc = run_cli_disk_full("--format", "json", script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert_balanced(Trace(tmp_path / "trace-out"))
