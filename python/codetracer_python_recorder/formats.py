"""Trace formats: the names users may pass and their canonical form."""

from __future__ import annotations

from typing import Final

from codetracer_python_recorder.errors import ERR_UNSUPPORTED_FORMAT, UsageError, make_error

TRACE_BINARY: Final = "binary"
"""runtime_tracing's streaming CBOR+zstd format, written to ``trace.bin``."""
TRACE_JSON: Final = "json"
"""Plain JSON, written to ``trace.json`` (larger; handy for inspection)."""
TRACE_CTFS: Final = "ctfs"
"""The CTFS container CodeTracer opens first and reads on demand, written to ``trace.ct``."""
DEFAULT_FORMAT: Final = TRACE_BINARY
"""The format used when none is given."""
SUPPORTED_FORMATS: Final = (TRACE_BINARY, TRACE_JSON, TRACE_CTFS)
"""The canonical format names, in documentation order."""

_ALIASES: Final[dict[str, str]] = {
    "binary": TRACE_BINARY,
    "bin": TRACE_BINARY,
    "cbor": TRACE_BINARY,
    "json": TRACE_JSON,
    "ctfs": TRACE_CTFS,
    "ct": TRACE_CTFS,
}


def normalize_format(value: object, *, source: str = "format") -> str:
    """Return the canonical name of a trace format (case-insensitive, aliases accepted).

    ``source`` names where the value came from (``--format``, ``CODETRACER_FORMAT``, ...) so
    the error says what to fix. Raises :class:`UsageError` with code ``ERR_UNSUPPORTED_FORMAT``.
    """
    if isinstance(value, str):
        canonical = _ALIASES.get(value.strip().lower())
        if canonical is not None:
            return canonical
    raise make_error(
        UsageError,
        ERR_UNSUPPORTED_FORMAT,
        f"unsupported trace format {value!r} (from {source}); "
        f"use one of: {', '.join(SUPPORTED_FORMATS)}",
        format=str(value),
        source=source,
    )
