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
from typing import Any, NoReturn

StopFn = Callable[[int | None], None]
"""Stops the active recording (if any) with this exit status; never raises."""

_installed = False

PathArg = str | bytes | os.PathLike[str] | os.PathLike[bytes]


def _can_exec(path: PathArg | int) -> bool:
    if isinstance(path, int):
        return True  # execve on a file descriptor: assume it works
    try:
        return os.path.isfile(path) and os.access(path, os.X_OK)
    except (OSError, ValueError, TypeError):
        return False


def install(stop: StopFn) -> None:
    """Wrap ``os._exit``, ``os.execv`` and ``os.execve`` (once per process)."""
    global _installed  # noqa: PLW0603 - one set of wrappers per process
    if _installed:
        return
    real_exit = os._exit
    real_execv = os.execv
    real_execve = os.execve

    @functools.wraps(real_exit)
    def _exit(status: int) -> NoReturn:
        stop(status)
        real_exit(status)

    @functools.wraps(real_execv)
    def execv(path: PathArg, argv: Any, /) -> NoReturn:
        if _can_exec(path):
            stop(None)
        real_execv(path, argv)

    @functools.wraps(real_execve)
    def execve(path: PathArg | int, argv: Any, env: Any, /) -> NoReturn:
        if _can_exec(path):
            stop(None)
        real_execve(path, argv, env)

    os._exit = _exit
    os.execv = execv
    os.execve = execve  # type: ignore[assignment]
    _installed = True
