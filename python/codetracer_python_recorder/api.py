"""The public Python API: start/stop a recording, query it, and a context manager.

::

    import codetracer_python_recorder as ctr

    with ctr.trace("trace-out"):
        work()

    session = ctr.start("trace-out", format=ctr.TRACE_JSON)
    ...
    session.stop()
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import TracebackType

import codetracer_python_recorder_core as core

from codetracer_python_recorder.formats import DEFAULT_FORMAT, normalize_format
from codetracer_python_recorder.session import (
    TraceSession,
    TraceSummary,
    flush_active,
    start_session,
    stop_active,
)

PathLike = str | os.PathLike[str]
TraceFilterSpec = PathLike | Iterable[PathLike]
"""One filter file, a ``::``-separated chain of them, or a sequence of either."""

TraceEvent = dict[str, object]
"""One trace record in the format's JSON shape (codetracer_trace_types 0.16):
``{kind: payload}``, e.g. ``{"Step": {"path_id": 0, "line": 3}}`` or
``{"Function": {"path_id": 0, "line": 1, "name": "fib"}}``; ids index the declarations
(``Path``, ``Function``, ``Type``, ``VariableName``) in record order."""


def iter_trace(path: PathLike, *, strict: bool = False) -> Iterator[TraceEvent]:
    """Stream the records of a trace directory (``trace.bin``, ``trace.json`` or ``trace.ct``).

    Records are decoded as they are read, so memory stays bounded however long the trace is.
    A trace cut short (a killed process, a full disk) yields its readable prefix; with
    ``strict=True`` it raises ``EnvironmentError`` (``ERR_TRACE_INCOMPLETE``) instead — possibly
    only after the readable records were yielded.

    Raises:
        UsageError: ``ERR_INVALID_TRACE`` when ``path`` holds no readable trace.
        EnvironmentError: ``ERR_IO``; ``ERR_TRACE_INCOMPLETE`` (``strict`` only).

    """
    events: Iterator[TraceEvent] = core.iter_trace(os.fspath(path), strict)
    return events


def read_trace(path: PathLike, strict: bool = False) -> list[TraceEvent]:
    """Read all the records of a trace directory into a list: ``list(iter_trace(path))``.

    The same records and errors as :func:`iter_trace`; prefer that for big traces.
    """
    return core.read_trace(os.fspath(path), strict)


def split_filter_spec(spec: TraceFilterSpec | None) -> list[str] | None:
    """Flatten filter arguments into a list of paths, splitting ``a.toml::b.toml`` chains."""
    if spec is None:
        return None
    items: Iterable[PathLike] = [spec] if isinstance(spec, str | os.PathLike) else spec
    paths: list[str] = []
    for item in items:
        paths.extend(part.strip() for part in os.fspath(item).split("::") if part.strip())
    return paths


def start(
    path: PathLike,
    *,
    format: str = DEFAULT_FORMAT,
    start_on_enter: PathLike | None = None,
    trace_filter: TraceFilterSpec | None = None,
    policy: Mapping[str, object] | None = None,
    apply_env_policy: bool = True,
) -> TraceSession:
    """Start recording this process into the trace directory ``path``.

    Args:
        path: trace directory; created if missing.
        format: ``"binary"`` (default, ``trace.bin``), ``"json"`` (``trace.json``) or
            ``"ctfs"`` (``trace.ct``).
        start_on_enter: if given, recording begins when code from this file first runs and
            ends when that frame returns; otherwise it begins immediately (mid-stack is fine:
            frames already running are not recorded, so the trace stays balanced).
        trace_filter: filter file(s) appended to the filter chain.
        policy: policy fields (same names as ``policy_snapshot()``), overriding the
            environment and defaults.
        apply_env_policy: read the ``CODETRACER_*`` policy variables first.

    Raises:
        UsageError: ``ERR_ALREADY_TRACING`` when a recording is active; bad arguments.
        EnvironmentError: the trace directory cannot be used.

    """
    return start_session(
        path,
        normalize_format(format),
        activation_path=start_on_enter,
        program=sys.argv[0] if sys.argv and sys.argv[0] else None,
        args=sys.argv[1:],
        trace_filter=split_filter_spec(trace_filter),
        policy=policy,
        apply_env_policy=apply_env_policy,
    )


def stop(*, exit_code: int | None = None) -> TraceSummary | None:
    """Stop the active recording and finish the trace files.

    ``exit_code`` is recorded as the program's exit status. Returns the summary of the trace
    (``trace_dir``, ``format``, ``events``, ``bytes``, ``files``), or ``None`` when nothing
    was recording.
    """
    return stop_active(exit_code=exit_code)


def is_tracing() -> bool:
    """Whether a recording is active in this interpreter."""
    return core.is_tracing()


def flush() -> None:
    """Write buffered trace events to disk now (no-op when not recording)."""
    flush_active()


class TraceContext:
    """Context manager returned by :func:`trace`: starts on enter, stops on exit."""

    def __init__(self, starter: Callable[[], TraceSession]) -> None:
        self._starter = starter
        self.session: TraceSession | None = None

    def __enter__(self) -> TraceSession:
        self.session = self._starter()
        return self.session

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.session is not None:
            self.session.stop()


def trace(
    path: PathLike,
    *,
    format: str = DEFAULT_FORMAT,
    start_on_enter: PathLike | None = None,
    trace_filter: TraceFilterSpec | None = None,
    policy: Mapping[str, object] | None = None,
    apply_env_policy: bool = True,
) -> TraceContext:
    """Record the body of a ``with`` block into ``path``; see :func:`start` for the options.

    The recording stops when the block ends, also when it raises.
    """
    return TraceContext(
        lambda: start(
            path,
            format=format,
            start_on_enter=start_on_enter,
            trace_filter=trace_filter,
            policy=policy,
            apply_env_policy=apply_env_policy,
        )
    )
