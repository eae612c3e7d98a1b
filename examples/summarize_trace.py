"""Print a short summary of a recorded trace directory (an example of ``read_trace``).

Usage: python summarize_trace.py TRACE_DIR
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from codetracer_python_recorder import read_trace


def summarize(trace_dir: Path) -> str:
    events = read_trace(str(trace_dir))
    kinds = Counter(next(iter(e)) for e in events)
    functions = [e["Function"]["name"] for e in events if "Function" in e]  # type: ignore[index]
    lines = [
        f"trace: {trace_dir}",
        f"files: {', '.join(sorted(p.name for p in trace_dir.iterdir()))}",
        f"events: {len(events)} ({', '.join(f'{k} {n}' for k, n in kinds.most_common())})",
        f"functions: {', '.join(functions[:12])}{' ...' if len(functions) > 12 else ''}",
    ]
    meta_file = trace_dir / "trace_metadata.json"
    if meta_file.exists():
        meta = json.loads(meta_file.read_text())
        lines.append(
            f"program: {meta.get('program')} {' '.join(map(str, meta.get('args') or []))} "
            f"(exit status {meta.get('process_exit_status')})"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(summarize(Path(sys.argv[1])))
