"""Helpers of ``python/tests/test_filters_*.py``: copy a fixture project from
``filter_projects/``, record it with the CLI, read the trace back and look at its
``trace_filter`` metadata block.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from support.checks import check_trace
from support.run import FORMATS, TESTS, run_cli
from support.trace import Trace

FILTER_PROJECTS = TESTS / "filter_projects"

__all__ = [
    "DROPPED",
    "FILTER_PROJECTS",
    "FORMATS",
    "REDACTED",
    "Trace",
    "chain",
    "copy_project",
    "filter_stats",
    "is_marker",
    "raw_markers",
    "record_cli",
    "sha256_of",
]

REDACTED = "<redacted>"
DROPPED = "<dropped>"


def copy_project(name: str, tmp_path: Path) -> Path:
    """Copy ``filter_projects/NAME`` into ``tmp_path`` (recordings never touch the repo)."""
    dest = tmp_path / name
    shutil.copytree(
        FILTER_PROJECTS / name, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    return dest


def record_cli(
    script: Path | str,
    trace_dir: Path,
    *flags: str | Path,
    cwd: Path,
    fmt: str = "json",
    env: Mapping[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess[str], Trace]:
    """``python -m codetracer_python_recorder --trace-dir D --format F FLAGS... SCRIPT``; the
    recording must succeed and the trace pass ``check_trace``."""
    proc = run_cli("--trace-dir", trace_dir, "--format", fmt, *flags, script, cwd=cwd, env=env)
    assert proc.returncode == 0, f"exit {proc.returncode}:\n{proc.stderr[-4000:]}"
    trace = Trace(trace_dir)
    check_trace(trace)
    return proc, trace


def filter_block(trace: Trace) -> dict[str, Any]:
    block = trace.metadata.get("trace_filter")
    assert isinstance(block, dict), f"no trace_filter block in {trace.metadata}"
    return block


def chain(trace: Trace) -> list[tuple[str, str]]:
    """The filter chain recorded in the metadata, as (name, path) pairs."""
    return [(f["name"], f["path"]) for f in filter_block(trace)["filters"]]


def filter_stats(trace: Trace) -> dict[str, Any]:
    stats: dict[str, Any] = filter_block(trace)["stats"]
    return stats


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_marker(value: dict[str, Any], marker: str) -> bool:
    return value.get("kind") == "Raw" and value.get("r") == marker


def raw_markers(trace: Trace, marker: str) -> dict[str, int]:
    """How many values are ``marker`` per record kind: ``value`` (Value records), ``arg``
    (Call arguments), ``ret`` (Return values) and ``field`` (struct fields at any depth)."""
    counts = {"value": 0, "arg": 0, "ret": 0, "field": 0}

    def fields(value: dict[str, Any]) -> int:
        n = 0
        for f in value.get("field_values") or []:
            n += is_marker(f, marker) + fields(f)
        for e in value.get("elements") or []:
            n += fields(e)
        return n

    for kind, payload in trace.records:
        if kind == "Value":
            counts["value"] += is_marker(payload["value"], marker)
            counts["field"] += fields(payload["value"])
        elif kind == "Call":
            for a in payload["args"]:
                counts["arg"] += is_marker(a["value"], marker)
                counts["field"] += fields(a["value"])
        elif kind == "Return":
            counts["ret"] += is_marker(payload["return_value"], marker)
            counts["field"] += fields(payload["return_value"])
    return counts
