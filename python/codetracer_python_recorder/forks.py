"""The recording across ``os.fork()``: the ``os.register_at_fork`` hooks, registered once.

A traced process that forks must neither hang nor hand its child a broken recorder, and must
not make CPython warn about a multi-threaded fork because of the recorder's writer thread:

- **before** the fork the native core parks the writer thread (it exits, keeping its open file
  and encoder), so the recorder owns no thread at the moment of ``fork()`` (CPython counts the
  process's threads right after the fork, before the parent's after-fork hooks run);
- **after, in the parent** the writer thread is started again and the trace goes on unharmed
  (the added latency is a thread join and a thread start);
- **after, in the child** the inherited recording is dropped without a byte written to the
  parent's files, then :mod:`~codetracer_python_recorder.session` decides what the child
  records (see :func:`register`).

The hooks are CPython's: they run for ``os.fork()``, ``os.forkpty()`` (``pty.fork()``) and
``subprocess`` with a ``preexec_fn``; a bare C-level ``fork()`` runs none of them, and a child
born that way finds the recorder's files refusing to be written (never a hang).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import codetracer_python_recorder_core as core

_registered = False


def register(after_in_child: Callable[[], None]) -> None:
    """Register the recorder's fork hooks (once per process; later calls do nothing).

    ``after_in_child`` runs in every forked child after the native core dropped the recording
    inherited from the parent. Hooks cannot be unregistered: with no recording active they
    do nothing.
    """
    global _registered  # noqa: PLW0603 - one registration per process
    if _registered or not hasattr(os, "register_at_fork"):
        return
    os.register_at_fork(
        before=core.before_fork,
        after_in_parent=core.after_fork_in_parent,
        after_in_child=after_in_child,
    )
    _registered = True
