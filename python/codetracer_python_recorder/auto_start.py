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
line on stderr naming the variable, and the program runs untraced.
"""

from __future__ import annotations

import atexit
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import NoReturn

from codetracer_python_recorder.api import start
from codetracer_python_recorder.errors import RecorderError, format_error
from codetracer_python_recorder.formats import DEFAULT_FORMAT, normalize_format
from codetracer_python_recorder.session import TraceSession

ENV_TRACE = "CODETRACER_TRACE"
ENV_FORMAT = "CODETRACER_FORMAT"
ENV_TRACE_FILTER = "CODETRACER_TRACE_FILTER"

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
    env = os.environ if environ is None else environ
    trace_dir = env.get(ENV_TRACE, "").strip()
    if not trace_dir or launched_as_cli():
        return None
    try:
        fmt = normalize_format(env.get(ENV_FORMAT, "").strip() or DEFAULT_FORMAT, source=ENV_FORMAT)
        session = start(trace_dir, format=fmt)
    except RecorderError as exc:
        print(
            f"{format_error(exc)} ({ENV_TRACE} is set; the program runs untraced)", file=sys.stderr
        )
        return None
    except Exception as exc:  # noqa: BLE001 - importing the package must never fail
        print(
            f"codetracer: error[ERR_INTERNAL]: auto-start from {ENV_TRACE} failed: {exc!r} "
            "(the program runs untraced)",
            file=sys.stderr,
        )
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
        print(
            f"codetracer: error[ERR_INTERNAL]: stopping the recording failed: {exc!r}",
            file=sys.stderr,
        )
