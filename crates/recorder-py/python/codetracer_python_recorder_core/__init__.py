"""Native core of ``codetracer-python-recorder``.

This distribution (``codetracer-python-recorder-core``) holds the compiled extension
``codetracer_python_recorder_core._native``, built by maturin from the Rust crate
``codetracer-recorder-py``. It is an implementation detail of ``codetracer-python-recorder``:
use ``import codetracer_python_recorder`` instead, which wraps this API and pins this
package's exact version.
"""

from __future__ import annotations

from codetracer_python_recorder_core import _native
from codetracer_python_recorder_core._native import (
    ENV_CHILD_SESSION,
    EnvironmentError,
    InternalError,
    RecorderError,
    TargetError,
    UsageError,
    __version__,
    active_trace_dir,
    after_fork_in_child,
    after_fork_in_parent,
    before_fork,
    build_info,
    child_session_env,
    configure_policy,
    configure_policy_from_env,
    flush_tracing,
    is_tracing,
    iter_trace,
    policy_snapshot,
    read_trace,
    start_child_tracing,
    start_tracing,
    stop_tracing,
)

__all__ = [
    "ENV_CHILD_SESSION",
    "EnvironmentError",
    "InternalError",
    "RecorderError",
    "TargetError",
    "UsageError",
    "__version__",
    "_native",
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
