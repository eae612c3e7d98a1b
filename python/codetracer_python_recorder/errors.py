"""The recorder's exceptions (re-exported from the native core) and how they are shown.

Every exception is a :class:`RecorderError` with a stable ``code`` (``ERR_...``), a ``kind``
(``usage``/``environment``/``target``/``internal``) and a ``context`` dict. The classes are
defined once, in the native module; this module never re-implements them.
"""

from __future__ import annotations

import json

from codetracer_python_recorder_core import (
    EnvironmentError,
    InternalError,
    RecorderError,
    TargetError,
    UsageError,
)

ERR_UNSUPPORTED_FORMAT = "ERR_UNSUPPORTED_FORMAT"
ERR_ALREADY_TRACING = "ERR_ALREADY_TRACING"
ERR_INVALID_POLICY_VALUE = "ERR_INVALID_POLICY_VALUE"
ERR_TRACE_DIR_CONFLICT = "ERR_TRACE_DIR_CONFLICT"

_KINDS: dict[type[RecorderError], str] = {
    UsageError: "usage",
    EnvironmentError: "environment",
    TargetError: "target",
    InternalError: "internal",
}

__all__ = [
    "ERR_ALREADY_TRACING",
    "ERR_INVALID_POLICY_VALUE",
    "ERR_TRACE_DIR_CONFLICT",
    "ERR_UNSUPPORTED_FORMAT",
    "EnvironmentError",
    "InternalError",
    "RecorderError",
    "TargetError",
    "UsageError",
    "error_message",
    "format_error",
    "json_error_trailer",
    "make_error",
    "unexpected_error",
]


def make_error(cls: type[RecorderError], code: str, message: str, **context: str) -> RecorderError:
    """Build a native exception with the same attributes the Rust side sets."""
    exc = cls(f"[{code}] {message}")
    exc.code = code
    exc.kind = _KINDS.get(cls, "usage")
    exc.message = message
    exc.context = dict(context)
    return exc


def unexpected_error(exc: BaseException, during: str) -> RecorderError:
    """``exc``, which is not a :class:`RecorderError`, raised by the recorder while ``during``
    (``"start"``): an :class:`InternalError` (``ERR_INTERNAL``), handled by the policy like
    any recorder failure instead of escaping as a traceback."""
    return make_error(
        InternalError,
        "ERR_INTERNAL",
        f"unexpected {type(exc).__name__} during {during}: {exc}. "
        "This is a bug in the recorder; please report it.",
        exception=type(exc).__name__,
    )


def error_message(exc: RecorderError) -> str:
    """The message of ``exc`` without the ``[CODE]`` prefix."""
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        return message
    text = str(exc)
    code = getattr(exc, "code", None)
    prefix = f"[{code}] "
    return text.removeprefix(prefix) if code else text


def format_error(exc: RecorderError) -> str:
    """One line for stderr: ``codetracer: error[CODE]: message``."""
    code = getattr(exc, "code", None) or "ERR_INTERNAL"
    return f"codetracer: error[{code}]: {error_message(exc)}"


def json_error_trailer(exc: RecorderError) -> str:
    """The one-line JSON error trailer printed by ``--json-errors``."""
    payload = {
        "error": {
            "code": getattr(exc, "code", None) or "ERR_INTERNAL",
            "kind": getattr(exc, "kind", None) or "internal",
            "message": error_message(exc),
            "context": dict(getattr(exc, "context", None) or {}),
        }
    }
    return json.dumps(payload, sort_keys=True)
