"""Every policy flag of the CLI (SPEC §2) reaches the native policy, seen by its effect.

Flags whose effect is in the core (limits, module naming, require/keep/on-error, log level)
are checked in the trace or on disk; flags handled by the CLI (propagate, json errors, log
file) in the exit status and stderr. Logs: Rust ``log`` records reach Python ``logging``
under ``codetracer_python_recorder``, and never end up in the trace.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import codetracer_python_recorder as ctr
import pytest
from support import Trace, run_cli, write

VALUES = """
import sys
text = "x" * 500
items = list(range(50))
nested = [[[[1]]]]
def f(a):
    return a
f(text)
sys.exit(4)
"""


def raw_of(values: list[dict[str, object]]) -> str:
    return json.dumps(values)


def record(tmp_path: Path, *flags: str, env: dict[str, str] | None = None) -> Trace:
    script = tmp_path / "values.py"
    if not script.exists():
        write(script, VALUES)
    proc = run_cli("--format", "json", "--trace-dir", "t", *flags, script, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    return Trace(tmp_path / "t")


def longest_string(view: Trace, name: str) -> int:
    """Characters of the value kept (a cut string ends with a marker, not more x's)."""
    return max(
        v.get("text", "").count("x")
        for v in view.values_and_args(name)
        if v.get("kind") == "String"
    )


def sequence_lengths(view: Trace, name: str) -> list[int]:
    return [len(v["elements"]) for v in view.values_and_args(name) if v.get("kind") == "Sequence"]


def test_value_limit_flags_reach_the_encoder(tmp_path: Path) -> None:
    default = record(tmp_path)
    assert longest_string(default, "text") == 500
    assert max(sequence_lengths(default, "items")) == 50

    limited = record(tmp_path, "--max-string-length", "16", "--max-container-elements", "5")
    assert longest_string(limited, "text") == 16
    assert max(sequence_lengths(limited, "items")) <= 6  # 5 elements (+ a "more" marker)


def test_value_limits_from_the_environment_and_flag_precedence(tmp_path: Path) -> None:
    env = {"CODETRACER_MAX_STRING_LENGTH": "20"}
    from_env = record(tmp_path, env=env)
    assert longest_string(from_env, "text") == 20
    flag_wins = record(tmp_path, "--max-string-length", "100", env=env)
    assert longest_string(flag_wins, "text") == 100


BUDGET = """
class P:
    def __init__(self, i):
        self.i = i
        self.tags = ["a", "b", "c", "d", "e"]
        self.meta = {"k": i}
grid = [P(i) for i in range(200)]
digits = 7**5000 * -1
n = len(grid)
"""
NODES_MARKER = "…<max_value_nodes>"


def test_node_budget_and_big_ints_are_cut_with_markers(tmp_path: Path) -> None:
    """--max-value-nodes (and its variable) bounds one value's nodes; an int of more hex
    digits than the string limit is its leading digits and a marker (both read back)."""
    script = tmp_path / "budget.py"
    write(script, BUDGET)

    def grid_and_digits(*flags: str, env: dict[str, str] | None = None) -> tuple[dict, dict]:
        out = tmp_path / "t"
        flags = ("--format", "json", "--trace-dir", "t", *flags)
        proc = run_cli(*flags, script, cwd=tmp_path, env=env)
        assert proc.returncode == 0, proc.stderr
        view = Trace(out)
        return view.values("grid")[-1], view.values("digits")[-1]

    grid, digits = grid_and_digits()
    # Default budget 1000: 100 elements shown (the element limit), 12 nodes each: from the 84th
    # on they are cut.
    elements = grid["elements"]
    assert len(elements) == 101 and "+100 more" in elements[-1]["r"]
    assert elements[0]["kind"] == "Struct"
    assert elements[82]["kind"] == "Struct"
    assert all(e.get("r") == NODES_MARKER for e in elements[84:100]), elements[84:100]
    # 5000 * log16(7) = 3510 hex digits > 1000: sign, 16 leading digits, the count cut.
    lead = format(7**5000, "x")[:16]
    assert digits["kind"] == "Raw" and digits["r"] == f"-0x{lead}…<+3494 hex digits>"

    small, _ = grid_and_digits("--max-value-nodes", "20")
    shown = small["elements"]
    assert len(shown) == 20  # one element per node left (19) and the "more" marker
    assert shown[0]["kind"] == "Struct" and shown[-1]["r"] == "…<+181 more>"
    assert all(e.get("r") == NODES_MARKER for e in shown[2:-1]), shown

    from_env, exact = grid_and_digits(
        env={"CODETRACER_MAX_VALUE_NODES": "20", "CODETRACER_MAX_STRING_LENGTH": "4000"}
    )
    assert from_env == small
    assert exact["kind"] == "BigInt" and exact["negative"]


def test_max_value_depth_flag(tmp_path: Path) -> None:
    deep = raw_of(record(tmp_path, "--max-value-depth", "8").values_and_args("nested"))
    shallow = raw_of(record(tmp_path, "--max-value-depth", "1").values_and_args("nested"))
    assert len(shallow) < len(deep)


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--max-value-depth", "0"),
        ("--max-container-elements", "zero"),
        ("--max-string-length", "2"),
        ("--log-level", "loud"),
    ],
)
def test_invalid_flag_values_are_usage_errors(tmp_path: Path, flag: str, value: str) -> None:
    script = write(tmp_path / "values.py", VALUES)
    proc = run_cli(flag, value, "--json-errors", script, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    trailer = json.loads(proc.stderr.strip().splitlines()[-1])
    assert trailer["error_code"] == "ERR_INVALID_POLICY_VALUE"
    assert trailer["error_kind"] == "usage"
    assert proc.stdout == ""  # the program did not run


def test_module_name_from_globals_flag(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    write(pkg / "__init__.py", "")
    write(pkg / "mod.py", "X = 1\n")
    write(tmp_path / "main.py", "import sys\nsys.path.insert(0, '.')\nimport pkg.mod\n")
    names = {}
    for flag in ("--module-name-from-globals", "--no-module-name-from-globals"):
        out = flag.lstrip("-")
        proc = run_cli("--format", "json", "--trace-dir", out, flag, "main.py", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        names[flag] = Trace(tmp_path / out).function_names
    # from globals the script is `__main__`; from its path alone it is `main`
    assert names["--module-name-from-globals"] == ["<toplevel>", "<__main__>", "<pkg>", "<pkg.mod>"]
    assert names["--no-module-name-from-globals"] == ["<toplevel>", "<main>", "<pkg>", "<pkg.mod>"]
    env = {"CODETRACER_MODULE_NAME_FROM_GLOBALS": "0"}
    proc = run_cli("--format", "json", "--trace-dir", "env", "main.py", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "<main>" in Trace(tmp_path / "env").function_names


def test_propagate_script_exit_flags(tmp_path: Path) -> None:
    script = write(tmp_path / "values.py", VALUES)
    assert run_cli(script, cwd=tmp_path).returncode == 0
    assert run_cli("--propagate-script-exit", script, cwd=tmp_path).returncode == 4
    env = {"CODETRACER_PROPAGATE_SCRIPT_EXIT": "1"}
    assert run_cli(script, cwd=tmp_path, env=env).returncode == 4
    assert run_cli("--no-propagate-script-exit", script, cwd=tmp_path, env=env).returncode == 0


# --- logging ----------------------------------------------------------------------------------


def test_rust_log_records_reach_python_logging(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The error hook's record (Rust ``log::error!``) arrives on the Python logger."""
    caplog.set_level(logging.DEBUG, logger="codetracer_python_recorder")
    session = ctr.start(tmp_path / "t", policy={"log_level": "debug"})
    session.stop()
    rust = [r for r in caplog.records if r.name == "codetracer_python_recorder"]
    assert rust, caplog.records
    assert any(r.levelno == logging.DEBUG and "records" in r.getMessage() for r in rust)
    assert all(r.pathname.endswith(".rs") for r in rust)


def test_policy_log_level_filters_in_rust(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="codetracer_python_recorder")
    ctr.start(tmp_path / "t", policy={"log_level": "warn"}).stop()
    assert not [
        r for r in caplog.records if r.levelno < logging.WARNING and r.pathname.endswith(".rs")
    ]


LOGGING_PROGRAM = """
import logging
logging.basicConfig(level=logging.DEBUG, format="PROGRAM %(name)s %(message)s")
logging.getLogger("app").info("app message")
print("out")
"""


def test_cli_log_level_and_log_file(tmp_path: Path) -> None:
    script = write(tmp_path / "app.py", LOGGING_PROGRAM)
    proc = run_cli("--log-level", "debug", script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    ours = [line for line in proc.stderr.splitlines() if line.startswith("codetracer: DEBUG:")]
    assert ours, proc.stderr
    # the program's own logging config does not pick up (or duplicate) the recorder's records
    assert "PROGRAM codetracer_python_recorder" not in proc.stderr
    assert "PROGRAM app app message" in proc.stderr

    quiet = run_cli(script, cwd=tmp_path)  # default warn: no debug lines
    assert "codetracer: DEBUG:" not in quiet.stderr

    log = tmp_path / "rec.log"
    proc = run_cli("--log-level", "debug", "--log-file", log, script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "codetracer: DEBUG:" not in proc.stderr
    assert "codetracer: DEBUG:" in log.read_text()

    env = {"CODETRACER_LOG_LEVEL": "debug", "CODETRACER_LOG_FILE": str(tmp_path / "env.log")}
    assert run_cli(script, cwd=tmp_path, env=env).returncode == 0
    assert "codetracer: DEBUG:" in (tmp_path / "env.log").read_text()


def test_cli_log_file_that_cannot_be_opened(tmp_path: Path) -> None:
    script = write(tmp_path / "app.py", LOGGING_PROGRAM)
    proc = run_cli("--log-file", tmp_path, "--json-errors", script, cwd=tmp_path)
    assert proc.returncode == 1
    assert json.loads(proc.stderr.strip().splitlines()[-1])["error_code"] == "ERR_IO"


def test_the_recorders_logs_are_not_recorded(tmp_path: Path) -> None:
    script = write(tmp_path / "app.py", LOGGING_PROGRAM)
    proc = run_cli("--log-level", "debug", "--format", "json", script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    view = Trace(tmp_path / "trace-out")
    recorded = json.dumps(view.events)
    assert "codetracer: DEBUG" not in recorded
    assert "records," not in recorded  # the writer's debug message
    assert not any("codetracer_python_recorder" in p for p in view.paths)


def test_every_policy_field_has_a_flag() -> None:
    """The CLI collects policy flags by the core's field names: a field without a flag (or a
    flag whose dest is not a field) would silently never reach the core."""
    from codetracer_python_recorder import cli

    ns = cli.build_parser().parse_args([])  # the options part (the script is split off first)
    assert set(ctr.policy_snapshot()) <= set(vars(ns))
