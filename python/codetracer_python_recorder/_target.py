"""Run the CLI's target as ``__main__``, exactly as ``python script.py`` / ``python -m mod`` would.

Sets ``sys.argv`` and ``sys.path[0]`` like the interpreter does, turns the way the program ended
(normal end, ``SystemExit``, uncaught exception, ``KeyboardInterrupt``) into an exit status plus
the traceback text, waits for non-daemon threads like interpreter shutdown does, and restores
``sys.argv``/``sys.path`` afterwards.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import runpy
import sys
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal

from codetracer_python_recorder.errors import RecorderError
from codetracer_python_recorder.exit_status import exit_status_of

# Modules whose frames sit between the CLI and the program (hidden from its tracebacks).
_RUNNER_MODULES = frozenset({"runpy", __name__})


class TargetNotFoundError(Exception):
    """The script or module to run does not exist (a usage error: exit status 2)."""


@dataclass(frozen=True)
class Target:
    """What the CLI runs: a script path or a module name, plus the program's arguments."""

    kind: Literal["script", "module"]
    name: str
    """The script path as given, or the dotted module name."""
    file: str
    """Absolute path of the file that runs as ``__main__`` (the default activation path)."""
    path0: str
    """What ``sys.path[0]`` is while it runs."""
    args: list[str] = field(default_factory=list)

    @property
    def argv(self) -> list[str]:
        """``sys.argv`` of the program."""
        return [self.name if self.kind == "script" else self.file, *self.args]


@dataclass
class Outcome:
    """How the program ended."""

    status: int = 0
    """Its exit status, as the interpreter would report it."""
    error: str | None = None
    """The formatted traceback of an uncaught exception."""
    exception: BaseException | None = None
    """The uncaught exception (``SystemExit`` excluded)."""
    interrupted: bool = False
    """Ended by ``KeyboardInterrupt``."""


def script_target(script: str, args: list[str]) -> Target:
    """Describe ``python script.py args...`` (a directory or zip with ``__main__.py`` works too)."""
    path = os.path.abspath(script)
    if os.path.isdir(path):
        main_file = os.path.join(path, "__main__.py")
        if not os.path.isfile(main_file):
            raise TargetNotFoundError(f"can't find '__main__' module in {script!r}")
        return Target("script", script, main_file, path, list(args))
    if not os.path.isfile(path):
        raise TargetNotFoundError(f"can't open file {path!r}: no such file")
    return Target("script", script, path, os.path.dirname(os.path.realpath(path)), list(args))


def module_target(module: str, args: list[str]) -> Target:
    """Describe ``python -m module args...``; ``sys.path[0]`` is the current directory."""
    cwd = os.getcwd()
    saved = sys.path[:]
    sys.path[0:1] = [cwd]
    try:
        spec = importlib.util.find_spec(module)
        if spec is not None and spec.submodule_search_locations is not None:
            spec = importlib.util.find_spec(f"{module}.__main__")
    except (ImportError, ValueError) as exc:
        raise TargetNotFoundError(f"no module named {module!r} ({exc})") from exc
    finally:
        sys.path[:] = saved
    if spec is None or not spec.origin or not os.path.isfile(spec.origin):
        raise TargetNotFoundError(f"no module named {module!r} (or it has no Python source)")
    return Target("module", module, os.path.abspath(spec.origin), cwd, list(args))


def _user_traceback(tb: TracebackType | None) -> TracebackType | None:
    """Drop the leading frames of runpy and this module, as ``python script.py`` shows none."""
    while tb is not None and tb.tb_frame.f_globals.get("__name__") in _RUNNER_MODULES:
        tb = tb.tb_next
    return tb


def _join_threads() -> None:
    """Wait for non-daemon threads, as the interpreter does before it exits."""
    current = threading.current_thread()
    for thread in threading.enumerate():
        if thread is not current and not thread.daemon and thread.is_alive():
            thread.join()


@contextlib.contextmanager
def program_sys(target: Target) -> Iterator[None]:
    """Set ``sys.argv`` and ``sys.path[0]`` as the program sees them; restore them after."""
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.argv = target.argv
    sys.path[0:1] = [target.path0]
    try:
        yield
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path


def run(target: Target) -> Outcome:
    """Run ``target`` as ``__main__`` and report how it ended; never raises for the program."""
    with program_sys(target):
        return _run(target)


def _run(target: Target) -> Outcome:
    outcome = Outcome()
    try:
        if target.kind == "script":
            runpy.run_path(target.file, run_name="__main__")
        else:
            runpy.run_module(target.name, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        outcome.status = exit_status_of(exc.code)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    except RecorderError:
        raise  # the recorder failed (on_recorder_error=abort): the CLI reports it
    except BaseException as exc:  # noqa: BLE001 - the program's uncaught exception
        tb = _user_traceback(exc.__traceback__)
        exc.__traceback__ = tb  # sys.excepthook prints the exception's own traceback
        outcome.exception = exc
        outcome.interrupted = isinstance(exc, KeyboardInterrupt)
        outcome.status = 130 if outcome.interrupted else 1
        outcome.error = "".join(traceback.format_exception(type(exc), exc, tb))
        sys.excepthook(type(exc), exc, tb)
    try:
        _join_threads()
    except KeyboardInterrupt:
        outcome.interrupted = True
        outcome.status = 130
    return outcome
