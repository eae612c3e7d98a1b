"""Record programs in a subprocess and validate the traces (TRACE_FORMAT §7/§9, SPEC §5).

Used by ``python/tests/test_recording_*.py``. Not a test module (no ``test_`` prefix).

- :func:`record` runs ``_driver.py`` (start_tracing with the program as activation path, then
  ``runpy.run_path`` and ``stop_tracing(exit_code, error)``) in a fresh interpreter.
- :func:`record_code` runs an arbitrary ``python -c`` snippet (mid-stack starts, kills).
- :class:`Trace` reads the trace back with the native ``read_trace`` and offers views.
- :func:`check_trace` validates the structural rules every trace must satisfy.
"""

from __future__ import annotations

import base64
import json
import math
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codetracer_python_recorder_core import _native

PROGRAMS = Path(__file__).resolve().parent
DRIVER = PROGRAMS / "_driver.py"
FORMATS = ("binary", "json")
EVENT_ERROR = 11
TYPE_KIND_NONE = 30
MAX_VALUE_DEPTH = 60
DECLARATIONS = {"Type", "VariableName", "Variable", "Path", "Function"}


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODETRACER_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONHASHSEED"] = "0"
    env.update(extra or {})
    return env


@dataclass
class Run:
    """A finished recording subprocess."""

    proc: subprocess.CompletedProcess[str]
    trace_dir: Path
    summary: dict[str, Any] | None = None
    _trace: Trace | None = field(default=None, repr=False)

    @property
    def trace(self) -> Trace:
        if self._trace is None:
            assert self.proc.returncode >= 0, f"recorder process died: {self.proc.stderr[-3000:]}"
            self._trace = Trace(self.trace_dir)
        return self._trace


def record(
    program: str | Path,
    fmt: str,
    tmp_path: Path,
    *,
    timeout: float = 60,
    args: list[str] | None = None,
    check: bool = True,
) -> Run:
    """Record ``program`` (a name in ``programs/`` or a path) through the CLI-like flow."""
    program = Path(program)
    if not program.is_absolute():
        program = PROGRAMS / program
    trace_dir = tmp_path / f"trace-{fmt}-{program.stem}"
    summary_file = tmp_path / f"summary-{fmt}-{program.stem}.json"
    proc = subprocess.run(
        [sys.executable, str(DRIVER), str(trace_dir), fmt, str(program), str(summary_file),
         *(args or [])],
        cwd=tmp_path,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else None
    run = Run(proc, trace_dir, summary)
    if check:
        assert summary_file.exists(), f"driver did not finish:\n{proc.stderr[-5000:]}"
        check_trace(run.trace)
    return run


def run_untraced(program: str | Path, tmp_path: Path, args: list[str] | None = None,
                 timeout: float = 60) -> subprocess.CompletedProcess[str]:
    program = Path(program)
    if not program.is_absolute():
        program = PROGRAMS / program
    return subprocess.run(
        [sys.executable, str(program), *(args or [])],
        cwd=tmp_path, env=child_env(), capture_output=True, text=True, timeout=timeout,
        check=False,
    )


def record_code(code: str, tmp_path: Path, *, timeout: float = 60,
                name: str = "snippet.py") -> subprocess.CompletedProcess[str]:
    """Run ``code`` (dedented) as a script file in ``tmp_path`` (``TRACE_DIR`` in its env)."""
    script = tmp_path / name
    script.write_text(textwrap.dedent(code).lstrip())
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path, env=child_env(), capture_output=True, text=True, timeout=timeout,
        check=False,
    )


# --------------------------------------------------------------------------- trace views


class Trace:
    """A trace directory read back with the native reader."""

    def __init__(self, trace_dir: Path | str, *, strict: bool = True) -> None:
        """Read ``trace_dir``; ``strict`` (the default) requires runtime_tracing's reader to
        accept the whole file (no prefix of a trace cut short)."""
        self.dir = Path(trace_dir)
        self.events: list[Any] = _native.read_trace(str(self.dir), strict=strict)
        self.records: list[tuple[str, Any]] = []
        for e in self.events:
            if isinstance(e, str):  # unit variant ("DropLastStep")
                self.records.append((e, None))
            else:
                assert len(e) == 1, e
                ((k, v),) = e.items()
                self.records.append((k, v))

    def of_kind(self, kind: str) -> list[Any]:
        return [v for k, v in self.records if k == kind]

    @property
    def paths(self) -> list[str]:
        return self.of_kind("Path")

    @property
    def functions(self) -> list[dict[str, Any]]:
        return self.of_kind("Function")

    @property
    def types(self) -> list[dict[str, Any]]:
        return self.of_kind("Type")

    @property
    def function_names(self) -> list[str]:
        return [f["name"] for f in self.functions]

    @property
    def variable_names(self) -> list[str]:
        return [v for k, v in self.records if k in ("VariableName", "Variable")]

    def functions_named(self, name: str) -> list[int]:
        return [i for i, f in enumerate(self.functions) if f["name"] == name]

    def calls_of(self, name: str) -> list[dict[str, Any]]:
        ids = set(self.functions_named(name))
        return [c for c in self.of_kind("Call") if c["function_id"] in ids]

    def call_names(self) -> list[str]:
        fns = self.functions
        return [fns[c["function_id"]]["name"] for c in self.of_kind("Call")]

    def arg(self, call: dict[str, Any], name: str) -> Any:
        names = self.variable_names
        for a in call["args"]:
            if names[a["variable_id"]] == name:
                return a["value"]
        raise KeyError(name)

    def arg_names(self, call: dict[str, Any]) -> list[str]:
        names = self.variable_names
        return [names[a["variable_id"]] for a in call["args"]]

    def values(self, name: str) -> list[Any]:
        """Every Value record of variable ``name`` (not call args)."""
        names = self.variable_names
        out = []
        for k, v in self.records:
            if k == "Value" and names[v["variable_id"]] == name:
                out.append(v["value"])
        return out

    def steps(self) -> list[tuple[str, int]]:
        paths = self.paths
        return [(paths[s["path_id"]], s["line"]) for s in self.of_kind("Step")]

    def lines_in(self, filename: str) -> list[int]:
        return [line for p, line in self.steps() if Path(p).name == filename]

    def returns(self) -> list[Any]:
        return [r["return_value"] for r in self.of_kind("Return")]

    def frames(self) -> list[tuple[str, dict[str, Any], Any]]:
        """(function name, call record, return value or None) per call, matched by a stack
        per thread."""
        fns = self.functions
        stacks: dict[Any, list[int]] = {"main": []}
        alias: dict[int, Any] = {}
        started: set[int] = set()
        cur: Any = "main"
        out: list[list[Any]] = []
        for k, v in self.records:
            if k == "ThreadStart":
                started.add(v)
            elif k == "ThreadSwitch":
                cur = v if v in started else alias.setdefault(v, "main")
                stacks.setdefault(cur, [])
            elif k == "Call":
                out.append([fns[v["function_id"]]["name"], v, None])
                stacks[cur].append(len(out) - 1)
            elif k == "Return":
                if stacks[cur]:
                    out[stacks[cur].pop()][2] = v["return_value"]
        return [tuple(x) for x in out]  # type: ignore[misc]

    def returns_of(self, name: str) -> list[Any]:
        return [r for n, _, r in self.frames() if n == name]

    def type_of(self, value: dict[str, Any]) -> dict[str, Any]:
        return self.types[value["type_id"]]

    def struct_fields(self, value: dict[str, Any]) -> dict[str, Any]:
        assert value["kind"] == "Struct", value
        t = self.type_of(value)
        names = [f["name"] for f in t["specific_info"]["fields"]]
        assert len(names) == len(value["field_values"]), (t, value)
        return dict(zip(names, value["field_values"], strict=True))

    def errors(self) -> list[str]:
        return [e["content"] for e in self.of_kind("Event") if e["kind"] == EVENT_ERROR]

    @property
    def metadata(self) -> dict[str, Any]:
        return json.loads((self.dir / "trace_metadata.json").read_text())

    def thread_records(self) -> list[tuple[str, Any]]:
        return [(k, v) for k, v in self.records if k.startswith("Thread")]


def decode(value: dict[str, Any]) -> Any:
    """A value record as a plain Python value (Raw → ``("raw", text)``)."""
    kind = value["kind"]
    if kind == "Int":
        return value["i"]
    if kind == "BigInt":
        n = int.from_bytes(base64.b64decode(value["b"]), "big")
        return -n if value["negative"] else n
    if kind == "Float":
        return value["f"]
    if kind == "Bool":
        return value["b"]
    if kind == "String":
        return value["text"]
    if kind == "None":
        return None
    if kind in ("Sequence",):
        return [decode(e) for e in value["elements"]]
    if kind == "Tuple":
        return tuple(decode(e) for e in value["elements"])
    if kind == "Raw":
        return ("raw", value["r"])
    if kind == "Struct":
        return ("struct", [decode(e) for e in value["field_values"]])
    return (kind, value)


def value_depth(value: Any) -> int:
    """Nesting depth of a value record (a scalar is 1)."""
    if not isinstance(value, dict):
        return 0
    kids: list[Any] = []
    for key in ("elements", "field_values"):
        kids.extend(value.get(key) or [])
    for key in ("contents", "dereferenced"):
        if isinstance(value.get(key), dict):
            kids.append(value[key])
    return 1 + max((value_depth(k) for k in kids), default=0)


def max_value_depth(trace: Trace) -> int:
    best = 0
    for k, v in trace.records:
        if k == "Value":
            best = max(best, value_depth(v["value"]))
        elif k == "Call":
            for a in v["args"]:
                best = max(best, value_depth(a["value"]))
        elif k == "Return":
            best = max(best, value_depth(v["return_value"]))
    return best


# --------------------------------------------------------------------------- the checker


# value kind -> TypeKinds its type may have (TRACE_FORMAT §3.2); Raw/Error may use any type
VALUE_TYPE_KINDS = {
    "Int": {7}, "BigInt": {7}, "Float": {8}, "Bool": {12}, "String": {9}, "None": {30},
    "Struct": {6}, "Tuple": {27}, "Sequence": {0, 1, 2, 3, 4, 33},
}


def _walk_value(value: Any, types: list[dict[str, Any]], where: str, depth: int = 1) -> None:
    assert isinstance(value, dict) and "kind" in value, f"{where}: not a value record: {value!r}"
    assert depth < MAX_VALUE_DEPTH, f"{where}: value nested {depth} deep"
    kind = value["kind"]
    n_types = len(types)
    if kind != "Cell":
        tid = value.get("type_id")
        assert isinstance(tid, int) and 0 <= tid < n_types, (
            f"{where}: type_id {tid} used before its Type record ({n_types} declared)")
        allowed = VALUE_TYPE_KINDS.get(kind)
        assert allowed is None or types[tid]["kind"] in allowed, (
            f"{where}: {kind} value typed {types[tid]}")
        if kind == "Struct":
            fields = types[tid]["specific_info"].get("fields")
            assert fields is not None and len(fields) == len(value["field_values"]), (
                f"{where}: Struct with {len(value['field_values'])} values, type {types[tid]}")
    if kind == "Float":
        f = value["f"]
        assert f is not None and isinstance(f, (int, float)) and math.isfinite(f), (
            f"{where}: non-finite Float {f!r}")
    for key in ("elements", "field_values"):
        for e in value.get(key) or []:
            _walk_value(e, types, where, depth + 1)
    for key in ("contents", "dereferenced"):
        if isinstance(value.get(key), dict):
            _walk_value(value[key], types, where, depth + 1)


def check_trace(trace: Trace) -> None:  # noqa: C901
    """TRACE_FORMAT §7/§9 structural rules; raises AssertionError naming the record."""
    recs = trace.records
    assert len(recs) >= 4, f"trace too short: {recs}"
    # Opening records.
    assert recs[0][0] == "Path", recs[:4]
    assert recs[1] == ("Function", {"path_id": 0, "line": 1, "name": "<toplevel>"}) or (
        recs[1][0] == "Function" and recs[1][1]["name"] == "<toplevel>"
        and recs[1][1]["path_id"] == 0), recs[:4]
    assert recs[2][0] == "Call" and recs[2][1]["function_id"] == 0, recs[:4]
    assert recs[3][0] == "Type" and recs[3][1]["kind"] == TYPE_KIND_NONE, recs[:4]

    n_paths = n_funcs = n_types = n_vars = 0
    types: list[dict[str, Any]] = []
    funcs: list[dict[str, Any]] = []
    fields_declared_ok = True
    started: set[int] = set()
    alias: dict[int, str] = {}
    cur: Any = "main"
    depth: dict[Any, int] = {"main": 0}
    last_step: dict[Any, tuple[int, int] | None] = {"main": None}
    since_step_clean: dict[Any, bool] = {"main": False}
    n_calls = n_returns = 0
    seen_call = False
    last_event_index = None
    last_error_index = None
    exited: set[int] = set()
    for i, (k, v) in enumerate(recs):
        where = f"record #{i} {k}"
        if k == "Path":
            assert isinstance(v, str) and v, where
            n_paths += 1
        elif k == "Function":
            assert 0 <= v["path_id"] < n_paths, f"{where}: path_id {v['path_id']} undeclared"
            assert isinstance(v["line"], int) and v["line"] >= 0, where
            funcs.append(v)
            n_funcs += 1
        elif k == "Type":
            info = v["specific_info"]
            if info.get("kind") == "Struct":
                for f in info["fields"]:
                    # a field's type may only reference an earlier type (or itself)
                    fields_declared_ok &= 0 <= f["type_id"] <= n_types
                    assert isinstance(f["name"], str), where
            types.append(v)
            n_types += 1
        elif k in ("VariableName", "Variable"):
            assert isinstance(v, str), where
            n_vars += 1
        elif k == "Step":
            assert seen_call, f"{where}: Step before any Call"
            assert 0 <= v["path_id"] < n_paths, f"{where}: path_id undeclared"
            last_step[cur] = (v["path_id"], v["line"])
            since_step_clean[cur] = True
        elif k == "Value":
            assert 0 <= v["variable_id"] < n_vars, f"{where}: variable_id undeclared"
            _walk_value(v["value"], types, where)
            since_step_clean[cur] = False
        elif k == "Call":
            fid = v["function_id"]
            assert 0 <= fid < n_funcs, f"{where}: function_id {fid} undeclared"
            for a in v["args"]:
                assert 0 <= a["variable_id"] < n_vars, f"{where}: arg variable_id undeclared"
                _walk_value(a["value"], types, where)
            if seen_call:
                fn = funcs[fid]
                assert since_step_clean[cur] and last_step[cur] == (fn["path_id"], fn["line"]), (
                    f"{where}: Call of {fn['name']!r} not preceded by a Step at its definition "
                    f"line {(fn['path_id'], fn['line'])}; last step {last_step[cur]}")
            seen_call = True
            depth[cur] += 1
            n_calls += 1
            since_step_clean[cur] = False
        elif k == "Return":
            _walk_value(v["return_value"], types, where)
            depth[cur] -= 1
            n_returns += 1
            assert depth[cur] >= 0, f"{where}: Return without a Call (thread {cur})"
            since_step_clean[cur] = False
        elif k == "Event":
            assert isinstance(v["kind"], int) and isinstance(v["content"], str), where
            last_event_index = i
            if v["kind"] == EVENT_ERROR:
                last_error_index = i
        elif k == "ThreadStart":
            assert v not in started or v in exited, f"{where}: thread {v} started twice"
            started.add(v)
            exited.discard(v)
            depth.setdefault(v, 0)
            last_step.setdefault(v, None)
            since_step_clean.setdefault(v, False)
        elif k == "ThreadSwitch":
            if v in started:
                cur = v
            else:
                cur = alias.setdefault(v, "main")
        elif k == "ThreadExit":
            assert v in started, f"{where}: ThreadExit of an unknown thread {v}"
            assert depth.get(v, 0) == 0, f"{where}: thread {v} exits with {depth[v]} open calls"
            exited.add(v)
        elif k in ("BindVariable", "Assignment", "DropVariables"):
            raise AssertionError(f"{where}: unsupported by CodeTracer")
        else:
            assert k in ("Asm", "DropLastStep", "CompoundValue", "CellValue", "AssignCompoundItem",
                         "AssignCell", "VariableCell", "DropVariable"), f"{where}: unknown kind"
    assert fields_declared_ok, "a Struct field references a type declared later"
    assert n_calls == n_returns, f"{n_calls} Calls but {n_returns} Returns"
    for t, d in depth.items():
        assert d == 0, f"thread {t} ends with depth {d}"
    if last_error_index is not None:
        assert last_error_index == last_event_index, "an Error Event is not the last Event"
    if started:
        assert any(k == "ThreadSwitch" for k, _ in recs), "ThreadStart without ThreadSwitch"
