"""Child processes of a recording.

The variable that tells them where to record, and how a child's own recording ends.

While a recording runs, the native core's ``CODETRACER_CHILD_SESSION`` value (the parent's
trace directory, format, policy and filters, and whether children are followed at all —
``follow_children``) is in ``os.environ``, so every child process inherits it:

- a forked child gets its own recording from the fork hooks (:mod:`.forks`);
- a Python program started by the program (``subprocess``, ``multiprocessing`` spawn and
  forkserver, ``os.exec*``) imports the recorder at start-up through the installed
  ``codetracer_python_recorder.pth`` and records into ``PARENT/children/<pid>-<n>/``
  (:mod:`.auto_start`); with ``follow_children`` off it records nothing — not even into a
  ``CODETRACER_TRACE`` it inherited, which is its parent's trace;
- any other program ignores it. A child started with an environment of its own (``env=``
  without the variable) is not recorded.

A child's recording ends as the child does: at interpreter exit (``atexit``, with the status
an :class:`~.exit_status.ExitWatcher` saw), in ``os._exit`` and ``os.exec*``
(:mod:`.process_exit`), and on ``SIGTERM`` (``multiprocessing`` terminates its pool workers
that way), which the native core handles for every recording: the trace is finished, then the
process dies of the signal.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable

import codetracer_python_recorder_core as core

from codetracer_python_recorder.exit_status import ExitWatcher

StopFn = Callable[[int | None, str | None], None]
"""Stops the active recording with an exit status and the text of an uncaught exception."""

ENV_CHILD_SESSION: str = core.ENV_CHILD_SESSION

_saved: list[str | None] = []
"""The variable's value before this process's first recording (restored when it stops)."""


def export() -> None:
    """Put the active recording's ``CODETRACER_CHILD_SESSION`` into ``os.environ``."""
    value = core.child_session_env()
    if value is None:
        return
    if not _saved:
        _saved.append(os.environ.get(ENV_CHILD_SESSION))
    os.environ[ENV_CHILD_SESSION] = value


def restore() -> None:
    """Give ``CODETRACER_CHILD_SESSION`` back the value it had before the recording."""
    if not _saved:
        return
    previous = _saved.pop()
    if previous is None:
        os.environ.pop(ENV_CHILD_SESSION, None)
    else:
        os.environ[ENV_CHILD_SESSION] = previous


def watch_end(stop: StopFn) -> None:
    """Stop a child's recording at interpreter exit, with the exit status seen."""
    watcher = ExitWatcher()
    watcher.install()
    atexit.register(_stop_at_exit, stop, watcher)


def _stop_at_exit(stop: StopFn, watcher: ExitWatcher) -> None:
    stop(watcher.final_status(), watcher.error)
