"""Real programs, untraced vs recorded: libraries from PyPI doing real work (issue #13).

Usage: python benches/real_programs.py [--reps N] [--only pygments,rich] [--timeout S]

Each program in ``benches/real/`` runs at a fixed scale, alternating untraced and recorded
(``trace.bin``), ``--reps`` times; medians are reported. Two scopes: ``default`` (the
recorder's default filters) and ``libraries`` (library code recorded too, ``--include-libraries``
when the CLI has that flag; while it does not, the default already records libraries and the
two rows measure the same thing — the table says so). Reported per program and scope: the
slowdown (recorded / untraced wall time), ns per recorded event (the time added divided by the
events the recorder wrote), bytes per event of ``trace.bin`` and the recorded run's peak RSS.
A recorded run that exceeds ``--timeout`` seconds is reported as such and not repeated.

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

HERE = Path(__file__).resolve().parent
REAL = HERE / "real"
RESULTS = HERE / "results"
PY = sys.executable
RECORDER = [PY, "-m", "codetracer_python_recorder"]
EVENTS = re.compile(r"\((\d+) events")
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


def measure(program: str, scale: int, scope_flags: list[str], reps: int, timeout: float) -> Row:
    """Alternate untraced / recorded runs of ``program``; medians."""
    script = REAL / f"{program}.py"
    row = Row(program, "", scale)
    plain: list[float] = []
    traced: list[Sample] = []
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
    row.plain_s = statistics.median(plain)
    row.traced_s = statistics.median(s.seconds for s in traced)
    row.slowdown = row.traced_s / row.plain_s if row.plain_s else 0.0
    if row.events:
        row.ns_per_event = (row.traced_s - row.plain_s) * 1e9 / row.events
    row.peak_rss_mb = max(s.max_rss_kb for s in traced) / 1024
    row.samples = {"plain": plain, "traced": [s.seconds for s in traced]}
    return row


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
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"real-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps([asdict(r) for r in rows], indent=2))
    print(f"results written to {out}")


if __name__ == "__main__":
    main()
