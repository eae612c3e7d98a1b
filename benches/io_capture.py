"""IO capture overhead: a print-heavy workload recorded with each ``--io-capture`` mode.

Usage: python benches/io_capture.py [--reps N] [--scale S]

Runs ``workloads/prints.py S`` (S x 10,000 prints; stdout to a pipe that is drained) recorded
by the CLI with ``--io-capture off``, ``proxies`` and ``proxies+fd``, alternating, ``--reps``
times each, and reports the medians and the ratio to ``off`` (issue #14's bound: capture
<= 1.5x off). The same is done for ``workloads/loop.py 2S`` (no IO at all), where capture must
cost nothing (ratio ~1). Each traced run's events are counted to show the capture happened.
"""

from __future__ import annotations

import argparse
import json
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


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--scale", type=int, default=10, help="prints.py scale (x 10,000 prints)")
    args = parser.parse_args()
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
