"""Untraced-code overhead: the hot loop runs entirely in the standard library.

json, re and itertools are not recorded by the default filter; the workload's own (recorded)
code runs a handful of lines, so the difference between traced and untraced time is what the
recorder costs code it does *not* record.

When CT_BENCH_TIME_FILE is set, ``main(scale)`` is timed in-process and "WALL CPU" is written to
that file: elapsed seconds (time.perf_counter) and CPU seconds of the whole process, all threads
(time.process_time), so benches/run.py can leave interpreter and recorder startup out of the
comparison.
"""

import collections
import itertools
import json
import os
import re
import sys
import time

DATA = {"items": [{"id": i, "name": f"item-{i}", "tags": ["a", "b", "c"]} for i in range(200)]}
PATTERN = re.compile(r"item-(\d+)")


def main(scale):
    texts = map(json.dumps, itertools.repeat(DATA, scale))
    decoded = map(json.loads, map(PATTERN.sub, itertools.repeat(r"x-\1"), texts))
    collections.deque(decoded, maxlen=0)
    return scale


if __name__ == "__main__":
    time_file = os.environ.get("CT_BENCH_TIME_FILE")
    wall, cpu = time.perf_counter(), time.process_time()
    main(int(sys.argv[1]))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if time_file:
        with open(time_file, "w") as f:
            f.write(f"{wall!r} {cpu!r}")
