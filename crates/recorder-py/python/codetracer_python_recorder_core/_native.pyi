"""Type stub of the compiled extension ``codetracer_python_recorder_core._native``.

Written by hand to match ``crates/recorder-py/src/lib.rs``; ``nox -s lint`` checks it against
the built module with ``python -m mypy.stubtest``.
"""

import builtins
from typing import final

__all__ = [
    "ENV_CHILD_SESSION",
    "EnvironmentError",
    "InternalError",
    "RecorderError",
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
    "flush_tracing",
    "is_tracing",
    "iter_trace",
    "policy_snapshot",
    "read_trace",
    "start_child_tracing",
    "start_tracing",
    "stop_tracing",
]

__version__: str
ENV_CHILD_SESSION: str
"""The variable a recording leaves in its environment for its child processes."""

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
) -> None:
    """Start recording into the trace directory ``path``."""

def stop_tracing(
    exit_code: int | None = None, error: str | None = None
) -> dict[str, object] | None:
    """Stop recording and finish the trace files; a summary, or ``None`` if nothing recorded.

    The summary has ``trace_dir``, ``format``, ``events``, ``steps``, ``bytes``, ``seconds``,
    ``files`` and ``disabled`` (``{"code", "message"}`` when ``on_recorder_error=disable``
    detached the recorder, else ``None``). ``error`` is the formatted traceback of an uncaught
    exception, recorded as an Error event.
    """

def flush_tracing() -> None:
    """Flush buffered trace data to disk."""

def is_tracing() -> bool:
    """Whether a recording session is active."""

def before_fork() -> None:
    """``os.register_at_fork(before=...)``: park the writer thread (the fork happens without it)."""

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
