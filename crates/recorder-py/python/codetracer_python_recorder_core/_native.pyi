"""Type stub of the compiled extension ``codetracer_python_recorder_core._native``.

Written by hand to match ``crates/recorder-py/src/lib.rs``; ``nox -s lint`` checks it against
the built module with ``python -m mypy.stubtest``.
"""

import builtins
from collections.abc import Callable, Mapping
from typing import final

__all__ = [
    "ENV_CHILD_SESSION",
    "ERR_ALREADY_TRACING",
    "ERR_INTERNAL",
    "ERR_INVALID_FILTER",
    "ERR_INVALID_POLICY_VALUE",
    "ERR_INVALID_TRACE",
    "ERR_IO",
    "ERR_TOOL_ID_IN_USE",
    "ERR_TRACE_DIR_CONFLICT",
    "ERR_TRACE_DIR_CREATE_FAILED",
    "ERR_TRACE_INCOMPLETE",
    "ERR_TRACE_MISSING",
    "ERR_UNSUPPORTED_FORMAT",
    "ERR_USAGE",
    "EVENTS_FILES",
    "METADATA_FILE",
    "PATHS_FILE",
    "EnvironmentError",
    "InternalError",
    "RecorderError",
    "StreamTap",
    "TargetError",
    "TraceIterator",
    "UsageError",
    "__version__",
    "active_trace_dir",
    "after_fork_in_child",
    "after_fork_in_parent",
    "before_fork",
    "build_info",
    "child_session_env",
    "configure_policy",
    "configure_policy_from_env",
    "end_series",
    "fd_capture_after_fork",
    "flush_tracing",
    "io_capture_mode",
    "is_tracing",
    "iter_trace",
    "new_error",
    "normalize_format",
    "open_log_file",
    "policy_snapshot",
    "python_log_level",
    "read_trace",
    "resolve_policy",
    "session_env",
    "session_env_names",
    "set_input_audit",
    "start_child_tracing",
    "start_fd_capture",
    "start_tracing",
    "stop_fd_capture",
    "stop_tracing",
    "sync_trace",
]

__version__: str
ENV_CHILD_SESSION: str
"""The variable a recording leaves in its environment for its child processes."""

EVENTS_FILES: dict[str, str]
"""The events file of each format: ``{"json": "trace.json", "binary": "trace.bin"}``."""
METADATA_FILE: str
"""``trace_metadata.json``."""
PATHS_FILE: str
"""``trace_paths.json``."""

ERR_ALREADY_TRACING: str
ERR_INTERNAL: str
ERR_INVALID_FILTER: str
ERR_INVALID_POLICY_VALUE: str
ERR_INVALID_TRACE: str
ERR_IO: str
ERR_TOOL_ID_IN_USE: str
ERR_TRACE_DIR_CONFLICT: str
ERR_TRACE_DIR_CREATE_FAILED: str
ERR_TRACE_INCOMPLETE: str
ERR_TRACE_MISSING: str
ERR_UNSUPPORTED_FORMAT: str
ERR_USAGE: str
"""The stable error codes (each constant's value is its name)."""

class RecorderError(Exception):
    """Base class of every error raised by the recorder; has ``code``, ``kind`` and ``context``."""

    code: str
    kind: str
    message: str
    context: dict[str, str]

class UsageError(RecorderError):
    """The recorder was used wrongly (bad argument, bad filter or policy value, started twice)."""

class EnvironmentError(RecorderError):
    """The environment prevents recording (trace directory, disk, tool id in use)."""

class TargetError(RecorderError):
    """The traced program did something the recorder cannot follow."""

class InternalError(RecorderError):
    """A bug in the recorder (including a caught panic). Please report it."""

def build_info() -> dict[str, object]:
    """Version and build facts: version, profile, python_build, runtime_tracing, pyo3, ..."""

def start_tracing(
    path: str,
    format: str,
    activation_path: str | None = None,
    *,
    program: str | None = None,
    args: builtins.list[str] | None = None,
    trace_filter: builtins.list[str] | None = None,
    policy: dict[str, object] | None = None,
    apply_env_policy: bool = True,
    test_framework: str | None = None,
    durable: bool = True,
    series: bool = False,
) -> None:
    """Start recording into the trace directory ``path``.

    ``durable=False`` leaves out the sync of each small file as it is written (see
    :func:`sync_trace`). ``series=True``: one of a series of recordings (one per test); at
    its stop the tracer stays installed, idle, and the next start with the same settings
    goes on with it (see :func:`end_series`).
    """

def end_series() -> None:
    """Release the idle tracer a ``series=True`` recording left installed (if any)."""

def stop_tracing(
    exit_code: int | None = None,
    error: str | None = None,
    *,
    extra_metadata: str | None = None,
) -> dict[str, object] | None:
    """Stop recording and finish the trace files; a summary, or ``None`` if nothing recorded.

    The summary has ``trace_dir``, ``format``, ``events``, ``steps``, ``bytes``, ``values``
    (the counters of the values written: ``count``, ``nodes``, ``bytes``, ``reused``,
    ``reused_nodes``, ``reused_bytes``, ``cache_copies``), ``seconds``, ``files``,
    ``libraries_skipped``, ``activation``, ``activation_skipped`` and ``disabled``
    (``{"code", "kind", "message"}`` when ``on_recorder_error=disable`` detached the recorder,
    else ``None``); ``codetracer_python_recorder.session.TraceSummary`` types it. ``error`` is
    the formatted traceback of an uncaught exception, recorded as an Error event.
    """

def sync_trace(path: str, format: str) -> None:
    """Make the files of the stopped trace in ``path`` (of ``format``) durable now."""

def flush_tracing() -> None:
    """Flush buffered trace data to disk."""

def is_tracing() -> bool:
    """Whether a recording session is active."""

def before_fork() -> None:
    """``os.register_at_fork(before=...)``: park the writer thread (fork without it)."""

def after_fork_in_parent() -> None:
    """``os.register_at_fork(after_in_parent=...)``: restart the writer thread."""

def after_fork_in_child() -> None:
    """``os.register_at_fork(after_in_child=...)``: drop the recording inherited from the parent.

    Nothing is written to the parent's files. When the parent follows its children, the child
    starts its own recording into ``PARENT/children/<pid>-<n>/`` (not the child of a
    ``subprocess`` ``preexec_fn``). Registered by the module itself when it is imported.
    """

def active_trace_dir() -> str | None:
    """The trace directory of the active recording (``None``: nothing is recording)."""

def child_session_env() -> str | None:
    """The ``ENV_CHILD_SESSION`` value for the active recording's children (``None``: none)."""

def start_child_tracing(value: str, *, program: str, args: list[str]) -> tuple[str, str] | None:
    """Start recording this process as the child ``value`` (an ``ENV_CHILD_SESSION``) names.

    Returns ``(trace_dir, format)``, or ``None`` when the parent does not follow children.
    """

@final
class StreamTap:
    """Records the text passing through one standard stream (native proxy write path).

    ``StreamTap(target, stream, fd, encoding)``: ``stream`` 0 stdout, 1 stderr, 2 stdin;
    ``fd`` the captured fd (1 or 2, ``proxies+fd``) its writes reach, or None.
    """

    def __new__(
        cls, target: object, stream: int, fd: int | None, encoding: str | None
    ) -> StreamTap: ...
    @property
    def target(self) -> object:
        """The original stream."""

    def __call__(self, data: object) -> object:
        """Write ``data`` through the original stream, then record what it took."""

    def note(self, data: object) -> bool:
        """Record ``data`` (text, or bytes decoded as the stream would) as this stream's event."""

@final
class TraceIterator:
    """The records of one trace, converted one at a time (see ``iter_trace``)."""

    def __iter__(self) -> TraceIterator: ...
    def __next__(self) -> dict[str, object]: ...

def iter_trace(path: str, strict: bool = False) -> TraceIterator:
    """Iterate over the records of a trace directory or events file, one dict at a time.

    Memory stays flat however long the trace. A trace cut short (killed process, full disk)
    ends after its readable prefix, or raises ``EnvironmentError`` with code
    ``ERR_TRACE_INCOMPLETE`` at that point when ``strict`` is true.
    """

def read_trace(path: str, strict: bool = False) -> list[dict[str, object]]:
    """Read the records of a trace directory (either format) as JSON-shaped dicts.

    A trace cut short (killed process, full disk) yields its readable prefix, or raises
    ``EnvironmentError`` with code ``ERR_TRACE_INCOMPLETE`` when ``strict`` is true.
    """

def configure_policy(**fields: object) -> None:
    """Update the process-wide recorder policy (field names as in ``policy_snapshot()``)."""

def configure_policy_from_env() -> None:
    """Apply the ``CODETRACER_*`` policy variables to the process-wide policy."""

def policy_snapshot() -> dict[str, object]:
    """The current recorder policy as a dict."""

def io_capture_mode() -> str | None:
    """IO capture mode of the running session (``off``, ``proxies``, ``proxies+fd``), or None."""

def set_input_audit(callback: Callable[[str, tuple[object, ...]], None] | None) -> None:
    """Call ``callback(event, args)`` for the ``builtins.input*`` audit events (None: stop).

    The native audit hook is added the first time (it cannot be removed; inert without a
    callback).
    """

def start_fd_capture() -> None:
    """Redirect fds 1 and 2 through pipes whose readers forward and record raw writes."""

def stop_fd_capture() -> None:
    """Restore fds 1 and 2 once the readers drained the pipes."""

def fd_capture_after_fork() -> None:
    """In a forked child: restore fds 1 and 2 at once."""

def resolve_policy(
    policy: dict[str, object] | None = None, apply_env_policy: bool = True
) -> dict[str, object]:
    """The policy a recording started now would use: configured < environment < ``policy``.

    Changes nothing. Raises ``UsageError`` (``ERR_INVALID_POLICY_VALUE``) for a bad value.
    """

def open_log_file(path: str, mode: int) -> int:
    """Open the recorder's log file for appending; return its descriptor (caller owns it).

    A missing file is created with ``mode``; a symlink or a non-regular file is refused with
    ``EnvironmentError`` (``ERR_IO``).
    """

def new_error(code: str, message: str, context: Mapping[str, str] | None = None) -> RecorderError:
    """The exception of the stable ``code``, built as the core builds its own.

    Class, ``code``, ``kind``, ``message``, ``context`` and text; ``ValueError`` for an unknown
    code.
    """

def normalize_format(name: object, source: str = "format") -> str:
    """The canonical name of a trace format (aliases, case and spaces accepted).

    Raises ``UsageError`` (``ERR_UNSUPPORTED_FORMAT``) naming ``source``.
    """

def python_log_level(level: str) -> int:
    """The Python ``logging`` level of a policy ``log_level`` (``trace`` is 5)."""

def session_env(environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """The session variables of ``environ`` (default: the process environment).

    ``{"trace", "format", "trace_filter"}``, trimmed, ``None`` when unset or blank.
    """

def session_env_names() -> dict[str, str]:
    """The names of the session variables, keyed like ``session_env()``."""
