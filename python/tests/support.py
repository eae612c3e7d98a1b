"""Test helpers: run the recorder, read a trace back and look at it in handy ways.

Tests import the *installed* packages (``nox -s test-py`` installs both wheels); nothing here
adds the source tree to ``sys.path``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import codetracer_python_recorder as ctr

EVENT_KIND_ERROR = 11  # runtime_tracing EventLogKind::Error
PACKAGE_DIR = Path(ctr.__file__).resolve().parent


class TraceView:
    """A recorded trace directory, read back with ``read_trace``, with convenient views."""

    def __init__(self, trace_dir: Path | str, *, strict: bool = True) -> None:
        """Read ``trace_dir``; ``strict`` (the default) requires runtime_tracing's reader to
        accept the whole file (no prefix of a trace cut short)."""
        self.dir = Path(trace_dir)
        self.events: list[dict[str, Any]] = ctr.read_trace(str(self.dir), strict=strict)
        self.records: list[tuple[str, Any]] = [(k, v) for e in self.events for k, v in e.items()]

    def of_kind(self, kind: str) -> list[Any]:
        """Payloads of every record of ``kind`` (``"Step"``, ``"Call"``, ...), in order."""
        return [v for k, v in self.records if k == kind]

    @property
    def paths(self) -> list[str]:
        """Interned paths; a ``path_id`` indexes this list."""
        return self.of_kind("Path")

    @property
    def functions(self) -> list[dict[str, Any]]:
        """Function records; a ``function_id`` indexes this list."""
        return self.of_kind("Function")

    @property
    def function_names(self) -> list[str]:
        return [f["name"] for f in self.functions]

    def function_name(self, function_id: int) -> str:
        return str(self.functions[function_id]["name"])

    @property
    def function_paths(self) -> list[str]:
        return [self.paths[f["path_id"]] for f in self.functions]

    @property
    def variable_names(self) -> list[str]:
        return [v for k, v in self.records if k in ("VariableName", "Variable")]

    @property
    def steps(self) -> list[tuple[str, int]]:
        """Every step as (path, line)."""
        return [(self.paths[s["path_id"]], s["line"]) for s in self.of_kind("Step")]

    def lines_in(self, filename: str) -> set[int]:
        """Lines stepped in files whose name is ``filename``."""
        return {line for path, line in self.steps if Path(path).name == filename}

    @property
    def calls(self) -> list[str]:
        """Names of the called functions, in order."""
        return [self.function_name(c["function_id"]) for c in self.of_kind("Call")]

    @property
    def returns(self) -> list[dict[str, Any]]:
        return [r["return_value"] for r in self.of_kind("Return")]

    def call_return_balance(self) -> tuple[int, int, int]:
        """(calls, returns, lowest running depth); balanced means calls == returns, lowest >= 0."""
        depth = lowest = calls = returns = 0
        for kind, _ in self.records:
            if kind == "Call":
                calls += 1
                depth += 1
            elif kind == "Return":
                returns += 1
                depth -= 1
                lowest = min(lowest, depth)
        return calls, returns, lowest

    def assert_balanced(self) -> None:
        calls, returns, lowest = self.call_return_balance()
        assert lowest >= 0, "a Return without a matching Call"
        assert calls == returns, f"{calls} calls but {returns} returns"

    def values(self, name: str) -> list[dict[str, Any]]:
        """Every recorded value of the variable ``name`` (Value records and call arguments)."""
        names = self.variable_names
        found = []
        for kind, payload in self.records:
            items = [payload] if kind == "Value" else payload["args"] if kind == "Call" else []
            for item in items:
                vid = item["variable_id"]
                if vid < len(names) and names[vid] == name:
                    found.append(item["value"])
        return found

    def int_values(self, name: str) -> list[int]:
        return [v["i"] for v in self.values(name) if v.get("kind") == "Int"]

    @property
    def toplevel_return(self) -> dict[str, Any]:
        """The value returned by ``<toplevel>``: the last Return of a balanced trace."""
        return self.returns[-1]

    @property
    def errors(self) -> list[str]:
        """Contents of the Error events."""
        return [e["content"] for e in self.of_kind("Event") if e["kind"] == EVENT_KIND_ERROR]

    @property
    def metadata(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads((self.dir / "trace_metadata.json").read_text())
        return result

    def assert_no_recorder_frames(self) -> None:
        for path in self.function_paths:
            assert not Path(path).resolve().is_relative_to(PACKAGE_DIR), path


def write(path: Path, text: str) -> Path:
    """Write dedented ``text`` to ``path`` (creating parents) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child process, without any CODETRACER_* variable of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODETRACER_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra or {})
    return env


def run_python(
    *args: str | Path, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python ARGS...`` in ``cwd`` and capture its output."""
    return subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=cwd,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_cli(
    *args: str | Path, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m codetracer_python_recorder ARGS...`` in ``cwd``."""
    return run_python("-m", "codetracer_python_recorder", *args, cwd=cwd, env=env)
