"""IO capture overhead: a print-heavy workload recorded with each ``--io-capture`` mode.

Usage: python benches/io_capture.py [--reps N] [--scale S] [--callgrind]

Runs ``workloads/prints.py S`` (S x 10,000 prints; stdout to a pipe that is drained) recorded
by the CLI with ``--io-capture off``, ``proxies`` and ``proxies+fd``, alternating, ``--reps``
times each, and reports the medians and the ratio to ``off`` (issue #14's bound: capture
<= 1.5x off). The same is done for ``workloads/loop.py 2S`` (no IO at all), where capture must
cost nothing (ratio ~1). Each traced run's events are counted to show the capture happened.

``--callgrind`` counts instructions instead (``valgrind --tool=callgrind``, independent of the
machine's load): each mode runs at scale S and 2S once, and the difference (the cost of S x
10,000 more prints or iterations, start-up cancelled out) is compared with ``off``'s.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKLOADS = HERE / "workloads"
PY = sys.executable
RECORDER = [PY, "-m", "codetracer_python_recorder"]
MODES = ("off", "proxies", "proxies+fd")
TIMEOUT = 1800


def timed(cmd: list[str], cwd: Path) -> float:
    """Wall seconds of ``cmd`` (stdout read and dropped, as a terminal or pipe would)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=TIMEOUT, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr.decode()}")
    return seconds


def io_events(trace_dir: Path) -> int:
    import codetracer_python_recorder as ctr

    records = ctr.read_trace(str(trace_dir))
    return sum(1 for r in records if isinstance(r, dict) and "Event" in r)


def measure(workload: str, scale: int, reps: int, cwd: Path) -> dict[str, object]:
    times: dict[str, list[float]] = {m: [] for m in MODES}
    events: dict[str, int] = {}
    for _ in range(reps):
        for mode in MODES:
            out = cwd / f"trace-{workload}-{mode.replace('+', '_')}"
            cmd = [*RECORDER, "--trace-dir", str(out), "--io-capture", mode,
                   str(WORKLOADS / f"{workload}.py"), str(scale)]  # fmt: skip
            times[mode].append(timed(cmd, cwd))
            events[mode] = io_events(out)
    medians = {m: statistics.median(v) for m, v in times.items()}
    return {
        "workload": workload,
        "scale": scale,
        "median_seconds": medians,
        "ratio_to_off": {m: medians[m] / medians["off"] for m in MODES},
        "events": events,
    }


def instructions(cmd: list[str], cwd: Path) -> int:
    """Instructions ``cmd`` executed (all threads), counted by callgrind."""
    out = cwd / "callgrind.out"
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd],
        cwd=cwd, capture_output=True, timeout=TIMEOUT * 10, check=False, text=True,
    )  # fmt: skip
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if proc.returncode != 0 or found is None:
        raise SystemExit(f"callgrind failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    out.unlink(missing_ok=True)
    return int(found.group(1))


def count(workload: str, scale: int, cwd: Path) -> dict[str, object]:
    """Instructions of ``scale`` more units of ``workload`` in each mode, and ratios to off."""
    delta: dict[str, int] = {}
    for mode in MODES:
        runs = []
        for s in (scale, 2 * scale):
            out = cwd / f"trace-{workload}-{mode.replace('+', '_')}-{s}"
            cmd = [*RECORDER, "--trace-dir", str(out), "--io-capture", mode,
                   str(WORKLOADS / f"{workload}.py"), str(s)]  # fmt: skip
            runs.append(instructions(cmd, cwd))
        delta[mode] = runs[1] - runs[0]
    return {
        "workload": workload,
        "scale": scale,
        "instructions": delta,
        "ratio_to_off": {m: delta[m] / delta["off"] for m in MODES},
    }


def main_callgrind(scale: int) -> int:
    """``--callgrind``: instruction counts (load-independent) instead of wall time."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--callgrind needs valgrind on PATH")
    with tempfile.TemporaryDirectory(prefix="ct-bench-io-") as tmp:
        results = [count("prints", scale, Path(tmp)), count("loop", scale * 2, Path(tmp))]
    for r in results:
        ratio_to_off: dict[str, float] = r["ratio_to_off"]  # type: ignore[assignment]
        counts: dict[str, int] = r["instructions"]  # type: ignore[assignment]
        ratios = ", ".join(f"{m} {v:.3f}x" for m, v in ratio_to_off.items())
        per = ", ".join(f"{m} {v / 1e6:.1f} M" for m, v in counts.items())
        print(f"{r['workload']} (scale {r['scale']} more): {per} instructions; vs off: {ratios}")
    print(json.dumps(results, indent=2))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--scale", type=int, default=10, help="prints.py scale (x 10,000 prints)")
    parser.add_argument(
        "--callgrind", action="store_true", help="count instructions (valgrind) instead of time"
    )
    args = parser.parse_args()
    if args.callgrind:
        return main_callgrind(args.scale)
    with tempfile.TemporaryDirectory(prefix="ct-bench-io-") as tmp:
        results = [measure("prints", args.scale, args.reps, Path(tmp)),
                   measure("loop", args.scale * 2, args.reps, Path(tmp))]  # fmt: skip
    for r in results:
        ratio_to_off: dict[str, float] = r["ratio_to_off"]  # type: ignore[assignment]
        medians: dict[str, float] = r["median_seconds"]  # type: ignore[assignment]
        ratios = ", ".join(f"{m} {v:.2f}x" for m, v in ratio_to_off.items())
        secs = ", ".join(f"{m} {v:.2f} s" for m, v in medians.items())
        print(f"{r['workload']} (scale {r['scale']}): {secs}; vs off: {ratios}; "
              f"Event records: {r['events']}")  # fmt: skip
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
