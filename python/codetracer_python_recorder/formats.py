"""Trace formats: their canonical names, and the names users may pass (asked of the core).

The accepted spellings (aliases such as ``bin``/``cbor``, case, spaces) are the trace-stream
crate's one table; :func:`normalize_format` asks the native core instead of keeping a copy.
"""

from __future__ import annotations

from typing import Final

import codetracer_python_recorder_core as core

TRACE_BINARY: Final = "binary"
"""CodeTracer's streaming CBOR+zstd format, written to ``trace.bin``."""
TRACE_JSON: Final = "json"
"""Plain JSON, written to ``trace.json`` (larger; handy for inspection)."""
DEFAULT_FORMAT: Final = TRACE_BINARY
"""The format used when none is given."""
SUPPORTED_FORMATS: Final = (TRACE_BINARY, TRACE_JSON)
"""The canonical format names, in documentation order."""


def normalize_format(value: object, *, source: str = "format") -> str:
    """Return the canonical name of a trace format (case-insensitive, aliases accepted).

    ``source`` names where the value came from (``--format``, ``CODETRACER_FORMAT``, ...) so
    the error says what to fix. Raises :class:`UsageError` with code ``ERR_UNSUPPORTED_FORMAT``.
    """
    return core.normalize_format(value, source)
