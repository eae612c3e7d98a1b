"""Real programs, untraced vs recorded: libraries from PyPI doing real work (issue #13).

Usage: python benches/real_programs.py [--reps N] [--only pygments,rich] [--timeout S]
                                       [--node-ns NS]

Each program in ``benches/real/`` runs at a fixed scale, alternating untraced and recorded
(``trace.bin``), ``--reps`` times; medians are reported. Two scopes: ``default`` (the
recorder's default filters) and ``libraries`` (library code recorded too, ``--include-libraries``
when the CLI has that flag; while it does not, the default already records libraries and the
two rows measure the same thing — the table says so). Reported per program and scope: the
slowdown (recorded / untraced wall time), ns per recorded event (the time added divided by the
events the recorder wrote), bytes per event of ``trace.bin`` and the recorded run's peak RSS.
A recorded run that exceeds ``--timeout`` seconds is reported as such and not repeated.

"Events" are all the records written, ``Value`` records included, so ns/event hides what one
step costs. A second table is per step (the recorder's ``counters`` in
``trace_metadata.json``: steps, and the values written with their nodes and encoded bytes):
steps, ns added per step, values, value nodes and value bytes (uncompressed, before the record
around each value) per step, the share of value bytes the value cache copied whole, trace.bin
bytes per step and the untraced time per step (untraced seconds / steps recorded: what the
program itself spends per line it runs). With ``--node-ns NS`` (the cost of the cheapest
per-node check, measured apart) it adds the floor: ``nodes/step * NS`` ns per step, as a
slowdown ``1 + floor / untraced per step`` — what a recorder that still looks at every visible
node at every step could not go below.

``nox -s bench`` installs the libraries (black from its sdist, so it is pure Python) and runs
this after ``benches/run.py``. Results: ``benches/results/real-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REAL = HERE / "real"
RESULTS = HERE / "results"
PY = sys.executable
RECORDER = [PY, "-m", "codetracer_python_recorder"]
EVENTS = re.compile(r"\((\d+) events")
METADATA = "trace_metadata.json"
LIBRARIES_FLAG = "--include-libraries"

# program -> scale (lines, sections, statements, rows, lines)
PROGRAMS: dict[str, int] = {
    "pygments_hl": 120,
    "docutils_rst": 60,
    "sqlparse_fmt": 150,
    "rich_table": 200,
    "black_fmt": 120,
}


@dataclass
class Sample:
    """One process: wall seconds, peak RSS (KiB) and the recorder's stderr."""

    seconds: float
    max_rss_kb: int
    stderr: str = ""
    timed_out: bool = False


@dataclass
class Row:
    """One program under one scope."""

    program: str
    scope: str
    scale: int
    plain_s: float = 0.0
    traced_s: float = 0.0
    slowdown: float = 0.0
    events: int = 0
    ns_per_event: float = 0.0
    bytes_per_event: float = 0.0
    peak_rss_mb: float = 0.0
    # Per step (the recorder's counters in trace_metadata.json; 0 for a run that timed out).
    steps: int = 0
    ns_per_step: float = 0.0
    untraced_ns_per_step: float = 0.0
    values_per_step: float = 0.0
    value_nodes_per_step: float = 0.0
    value_bytes_per_step: float = 0.0
    reused_value_bytes_pct: float = 0.0
    trace_bytes_per_step: float = 0.0
    counters: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    timed_out: bool = False
    samples: dict[str, list[float]] = field(default_factory=dict)


def run(cmd: list[str], cwd: Path, timeout: float) -> Sample:
    """Run ``cmd`` with its own peak RSS (os.wait4); kill it after ``timeout`` seconds."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                return Sample(timeout, 0, "", timed_out=True)
            time.sleep(0.01)
        seconds = time.perf_counter() - start
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"failed ({code}): {' '.join(cmd)}\n{stderr}")
    return Sample(seconds, usage.ru_maxrss, stderr)


def has_libraries_flag() -> bool:
    """Whether the CLI knows ``--include-libraries``."""
    out = subprocess.run([*RECORDER, "--help"], capture_output=True, text=True, check=False)
    return LIBRARIES_FLAG in out.stdout


def read_counters(trace_dir: Path) -> dict[str, Any]:
    """The ``counters`` block of the trace's ``trace_metadata.json`` (``{}`` when absent)."""
    meta = trace_dir / METADATA
    if not meta.exists():
        return {}
    counters: dict[str, Any] = json.loads(meta.read_text()).get("counters") or {}
    return counters


def per_step(row: Row, trace_bytes: int) -> None:
    """Fill the per-step columns of ``row`` from its counters and times."""
    steps = int(row.counters.get("steps") or 0)
    values: dict[str, Any] = row.counters.get("values") or {}
    row.steps = steps
    if not steps:
        return
    row.ns_per_step = (row.traced_s - row.plain_s) * 1e9 / steps
    row.untraced_ns_per_step = row.plain_s * 1e9 / steps
    row.values_per_step = values.get("count", 0) / steps
    row.value_nodes_per_step = values.get("nodes", 0) / steps
    row.value_bytes_per_step = values.get("bytes", 0) / steps
    if values.get("bytes"):
        row.reused_value_bytes_pct = 100 * values.get("reused_bytes", 0) / values["bytes"]
    row.trace_bytes_per_step = trace_bytes / steps


def measure(program: str, scale: int, scope_flags: list[str], reps: int, timeout: float) -> Row:
    """Alternate untraced / recorded runs of ``program``; medians."""
    script = REAL / f"{program}.py"
    row = Row(program, "", scale)
    plain: list[float] = []
    traced: list[Sample] = []
    size = 0
    with tempfile.TemporaryDirectory(prefix="ct-real-") as tmp:
        cwd = Path(tmp)
        out = cwd / "trace"
        for _ in range(reps):
            plain.append(run([PY, str(script), str(scale)], cwd, timeout).seconds)
            shutil.rmtree(out, ignore_errors=True)
            cmd = [*RECORDER, "--trace-dir", str(out), *scope_flags, str(script), str(scale)]
            sample = run(cmd, cwd, timeout)
            if sample.timed_out:
                row.note = f"recorded run > {timeout:.0f} s"
                row.timed_out = True
                traced = [sample]
                break
            traced.append(sample)
            match = EVENTS.search(sample.stderr)
            row.events = int(match.group(1)) if match else 0
            size = sum(f.stat().st_size for f in out.iterdir() if f.name == "trace.bin")
            row.bytes_per_event = size / row.events if row.events else 0.0
            row.counters = read_counters(out)
    row.plain_s = statistics.median(plain)
    row.traced_s = statistics.median(s.seconds for s in traced)
    row.slowdown = row.traced_s / row.plain_s if row.plain_s else 0.0
    if row.events:
        row.ns_per_event = (row.traced_s - row.plain_s) * 1e9 / row.events
    row.peak_rss_mb = max(s.max_rss_kb for s in traced) / 1024
    row.samples = {"plain": plain, "traced": [s.seconds for s in traced]}
    if not row.timed_out:
        per_step(row, size)
    return row


def floor_x(row: Row, node_ns: float) -> float:
    """The slowdown if recording cost ``node_ns`` per visible node per step, nothing else."""
    if not row.untraced_ns_per_step:
        return 0.0
    return 1 + row.value_nodes_per_step * node_ns / row.untraced_ns_per_step


def step_table(rows: list[Row], node_ns: float | None) -> str:
    """The per-step report."""
    head = (
        f"{'program':<14}{'scope':<11}{'steps':>10}{'ns/step':>9}{'untr ns/st':>11}"
        f"{'val/st':>8}{'nodes/st':>9}{'val B/st':>9}{'reused %':>9}{'trace B/st':>11}"
    )
    if node_ns is not None:
        head += f"{'floor ns/st':>12}{'floor x':>8}"
    lines = [head, "-" * len(head)]
    for r in rows:
        if not r.steps:
            lines.append(f"{r.program:<14}{r.scope:<11}{'-':>10}  {r.note or 'no counters'}")
            continue
        line = (
            f"{r.program:<14}{r.scope:<11}{r.steps:>10}{r.ns_per_step:>9.0f}"
            f"{r.untraced_ns_per_step:>11.0f}{r.values_per_step:>8.1f}"
            f"{r.value_nodes_per_step:>9.1f}{r.value_bytes_per_step:>9.0f}"
            f"{r.reused_value_bytes_pct:>9.1f}{r.trace_bytes_per_step:>11.1f}"
        )
        if node_ns is not None:
            line += f"{r.value_nodes_per_step * node_ns:>12.0f}{floor_x(r, node_ns):>8.1f}"
        lines.append(line)
    lines.append(
        "per step: steps = Step records; ns/step = time added / steps (start-up included: "
        "meaningless for rows of few steps); untr ns/st = untraced time / steps; val, nodes "
        "and val B (encoded value bytes, uncompressed) per step; reused % = value bytes the "
        "value cache copied whole; trace B/st = trace.bin bytes."
    )
    if node_ns is not None:
        lines.append(
            f"floor: nodes/step x {node_ns:g} ns (the cheapest per-node check, --node-ns); "
            "floor x = 1 + floor / untraced ns per step."
        )
    return "\n".join(lines)


def table(rows: list[Row]) -> str:
    """The report."""
    head = (
        f"{'program':<14}{'scope':<11}{'untraced s':>11}{'recorded s':>11}{'x':>8}"
        f"{'events':>11}{'ns/ev':>8}{'B/ev':>7}{'RSS MB':>8}  note"
    )
    lines = [head, "-" * len(head)]
    lines.extend(
        f"{r.program:<14}{r.scope:<11}{r.plain_s:>11.3f}{r.traced_s:>11.2f}"
        f"{('>' if r.timed_out else '') + format(r.slowdown, '.1f'):>8}{r.events:>11}"
        f"{r.ns_per_event:>8.0f}"
        f"{r.bytes_per_event:>7.1f}{r.peak_rss_mb:>8.0f}  {r.note}"
        for r in rows
    )
    for scope in ("default", "libraries"):
        chosen = [r for r in rows if r.scope == scope and r.slowdown > 0]
        if chosen:
            mean = statistics.geometric_mean(r.slowdown for r in chosen)
            bound = ">= " if any(r.timed_out for r in chosen) else ""
            lines.append(f"geometric mean slowdown ({scope}): {bound}{mean:.1f}x")
    return "\n".join(lines)


def main() -> None:
    """Measure every program under both scopes and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="alternating repetitions (median)")
    parser.add_argument("--only", default="", help="comma-separated program names")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per recorded run")
    parser.add_argument(
        "--node-ns", type=float, default=None, help="ns of the cheapest per-node check (floor)"
    )
    args = parser.parse_args()
    wanted = [p for p in args.only.split(",") if p] or list(PROGRAMS)
    flag = has_libraries_flag()
    scopes = {"default": [], "libraries": [LIBRARIES_FLAG] if flag else []}
    rows: list[Row] = []
    for program in wanted:
        for scope, flags in scopes.items():
            print(f"measuring {program} ({scope}) ...", file=sys.stderr, flush=True)
            row = measure(program, PROGRAMS[program], flags, args.reps, args.timeout)
            row.scope = scope
            if not flag:
                row.note = (row.note + "; " if row.note else "") + "default records libraries"
            rows.append(row)
    print(table(rows))
    print()
    print(step_table(rows, args.node_ns))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"real-{time.strftime('%Y%m%d-%H%M%S')}.json"
    payload = [
        {**asdict(r), **({"floor_x": floor_x(r, args.node_ns)} if args.node_ns else {})}
        for r in rows
    ]
    out.write_text(json.dumps(payload, indent=2))
    print(f"results written to {out}")


if __name__ == "__main__":
    main()
