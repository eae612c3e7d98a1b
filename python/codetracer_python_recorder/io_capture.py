r"""IO capture: the program's stdout, stderr and stdin recorded as ``Event`` records.

``proxies`` (the default policy) replaces ``sys.stdout``, ``sys.stderr`` and ``sys.stdin`` by
proxies for the recording's lifetime. A proxy passes every call to the original stream first
(no buffering of its own: output reaches the terminal as the original would send it), then
hands the text written or read to the native core (``StreamTap``; an output proxy's
``write`` is the tap itself, so a ``print`` runs no Python code of the recorder), which
records it as a ``Write``
(stdout), ``WriteOther`` (stderr) or ``Read`` (stdin) event on the calling thread's innermost
recorded line. Every other attribute (``encoding``, ``isatty()``, ``fileno()``, ``buffer``'s
own attributes, ...) is the original's; ``buffer`` is proxied too, so bytes written to or read
from ``sys.stdout.buffer`` / ``sys.stdin.buffer`` are recorded (decoded with the stream's
encoding, invalid bytes as ``\xNN``).

``proxies+fd`` also redirects fds 1 and 2 through pipes (native ``start_fd_capture``): raw
writes (``os.write``, C code, child processes) are forwarded at once and recorded, bytes the
proxies recorded are not recorded twice. Unix only; elsewhere a warning is logged and only
the proxies run. ``off`` leaves the streams untouched.

``input()`` at a terminal bypasses ``sys.stdin`` (it reads with ``PyOS_Readline``); it is
recorded through the interpreter's audit events instead (:mod:`.io_terminal`).

At stop, a stream the program did not replace is put back; one it replaced is left alone.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Final

import codetracer_python_recorder_core as core

from codetracer_python_recorder import io_terminal

STDOUT: Final = 0
"""Stream number of ``sys.stdout`` (a ``Write`` event)."""
STDERR: Final = 1
"""Stream number of ``sys.stderr`` (a ``WriteOther`` event)."""
STDIN: Final = 2
"""Stream number of ``sys.stdin`` (a ``Read`` event)."""

MODE_OFF: Final = "off"
MODE_PROXIES: Final = "proxies"
MODE_FD: Final = "proxies+fd"

_logger = logging.getLogger("codetracer_python_recorder")

# (name in sys, original stream, proxy) of the streams this module replaced.
_installed: list[tuple[str, object, _Proxy]] = []
_fd_capture = False
_hooks_registered = False


class _Proxy:
    """Forwards everything to ``_ct_target``; the subclasses record what passes through."""

    _ct_target: object
    _ct_stream: int
    _ct_fd: int | None
    _ct_encoding: str | None
    _ct_tap: core.StreamTap

    def __init__(self, target: object, stream: int, fd: int | None, encoding: str | None) -> None:
        object.__setattr__(self, "_ct_target", target)
        object.__setattr__(self, "_ct_stream", stream)
        object.__setattr__(self, "_ct_fd", fd)
        object.__setattr__(self, "_ct_encoding", encoding)
        object.__setattr__(self, "_ct_tap", core.StreamTap(target, stream, fd, encoding))

    def __getattr__(self, name: str) -> object:
        return getattr(self._ct_target, name)

    def __setattr__(self, name: str, value: object) -> None:
        setattr(self._ct_target, name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self._ct_target, name)

    def __dir__(self) -> Iterable[str]:
        return dir(self._ct_target)

    def __repr__(self) -> str:
        return repr(self._ct_target)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance() sees the original's class
        return type(self._ct_target)

    def __enter__(self) -> _Proxy:
        self._ct_target.__enter__()  # type: ignore[attr-defined]
        return self

    def __exit__(self, *exc: object) -> object:
        return self._ct_target.__exit__(*exc)  # type: ignore[attr-defined]

    def _ct_note(self, data: object) -> None:
        self._ct_tap.note(data)


class _OutputProxy(_Proxy):
    """``sys.stdout`` / ``sys.stderr`` (text) or their ``buffer`` (bytes).

    ``write`` is the native tap itself, in the instance's ``__dict__``: ``print()`` finds it
    without a Python-level call, and the write runs no recorder frame (no monitoring event).
    The tap announces the bytes to the fd reader (``proxies+fd``), writes through the
    original and records what it took.
    """

    write: core.StreamTap

    def __init__(self, target: object, stream: int, fd: int | None, encoding: str | None) -> None:
        super().__init__(target, stream, fd, encoding)
        object.__setattr__(self, "write", self._ct_tap)

    def writelines(self, lines: Iterable[object]) -> None:
        """Write each item through :meth:`write` (as ``IOBase.writelines`` does)."""
        for line in lines:
            self.write(line)

    @property
    def buffer(self) -> object:
        """The original's binary buffer, proxied (bytes written to it are recorded)."""
        return _buffer_proxy(self, _OutputProxy)


class _InputProxy(_Proxy):
    """``sys.stdin`` (text) or its ``buffer`` (bytes): every reading method is recorded."""

    def _ct_read(self, method: str, *args: object) -> object:
        data = getattr(self._ct_target, method)(*args)
        self._ct_note(data)
        return data

    def read(self, *args: object) -> object:
        """``read`` of the original, recorded."""
        return self._ct_read("read", *args)

    def read1(self, *args: object) -> object:
        """``read1`` of the original, recorded."""
        return self._ct_read("read1", *args)

    def readline(self, *args: object) -> object:
        """``readline`` of the original, recorded (``input()`` reads through it)."""
        return self._ct_read("readline", *args)

    def readlines(self, *args: object) -> list[object]:
        """``readlines`` of the original, recorded as one event."""
        lines: list[object] = self._ct_target.readlines(*args)  # type: ignore[attr-defined]
        if lines:
            first = lines[0]
            joined = "".join(lines) if isinstance(first, str) else b"".join(lines)  # type: ignore[arg-type]
            self._ct_note(joined)
        return lines

    def _ct_readinto(self, method: str, buf: object) -> object:
        n = getattr(self._ct_target, method)(buf)
        if isinstance(n, int) and n > 0:
            self._ct_note(memoryview(buf).cast("B")[:n])  # type: ignore[arg-type]
        return n

    def readinto(self, buf: object) -> object:
        """``readinto`` of the original, recorded."""
        return self._ct_readinto("readinto", buf)

    def readinto1(self, buf: object) -> object:
        """``readinto1`` of the original, recorded."""
        return self._ct_readinto("readinto1", buf)

    def __iter__(self) -> Iterator[object]:
        return self

    def __next__(self) -> object:
        line = next(self._ct_target)  # type: ignore[call-overload]
        self._ct_note(line)
        return line

    @property
    def buffer(self) -> object:
        """The original's binary buffer, proxied (bytes read from it are recorded)."""
        return _buffer_proxy(self, _InputProxy)


def _buffer_proxy(owner: _Proxy, kind: type[_Proxy]) -> object:
    raw = owner._ct_target.buffer  # type: ignore[attr-defined]
    return kind(raw, owner._ct_stream, owner._ct_fd, owner._ct_encoding)


def _fd_of(stream: object) -> int | None:
    try:
        fd = stream.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return None
    return fd if isinstance(fd, int) else None


def _encoding_of(stream: object) -> str | None:
    encoding = getattr(stream, "encoding", None)
    return encoding if isinstance(encoding, str) else None


def install(mode: str | None) -> None:
    """Start capturing the standard streams in ``mode`` (``None`` or ``off``: nothing)."""
    global _fd_capture  # noqa: PLW0603 - one capture per process
    if mode is None or mode == MODE_OFF or _installed:
        return
    if mode == MODE_FD:
        if os.name == "posix":
            # Written before the fds change hands, so they are not recorded as raw bytes.
            _flush_all()
            core.start_fd_capture()
            _fd_capture = True
        else:
            _logger.warning(
                "--io-capture proxies+fd needs a Unix system; capturing through proxies only"
            )
    _register_hooks()
    for name, stream, kind in (
        ("stdout", STDOUT, _OutputProxy),
        ("stderr", STDERR, _OutputProxy),
        ("stdin", STDIN, _InputProxy),
    ):
        original = getattr(sys, name)
        if original is None:
            continue
        fd = _fd_of(original) if _fd_capture and stream != STDIN else None
        captured_fd = fd if fd in (1, 2) else None
        proxy = kind(original, stream, captured_fd, _encoding_of(original))
        setattr(sys, name, proxy)
        _installed.append((name, original, proxy))
    taps = {name: proxy._ct_tap for name, _, proxy in _installed}
    if "stdin" in taps:
        io_terminal.arm(sys.stdin, taps["stdin"], taps.get("stdout"), taps.get("stderr"))


def uninstall() -> None:
    """Stop capturing: put back the streams the program did not replace, restore the fds."""
    global _fd_capture  # noqa: PLW0603 - one capture per process
    io_terminal.disarm()
    while _installed:
        name, original, proxy = _installed.pop()
        if getattr(sys, name, None) is proxy:
            setattr(sys, name, original)
    if _fd_capture:
        _fd_capture = False
        core.stop_fd_capture()


def _flush_all() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass


def _after_fork_in_child() -> None:
    global _fd_capture  # noqa: PLW0603 - one capture per process
    if _fd_capture:
        _fd_capture = False
        core.fd_capture_after_fork()


def _register_hooks() -> None:
    global _hooks_registered  # noqa: PLW0603 - registered once per process
    if _hooks_registered:
        return
    _hooks_registered = True
    atexit.register(uninstall)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
