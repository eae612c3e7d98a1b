"""Start recording at start-up or import with ``CODETRACER_TRACE`` set; stop at exit.

``CODETRACER_TRACE=DIR python app.py`` records ``app.py`` into ``DIR`` in the
``CODETRACER_FORMAT`` format, although ``app.py`` never imports the recorder: the installed
``codetracer_python_recorder.pth`` imports this package while the interpreter starts, and only
when ``CODETRACER_TRACE`` or ``CODETRACER_CHILD_SESSION`` is set (otherwise it costs one
dictionary lookup). An import of the package (from ``sitecustomize``, or the program) starts
it the same way. ``CODETRACER_TRACE_FILTER`` (``::``-separated filter files) and the
``CODETRACER_*`` policy variables are read by the native core when the recording starts
(``apply_env_policy``), exactly as for an API or CLI start. The recorder's own CLI ignores
both variables (it starts its recording itself).

``CODETRACER_CHILD_SESSION`` — left by a recording process for its children
(:mod:`.children`) — wins over ``CODETRACER_TRACE``: this process is then a child of that
recording and records into its ``children/<pid>-<n>/`` directory, or not at all when the
parent does not follow its children.

The recording is stopped by an :mod:`atexit` handler with the exit status an
:class:`~.exit_status.ExitWatcher` saw (an uncaught exception → 1, 130 for
``KeyboardInterrupt``, with its traceback recorded as an Error event; ``sys.exit(code)`` →
that code; otherwise 0), and by ``os._exit``/``os.exec*`` (:mod:`.process_exit`) with their
status.

Nothing else happens at import. A bad variable never makes the import fail: it produces one
line on stderr naming the variable, and the program runs untraced. The variables are named and
read by the native core (:func:`session_vars`): this module spells none of them.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypedDict, cast

import codetracer_python_recorder_core as core

from codetracer_python_recorder import children
from codetracer_python_recorder.errors import RecorderError, format_error, unexpected_error
from codetracer_python_recorder.exit_status import ExitWatcher, exit_status_of
from codetracer_python_recorder.formats import DEFAULT_FORMAT, normalize_format
from codetracer_python_recorder.session import (
    TraceSession,
    adopt_session,
    start_session,
    stop_quietly,
)

__all__ = ["ExitWatcher", "exit_status_of", "launched_as_cli", "program_of", "start_from_env"]


class SessionVars(TypedDict):
    """The session variables, as the core reads them: trimmed, ``None`` when unset or blank."""

    trace: str | None
    """``CODETRACER_TRACE``: the directory to record into."""
    format: str | None
    """``CODETRACER_FORMAT``."""
    trace_filter: str | None
    """``CODETRACER_TRACE_FILTER`` (read by the core itself when the recording starts)."""


def session_vars(environ: Mapping[str, str] | None = None) -> SessionVars:
    """The session variables of ``environ`` (default: the process environment)."""
    return cast(SessionVars, core.session_env(environ))


def session_var_names() -> SessionVars:
    """The names of the session variables (``{"trace": "CODETRACER_TRACE", ...}``)."""
    return cast(SessionVars, core.session_env_names())


_CLI_NAMES = ("codetracer-python-recorder", "codetracer_python_recorder")


def launched_as_cli(argv: list[str] | None = None, orig_argv: list[str] | None = None) -> bool:
    """Whether this process is the recorder's own CLI (which starts the recording itself)."""
    argv = sys.argv if argv is None else argv
    orig_argv = list(getattr(sys, "orig_argv", [])) if orig_argv is None else orig_argv
    tokens = iter(orig_argv[1:])
    for tok in tokens:
        if tok == "-m":
            return next(tokens, "") in _CLI_NAMES
        if tok.startswith("-m") and not tok.startswith("--"):
            return tok[2:] in _CLI_NAMES
        if tok in ("-W", "-X"):
            next(tokens, None)
        elif not tok.startswith("-") or tok == "-c":
            break  # a script, stdin or -c: not our CLI module
    if argv and argv[0]:
        stem = Path(argv[0]).name.removesuffix(".exe").removesuffix("-script.py")
        return stem == _CLI_NAMES[0]
    return False


def program_of(argv: list[str] | None = None, orig_argv: list[str] | None = None) -> str:
    """What this process runs, for the trace.

    The script's absolute path, the module of ``-m`` (``sys.argv[0]`` is still ``-m`` while
    the interpreter starts), ``-c`` or ``<stdin>``.
    """
    argv = sys.argv if argv is None else argv
    orig_argv = list(getattr(sys, "orig_argv", [])) if orig_argv is None else orig_argv
    first = argv[0] if argv else ""
    if first == "-m":
        tokens = iter(orig_argv[1:])
        for tok in tokens:
            if tok == "-m":
                return next(tokens, first)
            if tok.startswith("-m") and not tok.startswith("--"):
                return tok[2:]
        return first
    if first == "-c":
        return first
    if first in ("", "-"):
        return "<stdin>"
    return os.path.abspath(first)


def start_from_env(environ: Mapping[str, str] | None = None) -> TraceSession | None:
    """Start recording as ``CODETRACER_CHILD_SESSION`` or ``CODETRACER_TRACE`` asks.

    Problems are reported on stderr, never raised.
    """
    names = session_var_names()
    untraced = f"{names['trace']} is set; the program runs untraced"
    raw = os.environ if environ is None else environ
    child_value = raw.get(children.ENV_CHILD_SESSION, "").strip()
    env = _start_or_report(lambda: session_vars(environ), untraced, "auto-start")
    if env is None:
        return None
    trace_dir = env["trace"]
    if not (child_value or trace_dir) or launched_as_cli():
        return None
    if child_value:
        return _start_as_child(child_value)
    if trace_dir is None:
        return None
    session = _start_or_report(
        lambda: start_session(
            trace_dir,
            normalize_format(env["format"] or DEFAULT_FORMAT, source=str(names["format"])),
            program=program_of(),
            args=sys.argv[1:],
        ),
        untraced,
        "auto-start",
    )
    if session is None:
        return None
    watcher = ExitWatcher()
    watcher.install()
    atexit.register(_stop_at_exit, session, watcher)
    return session


def _start_or_report[T](start: Callable[[], T | None], context: str, what: str) -> T | None:
    """``start()``, or ``None`` after one error line on stderr saying why (``context``)."""
    try:
        return start()
    except Exception as raised:  # noqa: BLE001 - starting from the environment must never fail
        exc = raised if isinstance(raised, RecorderError) else unexpected_error(raised, what)
        print(f"{format_error(exc)} ({context})", file=sys.stderr)
    return None


def _start_as_child(value: str) -> TraceSession | None:
    """Record this process as the child of the recording that left ``value`` for it."""
    started = _start_or_report(
        lambda: core.start_child_tracing(value, program=program_of(), args=sys.argv[1:]),
        "a child of a recorded process; it runs untraced",
        "recording a child process",
    )
    if started is None:
        return None  # the parent does not follow its children
    trace_dir, fmt = started
    session = adopt_session(Path(trace_dir), fmt)
    children.watch_end(stop_quietly)
    return session


def _stop_at_exit(session: TraceSession, watcher: ExitWatcher) -> None:
    try:
        session.stop(exit_code=watcher.final_status(), error=watcher.error)
    except RecorderError as exc:
        print(format_error(exc), file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - never turn a clean exit into a crash
        print(format_error(unexpected_error(exc, "stop")), file=sys.stderr)
