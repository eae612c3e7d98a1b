"""The pytest plugin's per-test cost: N trivial tests with ``--codetracer-dir`` vs without.

Usage: python benches/pytest_plugin.py [--tests N] [--reps R] [--trace-root DIR]

Generates N trivial tests (``def test_i(): assert i + 1 > i``) in a temporary project, then
runs ``pytest -q -p no:cacheprovider`` R times alternately plain, with ``--codetracer-dir``
and with ``--codetracer-dir --codetracer-only-failed`` (every test passes: each trace is
recorded then deleted). Reports the median wall seconds of each and the plugin's overhead per
test, ``(median(plugin) - median(plain)) / N``, plus the bytes left on disk per test.
``--trace-root`` puts the traces elsewhere (``/dev/shm``: without the disk's fsync latency,
which dominates on a slow disk: every trace syncs its files, five times per test).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIMEOUT = 1800


def _suite(root: Path, count: int) -> None:
    lines = [f"def test_{i}():\n    assert {i} + 1 > {i}\n" for i in range(count)]
    (root / "test_trivial.py").write_text("\n".join(lines))
    (root / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")


def _run(root: Path, extra: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODETRACER_")}
    began = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *extra],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    seconds = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"pytest failed ({proc.returncode}):\n{proc.stdout[-3000:]}")
    return seconds


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    """Run the measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--trace-root", type=Path, default=None)
    ns = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        tempfile.TemporaryDirectory(dir=ns.trace_root) as trace_tmp,
    ):
        root = Path(tmp)
        _suite(root, ns.tests)
        traces = Path(trace_tmp) / "traces"
        modes = {
            "plain": [],
            "plugin": [f"--codetracer-dir={traces}"],
            "plugin, only-failed": [f"--codetracer-dir={traces}", "--codetracer-only-failed"],
        }
        times: dict[str, list[float]] = {name: [] for name in modes}
        per_test_bytes = 0.0
        for _ in range(ns.reps):
            for name, extra in modes.items():
                times[name].append(_run(root, extra))
                if name == "plugin":
                    per_test_bytes = _size(traces) / ns.tests
        plain = statistics.median(times["plain"])
        print(f"{ns.tests} trivial tests, {ns.reps} alternating runs each (median wall seconds)")
        for name, values in times.items():
            median = statistics.median(values)
            overhead = (median - plain) / ns.tests * 1000
            print(f"  {name:22s} {median:7.2f} s   overhead {overhead:+.2f} ms/test")
        print(f"  trace bytes per test (plugin): {per_test_bytes:.0f}")


if __name__ == "__main__":
    main()
