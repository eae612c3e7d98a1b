"""Untraced-code overhead: the hot code is in the standard library (json, re)."""

import json
import re
import sys

DATA = {"items": [{"id": i, "name": f"item-{i}", "tags": ["a", "b", "c"]} for i in range(200)]}
PATTERN = re.compile(r"item-(\d+)")


def main(scale):
    found = 0
    for _ in range(scale):
        text = json.dumps(DATA)
        found += len(PATTERN.findall(text))
        json.loads(text)
    return found


if __name__ == "__main__":
    main(int(sys.argv[1]))
