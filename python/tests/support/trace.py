"""The one view of a recorded trace: :class:`Trace`, read back through the public API.

Records are the JSON shapes of the format (codetracer_trace_types 0.16; ``{"Step": {...}}``;
TRACE_FORMAT §3), read with :func:`codetracer_python_recorder.read_trace`; ids (``path_id``,
``function_id``, ``variable_id``, ``type_id``) index the lists of declarations in record
order.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import codetracer_python_recorder as ctr

from support.reference import consumer_check

EVENT_ERROR = 11  # EventLogKind::Error
PACKAGE_DIR = Path(ctr.__file__).resolve().parent


class Trace:
    """A recorded trace directory, read back, with views of its records."""

    def __init__(self, trace_dir: Path | str, *, strict: bool = True) -> None:
        """Read ``trace_dir``. ``strict`` (the default): the whole file must be there (no
        prefix of a trace cut short), and CodeTracer's own reader (or, for a ``.ct``, the
        independent checker when available) must load it with the same records
        (:func:`support.reference.consumer_check`)."""
        self.dir = Path(trace_dir)
        self.events: list[Any] = ctr.read_trace(str(self.dir), strict=strict)
        self.records: list[tuple[str, Any]] = []
        for e in self.events:
            if isinstance(e, str):  # unit variant ("DropLastStep")
                self.records.append((e, None))
            else:
                assert len(e) == 1, e
                ((k, v),) = e.items()
                self.records.append((k, v))
        if strict:
            consumer_check(self.dir, self.records)

    def of_kind(self, kind: str) -> list[Any]:
        """Payloads of every record of ``kind`` (``"Step"``, ``"Call"``, ...), in order."""
        return [v for k, v in self.records if k == kind]

    # ------------------------------------------------------------------ declarations

    @property
    def paths(self) -> list[str]:
        """Interned paths; a ``path_id`` indexes this list."""
        return self.of_kind("Path")

    @property
    def functions(self) -> list[dict[str, Any]]:
        """Function records; a ``function_id`` indexes this list."""
        return self.of_kind("Function")

    @property
    def types(self) -> list[dict[str, Any]]:
        """Type records; a ``type_id`` indexes this list."""
        return self.of_kind("Type")

    @property
    def function_names(self) -> list[str]:
        return [f["name"] for f in self.functions]

    def function_name(self, function_id: int) -> str:
        return str(self.functions[function_id]["name"])

    @property
    def function_paths(self) -> list[str]:
        paths = self.paths
        return [paths[f["path_id"]] for f in self.functions]

    @property
    def variable_names(self) -> list[str]:
        """Interned variable names; a ``variable_id`` indexes this list."""
        return [v for k, v in self.records if k in ("VariableName", "Variable")]

    def functions_named(self, name: str) -> list[int]:
        return [i for i, f in enumerate(self.functions) if f["name"] == name]

    def type_of(self, value: dict[str, Any]) -> dict[str, Any]:
        return self.types[value["type_id"]]

    # ------------------------------------------------------------------ calls and returns

    def call_names(self) -> list[str]:
        """Names of the called functions, in order."""
        fns = self.functions
        return [fns[c["function_id"]]["name"] for c in self.of_kind("Call")]

    def calls_of(self, name: str) -> list[dict[str, Any]]:
        ids = set(self.functions_named(name))
        return [c for c in self.of_kind("Call") if c["function_id"] in ids]

    def arg(self, call: dict[str, Any], name: str) -> Any:
        names = self.variable_names
        for a in call["args"]:
            if names[a["variable_id"]] == name:
                return a["value"]
        raise KeyError(name)

    def arg_names(self, call: dict[str, Any]) -> list[str]:
        names = self.variable_names
        return [names[a["variable_id"]] for a in call["args"]]

    def returns(self) -> list[Any]:
        """Every returned value, in order."""
        return [r["return_value"] for r in self.of_kind("Return")]

    @property
    def toplevel_return(self) -> dict[str, Any]:
        """The value returned by ``<toplevel>``: the last Return of a balanced trace."""
        result: dict[str, Any] = self.returns()[-1]
        return result

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
            elif k == "Return" and stacks[cur]:
                out[stacks[cur].pop()][2] = v["return_value"]
        return [(name, call, ret) for name, call, ret in out]

    def returns_of(self, name: str) -> list[Any]:
        return [r for n, _, r in self.frames() if n == name]

    # ------------------------------------------------------------------ steps and values

    def steps(self) -> list[tuple[str, int]]:
        """Every step as (path, line)."""
        paths = self.paths
        return [(paths[s["path_id"]], s["line"]) for s in self.of_kind("Step")]

    def lines_in(self, filename: str) -> list[int]:
        """Lines stepped in files whose name is ``filename``, in step order."""
        return [line for p, line in self.steps() if Path(p).name == filename]

    def values(self, name: str) -> list[Any]:
        """Every Value record of variable ``name`` (not call arguments)."""
        names = self.variable_names
        return [
            v["value"] for k, v in self.records if k == "Value" and names[v["variable_id"]] == name
        ]

    def values_and_args(self, name: str) -> list[dict[str, Any]]:
        """Every recorded value of the variable ``name``: Value records and call arguments."""
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
        """The ``Int`` values of ``name`` among :meth:`values_and_args`."""
        return [v["i"] for v in self.values_and_args(name) if v.get("kind") == "Int"]

    def struct_fields(self, value: dict[str, Any]) -> dict[str, Any]:
        assert value["kind"] == "Struct", value
        t = self.type_of(value)
        names = [f["name"] for f in t["specific_info"]["fields"]]
        assert len(names) == len(value["field_values"]), (t, value)
        return dict(zip(names, value["field_values"], strict=True))

    # ------------------------------------------------------------------ events, threads, files

    def errors(self) -> list[str]:
        """Contents of the Error events."""
        return [e["content"] for e in self.of_kind("Event") if e["kind"] == EVENT_ERROR]

    def thread_records(self) -> list[tuple[str, Any]]:
        return [(k, v) for k, v in self.records if k.startswith("Thread")]

    @property
    def metadata(self) -> dict[str, Any]:
        """``trace_metadata.json``."""
        result: dict[str, Any] = json.loads((self.dir / "trace_metadata.json").read_text())
        return result


def decode(value: dict[str, Any]) -> Any:
    """A value record as a plain Python value (Raw → ``("raw", text)``)."""
    kind = value["kind"]
    if kind == "Int":
        return value["i"]
    if kind == "BigInt":
        n = int.from_bytes(base64.b64decode(value["b"]), "big")
        return -n if value["negative"] else n
    if kind == "Float":
        return float(value["f"])
    if kind == "Bool":
        return value["b"]
    if kind == "String":
        return value["text"]
    if kind == "None":
        return None
    if kind == "Sequence":
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
    return 1 + max((value_depth(k) for k in value_children(value)), default=0)


def value_children(value: dict[str, Any]) -> list[Any]:
    """The values nested directly in a value record (elements, fields, contents)."""
    kids: list[Any] = []
    for key in ("elements", "field_values"):
        kids.extend(value.get(key) or [])
    kids.extend(
        value[key] for key in ("contents", "dereferenced") if isinstance(value.get(key), dict)
    )
    return kids


def value_nodes(value: Any) -> int:
    """Nodes of a value record: itself and every value nested in it (as ``max_value_nodes``
    counts them: a dict entry is its pair, key and value)."""
    if not isinstance(value, dict):
        return 0
    return 1 + sum(value_nodes(k) for k in value_children(value))


def all_values(trace: Trace) -> list[Any]:
    """Every value of ``trace`` in record order: Value records, call arguments, returns."""
    found: list[Any] = []
    for k, v in trace.records:
        if k == "Value":
            found.append(v["value"])
        elif k == "Call":
            found.extend(a["value"] for a in v["args"])
        elif k == "Return":
            found.append(v["return_value"])
    return found


def max_value_depth(trace: Trace) -> int:
    """The deepest value anywhere in ``trace`` (Value records, arguments, returns)."""
    return max((value_depth(v) for v in all_values(trace)), default=0)
