"""Structural checks every recorded trace must pass (TRACE_FORMAT §7/§9, SPEC §5).

:func:`check_trace` validates a whole trace (declarations before use, balanced calls per
thread, a Step at the definition line before each Call, value types, Error events last);
:func:`assert_balanced` and :func:`assert_no_recorder_frames` are the lighter checks the
API/CLI tests use.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from support.trace import EVENT_ERROR, PACKAGE_DIR, Trace

TYPE_KIND_NONE = 30
MAX_VALUE_DEPTH = 60


def call_return_balance(trace: Trace) -> tuple[int, int, int]:
    """(calls, returns, lowest running depth); balanced means calls == returns, lowest >= 0."""
    depth = lowest = calls = returns = 0
    for kind, _ in trace.records:
        if kind == "Call":
            calls += 1
            depth += 1
        elif kind == "Return":
            returns += 1
            depth -= 1
            lowest = min(lowest, depth)
    return calls, returns, lowest


def assert_balanced(trace: Trace) -> None:
    """Never more Returns than Calls at any point, and as many of each in the end."""
    calls, returns, lowest = call_return_balance(trace)
    assert lowest >= 0, "a Return without a matching Call"
    assert calls == returns, f"{calls} calls but {returns} returns"


def assert_no_recorder_frames(trace: Trace) -> None:
    """No recorded function comes from the recorder's own package."""
    for path in trace.function_paths:
        assert not Path(path).resolve().is_relative_to(PACKAGE_DIR), path


# value kind -> TypeKinds its type may have (TRACE_FORMAT §3.2); Raw/Error may use any type
FLOAT_TEXT = re.compile(r"NaN|-?inf|-?\d+(\.\d+)?(e-?\d+)?")
"""The text of ``Float.f``: Rust's shortest round-trip form of an f64."""

VALUE_TYPE_KINDS = {
    "Int": {7},
    "BigInt": {7},
    "Float": {8},
    "Bool": {12},
    "String": {9},
    "None": {30},
    "Struct": {6},
    "Tuple": {27},
    "Sequence": {0, 1, 2, 3, 4, 33},
}


def _walk_value(value: Any, types: list[dict[str, Any]], where: str, depth: int = 1) -> None:
    assert isinstance(value, dict) and "kind" in value, f"{where}: not a value record: {value!r}"
    assert depth < MAX_VALUE_DEPTH, f"{where}: value nested {depth} deep"
    kind = value["kind"]
    n_types = len(types)
    if kind != "Cell":
        tid = value.get("type_id")
        assert isinstance(tid, int) and 0 <= tid < n_types, (
            f"{where}: type_id {tid} used before its Type record ({n_types} declared)"
        )
        allowed = VALUE_TYPE_KINDS.get(kind)
        assert allowed is None or types[tid]["kind"] in allowed, (
            f"{where}: {kind} value typed {types[tid]}"
        )
        if kind == "Struct":
            fields = types[tid]["specific_info"].get("fields")
            assert fields is not None and len(fields) == len(value["field_values"]), (
                f"{where}: Struct with {len(value['field_values'])} values, type {types[tid]}"
            )
    if kind == "Float":
        # codetracer_trace_types 0.16: a decimal string f64::from_str reads ("NaN", "inf" too).
        f = value["f"]
        assert isinstance(f, str) and FLOAT_TEXT.fullmatch(f), f"{where}: Float.f {f!r}"
    for key in ("elements", "field_values"):
        for e in value.get(key) or []:
            _walk_value(e, types, where, depth + 1)
    for key in ("contents", "dereferenced"):
        if isinstance(value.get(key), dict):
            _walk_value(value[key], types, where, depth + 1)


def check_trace(trace: Trace) -> None:
    """TRACE_FORMAT §7/§9 structural rules; raises AssertionError naming the record."""
    recs = trace.records
    assert len(recs) >= 4, f"trace too short: {recs}"
    # Opening records.
    assert recs[0][0] == "Path", recs[:4]
    assert recs[1] == ("Function", {"path_id": 0, "line": 1, "name": "<toplevel>"}) or (
        recs[1][0] == "Function"
        and recs[1][1]["name"] == "<toplevel>"
        and recs[1][1]["path_id"] == 0
    ), recs[:4]
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
            assert isinstance(v["line"], int) and v["line"] >= 1, f"{where}: line {v['line']}"
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
            assert isinstance(v["line"], int) and v["line"] >= 1, f"{where}: line {v['line']}"
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
                    f"line {(fn['path_id'], fn['line'])}; last step {last_step[cur]}"
                )
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
            assert v not in exited, f"{where}: switch to thread {v}, which exited"
            cur = v if v in started else alias.setdefault(v, "main")
        elif k == "ThreadExit":
            assert v in started, f"{where}: ThreadExit of an unknown thread {v}"
            assert depth.get(v, 0) == 0, f"{where}: thread {v} exits with {depth[v]} open calls"
            exited.add(v)
        elif k in ("BindVariable", "Assignment", "DropVariables"):
            raise AssertionError(f"{where}: unsupported by CodeTracer")
        else:
            assert k in (
                "Asm",
                "DropLastStep",
                "CompoundValue",
                "CellValue",
                "AssignCompoundItem",
                "AssignCell",
                "VariableCell",
                "DropVariable",
            ), f"{where}: unknown kind"
    assert fields_declared_ok, "a Struct field references a type declared later"
    assert n_calls == n_returns, f"{n_calls} Calls but {n_returns} Returns"
    for t, d in depth.items():
        assert d == 0, f"thread {t} ends with depth {d}"
    if last_error_index is not None:
        assert last_error_index == last_event_index, "an Error Event is not the last Event"
    if started:
        assert any(k == "ThreadSwitch" for k, _ in recs), "ThreadStart without ThreadSwitch"
