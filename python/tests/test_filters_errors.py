"""End-to-end: invalid trace filters (SPEC §6, §7).

A bad filter stops the recording before anything is written: the CLI reports
``error[ERR_INVALID_FILTER]`` — a usage error, exit 2, also for a missing file or a directory
(both are the user's input, like a malformed file) — with the file, line, column and the
offending key; the program does not run, not even under ``--on-recorder-error disable``; the
trace directory is not created (or stays empty). The API raises ``UsageError`` with ``.code``.
"""

from __future__ import annotations

import json
from pathlib import Path

import codetracer_python_recorder as ctr
import pytest
from support import run_cli
from support.filters import copy_project

INVALID = "ERR_INVALID_FILTER"
PROGRAM_OUTPUT = "the program ran"

# file -> (code, location "LINE:COL" or None, substrings the message must contain)
CASES: dict[str, tuple[str, str | None, list[str]]] = {
    "malformed.toml": (INVALID, "1:6", ["invalid TOML"]),
    "unknown_kind.toml": (
        INVALID,
        "6:12",
        ["`module:x`", "`scope.rules[1].selector`", "unknown selector kind `module`"],
    ),
    "bad_regex.toml": (
        INVALID,
        "8:12",
        ["`local:regex:(unclosed`", "`scope.rules[1].value_patterns[1].selector`", "invalid regex"],
    ),
    "unknown_key.toml": (INVALID, "7:1", ["unknown key `skip`", "[[scope.rules]]"]),
    "unknown_action.toml": (
        INVALID,
        "9:10",
        ['"hide"', "`scope.rules[1].value_patterns[1].action`"],
    ),
    "missing.toml": (INVALID, None, ["cannot read trace filter file", "No such file"]),
    "a_directory.toml": (INVALID, None, ["cannot read trace filter file", "directory"]),
}
EXIT = {INVALID: 2}  # usage errors exit 2 (README, SPEC §7)


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    project = copy_project("bad", tmp_path)
    (project / "a_directory.toml").mkdir()
    return project


def trace_files(trace_dir: Path) -> list[str]:
    return sorted(p.name for p in trace_dir.iterdir()) if trace_dir.exists() else []


def assert_reported(
    stderr: str, path: Path, code: str, location: str | None, parts: list[str]
) -> None:
    assert f"error[{code}]" in stderr, stderr
    where = f"{path}:{location}:" if location else str(path)
    assert where in stderr, stderr
    for part in parts:
        assert part in stderr, (part, stderr)
    trailer = json.loads(stderr.strip().splitlines()[-1])
    assert trailer["error_code"] == code
    assert trailer["error_kind"] == "usage"
    assert where in trailer["message"]


@pytest.mark.parametrize("name", list(CASES))
def test_cli_rejects_a_bad_filter_before_writing_anything(
    name: str, bad: Path, tmp_path: Path
) -> None:
    code, location, parts = CASES[name]
    filt = bad / name
    trace_dir = tmp_path / "trace"
    proc = run_cli(
        "--trace-dir",
        trace_dir,
        "--json-errors",
        "--trace-filter",
        filt,
        bad / "prog.py",
        cwd=tmp_path,
    )
    assert proc.returncode == EXIT[code], proc.stderr
    assert_reported(proc.stderr, filt, code, location, parts)
    assert PROGRAM_OUTPUT not in proc.stdout
    assert not trace_dir.exists()


@pytest.mark.parametrize("name", ["unknown_key.toml", "missing.toml"])
def test_bad_filter_after_a_good_one_leaves_an_existing_trace_dir_empty(
    name: str, bad: Path, tmp_path: Path
) -> None:
    code, location, parts = CASES[name]
    trace_dir = tmp_path / "trace"
    trace_dir.mkdir()
    proc = run_cli(
        "--trace-dir",
        trace_dir,
        "--json-errors",
        "--trace-filter",
        f"{bad / 'good.toml'}::{bad / name}",
        bad / "prog.py",
        cwd=tmp_path,
    )
    assert proc.returncode == EXIT[code], proc.stderr
    assert_reported(proc.stderr, bad / name, code, location, parts)
    assert trace_files(trace_dir) == []


def test_bad_filter_from_the_environment(bad: Path, tmp_path: Path) -> None:
    trace_dir = tmp_path / "trace"
    proc = run_cli(
        "--trace-dir",
        trace_dir,
        "--json-errors",
        bad / "prog.py",
        cwd=tmp_path,
        env={"CODETRACER_TRACE_FILTER": str(bad / "unknown_kind.toml")},
    )
    assert proc.returncode == 2, proc.stderr
    assert_reported(
        proc.stderr, bad / "unknown_kind.toml", INVALID, "6:12", CASES["unknown_kind.toml"][2]
    )
    assert not trace_dir.exists()


def test_bad_project_default_filter(bad: Path, tmp_path: Path) -> None:
    project_filter = bad / ".codetracer" / "trace-filter.toml"
    project_filter.parent.mkdir()
    project_filter.write_bytes((bad / "unknown_key.toml").read_bytes())
    trace_dir = tmp_path / "trace"
    proc = run_cli("--trace-dir", trace_dir, "--json-errors", bad / "prog.py", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert_reported(proc.stderr, project_filter, INVALID, "7:1", ["unknown key `skip`"])
    assert not trace_dir.exists()


def test_invalid_filter_is_not_excused_by_on_recorder_error_disable(
    bad: Path, tmp_path: Path
) -> None:
    trace_dir = tmp_path / "trace"
    proc = run_cli(
        "--trace-dir",
        trace_dir,
        "--on-recorder-error",
        "disable",
        "--trace-filter",
        bad / "bad_regex.toml",
        bad / "prog.py",
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert f"error[{INVALID}]" in proc.stderr
    assert PROGRAM_OUTPUT not in proc.stdout
    assert not trace_dir.exists()


def test_missing_filter_is_not_excused_by_on_recorder_error_disable(
    bad: Path, tmp_path: Path
) -> None:
    trace_dir = tmp_path / "trace"
    proc = run_cli(
        "--trace-dir",
        trace_dir,
        "--on-recorder-error",
        "disable",
        "--trace-filter",
        bad / "missing.toml",
        bad / "prog.py",
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert f"error[{INVALID}]" in proc.stderr and str(bad / "missing.toml") in proc.stderr
    assert PROGRAM_OUTPUT not in proc.stdout
    assert not trace_dir.exists()


# --------------------------------------------------------------------------------- API


@pytest.mark.parametrize("name", list(CASES))
def test_api_start_raises_with_code(name: str, bad: Path, tmp_path: Path) -> None:
    code, location, parts = CASES[name]
    filt = bad / name
    trace_dir = tmp_path / "trace"
    with pytest.raises(ctr.UsageError) as info:
        ctr.start(trace_dir, format="json", trace_filter=filt)
    assert isinstance(info.value, ctr.RecorderError)
    assert info.value.code == code
    message = str(info.value)
    assert (f"{filt}:{location}:" if location else str(filt)) in message
    for part in parts:
        assert part in message
    assert not ctr.is_tracing()
    assert not trace_dir.exists()


def test_api_bad_filter_in_a_list_after_a_good_one(bad: Path, tmp_path: Path) -> None:
    with pytest.raises(ctr.UsageError) as info:
        ctr.start(tmp_path / "t", trace_filter=[bad / "good.toml", bad / "malformed.toml"])
    assert info.value.code == INVALID
    assert f"{bad / 'malformed.toml'}:1:6:" in str(info.value)
    assert not ctr.is_tracing()
    assert not (tmp_path / "t").exists()


def test_api_env_filter_only_with_apply_env_policy(
    bad: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODETRACER_TRACE_FILTER", str(bad / "unknown_kind.toml"))
    with pytest.raises(ctr.UsageError) as info:
        ctr.start(tmp_path / "a", format="json")
    assert info.value.code == INVALID
    assert not (tmp_path / "a").exists()
    session = ctr.start(tmp_path / "b", format="json", apply_env_policy=False)
    session.stop()
    chain = json.loads((tmp_path / "b" / "trace_metadata.json").read_text())["trace_filter"]
    assert [f["name"] for f in chain["filters"]] == ["builtin-default"]
