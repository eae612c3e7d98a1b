"""Start recording when the package is imported with ``CODETRACER_TRACE`` set; stop at exit.

``CODETRACER_TRACE=DIR python -c "import codetracer_python_recorder; ..."`` (or an import from
``sitecustomize``/a ``.pth`` file) records the rest of the process into ``DIR`` in the
``CODETRACER_FORMAT`` format. ``CODETRACER_TRACE_FILTER`` (``::``-separated filter files) and
the ``CODETRACER_*`` policy variables are read by the native core when the recording starts
(``apply_env_policy``), exactly as for an API or CLI start.

The recording is stopped by an :mod:`atexit` handler, with the best exit status we can know
without changing the program's behaviour:

- an uncaught exception (seen through a wrapper of :data:`sys.excepthook` that calls the
  previous hook) → status 1 (130 for ``KeyboardInterrupt``) and the formatted traceback is
  recorded as an Error event;
- ``sys.exit(code)`` (seen through a thin wrapper of :func:`sys.exit` that records the code and
  calls the original) → that code (``None`` → 0, an ``int`` → itself, anything else → 1);
- otherwise → 0.

Not known: ``raise SystemExit(n)`` written directly (recorded as 0), a ``sys.exit`` whose
``SystemExit`` is caught and the program continues (the last requested code is recorded), a
replacement of ``sys.excepthook`` installed after the import, and ``os._exit`` (no atexit runs;
the streamed events written so far stay readable).

Nothing else happens at import. A bad variable never makes the import fail: it produces one
line on stderr naming the variable, and the program runs untraced. The variables are named and
read by the native core (:func:`session_vars`): this module spells none of them.
"""

from __future__ import annotations

import atexit
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import NoReturn, TypedDict, cast

import codetracer_python_recorder_core as core

from codetracer_python_recorder.api import start
from codetracer_python_recorder.errors import RecorderError, format_error, unexpected_error
from codetracer_python_recorder.formats import DEFAULT_FORMAT, normalize_format
from codetracer_python_recorder.session import TraceSession


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


ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]

_CLI_NAMES = ("codetracer-python-recorder", "codetracer_python_recorder")


def exit_status_of(code: object) -> int:
    """The process exit status Python uses for ``SystemExit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    return 1


class ExitWatcher:
    """Remembers how the program is ending, for the atexit stop of an auto-started session."""

    def __init__(self) -> None:
        self.exit_code: int | None = None
        self.error: str | None = None
        self._previous_hook: ExceptHook | None = None
        self._original_exit: Callable[[str | int | None], NoReturn] | None = None

    def install(self) -> None:
        """Wrap ``sys.excepthook`` and ``sys.exit``; both wrappers call the originals."""
        self._previous_hook = sys.excepthook
        self._original_exit = sys.exit
        sys.excepthook = self._excepthook
        sys.exit = self._exit

    def _excepthook(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        try:
            self.exit_code = 130 if issubclass(exc_type, KeyboardInterrupt) else 1
            self.error = "".join(traceback.format_exception(exc_type, exc, tb))
        except Exception:  # noqa: BLE001 - observing must never change the program
            pass
        hook = self._previous_hook or sys.__excepthook__
        hook(exc_type, exc, tb)

    def _exit(self, status: str | int | None = None, /) -> NoReturn:
        self.exit_code = exit_status_of(status)
        if self._original_exit is not None:
            self._original_exit(status)
        raise SystemExit(status)

    def final_status(self) -> int:
        """The exit status to record."""
        return 0 if self.exit_code is None else self.exit_code


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


def start_from_env(environ: Mapping[str, str] | None = None) -> TraceSession | None:
    """Start recording as ``CODETRACER_TRACE`` asks; report problems on stderr, never raise."""
    names = session_var_names()
    try:
        env = session_vars(environ)
        trace_dir = env["trace"]
        if not trace_dir or launched_as_cli():
            return None
        fmt = normalize_format(env["format"] or DEFAULT_FORMAT, source=str(names["format"]))
        session = start(trace_dir, format=fmt)
    except Exception as raised:  # noqa: BLE001 - importing the package must never fail
        exc = (
            raised if isinstance(raised, RecorderError) else unexpected_error(raised, "auto-start")
        )
        untraced = f"({names['trace']} is set; the program runs untraced)"
        print(f"{format_error(exc)} {untraced}", file=sys.stderr)
        return None
    watcher = ExitWatcher()
    watcher.install()
    atexit.register(_stop_at_exit, session, watcher)
    return session


def _stop_at_exit(session: TraceSession, watcher: ExitWatcher) -> None:
    try:
        session.stop(exit_code=watcher.final_status(), error=watcher.error)
    except RecorderError as exc:
        print(format_error(exc), file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - never turn a clean exit into a crash
        print(format_error(unexpected_error(exc, "stop")), file=sys.stderr)
