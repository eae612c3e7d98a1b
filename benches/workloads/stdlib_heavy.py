"""Untraced-code overhead: the hot loop runs entirely in the standard library.

json, re and itertools are not recorded by the default filter; the workload's own (recorded)
code runs a handful of lines, so the difference between traced and untraced time is what the
recorder costs code it does *not* record.
"""

import collections
import itertools
import json
import re
import sys

DATA = {"items": [{"id": i, "name": f"item-{i}", "tags": ["a", "b", "c"]} for i in range(200)]}
PATTERN = re.compile(r"item-(\d+)")


def main(scale):
    texts = map(json.dumps, itertools.repeat(DATA, scale))
    decoded = map(json.loads, map(PATTERN.sub, itertools.repeat(r"x-\1"), texts))
    collections.deque(decoded, maxlen=0)
    return scale


if __name__ == "__main__":
    main(int(sys.argv[1]))
