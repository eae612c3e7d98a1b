"""How the program is ending, as far as can be seen without changing its behaviour.

:class:`ExitWatcher` wraps :data:`sys.excepthook` and :func:`sys.exit` (both wrappers call the
originals) so a recording stopped at interpreter exit (an ``atexit`` handler) records the
right status:

- an uncaught exception → status 1 (130 for ``KeyboardInterrupt``), with the formatted
  traceback;
- ``sys.exit(code)`` → that code (:func:`exit_status_of`);
- otherwise → 0.

Not seen: ``raise SystemExit(n)`` written directly (0 is recorded), a ``SystemExit`` caught
after ``sys.exit()`` (its code is still recorded), and an ``excepthook`` replaced later.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import NoReturn

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


def exit_status_of(code: object) -> int:
    """The process exit status Python uses for ``SystemExit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    return 1


class ExitWatcher:
    """Remembers how the program is ending, for a recording stopped at interpreter exit."""

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
