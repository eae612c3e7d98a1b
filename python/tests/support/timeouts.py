"""The one timeout of the suite's child processes.

The tests run on loaded 2-core machines beside other builds: a timeout is there to catch a
hang (a deadlock), not to measure speed.
"""

from __future__ import annotations

import os

TIMEOUT_ENV = "CODETRACER_TEST_SUBPROCESS_TIMEOUT"
SUBPROCESS_TIMEOUT = float(os.environ.get(TIMEOUT_ENV) or 300)
"""Seconds any child process of a test may run (``$CODETRACER_TEST_SUBPROCESS_TIMEOUT``)."""
