"""Finish the trace when the process ends or replaces itself without running exit handlers.

``os._exit(n)`` (how ``multiprocessing`` ends every forked worker) and ``os.exec*`` run no
``atexit`` handler, so a recording active at that moment would be cut short. Once a recording
has started, :func:`install` replaces ``os._exit``, ``os.execv`` and ``os.execve`` (every
other ``exec*`` function of :mod:`os` goes through these two) by thin wrappers that stop the
recording first — ``os._exit`` with its status as the exit status — and then call the
original. With no recording active they only call the original.

``exec`` stops the recording only when the call can succeed (the path names an executable
file; ``execvp``'s search tries every directory of ``PATH`` in turn): a program whose ``exec``
fails after that runs on untraced. The ``CODETRACER_CHILD_SESSION`` variable stays, so an
exec'd Python program records into ``children/<pid>-<n>/`` of the finished trace (it is not
in that trace's ``children`` list, which was written before the ``exec``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import NoReturn

StopFn = Callable[[int | None], None]
"""Stops the active recording (if any) with this exit status; never raises."""

_stop: list[StopFn] = []
"""The stop function of :func:`install` (empty until then)."""


def _can_exec(path: object) -> bool:
    if isinstance(path, int):
        return True  # execve on a file descriptor: assume it works
    try:
        return os.path.isfile(path) and os.access(path, os.X_OK)  # type: ignore[arg-type]
    except (OSError, ValueError, TypeError):
        return False


def _before_exit(status: int) -> None:
    for stop in _stop:
        stop(status)


def _before_exec(path: object, *_args: object, **_kwargs: object) -> None:
    if _can_exec(path):
        for stop in _stop:
            stop(None)


def _first[**P](before: Callable[P, None], real: Callable[P, NoReturn]) -> Callable[P, NoReturn]:
    @functools.wraps(real)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> NoReturn:
        before(*args, **kwargs)
        real(*args, **kwargs)

    return wrapper


def install(stop: StopFn) -> None:
    """Wrap ``os._exit``, ``os.execv`` and ``os.execve`` (once per process)."""
    if _stop:
        return
    _stop.append(stop)
    os._exit = _first(_before_exit, os._exit)
    os.execv = _first(_before_exec, os.execv)
    os.execve = _first(_before_exec, os.execve)
