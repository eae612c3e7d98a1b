"""The recording across ``os.fork()``: the Python layer's part of the fork hooks.

A traced process that forks must neither hang nor hand its child a broken recorder, and must
not make CPython warn about a multi-threaded fork because of the recorder's writer thread.
The native core registers its own ``os.register_at_fork`` hooks when it is imported, so this
holds however a recording was started:

- **before** the fork the writer thread is parked (it exits, keeping its open file and
  encoder), so the recorder owns no thread at the moment of ``fork()`` (CPython counts the
  process's threads right after the fork, before the parent's after-fork hooks run);
- **after, in the parent** the writer thread is started again and the trace goes on unharmed
  (the added latency is a thread join and a thread start);
- **after, in the child** the inherited recording is dropped without a byte written to the
  parent's files and, when the parent follows its children, the child's own recording starts
  (not in the child of ``subprocess`` with a ``preexec_fn``, which only ``exec``s).

:func:`register` adds the Python layer's child hook, which runs after the core's (hooks run
in registration order): it points the :class:`~.session.TraceSession` at the child's trace.

The hooks are CPython's: they run for ``os.fork()``, ``os.forkpty()`` (``pty.fork()``) and
``subprocess`` with a ``preexec_fn``; a bare C-level ``fork()`` runs none of them, and a child
born that way finds the recorder's files refusing to be written (never a hang).
"""

from __future__ import annotations

import os
from collections.abc import Callable

_registered = False


def register(after_in_child: Callable[[], None]) -> None:
    """Register ``after_in_child`` for forked children (once per process).

    Later calls do nothing. It runs after the native core's child hook. Hooks cannot be
    unregistered: with no recording active it must do nothing.
    """
    global _registered  # noqa: PLW0603 - one registration per process
    if _registered or not hasattr(os, "register_at_fork"):
        return
    os.register_at_fork(after_in_child=after_in_child)
    _registered = True
