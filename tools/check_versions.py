"""Check that every place naming the release version agrees (run by ``nox -s lint``).

The Cargo workspace version, the Python layer's version (pyproject + ``_version.py``) and its
``==`` pin on the core must be one and the same.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    """Print the versions found and return 1 when they differ."""
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["package"]["version"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    version_py = (ROOT / "python" / "codetracer_python_recorder" / "_version.py").read_text()
    match = re.search(r'__version__ = "([^"]+)"', version_py)
    pins = [d for d in project["dependencies"] if d.startswith("codetracer-python-recorder-core")]
    found = {
        "Cargo.toml [workspace.package] version": cargo,
        "pyproject.toml [project] version": project["version"],
        "python/codetracer_python_recorder/_version.py": match.group(1) if match else "?",
        "pyproject.toml core pin": pins[0].partition("==")[2] if pins else "?",
    }
    for where, version in found.items():
        print(f"{version:>10}  {where}")
    if len(set(found.values())) != 1:
        print("error: the versions differ; release both with one version", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
