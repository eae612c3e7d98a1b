"""Record execution traces of Python 3.12+ programs for the CodeTracer time-travel debugger.

::

    import codetracer_python_recorder as ctr

    with ctr.trace("trace-out", format=ctr.TRACE_JSON):
        main()

or from the shell: ``python -m codetracer_python_recorder app.py``. With ``CODETRACER_TRACE``
set, the interpreter imports this package while it starts (``codetracer_python_recorder.pth``),
which starts recording at once and stops at interpreter exit.
"""

from __future__ import annotations

from codetracer_python_recorder._core import check_core_version
from codetracer_python_recorder._version import __version__

check_core_version()

# The order matters only for readability: nothing below has import-time side effects except
# the explicit auto-start call at the end.
from codetracer_python_recorder_core import (  # noqa: E402
    configure_policy,
    configure_policy_from_env,
    policy_snapshot,
)

from codetracer_python_recorder.api import (  # noqa: E402
    TraceEvent,
    flush,
    is_tracing,
    iter_trace,
    read_trace,
    start,
    stop,
    trace,
)
from codetracer_python_recorder.errors import (  # noqa: E402
    EnvironmentError,
    InternalError,
    RecorderError,
    TargetError,
    UsageError,
)
from codetracer_python_recorder.formats import (  # noqa: E402
    DEFAULT_FORMAT,
    TRACE_BINARY,
    TRACE_CTFS,
    TRACE_JSON,
)
from codetracer_python_recorder.session import TraceSession  # noqa: E402
from codetracer_python_recorder.summary import TraceStats, summarize_trace  # noqa: E402

__all__ = [
    "DEFAULT_FORMAT",
    "TRACE_BINARY",
    "TRACE_CTFS",
    "TRACE_JSON",
    "EnvironmentError",
    "InternalError",
    "RecorderError",
    "TargetError",
    "TraceEvent",
    "TraceSession",
    "TraceStats",
    "UsageError",
    "__version__",
    "configure_policy",
    "configure_policy_from_env",
    "flush",
    "is_tracing",
    "iter_trace",
    "policy_snapshot",
    "read_trace",
    "start",
    "stop",
    "summarize_trace",
    "trace",
]

from codetracer_python_recorder.auto_start import start_from_env as _start_from_env  # noqa: E402

_start_from_env()
