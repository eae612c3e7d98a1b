"""``TraceSession``: one recording, and the delegation of its lifecycle to the native core.

A recording also prepares its process for what processes do: the fork hooks
(:mod:`.forks`), the variable its children inherit (:mod:`.children`) and the wrappers of
``os._exit``/``os.exec*`` (:mod:`.process_exit`). In a forked child the session object goes
on as the child's own recording (its ``path`` is then the child's trace directory), or stops
being active when children are not followed.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Self, TypedDict, cast

import codetracer_python_recorder_core as core

from codetracer_python_recorder import children, forks, io_capture, process_exit
from codetracer_python_recorder.errors import RecorderError, format_error


class ValueCounters(TypedDict):
    """What the values a recording wrote carried: ``TraceSummary["values"]``.

    ``trace_metadata.json`` has the same counters as ``counters.values`` (beside
    ``counters.events`` and ``counters.steps``).

    Values are the variables of every step, the arguments of every call and the value of every
    return (a redaction or drop marker counts as a value of one node; a dropped variable writes
    nothing); the recorder's own closing returns (exit status, ``<recording stopped>``) are not
    counted.
    """

    count: int
    """Values written."""
    nodes: int
    """Their nodes as ``max_value_nodes`` counts them: one per scalar, container and object
    (an object's field values are nodes of their own), three per dict entry."""
    bytes: int
    """Their encoded bytes (each value alone, before compression)."""
    reused: int
    """Values the value cache handed out whole (a copy of an earlier encoding)."""
    reused_nodes: int
    """Their nodes."""
    reused_bytes: int
    """Their bytes; ``bytes - reused_bytes`` were encoded again (with unchanged parts possibly
    copied, see ``cache_copies``)."""
    cache_copies: int
    """Every copy the value cache made: the whole values and the unchanged parts of values
    encoded again (the container cache's copies of runs of atoms are not counted)."""


class DisabledBy(TypedDict):
    """``TraceSummary["disabled"]``: why ``on_recorder_error=disable`` detached the recorder."""

    code: str
    kind: str
    message: str


class TraceSummary(TypedDict, total=False):
    """What the native core reports when a recording stops.

    Empty when the session had nothing left to stop.
    """

    trace_dir: str
    format: str
    events: int
    """Records written (``Value`` records included)."""
    steps: int
    bytes: int
    """Bytes of the events file."""
    values: ValueCounters
    seconds: float
    files: list[str]
    libraries_skipped: int
    """Code objects of installed third-party packages left out by "just my code"."""
    disabled: DisabledBy | None
    """The error that made ``on_recorder_error=disable`` detach the recorder, else ``None``."""
    activation: str | None
    """Where the activation gate ended: ``waiting`` (the activation file never ran),
    ``active``, ``done``; ``None`` without an activation path."""
    activation_skipped: bool
    """The filters skip the activation file, so the gate opened at code that is not itself
    recorded."""


_active: TraceSession | None = None


class TraceSession:
    """A recording started by :func:`codetracer_python_recorder.start`.

    ``path`` is the trace directory and ``format`` the canonical format name. Use it as a
    context manager to stop the recording when the block ends (also on an exception).
    """

    def __init__(self, path: Path, format: str) -> None:
        self.path = path
        self.format = format
        self.summary: TraceSummary | None = None

    @property
    def active(self) -> bool:
        """Whether this session is still recording."""
        return self.summary is None and _active is self and core.is_tracing()

    def stop(
        self,
        *,
        exit_code: int | None = None,
        error: str | None = None,
        extra_metadata: Mapping[str, object] | None = None,
    ) -> TraceSummary:
        """Stop recording (idempotent) and return the summary of the written trace.

        ``extra_metadata`` (JSON-serialisable) adds top-level fields to
        ``trace_metadata.json``; the recorder's own fields win over one of the same name.
        """
        return self._stop(exit_code, error, restore_env=True, extra_metadata=extra_metadata)

    def _stop(
        self,
        exit_code: int | None,
        error: str | None,
        *,
        restore_env: bool,
        extra_metadata: Mapping[str, object] | None = None,
    ) -> TraceSummary:
        global _active  # noqa: PLW0603 - the one process-wide session
        if self.summary is not None:
            return self.summary
        extra = json.dumps(dict(extra_metadata)) if extra_metadata is not None else None
        try:
            io_capture.uninstall()
            stopped = core.stop_tracing(exit_code, error, extra_metadata=extra) or {}
            self.summary = cast(TraceSummary, stopped)
        finally:
            if _active is self:
                _active = None
            if restore_env:
                children.restore()
        return self.summary

    def sync(self) -> None:
        """Make the files of this stopped trace durable (one started with ``durable=False``)."""
        core.sync_trace(str(self.path), self.format)

    def flush(self) -> None:
        """Write buffered events to disk now."""
        if self.active:
            core.flush_tracing()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "active" if self.active else "stopped"
        return f"<TraceSession {state} path={str(self.path)!r} format={self.format!r}>"


def active_session() -> TraceSession | None:
    """The session started through this package that is still recording, if any."""
    if _active is not None and not core.is_tracing():
        return None
    return _active


def start_session(
    path: str | os.PathLike[str],
    format: str,
    *,
    activation_path: str | os.PathLike[str] | None = None,
    program: str | None = None,
    args: Iterable[str] | None = None,
    trace_filter: list[str] | None = None,
    policy: Mapping[str, object] | None = None,
    apply_env_policy: bool = True,
    test_framework: str | None = None,
    durable: bool = True,
    series: bool = False,
) -> TraceSession:
    """Start the native recorder and return the new process-wide :class:`TraceSession`.

    ``format`` must already be canonical (see :mod:`codetracer_python_recorder.formats`).
    ``test_framework`` (``"pytest"``/``"unittest"``) puts that framework's builtin filter in
    the chain right after ``builtin-default``. ``durable=False`` does not sync the trace's
    small files as they are written (the pytest plugin's one trace per test); the trace is
    then made durable by :meth:`TraceSession.sync` when it matters. ``series=True`` makes
    the recording one of a series (the plugin's one per test): its stop leaves the native
    tracer installed and idle, and the next ``series`` start with the same settings goes on
    with it, its code decisions kept; :func:`end_series` releases it.
    """
    trace_dir = Path(os.fspath(path))
    activation = os.path.abspath(os.fspath(activation_path)) if activation_path else None
    core.start_tracing(
        str(trace_dir),
        format,
        activation,
        program=program,
        args=list(args) if args is not None else None,
        trace_filter=trace_filter,
        policy=dict(policy) if policy is not None else None,
        apply_env_policy=apply_env_policy,
        test_framework=test_framework,
        durable=durable,
        series=series,
    )
    return adopt_session(trace_dir, format)


def end_series() -> None:
    """Release the native tracer a ``series=True`` recording left idle (if any)."""
    core.end_series()


def adopt_session(path: Path, format: str) -> TraceSession:
    """Make the native recording just started into ``path`` the process-wide session."""
    global _active  # noqa: PLW0603 - the one process-wide session
    session = TraceSession(path, format)
    _active = session
    children.export()
    process_exit.install(_stop_before_the_process_ends)
    forks.register(_after_fork_in_child)
    try:
        io_capture.install(core.io_capture_mode())
    except BaseException:
        session.stop()
        raise
    return session


def stop_quietly(
    exit_code: int | None, error: str | None = None, *, restore_env: bool = True
) -> None:
    """Stop the active recording, reporting a failure on stderr instead of raising.

    For the ends of a process no caller sees (interpreter exit of a child, ``SIGTERM``).
    """
    try:
        stop_active(exit_code=exit_code, error=error, restore_env=restore_env)
    except RecorderError as exc:
        print(format_error(exc), file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - the process is ending: never raise here
        print(
            f"codetracer: error[ERR_INTERNAL]: stopping the recording failed: {exc!r}",
            file=sys.stderr,
        )


def _stop_before_the_process_ends(status: int | None) -> None:
    """``os._exit``/``os.exec*``: finish the trace first; the child-session variable stays."""
    if _active is None and not core.is_tracing():
        return
    stop_quietly(status, restore_env=False)  # an exec'd program is a child of this trace


def _after_fork_in_child() -> None:
    """In a forked child: follow the native core's hook with this process's session object.

    The core's hook (it runs first) replaced the parent's recording by the child's own, or
    dropped it.
    """
    global _active  # noqa: PLW0603 - the one process-wide session
    child_dir = core.active_trace_dir()
    if child_dir is None:
        _active = None
        return
    if _active is not None:
        _active.path = Path(child_dir)
    children.export()
    children.watch_end(stop_quietly)


def stop_active(
    *, exit_code: int | None = None, error: str | None = None, restore_env: bool = True
) -> TraceSummary | None:
    """Stop the active recording, whoever started it; ``None`` when nothing was recording.

    ``restore_env=False`` leaves ``CODETRACER_CHILD_SESSION`` as it is (before ``exec``).
    """
    session = _active
    if session is not None:
        return session._stop(exit_code, error, restore_env=restore_env)
    io_capture.uninstall()
    summary = core.stop_tracing(exit_code, error)
    if restore_env:
        children.restore()
    return cast(TraceSummary | None, summary)


def flush_active() -> None:
    """Flush the active recording, if any."""
    if core.is_tracing():
        core.flush_tracing()
