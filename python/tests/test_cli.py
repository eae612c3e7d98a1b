"""cli.py / __main__.py: the command line, run as a child process, traces read back."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from codetracer_python_recorder.cli import _value_flags, build_parser, split_argv
from support import (
    Trace,
    assert_balanced,
    assert_no_recorder_frames,
    console_script,
    run_cli,
    run_console_script,
    run_python,
    write,
)

FIB = """
import sys

def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)

print("fib", fib(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
"""

SHOW_ARGV = """
import json, sys
print(json.dumps({"argv": sys.argv, "path0": sys.path[0], "name": __name__}))
"""

SUMMARY = re.compile(
    r"^codetracer: trace written to (.+) \((\d+) events, [\d.]+ (B|KiB|MiB|GiB), [\d.]+ s\)$", re.M
)


def test_records_a_script(tmp_path: Path) -> None:
    script = write(tmp_path / "fib.py", FIB)
    proc = run_cli("--trace-dir", "out", script, "6", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "fib 8" in proc.stdout
    match = SUMMARY.search(proc.stderr)
    assert match, proc.stderr
    assert int(match.group(2)) > 0

    view = Trace(tmp_path / "out")
    assert (tmp_path / "out" / "trace.bin").exists()
    assert view.call_names().count("fib") == 25
    assert set(view.lines_in("fib.py")) >= {1, 3, 4, 5, 6, 8}
    assert 6 in view.int_values("n")
    assert_balanced(view)
    assert_no_recorder_frames(view)
    meta = view.metadata
    assert Path(meta["workdir"]).resolve() == tmp_path.resolve()
    assert Path(meta["program"]).name == "fib.py"
    assert meta["args"] == ["6"]
    assert meta["process_exit_status"]["code"] == 0
    assert "codetracer" in meta["recorder"]["name"]
    assert meta["recorder"]["version"] == "0.4.0"
    assert view.toplevel_return.get("i") == 0


@pytest.mark.parametrize("launcher", ["console-script", "python-m"])
def test_ct_record_command_line(tmp_path: Path, launcher: str) -> None:
    # What CodeTracer's `ct record` runs (CONSUMER.md), and it requires exit status 0:
    #   codetracer-python-recorder --out-dir DIR --activation-path P program args...
    script = write(tmp_path / "fib.py", FIB)
    argv = ("--out-dir", tmp_path / "ct-out", "--activation-path", script, script, "6")
    if launcher == "console-script":
        proc = run_console_script(*argv, cwd=tmp_path)
    else:
        proc = run_cli(*argv, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "fib 8" in proc.stdout
    view = Trace(tmp_path / "ct-out")
    assert view.call_names().count("fib") == 25
    assert_balanced(view)
    assert view.metadata["args"] == ["6"]
    assert not (tmp_path / "trace-out").exists()


def test_out_dir_is_the_trace_dir_flag() -> None:
    parser = build_parser()
    assert parser.parse_args(["--out-dir", "d"]).trace_dir == "d"
    assert parser.parse_args(["--trace-dir", "d"]).trace_dir == "d"
    # its value is never taken for the script
    assert split_argv(["--out-dir", "x.py", "prog.py"], _value_flags(parser)).script == "prog.py"


def test_default_trace_dir_and_console_script(tmp_path: Path) -> None:
    script = write(tmp_path / "fib.py", FIB)
    proc = run_python(console_script(), script, cwd=tmp_path)  # a Python file
    assert proc.returncode == 0, proc.stderr
    view = Trace(tmp_path / "trace-out")
    assert "fib" in view.function_names
    assert_balanced(view)


def test_program_arguments_pass_through_untouched(tmp_path: Path) -> None:
    script = write(tmp_path / "show.py", SHOW_ARGV)
    proc = run_cli(
        "--trace-dir", "t", "--format", "json", script,
        "--format", "json", "--trace-dir", "x", "--", "--help", "-m", "y",
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["argv"] == [
        str(script),
        "--format",
        "json",
        "--trace-dir",
        "x",
        "--",
        "--help",
        "-m",
        "y",
    ]
    assert seen["name"] == "__main__"
    assert seen["path0"] == str(tmp_path)
    assert not (tmp_path / "x").exists()
    view = Trace(tmp_path / "t")
    assert (tmp_path / "t" / "trace.json").exists()
    assert view.metadata["args"] == seen["argv"][1:]
    assert view.lines_in("show.py")


def test_double_dash_before_the_script(tmp_path: Path) -> None:
    script = write(tmp_path / "show.py", SHOW_ARGV)
    proc = run_cli("--trace-dir", "t", "--", script, "a", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["argv"] == [str(script), "a"]
    assert Trace(tmp_path / "t").lines_in("show.py")


def test_module_mode(tmp_path: Path) -> None:
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "helper.py", "def double(v):\n    return v * 2\n")
    mod = write(
        tmp_path / "pkg" / "tool.py",
        """
        import json, sys
        from pkg.helper import double
        seen = {"argv": sys.argv, "path0": sys.path[0], "name": __name__, "d": double(4)}
        print(json.dumps(seen))
        """,
    )
    proc = run_cli("--trace-dir", "t", "-m", "pkg.tool", "a", "--trace-dir", "b", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["argv"] == [str(mod), "a", "--trace-dir", "b"]
    assert seen["name"] == "__main__"
    assert seen["path0"] == str(tmp_path)
    assert seen["d"] == 8
    view = Trace(tmp_path / "t")
    assert "double" in view.function_names
    assert view.lines_in("tool.py")
    assert_balanced(view)


def test_sibling_imports_work_from_another_directory(tmp_path: Path) -> None:
    write(tmp_path / "app" / "helper.py", "def greet(who):\n    return 'hi ' + who\n")
    main = write(tmp_path / "app" / "main.py", "from helper import greet\nprint(greet('ada'))\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = run_cli("--trace-dir", "t", main, cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "hi ada"
    view = Trace(elsewhere / "t")
    assert "greet" in view.function_names
    assert set(view.lines_in("helper.py")) == {1, 2}  # the def at import, the body at the call


EXITS = """
import sys
def finish(code):
    sys.exit(code)
finish(int(sys.argv[1]))
"""


def test_script_exit_status_is_recorded_and_reported(tmp_path: Path) -> None:
    script = write(tmp_path / "exits.py", EXITS)
    proc = run_cli("--trace-dir", "t", script, "3", cwd=tmp_path)
    assert proc.returncode == 0
    assert "status 3" in proc.stderr
    assert SUMMARY.search(proc.stderr)
    view = Trace(tmp_path / "t")
    assert view.metadata["process_exit_status"]["code"] == 3
    assert view.toplevel_return.get("i") == 3
    assert "finish" in view.function_names
    assert_balanced(view)


def test_propagate_script_exit(tmp_path: Path) -> None:
    script = write(tmp_path / "exits.py", EXITS)
    proc = run_cli("--trace-dir", "t", "--propagate-script-exit", script, "3", cwd=tmp_path)
    assert proc.returncode == 3
    assert Trace(tmp_path / "t").metadata["process_exit_status"]["code"] == 3
    env_proc = run_cli(
        "--trace-dir",
        "t2",
        script,
        "4",
        cwd=tmp_path,
        env={"CODETRACER_PROPAGATE_SCRIPT_EXIT": "yes"},
    )
    assert env_proc.returncode == 4
    assert Trace(tmp_path / "t2").metadata["process_exit_status"]["code"] == 4
    off = run_cli(
        "--no-propagate-script-exit", "--trace-dir", "t3", script, "4",
        cwd=tmp_path, env={"CODETRACER_PROPAGATE_SCRIPT_EXIT": "1"},
    )  # fmt: skip
    assert off.returncode == 0
    assert Trace(tmp_path / "t3").metadata["process_exit_status"]["code"] == 4


def test_sys_exit_with_a_message(tmp_path: Path) -> None:
    script = write(tmp_path / "msg.py", "import sys\nsys.exit('bad input')\n")
    proc = run_cli("--trace-dir", "t", "--propagate-script-exit", script, cwd=tmp_path)
    assert proc.returncode == 1
    assert "bad input" in proc.stderr
    assert Trace(tmp_path / "t").metadata["process_exit_status"]["code"] == 1


def test_uncaught_exception(tmp_path: Path) -> None:
    script = write(
        tmp_path / "boom.py",
        """
        def explode(v):
            raise ValueError(f"boom {v}")

        explode(7)
        """,
    )
    proc = run_cli("--trace-dir", "t", script, cwd=tmp_path)
    assert proc.returncode == 0  # the recording succeeded
    assert "Traceback (most recent call last)" in proc.stderr
    assert "ValueError: boom 7" in proc.stderr
    assert "runpy" not in proc.stderr and "_target.py" not in proc.stderr
    view = Trace(tmp_path / "t")
    assert view.metadata["process_exit_status"]["code"] == 1
    assert any("boom 7" in e for e in view.errors())
    assert "explode" in view.function_names
    assert_balanced(view)
    prop = run_cli("--trace-dir", "t2", "--propagate-script-exit", script, cwd=tmp_path)
    assert prop.returncode == 1


def test_keyboard_interrupt_exits_130(tmp_path: Path) -> None:
    script = write(tmp_path / "ctrlc.py", "def stop():\n    raise KeyboardInterrupt\n\nstop()\n")
    proc = run_cli("--trace-dir", "t", script, cwd=tmp_path)
    assert proc.returncode == 130
    assert "KeyboardInterrupt" in proc.stderr
    view = Trace(tmp_path / "t")
    assert view.metadata["process_exit_status"]["code"] == 130
    assert_balanced(view)


def test_recorder_failure_exits_1(tmp_path: Path) -> None:
    script = write(tmp_path / "fib.py", FIB)
    (tmp_path / "taken").write_text("a file, not a directory")
    proc = run_cli("--trace-dir", "taken", "--json-errors", script, cwd=tmp_path)
    assert proc.returncode == 1
    assert "codetracer: error[ERR_TRACE_DIR_CONFLICT]:" in proc.stderr
    assert "fib" not in proc.stdout  # the program did not run
    trailer = json.loads(proc.stderr.strip().splitlines()[-1])
    assert trailer["error"]["code"] == "ERR_TRACE_DIR_CONFLICT"
    assert (tmp_path / "taken").read_text() == "a file, not a directory"


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--trace-dir", "t"],
        ["missing.py"],
        ["--bogus", "x.py"],
        ["--format", "xml", "x.py"],
        ["-m"],
        ["-m", "no_such_module_xyz"],
        ["--on-recorder-error", "explode", "x.py"],
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    write(tmp_path / "x.py", "print('ran')\n")
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "ran" not in proc.stdout
    assert not (tmp_path / "t").exists()


def test_version(tmp_path: Path) -> None:
    proc = run_cli("--version", cwd=tmp_path)
    assert proc.returncode == 0
    assert "codetracer-python-recorder 0.4.0" in proc.stdout
    assert "codetracer-python-recorder-core 0.4.0" in proc.stdout


def test_help_explains_usage(tmp_path: Path) -> None:
    proc = run_cli("--help", cwd=tmp_path)
    assert proc.returncode == 0
    for text in (
        "script.py [args ...]",
        "-m package.module",
        "--trace-dir",
        "examples:",
        "exit status",
    ):
        assert text in proc.stdout


def test_split_argv() -> None:
    flags = _value_flags(build_parser())
    split = split_argv(["--format", "json", "--require-trace", "s.py", "--format", "x"], flags)
    assert split.options == ["--format", "json", "--require-trace"]
    assert split.script == "s.py"
    assert split.program_args == ("--format", "x")
    split = split_argv(["--trace-dir=out", "-m", "pkg.mod", "-m", "z"], flags)
    assert (split.options, split.module, split.program_args) == (
        ["--trace-dir=out"],
        "pkg.mod",
        ("-m", "z"),
    )
    assert split_argv(["--", "-weird.py"], flags).script == "-weird.py"
    assert split_argv(["--trace-dir"], flags).script is None


def test_cli_ignores_codetracer_trace_of_the_environment(tmp_path: Path) -> None:
    script = write(tmp_path / "fib.py", FIB)
    env = {"CODETRACER_TRACE": str(tmp_path / "auto")}
    proc = run_cli("--trace-dir", "t", script, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "auto").exists()
    assert "fib" in Trace(tmp_path / "t").function_names
