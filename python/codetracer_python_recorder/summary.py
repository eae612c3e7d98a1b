"""``codetracer-python-recorder summary DIR``: what a recorded trace holds, in one pass.

:func:`summarize_trace` streams the records with :func:`~codetracer_python_recorder.iter_trace`
(it never holds the event list, only counters per kind and per function), so it works on
traces of any length. :func:`format_summary` renders the result for people; ``--json`` prints
the :class:`TraceStats` dict itself.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict

import codetracer_python_recorder_core as core

from codetracer_python_recorder._usage import CliUsageError, UsageParser, report_usage_error
from codetracer_python_recorder.api import PathLike, iter_trace
from codetracer_python_recorder.errors import ERR_IO, RecorderError, error_line, format_error

EVENT_KIND_ERROR = 11
"""runtime_tracing ``EventLogKind::Error``: an uncaught exception (type, message, traceback)."""
DEFAULT_TOP = 10
"""How many functions :func:`summarize_trace` lists by calls and by steps."""
ERROR_TEXTS_KEPT = 3
"""How many Error event texts :func:`summarize_trace` keeps (all are counted)."""
# file name -> format, from the core (the trace-stream crate names every file once)
_EVENTS_FILES = {name: fmt for fmt, name in core.EVENTS_FILES.items()}
# Records that declare (intern) something; they may sit between a Step and its Call.
_DECLARATIONS = frozenset({"Path", "Function", "Type", "VariableName", "Variable"})


class FunctionStats(TypedDict):
    """One recorded function (a ``Function`` record) and what it did."""

    name: str
    """``co_qualname``, or ``<module.name>`` for module-level code."""
    path: str
    line: int
    """The definition line."""
    calls: int
    """``Call`` records of it (a generator counts once per resume)."""
    steps: int
    """``Step`` records in it: its definition-line step at each call, then each line step
    while it was the innermost frame of its thread."""


class ErrorStats(TypedDict):
    """The ``Error`` events (uncaught exceptions) of a trace."""

    count: int
    first: list[str]
    """The texts of the first few, in order."""


class ExitStatus(TypedDict):
    """``process_exit_status`` of ``trace_metadata.json``."""

    code: int | None
    label: str | None


class TraceStats(TypedDict):
    """What :func:`summarize_trace` returns (and ``summary --json`` prints)."""

    trace_dir: str
    format: str
    """``binary``, ``json`` or ``unknown``."""
    files: dict[str, int]
    """Size in bytes of each file in the trace directory."""
    total_bytes: int
    records: int
    records_by_kind: dict[str, int]
    """Record count per kind, most frequent first."""
    functions: int
    """``Function`` records (recorded functions, by code object)."""
    top_by_calls: list[FunctionStats]
    top_by_steps: list[FunctionStats]
    threads: int
    """Threads that recorded events: the first one plus one per ``ThreadStart``."""
    errors: ErrorStats
    program: str | None
    args: list[str]
    exit_status: ExitStatus | None
    """``None`` when the metadata is missing or has no exit status."""


def exit_status_from(value: object) -> ExitStatus | None:
    """Normalise ``process_exit_status``: a bare int (older traces) or ``{"code", "label"}``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return {"code": value, "label": None}
    if isinstance(value, dict):
        code, label = value.get("code"), value.get("label")
        return {
            "code": code if isinstance(code, int) and not isinstance(code, bool) else None,
            "label": label if isinstance(label, str) else None,
        }
    return None


def _metadata(trace_dir: Path) -> dict[str, object]:
    """``trace_metadata.json``, or ``{}`` when it is missing or unreadable (as the debugger)."""
    try:
        data = json.loads((trace_dir / core.METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _format_of(files: dict[str, int], metadata: dict[str, object]) -> str:
    found = [fmt for name, fmt in _EVENTS_FILES.items() if name in files]
    if len(found) == 1:
        return found[0]
    declared = metadata.get("format")
    return declared if isinstance(declared, str) else "unknown"


class _Counters:
    """The running state of one pass over the records."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.paths: list[str] = []
        self.functions: list[tuple[str, int, int]] = []  # name, path_id, line
        self.calls: Counter[int] = Counter()
        self.steps: Counter[int] = Counter()
        self.stacks: dict[object, list[int]] = {None: []}  # function ids per thread
        self.started: set[object] = set()
        self.current: object = None  # None: the thread that started the recording
        self.thread_starts = 0
        self.errors = 0
        self.error_texts: list[str] = []
        # A Step right before a Call (declarations aside) is the callee's definition line
        # (SPEC §5.1), so a Step is counted when the next record shows whose it is.
        self.pending_step = False

    def flush_step(self) -> None:
        """Count a pending Step for the innermost frame of the current thread."""
        if self.pending_step:
            self.pending_step = False
            stack = self.stacks[self.current]
            if stack:
                self.steps[stack[-1]] += 1

    def add(self, kind: str, payload: object) -> None:
        self.kinds[kind] += 1
        if kind == "Call" and isinstance(payload, dict):
            fid = payload.get("function_id")
            if isinstance(fid, int):
                self.calls[fid] += 1
                self.stacks[self.current].append(fid)
                if self.pending_step:
                    self.pending_step = False
                    self.steps[fid] += 1
            return
        if kind not in _DECLARATIONS:
            self.flush_step()
        if kind == "Step":
            self.pending_step = True
        elif kind == "Return":
            stack = self.stacks[self.current]
            if stack:
                stack.pop()
        elif kind == "Path":
            self.paths.append(str(payload))
        elif kind == "Function" and isinstance(payload, dict):
            path_id, line = payload.get("path_id"), payload.get("line")
            self.functions.append(
                (
                    str(payload.get("name")),
                    path_id if isinstance(path_id, int) else -1,
                    line if isinstance(line, int) else 0,
                )
            )
        elif kind == "ThreadStart":
            self.thread_starts += 1
            self.started.add(payload)
            self.stacks[payload] = []
        elif kind == "ThreadSwitch":
            # A switch to a thread that never started is one to the recording's first thread.
            self.current = payload if payload in self.started else None
        elif (
            kind == "Event"
            and isinstance(payload, dict)
            and payload.get("kind") == EVENT_KIND_ERROR
        ):
            self.errors += 1
            if len(self.error_texts) < ERROR_TEXTS_KEPT:
                self.error_texts.append(str(payload.get("content", "")))

    def function(self, fid: int) -> FunctionStats:
        name, path_id, line = self.functions[fid]
        path = self.paths[path_id] if 0 <= path_id < len(self.paths) else "?"
        return {
            "name": name,
            "path": path,
            "line": line,
            "calls": self.calls[fid],
            "steps": self.steps[fid],
        }

    def top(self, by: Counter[int], n: int) -> list[FunctionStats]:
        ranked = sorted((fid for fid in by if fid < len(self.functions)), key=lambda f: (-by[f], f))
        return [self.function(fid) for fid in ranked[:n]]


def summarize_trace(path: PathLike, *, top: int = DEFAULT_TOP, strict: bool = False) -> TraceStats:
    """Summarise the trace directory ``path`` in one streaming pass over its records.

    Counts records by kind, calls and steps per function (the ``top`` busiest by each), the
    threads and the Error events, and reads the program, arguments and exit status from
    ``trace_metadata.json`` (both its older bare-int and its ``{"code", "label"}`` exit
    status). Memory is bounded by the number of functions, not the number of records.

    Raises:
        UsageError: ``ERR_INVALID_TRACE`` when ``path`` holds no readable trace.
        EnvironmentError: ``ERR_IO``; ``ERR_TRACE_INCOMPLETE`` with ``strict``.

    """
    trace_dir = Path(os.fspath(path))
    counters = _Counters()
    for event in iter_trace(trace_dir, strict=strict):
        for kind, payload in event.items():
            counters.add(kind, payload)
    counters.flush_step()
    files = {p.name: p.stat().st_size for p in sorted(trace_dir.iterdir()) if p.is_file()}
    metadata = _metadata(trace_dir)
    program = metadata.get("program")
    args = metadata.get("args")
    return {
        "trace_dir": str(trace_dir),
        "format": _format_of(files, metadata),
        "files": files,
        "total_bytes": sum(files.values()),
        "records": sum(counters.kinds.values()),
        "records_by_kind": dict(counters.kinds.most_common()),
        "functions": len(counters.functions),
        "top_by_calls": counters.top(counters.calls, top),
        "top_by_steps": counters.top(counters.steps, top),
        "threads": 1 + counters.thread_starts,
        "errors": {"count": counters.errors, "first": counters.error_texts},
        "program": program if isinstance(program, str) else None,
        "args": [str(a) for a in args] if isinstance(args, list) else [],
        "exit_status": exit_status_from(metadata.get("process_exit_status")),
    }


def human_size(n: int) -> str:
    """``1536`` → ``1.5 KiB``."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def _function_table(title: str, functions: list[FunctionStats]) -> list[str]:
    if not functions:
        return [f"{title}: none"]
    lines = [f"{title}:", f"  {'calls':>9} {'steps':>10}  function"]
    for f in functions:
        where = f"{Path(f['path']).name}:{f['line']}"
        lines.append(f"  {f['calls']:>9} {f['steps']:>10}  {f['name']} ({where})")
    return lines


def format_summary(stats: TraceStats) -> str:
    """The human-readable summary of :func:`summarize_trace`'s result, several lines."""
    status = stats["exit_status"]
    if status is None:
        status_text = "unknown"
    else:
        parts = [str(status["code"]) if status["code"] is not None else "none"]
        if status["label"]:
            parts.append(f"({status['label']})")
        status_text = " ".join(parts)
    files = ", ".join(f"{name} {human_size(n)}" for name, n in stats["files"].items())
    kinds = ", ".join(f"{k} {n}" for k, n in stats["records_by_kind"].items())
    program = " ".join([stats["program"] or "?", *stats["args"]])
    lines = [
        f"trace: {stats['trace_dir']} ({stats['format']}, {human_size(stats['total_bytes'])})",
        f"files: {files}",
        f"program: {program}",
        f"exit status: {status_text}",
        f"records: {stats['records']} ({kinds})",
        f"threads: {stats['threads']}",
        f"functions: {stats['functions']}",
        *_function_table("top by calls", stats["top_by_calls"]),
        *_function_table("top by steps", stats["top_by_steps"]),
        f"errors: {stats['errors']['count']}",
    ]
    for text in stats["errors"]["first"]:
        last = text.strip().splitlines()[-1] if text.strip() else ""
        lines.append(f"  {last}")
    return "\n".join(lines)


def build_parser(prog: str) -> argparse.ArgumentParser:
    """The argument parser of ``PROG summary``."""
    parser = UsageParser(
        prog=f"{prog} summary",
        description="Summarise a recorded trace directory: records by kind, the busiest "
        "functions by calls and by steps, threads, errors, exit status and file sizes. "
        "Streams the trace, so it works on traces of any size.",
        allow_abbrev=False,
    )
    parser.add_argument(
        "trace_dir",
        metavar="DIR",
        nargs="?",
        default="trace-out",
        help="the trace directory (default: ./trace-out)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--top",
        metavar="N",
        type=int,
        default=DEFAULT_TOP,
        help=f"functions listed by calls and by steps (default: {DEFAULT_TOP})",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail on a trace cut short (default: summarise its readable prefix)",
    )
    return parser


def main(argv: Sequence[str], *, prog: str) -> int:
    """Run ``PROG summary ARGS``: 0 on success, 1 when the trace cannot be read, 2 on usage."""
    parser = build_parser(prog)
    try:
        ns = parser.parse_args(list(argv))
        if ns.top < 0:
            raise CliUsageError("--top must be >= 0")
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 2
    except CliUsageError as exc:
        report_usage_error(parser, str(exc))
        return 2
    try:
        stats = summarize_trace(ns.trace_dir, top=ns.top, strict=ns.strict)
    except RecorderError as exc:
        print(format_error(exc), file=sys.stderr)
        return 1
    except OSError as exc:
        print(error_line(ERR_IO, f"cannot read {ns.trace_dir}: {exc}"), file=sys.stderr)
        return 1
    print(json.dumps(stats, indent=2) if ns.json else format_summary(stats))
    return 0
