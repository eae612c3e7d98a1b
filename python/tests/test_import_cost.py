"""_core.py: importing the package (as every recorded process does) stays cheap."""

from __future__ import annotations

import subprocess
import sys

from codetracer_python_recorder import _core


def test_cli_import_leaves_out_importlib_metadata() -> None:
    # importlib.metadata takes ~40 ms to import; it is needed only on a version mismatch.
    code = "import sys, codetracer_python_recorder.cli; print('importlib.metadata' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_is_development_install_still_reads_distributions() -> None:
    assert _core.is_development_install("no-such-distribution-for-codetracer-tests")
    assert not _core.is_development_install("pytest")  # a regular, non-editable install
