"""The pytest plugin's cost: a suite run with ``--codetracer-dir`` vs without.

Usage: python benches/pytest_plugin.py [--tests N] [--reps R] [--trace-root DIR]
       python benches/pytest_plugin.py --suite NAME=DIR:TESTPATH [--suite ...] [--reps R]

Without ``--suite``: generates N trivial tests (``def test_i(): assert i + 1 > i``) in a
temporary project. With ``--suite``: a real project's tests (``DIR`` the project, ``TESTPATH``
what pytest is given there, e.g. the tests of a library's sdist, which ``nox -s bench``
fetches). Each suite runs ``pytest -q -p no:cacheprovider`` R times alternately plain, with
``--codetracer-dir`` and with ``--codetracer-dir --codetracer-only-failed``. Reports the
median wall seconds of each, the ratio to plain, the overhead per test,
``(median(plugin) - median(plain)) / tests``, and the bytes left on disk per test.
``--trace-root`` puts the traces elsewhere (``/dev/shm``: without the disk's latency). Every
run records into a new directory.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIMEOUT = 1800
_COUNTS = re.compile(r"(\d+) (passed|failed|skipped|xfailed|xpassed|errors?)\b")


def _trivial_suite(root: Path, count: int) -> None:
    lines = [f"def test_{i}():\n    assert {i} + 1 > {i}\n" for i in range(count)]
    (root / "test_trivial.py").write_text("\n".join(lines))


def _run(cwd: Path, args: list[str]) -> tuple[float, int]:
    """Wall seconds of one pytest run and the number of tests it ran."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODETRACER_")}
    began = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    seconds = time.perf_counter() - began
    if proc.returncode not in (0, 1):  # 1: some of a real suite's tests fail here
        raise SystemExit(f"pytest failed ({proc.returncode}):\n{proc.stdout[-3000:]}")
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    ran = sum(int(n) for n, _ in _COUNTS.findall(last))
    if ran == 0:  # e.g. pytest missing from this interpreter: exit 1, nothing collected
        raise SystemExit(f"pytest ran no test ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return seconds, ran


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _measure(name: str, cwd: Path, tests: list[str], reps: int, trace_root: Path | None) -> None:
    with tempfile.TemporaryDirectory(dir=trace_root) as trace_tmp:
        # Each run writes into a directory of its own: a run over the previous run's traces
        # would also time their removal (the plugin replaces a test's old trace).
        modes = {
            "plain": [],
            "plugin": ["--codetracer-dir={traces}"],
            "plugin, only-failed": ["--codetracer-dir={traces}", "--codetracer-only-failed"],
        }
        times: dict[str, list[float]] = {mode: [] for mode in modes}
        count = 0
        per_test_bytes = 0.0
        for rep in range(reps):
            for n, (mode, extra) in enumerate(modes.items()):
                traces = Path(trace_tmp) / f"traces-{rep}-{n}"
                seconds, count = _run(cwd, [*tests, *(a.format(traces=traces) for a in extra)])
                times[mode].append(seconds)
                if mode == "plugin":
                    per_test_bytes = _size(traces) / max(count, 1)
        plain = statistics.median(times["plain"])
        print(f"{name}: {count} tests, {reps} alternating runs each (median wall seconds)")
        for mode, values in times.items():
            median = statistics.median(values)
            overhead = (median - plain) / max(count, 1) * 1000
            print(f"  {mode:22s} {median:7.2f} s  {median / plain:5.2f}x  "
                  f"overhead {overhead:+.2f} ms/test")  # fmt: skip
        print(f"  trace bytes per test (plugin): {per_test_bytes:.0f}")


def main() -> None:
    """Run the measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--trace-root", type=Path, default=None)
    parser.add_argument("--suite", action="append", default=[], metavar="NAME=DIR:TESTPATH")
    ns = parser.parse_args()
    for spec in ns.suite:
        name, _, where = spec.partition("=")
        directory, _, testpath = where.partition(":")
        _measure(name, Path(directory), [testpath] if testpath else [], ns.reps, ns.trace_root)
    if ns.suite:
        return
    with tempfile.TemporaryDirectory() as tmp:
        _trivial_suite(Path(tmp), ns.tests)
        _measure(f"{ns.tests} trivial tests", Path(tmp), [], ns.reps, ns.trace_root)


if __name__ == "__main__":
    main()
