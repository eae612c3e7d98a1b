"""One owner per contract (issue #17 items 5, 6).

- Every ``CODETRACER_*`` spelling the core accepts, the CLI accepts with the same meaning, and
  every spelling the core rejects, the CLI rejects the same way (exit 2,
  ``ERR_INVALID_POLICY_VALUE``): the CLI asks the core instead of parsing the environment.
- Every error the CLI, ``summary`` and auto-start print has the one shape
  ``codetracer: error[CODE]: message`` (never a doubled code, never another prefix), and a
  missing filter file exits like a malformed one (both are the user's input).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from support import run_cli, run_python, write

BOOLS = ["1", "true", "yes", "on", "t", "y", "TRUE", " Yes ", "0", "false", "no", "off"]
BOOLS += ["f", "n", "Off", "garbage", "2", "enable", "yes please", ""]
ON_ERROR = ["abort", "disable", "disabled", "DISABLE", " Disable ", "explode", ""]
LOG_LEVELS = ["warn", "WARNING", "critical", "none", "debug", "Trace", "info", "chatty", ""]

CORE_VERDICT = """
import json, codetracer_python_recorder_core as core
try:
    core.configure_policy_from_env()
except core.RecorderError as exc:
    print(json.dumps({"error": exc.code}))
else:
    print(json.dumps(core.policy_snapshot()))
"""
PROGRAM = "print('the program ran')\nraise SystemExit(4)\n"
INVALID = "ERR_INVALID_POLICY_VALUE"


def core_verdict(variable: str, value: str, tmp_path: Path) -> dict[str, Any]:
    """What the native core makes of ``variable=value``: the policy, or ``{"error": CODE}``."""
    proc = run_python("-c", CORE_VERDICT, cwd=tmp_path, env={variable: value})
    assert proc.returncode == 0, proc.stderr
    verdict: dict[str, Any] = json.loads(proc.stdout)
    return verdict


def run_with(
    variable: str, value: str, tmp_path: Path, *, trace_dir: str = "t"
) -> tuple[dict[str, Any], Any]:
    """The core's verdict on ``variable=value``, and the CLI run of ``PROGRAM`` under it
    (``trace_dir="taken"``: a file stands where the trace directory should go)."""
    verdict = core_verdict(variable, value, tmp_path)
    write(tmp_path / "prog.py", PROGRAM)
    (tmp_path / "taken").write_text("a file where the trace directory should go")
    proc = run_cli("--trace-dir", trace_dir, "prog.py", cwd=tmp_path, env={variable: value})
    return verdict, proc


def assert_rejected(proc: Any) -> None:
    assert proc.returncode == 2, proc.stderr
    assert f"codetracer: error[{INVALID}]:" in proc.stderr, proc.stderr
    assert "the program ran" not in proc.stdout


@pytest.mark.parametrize("value", BOOLS)
def test_propagate_script_exit_spellings_mean_what_the_core_says(
    value: str, tmp_path: Path
) -> None:
    verdict, proc = run_with("CODETRACER_PROPAGATE_SCRIPT_EXIT", value, tmp_path)
    if "error" in verdict:
        assert_rejected(proc)
    else:
        expected = 4 if verdict["propagate_script_exit"] else 0
        assert proc.returncode == expected, (value, proc.stderr)


@pytest.mark.parametrize("value", BOOLS)
def test_json_errors_spellings_mean_what_the_core_says(value: str, tmp_path: Path) -> None:
    verdict, proc = run_with("CODETRACER_JSON_ERRORS", value, tmp_path, trace_dir="taken")
    if "error" in verdict:
        assert_rejected(proc)
        return
    assert proc.returncode == 1, proc.stderr  # ERR_TRACE_DIR_CONFLICT
    last = proc.stderr.strip().splitlines()[-1]
    if verdict["json_errors"]:
        assert json.loads(last)["error_code"] == "ERR_TRACE_DIR_CONFLICT"
    else:
        assert last.startswith("codetracer: error[ERR_TRACE_DIR_CONFLICT]:"), proc.stderr


@pytest.mark.parametrize("value", ON_ERROR)
def test_on_recorder_error_spellings_mean_what_the_core_says(value: str, tmp_path: Path) -> None:
    verdict, proc = run_with("CODETRACER_ON_RECORDER_ERROR", value, tmp_path, trace_dir="taken")
    if "error" in verdict:
        assert_rejected(proc)
    elif verdict["on_recorder_error"] == "disable":
        assert proc.returncode == 0, proc.stderr
        assert "the program ran" in proc.stdout
    else:
        assert proc.returncode == 1, proc.stderr
        assert "the program ran" not in proc.stdout


@pytest.mark.parametrize("value", LOG_LEVELS)
def test_log_level_spellings_mean_what_the_core_says(value: str, tmp_path: Path) -> None:
    verdict, proc = run_with("CODETRACER_LOG_LEVEL", value, tmp_path)
    if "error" in verdict:
        assert_rejected(proc)
        return
    assert proc.returncode == 0, proc.stderr
    debug_lines = "codetracer: DEBUG:" in proc.stderr
    assert debug_lines == (verdict["log_level"] in ("debug", "trace")), (value, proc.stderr)


# ------------------------------------------------------------------------------ error lines

ERROR_LINE = re.compile(r"^codetracer: error\[ERR_[A-Z_]+\]: (?!\[ERR_)\S")
BAD_FILTER = '[meta]\nname = "x"\nversion = 1\n[[scope.rules]]\nselector = "module:x"\n'
# name -> (CLI arguments, environment, exit status)
CASES: dict[str, tuple[list[str], dict[str, str], int]] = {
    "unknown flag": (["--bogus", "x.py"], {}, 2),
    "no script": ([], {}, 2),
    "missing script": (["missing.py"], {}, 2),
    "missing module": (["-m", "no_such_module_xyz"], {}, 2),
    "bad flag value": (["--max-value-depth", "0", "x.py"], {}, 2),
    "bad choice": (["--on-recorder-error", "explode", "x.py"], {}, 2),
    "bad format": (["--format", "xml", "x.py"], {}, 2),
    "bad env value": (["x.py"], {"CODETRACER_MAX_VALUE_DEPTH": "0"}, 2),
    "bad env bool": (["x.py"], {"CODETRACER_PROPAGATE_SCRIPT_EXIT": "garbage"}, 2),
    "missing filter": (["--trace-filter", "nope.toml", "x.py"], {}, 2),
    "malformed filter": (["--trace-filter", "bad.toml", "x.py"], {}, 2),
    "trace dir conflict": (["--trace-dir", "taken", "x.py"], {}, 1),
    "summary of nothing": (["summary", "nowhere"], {}, 1),
    "summary bad top": (["summary", "--top", "-1", "t"], {}, 2),
    "summary unknown flag": (["summary", "--bogus"], {}, 2),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_error_has_the_one_prefix(case: str, tmp_path: Path) -> None:
    args, env, status = CASES[case]
    write(tmp_path / "x.py", "print('the program ran')\n")
    write(tmp_path / "bad.toml", BAD_FILTER)
    (tmp_path / "taken").write_text("a file")
    proc = run_cli(*args, cwd=tmp_path, env=env)
    assert proc.returncode == status, proc.stderr
    lines = proc.stderr.splitlines()
    errors = [line for line in lines if ERROR_LINE.match(line)]
    assert len(errors) == 1, proc.stderr
    assert not [line for line in lines if "error:" in line and line not in errors], proc.stderr
    assert "]: [ERR_" not in proc.stderr and "] [ERR_" not in proc.stderr, proc.stderr
    assert "the program ran" not in proc.stdout


def test_auto_start_errors_have_the_one_prefix(tmp_path: Path) -> None:
    env = {"CODETRACER_TRACE": str(tmp_path / "t"), "CODETRACER_MAX_VALUE_DEPTH": "0"}
    proc = run_python(
        "-c", "import codetracer_python_recorder; print('ran')", cwd=tmp_path, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "ran\n"
    (line,) = proc.stderr.splitlines()
    assert ERROR_LINE.match(line), line
    assert line.startswith(f"codetracer: error[{INVALID}]: environment variable"), line


def test_a_missing_and_a_malformed_filter_exit_alike(tmp_path: Path) -> None:
    write(tmp_path / "x.py", "print('the program ran')\n")
    write(tmp_path / "bad.toml", BAD_FILTER)
    for flags in ([], ["--on-recorder-error", "disable"]):
        missing = run_cli(*flags, "--trace-filter", "nope.toml", "x.py", cwd=tmp_path)
        malformed = run_cli(*flags, "--trace-filter", "bad.toml", "x.py", cwd=tmp_path)
        assert missing.returncode == malformed.returncode == 2, (missing.stderr, malformed.stderr)
        assert "codetracer: error[ERR_INVALID_FILTER]:" in missing.stderr
        assert "nope.toml" in missing.stderr
        assert "the program ran" not in missing.stdout + malformed.stdout
