"""Fixtures shared by the tests (helpers live in the ``support`` package)."""

from __future__ import annotations

from collections.abc import Iterator

import codetracer_python_recorder as ctr
import pytest


@pytest.fixture(autouse=True)
def _never_leak_a_recording() -> Iterator[None]:
    """Each test ends with no recording active, whatever it did."""
    yield
    if ctr.is_tracing():
        ctr.stop()
        pytest.fail("the test left a recording running")
