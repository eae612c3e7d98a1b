"""The recorder's exceptions (re-exported from the native core) and the one way they are shown.

Every exception is a :class:`RecorderError` with a stable ``code`` (``ERR_...``), a ``kind``
(``usage``/``environment``/``target``/``internal``) and a ``context`` dict. The classes, the
codes and the class each code becomes are defined once, in the native module
(:func:`make_error` asks it); this module defines the one line an error is shown as,
``codetracer: error[CODE]: message`` (:func:`error_line`), for the CLI, ``summary`` and
auto-start alike.
"""

from __future__ import annotations

import codetracer_python_recorder_core as core
from codetracer_python_recorder_core import (
    ERR_ALREADY_TRACING,
    ERR_INTERNAL,
    ERR_INVALID_POLICY_VALUE,
    ERR_IO,
    ERR_TRACE_DIR_CONFLICT,
    ERR_UNSUPPORTED_FORMAT,
    ERR_USAGE,
    EnvironmentError,
    InternalError,
    RecorderError,
    TargetError,
    UsageError,
)

ERROR_PREFIX = "codetracer: error"
"""What every error line starts with (then ``[CODE]: message``)."""

__all__ = [
    "ERROR_PREFIX",
    "ERR_ALREADY_TRACING",
    "ERR_INTERNAL",
    "ERR_INVALID_POLICY_VALUE",
    "ERR_IO",
    "ERR_TRACE_DIR_CONFLICT",
    "ERR_UNSUPPORTED_FORMAT",
    "ERR_USAGE",
    "EnvironmentError",
    "InternalError",
    "RecorderError",
    "TargetError",
    "UsageError",
    "disabled_line",
    "error_line",
    "error_message",
    "format_error",
    "make_error",
    "unexpected_error",
]


def make_error(code: str, message: str, **context: str) -> RecorderError:
    """The native exception of the stable ``code``, exactly as the core builds its own.

    Its class follows from the code; ``message`` and ``context`` are set as given.
    """
    exc: RecorderError = core.new_error(code, message, context)
    return exc


def unexpected_error(exc: BaseException, during: str) -> RecorderError:
    """An :class:`InternalError` (``ERR_INTERNAL``) for ``exc``, raised while ``during``.

    ``exc`` is not a :class:`RecorderError`; as a recorder failure it is handled by the policy
    like any other, instead of escaping as a traceback.
    """
    return make_error(
        ERR_INTERNAL,
        f"unexpected {type(exc).__name__} during {during}: {exc}. "
        "This is a bug in the recorder; please report it.",
        exception=type(exc).__name__,
    )


def error_message(exc: RecorderError) -> str:
    """The message of ``exc`` (without its code)."""
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        return message
    return str(exc)


def error_line(code: str, message: str) -> str:
    """The one line an error is shown as: ``codetracer: error[CODE]: message``."""
    return f"{ERROR_PREFIX}[{code}]: {message}"


def format_error(exc: RecorderError) -> str:
    """``exc`` as its :func:`error_line`."""
    return error_line(getattr(exc, "code", None) or ERR_INTERNAL, error_message(exc))


def disabled_line(code: str, message: str, *, started: bool) -> str:
    """What ``on_recorder_error=disable`` says when it detaches after the error ``code``.

    The program ran on untraced (``started``), or runs untraced from its start.
    """
    rest = "ran on untraced" if started else "runs untraced"
    return (
        f"codetracer: recording disabled after error[{code}]: {message} "
        f"(on-recorder-error=disable; the program {rest})"
    )
