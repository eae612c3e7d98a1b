"""``input()`` at a terminal, recorded through the interpreter's audit events.

When ``sys.stdin`` and ``sys.stdout`` are the process's terminal (fds 0 and 1, both ttys),
``input()`` does not call ``sys.stdin.readline()``: it reads with ``PyOS_Readline`` (line
editing, history) and writes the prompt itself, so the stream proxies of
:mod:`codetracer_python_recorder.io_capture` see neither. The interpreter raises the
``builtins.input`` (prompt) and ``builtins.input/result`` (the line, without its newline)
audit events on that path as on the other; a native audit hook hands them to
:func:`_on_input_audit`, which records the prompt as a write and the line (with the newline
the user typed) as a ``Read``. What the user sees and types is untouched.

The prompt is recorded on the stream it reaches: ``stdout`` when GNU readline is loaded
(``import readline``), ``stderr`` otherwise (CPython's plain ``PyOS_StdioReadline`` writes it
there). Off the terminal path (piped stdin, a replaced ``sys.stdout``) the proxies record
``input()`` and the audit events are ignored, so nothing is recorded twice.
"""

from __future__ import annotations

import os
import sys
import threading

import codetracer_python_recorder_core as core

# The taps the events are recorded through, while armed: (stdin proxy, stdout, stderr, stdin).
_armed: tuple[object, core.StreamTap | None, core.StreamTap | None, core.StreamTap] | None = None
# Threads whose current input() call reads at the terminal (between the two audit events).
_at_terminal: set[int] = set()


def arm(
    stdin_proxy: object,
    stdin: core.StreamTap,
    stdout: core.StreamTap | None,
    stderr: core.StreamTap | None,
) -> None:
    """Record ``input()`` at the terminal while ``sys.stdin`` is ``stdin_proxy``."""
    global _armed  # noqa: PLW0603 - one capture per process
    _armed = (stdin_proxy, stdout, stderr, stdin)
    core.set_input_audit(_on_input_audit)


def disarm() -> None:
    """Stop recording ``input()`` at the terminal (the native hook stays, inert)."""
    global _armed  # noqa: PLW0603 - one capture per process
    if _armed is None:
        return
    _armed = None
    _at_terminal.clear()
    core.set_input_audit(None)


def _reads_at_terminal() -> bool:
    """Whether ``input()`` takes its terminal path now, decided as the builtin decides."""
    try:
        return (
            sys.stdin.fileno() == 0 and os.isatty(0) and sys.stdout.fileno() == 1 and os.isatty(1)
        )
    except Exception:  # noqa: BLE001 - the builtin treats any error as "not a terminal"
        return False


def _on_input_audit(event: str, args: tuple[object, ...]) -> None:
    """The ``builtins.input`` / ``builtins.input/result`` audit events of any thread."""
    armed = _armed
    if armed is None:
        return
    stdin_proxy, stdout, stderr, stdin = armed
    thread = threading.get_ident()
    if event == "builtins.input":
        _at_terminal.discard(thread)
        if sys.stdin is not stdin_proxy or not _reads_at_terminal():
            return
        _at_terminal.add(thread)
        prompt = args[0] if args else None
        if prompt is None:
            return
        out = stdout if "readline" in sys.modules else stderr
        if out is not None:
            out.note(prompt if isinstance(prompt, str) else str(prompt))
    elif event == "builtins.input/result" and thread in _at_terminal:
        _at_terminal.discard(thread)
        line = args[0] if args else None
        if isinstance(line, str):
            stdin.note(line + "\n")
