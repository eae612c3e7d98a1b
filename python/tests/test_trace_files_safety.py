"""The trace files are created, never followed, and private (SPEC §9; issue #17 items 1, 2).

Anyone who can create files in a shared trace directory must not be able to make the recording
user write through a planted symlink (to any name the recorder writes, its temporary files
included), and a trace holds the program's memory, so its files are ``0600`` in a ``0700``
directory unless ``--trace-mode`` / ``trace_mode`` asks otherwise.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import codetracer_python_recorder as ctr
import pytest
from support import FORMATS, Trace, check_trace, run_cli, write

PRECIOUS = b"precious: must never be overwritten\n"
# Every name the recorder writes in a trace directory, and the temporary names it used to.
PLANTED = [
    "trace.bin",
    "trace.json",
    "trace_metadata.json",
    "trace_paths.json",
    "trace_metadata.json.tmp",
    "trace_paths.json.tmp",
]
PROGRAM = "def f(x):\n    return x + 1\n\nprint(f(41))\n"


def _umask_022() -> None:
    os.umask(0o022)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def script(tmp_path: Path) -> Path:
    return write(tmp_path / "app.py", PROGRAM)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", PLANTED)
def test_a_planted_symlink_is_never_written_through(
    name: str, fmt: str, script: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(PRECIOUS)
    dangling = tmp_path / "created-through-a-link"
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / name).symlink_to(victim)
    other = next(n for n in PLANTED if n != name)  # a dangling link must not create its target
    (shared / other).symlink_to(dangling)
    proc = run_cli("--trace-dir", shared, "--format", fmt, script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "42\n"
    assert victim.read_bytes() == PRECIOUS
    assert not dangling.exists()
    view = Trace(shared)
    check_trace(view)
    assert view.calls_of("f")
    assert view.metadata["format"] == fmt
    events = "trace.bin" if fmt == "binary" else "trace.json"
    for written in (events, "trace_metadata.json", "trace_paths.json"):
        path = shared / written
        assert path.is_file() and not path.is_symlink(), written


def test_a_planted_log_file_symlink_is_never_written_through(script: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(PRECIOUS)
    log = tmp_path / "recorder.log"
    log.symlink_to(victim)
    proc = run_cli(
        "--trace-dir", "t", "--log-level", "debug", "--log-file", log, script, cwd=tmp_path
    )
    assert victim.read_bytes() == PRECIOUS
    assert proc.returncode == 1, proc.stderr
    assert "codetracer: error[ERR_IO]:" in proc.stderr
    assert "symbolic link" in proc.stderr
    assert proc.stdout == ""  # the program did not run


def test_an_existing_log_file_is_appended_to(script: Path, tmp_path: Path) -> None:
    log = tmp_path / "recorder.log"
    log.write_text("earlier run\n")
    proc = run_cli(
        "--trace-dir", "t", "--log-level", "debug", "--log-file", log, script, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    text = log.read_text()
    assert text.startswith("earlier run\n")
    assert "codetracer: DEBUG:" in text


def test_a_program_that_changes_directory_still_gets_its_trace(tmp_path: Path) -> None:
    """The trace directory is resolved once, at start: a relative ``--trace-dir`` is not
    re-read against the program's new working directory."""
    (tmp_path / "elsewhere").mkdir()
    script = write(tmp_path / "cd.py", "import os\nos.chdir('elsewhere')\nx = 1\n")
    proc = run_cli("--trace-dir", "t", script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "elsewhere" / "t").exists()
    view = Trace(tmp_path / "t")
    assert view.metadata["process_exit_status"]["code"] == 0
    assert view.metadata["trace_dir"]["path"] == str(tmp_path / "t")


def test_a_trace_dir_that_is_a_symlink_is_resolved_once_and_reported(
    script: Path, tmp_path: Path
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    proc = run_cli("--trace-dir", link, script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (real / "trace.bin").is_file()
    assert link.is_symlink()  # the link itself is left alone
    meta = Trace(real).metadata
    assert meta["trace_dir"] == {"path": str(real), "symlink": str(link)}
    plain = tmp_path / "plain"
    assert run_cli("--trace-dir", plain, script, cwd=tmp_path).returncode == 0
    assert Trace(plain).metadata["trace_dir"] == {"path": str(plain), "symlink": None}


@pytest.mark.parametrize("fmt", FORMATS)
def test_trace_files_are_private_by_default_under_umask_022(
    fmt: str, script: Path, tmp_path: Path
) -> None:
    proc = run_cli(
        "--trace-dir",
        "new/t",
        "--format",
        fmt,
        "--log-file",
        "rec.log",
        script,
        cwd=tmp_path,
        preexec_fn=_umask_022,
    )
    assert proc.returncode == 0, proc.stderr
    trace_dir = tmp_path / "new" / "t"
    assert _mode(trace_dir) == 0o700
    names = sorted(p.name for p in trace_dir.iterdir())
    events = "trace.bin" if fmt == "binary" else "trace.json"
    assert names == sorted([events, "trace_metadata.json", "trace_paths.json"])
    for name in names:
        assert _mode(trace_dir / name) == 0o600, name
    assert _mode(tmp_path / "rec.log") == 0o600
    assert Trace(trace_dir).calls_of("f")


@pytest.mark.parametrize(
    ("how", "file_mode", "dir_mode"),
    [("flag", 0o644, 0o755), ("env", 0o640, 0o750), ("flag", 0o660, 0o770)],
)
def test_trace_mode_asks_for_other_modes(
    how: str, file_mode: int, dir_mode: int, script: Path, tmp_path: Path
) -> None:
    text = f"0{file_mode:o}"
    flags = ["--trace-mode", text] if how == "flag" else []
    env = {"CODETRACER_TRACE_MODE": text} if how == "env" else None
    proc = run_cli("--trace-dir", "t", *flags, script, cwd=tmp_path, env=env, preexec_fn=_umask_022)
    assert proc.returncode == 0, proc.stderr
    trace_dir = tmp_path / "t"
    assert _mode(trace_dir) == dir_mode
    for path in trace_dir.iterdir():
        assert _mode(path) == file_mode, path.name


def test_an_existing_trace_directory_keeps_its_mode(script: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    assert run_cli("--trace-dir", shared, script, cwd=tmp_path).returncode == 0
    assert _mode(shared) == 0o755
    assert all(_mode(p) == 0o600 for p in shared.iterdir())


def test_trace_mode_through_the_api(tmp_path: Path) -> None:
    assert ctr.policy_snapshot()["trace_mode"] == "0600"
    old = os.umask(0o022)
    try:
        with ctr.trace(tmp_path / "api", policy={"trace_mode": "640"}):
            pass
    finally:
        os.umask(old)
    assert _mode(tmp_path / "api") == 0o750
    assert {_mode(p) for p in (tmp_path / "api").iterdir()} == {0o640}


@pytest.mark.parametrize("value", ["0777", "0755", "0400", "0200", "abc", "1000", "-1"])
def test_a_bad_trace_mode_is_a_usage_error(value: str, script: Path, tmp_path: Path) -> None:
    proc = run_cli("--trace-dir", "t", "--trace-mode", value, script, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "codetracer: error[ERR_INVALID_POLICY_VALUE]:" in proc.stderr
    assert "trace_mode" in proc.stderr
    assert proc.stdout == ""
    assert not (tmp_path / "t").exists()
