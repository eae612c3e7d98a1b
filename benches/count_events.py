"""Count the sys.monitoring events a workload's own code produces (pure Python, no recorder).

Usage: python count_events.py WORKLOAD.py SCALE  ->  prints a JSON object of counts.

Counted for code objects of the workload file only: PY_START, PY_RESUME, PY_RETURN, PY_YIELD,
PY_UNWIND, PY_THROW and LINE. This is the number of events a recorder must turn into trace
records, the denominator of "ns per recorded event".
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from collections import Counter
from types import CodeType
from typing import Any

MON = sys.monitoring
TOOL = MON.PROFILER_ID
EVENTS = {
    "PY_START": MON.events.PY_START,
    "PY_RESUME": MON.events.PY_RESUME,
    "PY_RETURN": MON.events.PY_RETURN,
    "PY_YIELD": MON.events.PY_YIELD,
    "PY_UNWIND": MON.events.PY_UNWIND,
    "PY_THROW": MON.events.PY_THROW,
    "LINE": MON.events.LINE,
}
# PY_UNWIND and PY_THROW cannot be disabled per code location.
NOT_DISABLEABLE = {"PY_UNWIND", "PY_THROW"}


def count(workload: str, scale: int) -> Counter[str]:
    target = os.path.abspath(workload)
    counts: Counter[str] = Counter()

    def make(name: str) -> Any:
        def callback(code: CodeType, *_: object) -> object:
            if code.co_filename == target:
                counts[name] += 1
                return None
            return None if name in NOT_DISABLEABLE else MON.DISABLE

        return callback

    MON.use_tool_id(TOOL, "bench-event-counter")
    for name, event in EVENTS.items():
        MON.register_callback(TOOL, event, make(name))
    mask = 0
    for event in EVENTS.values():
        mask |= event
    sys.argv = [target, str(scale)]
    MON.set_events(TOOL, mask)
    try:
        runpy.run_path(target, run_name="__main__")
    finally:
        MON.set_events(TOOL, 0)
        MON.free_tool_id(TOOL)
    return counts


if __name__ == "__main__":
    result = count(sys.argv[1], int(sys.argv[2]))
    print(json.dumps({**result, "total": sum(result.values())}))
