"""End-to-end benchmarks: each workload untraced vs traced (binary, json, ctfs) by the CLI.

Usage: python benches/run.py [--reps N] [--stdlib-reps N] [--only fib,loop] [--quick]
                             [--scale fib=1295,loop=105]

--quick means 3 repetitions (5 rounds for stdlib_heavy). --scale fixes S of the named
workloads instead of calibrating it (calibration on a machine busy with other work can pick a
scale so small that the subtraction below is all noise; a fixed S also compares runs).

Call-heavy workloads (fib, loop, strings, oo, gen_exc, objsim): the untraced run at scale S takes
~0.2 s (S is calibrated). Runs alternate untraced/traced, each is repeated, medians are used.
Startup costs cancel out by subtracting the scale-1 run:

    ns/event = ((traced(S) - traced(1)) - (plain(S) - plain(1))) / (events(S) - events(1))

where events are the workload file's own sys.monitoring events (count_events.py). Also
reported: overhead ratio, trace bytes per event, peak RSS at S and 10xS, and for ctfs the
container bytes per step (steps = LINE + PY_START + PY_RESUME + PY_THROW events: each writes a
Step) and its per-event cost relative to trace.bin (target <= 1.2).

Per step (a second table), from the recorder's own ``counters`` in ``trace_metadata.json``
(steps written, values written with their nodes and encoded bytes), with the scale-1 run
subtracted the same way: steps(S), ns added per step, values, value nodes and value bytes
(uncompressed, each value alone) per step, and trace bytes per step — per format where the
format changes them.

stdlib_heavy (the overhead on code that lives in the standard library, which the recorder's
default filter skips) is a ratio of ~1, not a per-event cost, so whole-process timing with a
subtracted scale-1 run is too noisy for it (+-20 % run to run). Instead the workload times its
own ``main(S)`` (time.perf_counter and time.process_time) and writes the seconds to the file
named by CT_BENCH_TIME_FILE; interpreter and recorder startup are outside that interval. S is
calibrated so that ``main(S)`` takes ~STDLIB_SECONDS untraced. Runs alternate
untraced/binary/json/ctfs, --stdlib-reps times; each traced run is compared with the untraced run
of the same round (``traced / plain - 1``), which cancels slow drifts in machine load.
Reported: the median of those per-round overheads and their spread (min, max, quartiles); as
cross-checks the ratio of the fastest runs ("best", the runs least disturbed by other load) and
the median overhead in CPU seconds of all the process's threads (which would show work moved
to the recorder's writer thread).

Results are printed as a table and written to benches/results/<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKLOADS = HERE / "workloads"
RESULTS = HERE / "results"
PY = sys.executable
RECORDER = [PY, "-m", "codetracer_python_recorder"]
TARGET_SECONDS = 0.2
STDLIB_SECONDS = 1.0  # untraced in-process time of stdlib_heavy's main(S)
STDLIB_REPS = 15  # rounds (untraced, binary, json, ctfs) for stdlib_heavy
TIME_FILE_ENV = "CT_BENCH_TIME_FILE"
FORMATS = ("binary", "json", "ctfs")
EVENTS_FILE = {"binary": "trace.bin", "json": "trace.json", "ctfs": "trace.ct"}
STEP_EVENTS = ("LINE", "PY_START", "PY_RESUME", "PY_THROW")  # each writes one Step
NS_PER_EVENT_TARGETS: dict[str, int] = {"fib": 1000, "loop": 1000, "oo": 1000, "strings": 3000}
TARGETS = {
    "ns_per_event": NS_PER_EVENT_TARGETS,
    "bytes_per_event_bin": 40,
    "bytes_per_step_ctfs": 2,
    "ctfs_vs_bin_ns_per_event": 1.2,
    "rss_growth_mb_10x": 20,
    "stdlib_overhead_pct": 10,
}
CALL_HEAVY = ("fib", "loop", "strings", "oo", "gen_exc", "objsim")
# Workloads at a fixed scale instead of a calibrated one: objsim is recorded ~100x slower than
# it runs (every step re-encodes 40 objects), so at the ~0.2 s untraced scale a recorded run
# would take minutes and its trace.json gigabytes.
FIXED_SCALE = {"objsim": 20}


@dataclass
class Run:
    seconds: float
    max_rss_kb: int
    trace_bytes: int = 0
    # The recorder's counters (trace_metadata.json): steps and the values' count/nodes/bytes.
    steps: int = 0
    values: dict[str, int] = field(default_factory=dict)


@dataclass
class Result:
    workload: str
    scale: int
    events_1: int = 0
    events_s: int = 0
    steps_1: int = 0
    steps_s: int = 0
    plain: dict[str, float] = field(default_factory=dict)
    traced: dict[str, dict[str, float]] = field(default_factory=dict)
    ns_per_event: dict[str, float] = field(default_factory=dict)
    overhead_ratio: dict[str, float] = field(default_factory=dict)
    bytes_per_event: dict[str, float] = field(default_factory=dict)
    bytes_per_step: dict[str, float] = field(default_factory=dict)
    rss_mb: dict[str, float] = field(default_factory=dict)
    # Per step, from the recorder's counters (scale-1 run subtracted), per format.
    recorded_steps: dict[str, dict[str, int]] = field(default_factory=dict)
    ns_per_step: dict[str, float] = field(default_factory=dict)
    values_per_step: dict[str, float] = field(default_factory=dict)
    value_nodes_per_step: dict[str, float] = field(default_factory=dict)
    value_bytes_per_step: dict[str, float] = field(default_factory=dict)
    trace_bytes_per_step: dict[str, float] = field(default_factory=dict)
    # stdlib_heavy only: per-round overhead in % (traced / plain - 1) and its spread, per format
    overhead_pct: dict[str, dict[str, float]] = field(default_factory=dict)
    # stdlib_heavy only: the in-process seconds of every run, in order ("plain", "binary", ...)
    samples: dict[str, list[float]] = field(default_factory=dict)


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run ``cmd``; wall time and this child's own peak RSS (os.wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{stderr}")
    return Run(seconds, usage.ru_maxrss)


def plain(workload: Path, scale: int, cwd: Path, env: dict[str, str] | None = None) -> Run:
    return timed([PY, str(workload), str(scale)], cwd, env)


def traced(
    workload: Path, scale: int, fmt: str, cwd: Path, env: dict[str, str] | None = None
) -> Run:
    out = cwd / f"trace-{fmt}"
    shutil.rmtree(out, ignore_errors=True)
    run = timed(
        [*RECORDER, "--trace-dir", str(out), "--format", fmt, str(workload), str(scale)], cwd, env
    )
    name = EVENTS_FILE[fmt]
    run.trace_bytes = (out / name).stat().st_size if (out / name).exists() else 0
    meta = out / "trace_metadata.json"
    counters = (json.loads(meta.read_text()).get("counters") or {}) if meta.exists() else {}
    run.steps = int(counters.get("steps") or 0)
    run.values = dict(counters.get("values") or {})
    return run


def per_step(res: Result, fmt: str, runs: tuple[Run, Run], time_added: float) -> None:
    """The per-step fields of ``res`` for ``fmt`` from the last runs at scale 1 and S."""
    one, big = runs
    res.recorded_steps[fmt] = {"1": one.steps, "S": big.steps}
    d_steps = big.steps - one.steps
    if d_steps <= 0:
        return
    res.ns_per_step[fmt] = time_added / d_steps * 1e9

    def delta(key: str) -> float:
        return (big.values.get(key, 0) - one.values.get(key, 0)) / d_steps

    res.values_per_step[fmt] = delta("count")
    res.value_nodes_per_step[fmt] = delta("nodes")
    res.value_bytes_per_step[fmt] = delta("bytes")
    res.trace_bytes_per_step[fmt] = (big.trace_bytes - one.trace_bytes) / d_steps


def events(workload: Path, scale: int) -> tuple[int, int]:
    """(recorded sys.monitoring events, of them the ones that write a Step)."""
    out = subprocess.run(
        [PY, str(HERE / "count_events.py"), str(workload), str(scale)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    counts = json.loads(out.stdout)
    return int(counts["total"]), sum(int(counts.get(k, 0)) for k in STEP_EVENTS)


def calibrate(workload: Path, cwd: Path) -> int:
    """The scale at which the untraced run takes ~TARGET_SECONDS beyond startup."""
    base = statistics.median(plain(workload, 1, cwd).seconds for _ in range(3))
    scale = 2
    while True:
        t = statistics.median(plain(workload, scale, cwd).seconds for _ in range(3)) - base
        if t >= TARGET_SECONDS / 2 or scale >= 1 << 20:
            return max(2, round(scale * TARGET_SECONDS / max(t, 1e-3)))
        scale *= 2


def in_process(workload: Path, scale: int, fmt: str | None, cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of ``main(scale)`` by the workload's clocks; untraced if no ``fmt``."""
    time_file = cwd / "main-seconds"
    time_file.unlink(missing_ok=True)
    env = {**os.environ, TIME_FILE_ENV: str(time_file)}
    if fmt is None:
        plain(workload, scale, cwd, env)
    else:
        traced(workload, scale, fmt, cwd, env)
    wall, cpu = time_file.read_text().split()
    return float(wall), float(cpu)


def spread(values: list[float]) -> dict[str, float]:
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "q1": q1,
        "q3": q3,
        "n": len(values),
    }


def paired_pct(traced: list[float], untraced: list[float]) -> list[float]:
    """Per-round overhead in %: each traced run against the untraced run of its round."""
    return [(t / p - 1) * 100 for t, p in zip(traced, untraced, strict=True)]


def measure_stdlib(name: str, reps: int, cwd: Path) -> Result:
    """Overhead on untraced (stdlib) code: in-process timing of main(S), see module docstring."""
    workload = WORKLOADS / f"{name}.py"
    scale = 16
    while True:  # grow until main() runs long enough to extrapolate from
        t = statistics.median(in_process(workload, scale, None, cwd)[0] for _ in range(3))
        if t >= STDLIB_SECONDS / 4 or scale >= 1 << 24:
            break
        scale *= 4
    scale = max(2, round(scale * STDLIB_SECONDS / max(t, 1e-6)))
    res = Result(name, scale)
    in_process(workload, scale, "binary", cwd)  # warm-up (page cache, recorder's first run)
    kinds = ("plain", *FORMATS)
    wall: dict[str, list[float]] = {k: [] for k in kinds}
    cpu: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(reps):  # alternate untraced and traced runs
        for kind in kinds:
            w, c = in_process(workload, scale, None if kind == "plain" else kind, cwd)
            wall[kind].append(w)
            cpu[kind].append(c)
    res.samples = {**wall, **{f"{k}_cpu": v for k, v in cpu.items()}}
    res.plain = {"S": statistics.median(wall["plain"])}
    for fmt in FORMATS:
        res.traced[fmt] = {"S": statistics.median(wall[fmt])}
        res.overhead_pct[fmt] = spread(paired_pct(wall[fmt], wall["plain"]))
        # Two cross-checks: the fastest runs (least disturbed by other load), and CPU time of
        # all threads (would show work moved to the recorder's writer thread).
        res.overhead_pct[fmt]["best"] = (min(wall[fmt]) / min(wall["plain"]) - 1) * 100
        res.overhead_pct[fmt]["cpu_median"] = statistics.median(paired_pct(cpu[fmt], cpu["plain"]))
        res.overhead_ratio[fmt] = 1 + res.overhead_pct[fmt]["median"] / 100
    return res


def measure(name: str, reps: int, cwd: Path, scales: dict[str, int]) -> Result:
    workload = WORKLOADS / f"{name}.py"
    scale = scales.get(name) or FIXED_SCALE.get(name) or calibrate(workload, cwd)
    res = Result(name, scale)
    samples: dict[str, list[Run]] = {}
    for _ in range(reps):  # alternate untraced and traced runs
        for s in (1, scale):
            samples.setdefault(f"plain@{s}", []).append(plain(workload, s, cwd))
            for fmt in FORMATS:
                samples.setdefault(f"{fmt}@{s}", []).append(traced(workload, s, fmt, cwd))
    med = {k: statistics.median(r.seconds for r in v) for k, v in samples.items()}
    res.plain = {"1": med["plain@1"], "S": med[f"plain@{scale}"]}
    plain_delta = med[f"plain@{scale}"] - med["plain@1"]
    if name in CALL_HEAVY:
        (res.events_1, res.steps_1), (res.events_s, res.steps_s) = (
            events(workload, 1),
            events(workload, scale),
        )
    for fmt in FORMATS:
        t1, ts = med[f"{fmt}@1"], med[f"{fmt}@{scale}"]
        res.traced[fmt] = {"1": t1, "S": ts}
        traced_delta = ts - t1
        res.overhead_ratio[fmt] = traced_delta / plain_delta if plain_delta > 0 else float("nan")
        d_events = res.events_s - res.events_1
        if d_events > 0:
            res.ns_per_event[fmt] = (traced_delta - plain_delta) / d_events * 1e9
            size_1 = samples[f"{fmt}@1"][-1].trace_bytes
            size_s = samples[f"{fmt}@{scale}"][-1].trace_bytes
            res.bytes_per_event[fmt] = (size_s - size_1) / d_events
            if res.steps_s > res.steps_1:
                res.bytes_per_step[fmt] = (size_s - size_1) / (res.steps_s - res.steps_1)
        runs = (samples[f"{fmt}@1"][-1], samples[f"{fmt}@{scale}"][-1])
        per_step(res, fmt, runs, traced_delta - plain_delta)
    if name in CALL_HEAVY:
        for s_label, s in (("S", scale), ("10S", scale * 10)):
            res.rss_mb[f"plain@{s_label}"] = plain(workload, s, cwd).max_rss_kb / 1024
            for fmt in ("binary", "ctfs"):
                res.rss_mb[f"{fmt}@{s_label}"] = traced(workload, s, fmt, cwd).max_rss_kb / 1024
    return res


def fmt_num(value: float | None, spec: str = ".0f") -> str:
    return "-" if value is None or math.isnan(value) else format(value, spec)


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def step_table(results: list[Result]) -> str:
    """The per-step report (the recorder's counters; scale-1 run subtracted)."""
    head = (
        f"{'workload':<13}{'steps(S)':>10}{'ns/st bin':>10}{'ns/st json':>11}{'ns/st ct':>9}"
        f"{'val/st':>7}{'nodes/st':>9}{'val B/st bin':>13}{'val B/st json':>14}"
        f"{'B/st bin':>9}{'B/st json':>10}{'B/st ct':>8}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        if not r.ns_per_step:
            continue
        steps = r.recorded_steps.get("binary", {}).get("S")
        lines.append(
            f"{r.workload:<13}{steps or '-':>10}"
            f"{fmt_num(r.ns_per_step.get('binary')):>10}{fmt_num(r.ns_per_step.get('json')):>11}"
            f"{fmt_num(r.ns_per_step.get('ctfs')):>9}"
            f"{fmt_num(r.values_per_step.get('binary'), '.1f'):>7}"
            f"{fmt_num(r.value_nodes_per_step.get('binary'), '.1f'):>9}"
            f"{fmt_num(r.value_bytes_per_step.get('binary')):>13}"
            f"{fmt_num(r.value_bytes_per_step.get('json')):>14}"
            f"{fmt_num(r.trace_bytes_per_step.get('binary'), '.1f'):>9}"
            f"{fmt_num(r.trace_bytes_per_step.get('json'), '.1f'):>10}"
            f"{fmt_num(r.trace_bytes_per_step.get('ctfs'), '.2f'):>8}"
        )
    lines.append(
        "per step (recorder's counters, scale-1 run subtracted): steps(S) = Step records at S; "
        "ns/st = time added / steps; val, nodes per step; val B/st = encoded value bytes "
        "(uncompressed); B/st = events-file bytes."
    )
    return "\n".join(lines)


def table(results: list[Result]) -> str:
    t = TARGETS
    head = (
        f"{'workload':<13}{'S':>7}{'events(S)':>11}{'ns/ev bin':>11}{'ns/ev json':>11}"
        f"{'ns/ev ct':>10}{'ct/bin':>8}{'x bin':>7}{'x json':>7}{'x ct':>7}{'B/ev bin':>10}"
        f"{'B/ev json':>10}{'B/ev ct':>9}{'B/step ct':>10}{'RSS S':>7}{'RSS 10S':>8}"
        f"{'ct RSS':>7}{'ct 10S':>7}  target"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        target = ""
        if r.workload in NS_PER_EVENT_TARGETS:
            target = f"<= {NS_PER_EVENT_TARGETS[r.workload] / 1000:g} us/ev"
        if r.workload == "stdlib_heavy" and "binary" in r.overhead_pct:
            pct = r.overhead_pct["binary"]
            target = (
                f"overhead {pct['median']:.1f} % IQR [{pct['q1']:.1f} .. {pct['q3']:.1f}] "
                f"best {pct['best']:.1f} %, json {r.overhead_pct['json']['median']:.1f} %, "
                f"ctfs {r.overhead_pct['ctfs']['median']:.1f} % "
                f"(target <= {t['stdlib_overhead_pct']} %)"
            )
        ns = r.ns_per_event
        lines.append(
            f"{r.workload:<13}{r.scale:>7}{r.events_s or '-':>11}"
            f"{fmt_num(ns.get('binary')):>11}{fmt_num(ns.get('json')):>11}"
            f"{fmt_num(ns.get('ctfs')):>10}"
            f"{fmt_num(ratio(ns.get('ctfs'), ns.get('binary')), '.2f'):>8}"
            f"{fmt_num(r.overhead_ratio.get('binary'), '.1f'):>7}"
            f"{fmt_num(r.overhead_ratio.get('json'), '.1f'):>7}"
            f"{fmt_num(r.overhead_ratio.get('ctfs'), '.1f'):>7}"
            f"{fmt_num(r.bytes_per_event.get('binary'), '.1f'):>10}"
            f"{fmt_num(r.bytes_per_event.get('json'), '.1f'):>10}"
            f"{fmt_num(r.bytes_per_event.get('ctfs'), '.1f'):>9}"
            f"{fmt_num(r.bytes_per_step.get('ctfs'), '.2f'):>10}"
            f"{fmt_num(r.rss_mb.get('binary@S'), '.0f'):>7}"
            f"{fmt_num(r.rss_mb.get('binary@10S'), '.0f'):>8}"
            f"{fmt_num(r.rss_mb.get('ctfs@S'), '.0f'):>7}"
            f"{fmt_num(r.rss_mb.get('ctfs@10S'), '.0f'):>7}  {target}"
        )
    lines.append(
        f"targets: <= 1 us/event fib/loop/oo, <= 3 us strings, <= {t['bytes_per_event_bin']} "
        f"B/event trace.bin, ctfs <= {t['ctfs_vs_bin_ns_per_event']} x the ns/event of trace.bin "
        f"and <= {t['bytes_per_step_ctfs']} B/step, RSS(10S) - RSS(S) <= "
        f"{t['rss_growth_mb_10x']} MB, stdlib overhead <= {t['stdlib_overhead_pct']} %.  "
        "x = traced/untraced time (startup excluded); RSS in MB."
        "\nstdlib overhead (binary): median over rounds of traced/untraced main(S) - 1, timed "
        "in-process by the workload, IQR over rounds (min/max in the JSON); best = fastest "
        "traced / fastest untraced - 1."
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=5, help="repetitions per measurement (median)")
    parser.add_argument(
        "--stdlib-reps", type=int, default=STDLIB_REPS, help="stdlib_heavy rounds (median, spread)"
    )
    parser.add_argument("--only", default="", help="comma-separated workload names")
    parser.add_argument("--quick", action="store_true", help="3 repetitions, 5 stdlib rounds")
    parser.add_argument(
        "--scale", default="", help="comma-separated NAME=S: fixed scales instead of calibrating"
    )
    args = parser.parse_args()
    scales = {name: int(s) for name, _, s in (i.partition("=") for i in args.scale.split(",") if i)}
    names = [*CALL_HEAVY, "stdlib_heavy"]
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    reps = 3 if args.quick else args.reps
    stdlib_reps = 5 if args.quick else args.stdlib_reps
    results = []
    with tempfile.TemporaryDirectory(prefix="ct-bench-") as tmp:
        for name in names:
            print(f"measuring {name} ...", file=sys.stderr, flush=True)
            if name == "stdlib_heavy":
                results.append(measure_stdlib(name, stdlib_reps, Path(tmp)))
            else:
                results.append(measure(name, reps, Path(tmp), scales))
    print(table(results))
    print()
    print(step_table(results))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{time.strftime('%Y%m%d-%H%M%S')}.json"
    payload = {
        "python": sys.version,
        "reps": reps,
        "stdlib_reps": stdlib_reps,
        "targets": TARGETS,
        "results": [asdict(r) for r in results],
    }
    out.write_text(json.dumps(payload, indent=2))
    print(f"results written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
