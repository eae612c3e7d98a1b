"""Find CPython interpreters of given versions, also where they are not on PATH.

Used by ``noxfile.py`` (imported) and by ``.ci/run`` (run with any Python 3)::

    python3 tools/find_python.py 3.12 3.13          # prints "3.12 /path/python3.12" lines
    python3 tools/find_python.py --first 3.12 3.13  # prints the first path found, or exits 1

Looked at, in order: ``$PYENV_ROOT/versions/<v>*/bin/python<v>`` (pyenv's shims often do not
expose non-global versions), ``/usr/bin``, ``/usr/local/bin``, then ``PATH``. A candidate
counts only if it runs, is CPython of that exact minor version, and has ``venv``.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys

_PROBE = (
    "import platform, sys, venv; "
    "print(platform.python_implementation(), '%d.%d' % sys.version_info[:2], "
    "int('t' not in getattr(sys, 'abiflags', '')))"
)


def _version_key(path: str) -> tuple[int, ...]:
    parts = os.path.basename(os.path.dirname(os.path.dirname(path))).split(".")
    return tuple(int(p) if p.isdigit() else -1 for p in parts)


def candidates(version: str) -> list[str]:
    """Possible interpreter paths for ``version`` (e.g. ``"3.12"``), best first."""
    exe = f"python{version}"
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    pyenv = sorted(
        (
            p
            for p in glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", exe))
            if "t" not in os.path.basename(os.path.dirname(os.path.dirname(p))).split(".")[-1]
        ),
        key=_version_key,
        reverse=True,
    )
    found = [*pyenv, f"/usr/bin/{exe}", f"/usr/local/bin/{exe}"]
    on_path = shutil.which(exe)
    if on_path:
        found.append(on_path)
    seen: set[str] = set()
    return [p for p in found if os.path.isfile(p) and not (p in seen or seen.add(p))]


def works(path: str, version: str) -> bool:
    """Whether ``path`` runs and is a (non free-threaded) CPython ``version`` with venv."""
    try:
        out = subprocess.run(
            [path, "-c", _PROBE], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and out.stdout.split() == ["CPython", version, "1"]


def find(version: str) -> str | None:
    """The first working interpreter of ``version``, or ``None``."""
    return next((p for p in candidates(version) if works(p, version)), None)


def find_all(versions: list[str]) -> dict[str, str]:
    """``{version: path}`` for each of ``versions`` that is found."""
    result = {}
    for version in versions:
        path = find(version)
        if path:
            result[version] = path
    return result


def main(argv: list[str]) -> int:
    """Command line; see the module docstring."""
    first = "--first" in argv
    versions = [a for a in argv if not a.startswith("-")] or ["3.12", "3.13"]
    found = find_all(versions)
    if first:
        if not found:
            return 1
        print(next(iter(found.values())))
        return 0
    for version, path in found.items():
        print(version, path)
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
