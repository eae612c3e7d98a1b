"""Policy functions of the package and bad environment values (SPEC §3, §4, §7).

``configure_policy(**fields)``, ``configure_policy_from_env()`` and ``policy_snapshot()`` are
exported by ``codetracer_python_recorder``; a bad ``CODETRACER_*`` value never breaks the import
and is reported, with the variable's name, when a session starts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import codetracer_python_recorder as ctr
import pytest
from support import run_python, write

DEFAULTS = {
    "on_recorder_error": "abort",
    "require_trace": False,
    "keep_partial_trace": False,
    "log_level": "warn",
    "log_file": None,
    "json_errors": False,
    "io_capture": "proxies",
    "module_name_from_globals": True,
    "propagate_script_exit": False,
    "include_libraries": False,
    "follow_children": True,
    "max_value_depth": 3,
    "max_container_elements": 100,
    "max_string_length": 1000,
    "max_value_nodes": 1000,
    "allow_repr": False,
    "trace_mode": "0600",
}

# Every policy variable with a value it must reject.
INVALID_ENV = {
    "CODETRACER_ON_RECORDER_ERROR": "explode",
    "CODETRACER_REQUIRE_TRACE": "maybe",
    "CODETRACER_KEEP_PARTIAL_TRACE": "2",
    "CODETRACER_LOG_LEVEL": "loud",
    "CODETRACER_JSON_ERRORS": "sometimes",
    "CODETRACER_CAPTURE_IO": "everything",
    "CODETRACER_MODULE_NAME_FROM_GLOBALS": "perhaps",
    "CODETRACER_PROPAGATE_SCRIPT_EXIT": "nah",
    "CODETRACER_FOLLOW_CHILDREN": "sometimes",
    "CODETRACER_MAX_VALUE_DEPTH": "0",
    "CODETRACER_MAX_CONTAINER_ELEMENTS": "-5",
    "CODETRACER_MAX_STRING_LENGTH": "lots",
    "CODETRACER_MAX_VALUE_NODES": "15",
    "CODETRACER_ALLOW_REPR": "okay",
    "CODETRACER_TRACE_MODE": "0755",
}


@pytest.fixture(autouse=True)
def _restore_policy() -> Iterator[None]:
    before = ctr.policy_snapshot()
    yield
    ctr.configure_policy(**before)
    assert ctr.policy_snapshot() == before


def test_the_package_exports_the_policy_functions() -> None:
    for name in ("configure_policy", "configure_policy_from_env", "policy_snapshot"):
        assert name in ctr.__all__
        assert callable(getattr(ctr, name))


def test_snapshot_has_every_field_with_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*INVALID_ENV, "CODETRACER_LOG_FILE"]:
        monkeypatch.delenv(name, raising=False)
    ctr.configure_policy(**DEFAULTS)
    assert ctr.policy_snapshot() == DEFAULTS


def test_configure_policy_sets_fields_and_accepts_spellings(tmp_path: Path) -> None:
    log = tmp_path / "rec.log"
    ctr.configure_policy(
        on_recorder_error="DISABLE",
        require_trace="yes",
        keep_partial_trace=True,
        log_level="warning",
        log_file=str(log),
        json_errors=1,
        io_capture="off",
        module_name_from_globals="off",
        propagate_script_exit="on",
        include_libraries="yes",
        max_value_depth=5,
        max_container_elements="7",
        max_string_length=64,
        allow_repr=False,
        trace_mode=0o640,
    )
    snap = ctr.policy_snapshot()
    assert snap == {
        **DEFAULTS,
        "on_recorder_error": "disable",
        "require_trace": True,
        "keep_partial_trace": True,
        "log_level": "warn",
        "log_file": str(log),
        "json_errors": True,
        "io_capture": "off",
        "module_name_from_globals": False,
        "propagate_script_exit": True,
        "include_libraries": True,
        "max_value_depth": 5,
        "max_container_elements": 7,
        "max_string_length": 64,
        "trace_mode": "0640",
    }
    ctr.configure_policy(trace_mode="0644")
    assert ctr.policy_snapshot()["trace_mode"] == "0644"
    ctr.configure_policy(log_file=None)
    assert ctr.policy_snapshot()["log_file"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("on_recorder_error", "explode"),
        ("require_trace", "maybe"),
        ("log_level", "loud"),
        ("io_capture", "everything"),
        ("max_value_depth", 0),
        ("max_value_depth", 33),
        ("max_container_elements", 0),
        ("max_string_length", 3),
        ("trace_mode", "0777"),
        ("trace_mode", 0o700),
        ("no_such_field", 1),
    ],
)
def test_invalid_field_values_are_rejected_all_or_nothing(field: str, value: object) -> None:
    before = ctr.policy_snapshot()
    with pytest.raises(ctr.UsageError) as info:
        ctr.configure_policy(keep_partial_trace=not before["keep_partial_trace"], **{field: value})
    assert info.value.code == "ERR_INVALID_POLICY_VALUE"
    assert info.value.kind == "usage"
    assert field in str(info.value)
    assert ctr.policy_snapshot() == before  # nothing applied


def test_configure_policy_from_env_reads_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODETRACER_ON_RECORDER_ERROR", "disable")
    monkeypatch.setenv("CODETRACER_MAX_STRING_LENGTH", "99")
    monkeypatch.setenv("CODETRACER_REQUIRE_TRACE", "TRUE")
    ctr.configure_policy_from_env()
    snap = ctr.policy_snapshot()
    assert snap["on_recorder_error"] == "disable"
    assert snap["max_string_length"] == 99
    assert snap["require_trace"] is True


def test_configure_policy_from_env_rejects_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODETRACER_MAX_VALUE_DEPTH", "deep")
    before = ctr.policy_snapshot()
    with pytest.raises(ctr.UsageError) as info:
        ctr.configure_policy_from_env()
    assert info.value.code == "ERR_INVALID_POLICY_VALUE"
    assert "CODETRACER_MAX_VALUE_DEPTH" in str(info.value)
    assert ctr.policy_snapshot() == before


# A child process: import the package with one bad variable, then try to start.
BAD_ENV_CHILD = """
import json, sys
import codetracer_python_recorder as ctr   # must not raise
out = {"imported": True}
try:
    ctr.start(sys.argv[1])
except ctr.RecorderError as exc:
    out.update(code=exc.code, kind=exc.kind, message=str(exc), context=dict(exc.context))
else:
    ctr.stop()
    out["code"] = None
print(json.dumps(out))
"""


@pytest.mark.parametrize(("var", "value"), sorted(INVALID_ENV.items()))
def test_a_bad_env_var_does_not_break_import_and_start_names_it(
    tmp_path: Path, var: str, value: str
) -> None:
    child = write(tmp_path / "child.py", BAD_ENV_CHILD)
    proc = run_python(child, tmp_path / "t", cwd=tmp_path, env={var: value})
    assert proc.returncode == 0, proc.stderr
    out: dict[str, Any] = json.loads(proc.stdout)
    assert out["imported"] is True
    assert out["code"] == "ERR_INVALID_POLICY_VALUE", out
    assert out["kind"] == "usage"
    assert var in out["message"], out
    assert not (tmp_path / "t").exists()  # nothing was created


def test_a_bad_env_var_is_ignored_when_env_policy_is_off(tmp_path: Path) -> None:
    child = write(
        tmp_path / "child.py",
        """
        import sys
        import codetracer_python_recorder as ctr
        ctr.start(sys.argv[1], apply_env_policy=False)
        print("tracing", ctr.is_tracing())
        ctr.stop()
        """,
    )
    proc = run_python(child, tmp_path / "t", cwd=tmp_path, env={"CODETRACER_LOG_LEVEL": "loud"})
    assert proc.returncode == 0, proc.stderr
    assert "tracing True" in proc.stdout


def test_bad_auto_start_env_does_not_break_import(tmp_path: Path) -> None:
    proc = run_python(
        "-c",
        "import codetracer_python_recorder as ctr; print('ok', ctr.is_tracing())",
        cwd=tmp_path,
        env={"CODETRACER_TRACE": str(tmp_path / "t"), "CODETRACER_FORMAT": "yaml"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "ok False" in proc.stdout
    assert "ERR_UNSUPPORTED_FORMAT" in proc.stderr
    assert "CODETRACER_FORMAT" in proc.stderr

    proc = run_python(
        "-c",
        "import codetracer_python_recorder as ctr; print('ok', ctr.is_tracing())",
        cwd=tmp_path,
        env={"CODETRACER_TRACE": str(tmp_path / "t"), "CODETRACER_MAX_VALUE_DEPTH": "x"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "ok False" in proc.stdout
    assert "ERR_INVALID_POLICY_VALUE" in proc.stderr
    assert "CODETRACER_MAX_VALUE_DEPTH" in proc.stderr


def test_explicit_policy_overrides_env(tmp_path: Path) -> None:
    """Precedence defaults < env < explicit: a valid explicit value beats the env's."""
    child = write(
        tmp_path / "child.py",
        """
        import sys
        import codetracer_python_recorder as ctr
        ctr.start(sys.argv[1], start_on_enter=sys.argv[1] + "/never.py")
        try:
            ctr.stop()
        except ctr.RecorderError as exc:
            print("stop raised", exc.code)
        else:
            print("stop ok")
        """,
    )
    env = {"CODETRACER_REQUIRE_TRACE": "1"}
    proc = run_python(child, tmp_path / "t", cwd=tmp_path, env=env)
    assert "stop raised ERR_TRACE_MISSING" in proc.stdout, proc.stderr
    child.write_text(
        child.read_text().replace('never.py")', "never.py\", policy={'require_trace': False})")
    )
    proc = run_python(child, tmp_path / "t", cwd=tmp_path, env=env)
    assert "stop ok" in proc.stdout, proc.stderr
