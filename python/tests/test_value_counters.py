"""The value counters of a recording (issue #13): ``summary["values"]`` and ``counters`` in
``trace_metadata.json`` — values written, their nodes and bytes, and how many the value cache
handed out whole.

Exact on a loop whose values are known (each step carries ``n``, a 3-element list, ``total``
and ``i``: 4 values, 7 nodes), and equal to what the trace itself holds on a program with every
kind of value (dicts, instances, nested containers, a redacted secret, an exception leaving a
frame, a generator).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support import FORMATS, Run, all_values, record, value_nodes, write

LOOP = """
import sys


def work(n):
    xs = [1, 2, 3]
    total = 0
    for i in range(n):
        total += xs[i % 3]
    return total


print(work(int(sys.argv[1])))
"""

# Per loop iteration: a step at the `for` line and one at `total += ...`, each with the four
# locals n (1 node), xs (the list and its 3 ints: 4 nodes), total (1) and i (1).
STEPS_PER_ITERATION = 2
VALUES_PER_STEP = 4
NODES_PER_STEP = 7
# Of them, xs is the same unchanged list at every step: the value cache copies it whole.
REUSED_PER_STEP = 1
REUSED_NODES_PER_STEP = 4

MIXED = """
class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self):
        self.a = [1, (2, 3)]
        self.b = {"k": Point(4, 5)}


def fails(d):
    raise KeyError(d["missing"])


def gen(items):
    for item in items:
        yield item


def main():
    password = "hunter2"
    table = {"a": [1, 2.5, "x"], "b": {"c": None, "d": True}, 3: (b"raw", -7)}
    points = [Point(i, {"i": i}) for i in range(3)]
    slotted = Slotted()
    big = 10**40
    for step in range(3):
        points[step].x = step * 10
        table["a"].append(step)
    try:
        fails({"present": 1})
    except KeyError:
        pass
    collected = list(gen([table, points, slotted]))
    return len(collected) + len(password) + big % 7


print(main())
"""


def counters(run: Run) -> dict[str, Any]:
    """The ``values`` counters of a finished recording (the summary's, checked equal to the
    ``counters`` block of ``trace_metadata.json``)."""
    assert run.summary is not None, run.proc.stderr[-3000:]
    values: dict[str, Any] = run.summary["values"]
    meta = json.loads((run.trace_dir / "trace_metadata.json").read_text())
    assert meta["counters"] == {
        "events": run.summary["events"],
        "steps": run.summary["steps"],
        "values": values,
    }
    return values


def recorded_values(run: Run) -> list[Any]:
    """The values the counters count: all of the trace's but ``<toplevel>``'s Return (the exit
    status, written by the recorder itself)."""
    values = all_values(run.trace)
    assert values[-1] == run.trace.toplevel_return
    return values[:-1]


def compact_json(value: Any) -> int:
    """Bytes of a value record as ``trace.json`` writes it (compact, its key order)."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def assert_counts_match_the_trace(run: Run, fmt: str) -> dict[str, Any]:
    """The counters equal the number and nodes of the trace's values (and, for trace.json,
    their bytes); reused parts are parts of the whole."""
    got = counters(run)
    values = recorded_values(run)
    assert got["count"] == len(values)
    assert got["nodes"] == sum(value_nodes(v) for v in values)
    if fmt == "json":
        assert got["bytes"] == sum(compact_json(v) for v in values)
    assert got["bytes"] > 0
    assert got["reused"] <= got["count"] and got["reused"] <= got["cache_copies"]
    assert got["reused_nodes"] <= got["nodes"] and got["reused_bytes"] <= got["bytes"]
    assert (got["reused"] == 0) == (got["reused_nodes"] == 0) == (got["reused_bytes"] == 0)
    return got


@pytest.mark.parametrize("fmt", FORMATS)
def test_value_counters_are_exact_per_step_of_a_known_loop(fmt: str, tmp_path: Path) -> None:
    program = write(tmp_path / "loop.py", LOOP)
    runs = {}
    for n in (4, 7, 10):
        where = tmp_path / f"n{n}"
        where.mkdir()
        runs[n] = record(program, fmt, where, args=[str(n)])
        assert runs[n].proc.stdout == f"{sum((1, 2, 3)[i % 3] for i in range(n))}\n"
    got = {n: assert_counts_match_the_trace(r, fmt) for n, r in runs.items()}
    steps = {n: r.summary["steps"] for n, r in runs.items() if r.summary}
    # Three more iterations each time: exactly their steps, values and nodes more.
    more_steps = 3 * STEPS_PER_ITERATION
    for a, b in ((4, 7), (7, 10)):
        assert steps[b] - steps[a] == more_steps
        assert got[b]["count"] - got[a]["count"] == more_steps * VALUES_PER_STEP
        assert got[b]["nodes"] - got[a]["nodes"] == more_steps * NODES_PER_STEP
        assert got[b]["reused"] - got[a]["reused"] == more_steps * REUSED_PER_STEP
        assert got[b]["reused_nodes"] - got[a]["reused_nodes"] == more_steps * REUSED_NODES_PER_STEP
        assert got[b]["cache_copies"] - got[a]["cache_copies"] == more_steps * REUSED_PER_STEP
    # CBOR: every int here is below 24, one byte: the bytes grow by the same amount per
    # iteration (trace.json's are checked exactly above). What the extra steps reused is the
    # list, its bytes each time.
    if fmt != "json":
        assert got[10]["bytes"] - got[7]["bytes"] == got[7]["bytes"] - got[4]["bytes"]
    xs_bytes = {
        (got[b]["reused_bytes"] - got[a]["reused_bytes"]) // more_steps
        for a, b in ((4, 7), (7, 10))
    }
    assert len(xs_bytes) == 1, xs_bytes
    if fmt == "json":
        assert xs_bytes == {compact_json(runs[4].trace.values("xs")[-1])}


@pytest.mark.parametrize("fmt", FORMATS)
def test_value_counters_equal_the_values_of_the_trace(fmt: str, tmp_path: Path) -> None:
    program = write(tmp_path / "mixed.py", MIXED)
    run = record(program, fmt, tmp_path)
    got = assert_counts_match_the_trace(run, fmt)
    # The secret is recorded as a one-node marker, and counted as one.
    (secret,) = {json.dumps(v) for v in run.trace.values("password")}
    assert "hunter2" not in secret and value_nodes(json.loads(secret)) == 1
    # Nested objects that did not change between steps were copied, not encoded again.
    assert got["reused"] > 0 and got["cache_copies"] >= got["reused"]
