"""Why a finished recording holds no step of the program, said plainly (never a silent success).

A trace with no ``Step`` means no code was recorded: the activation file never ran, or the
filters skip the activation file and everything it ran (``-m json.tool`` records only the
standard library, which ``builtin-default`` skips), or they skip everything that ran after
recording started.
"""

from __future__ import annotations

from codetracer_python_recorder.session import TraceSummary

WARNING_PREFIX = "codetracer: warning: the trace is empty (no code was recorded)"


def empty_trace_warning(summary: TraceSummary, activation_path: str | None) -> str | None:
    """The warning for a trace without steps, naming the likely cause; ``None`` otherwise."""
    steps = summary.get("steps")
    if not isinstance(steps, int) or steps > 0:
        return None
    where = activation_path or "the program"
    if summary.get("activation") == "waiting":
        cause = f"the activation file {where} never ran; check --activation-path"
    elif summary.get("activation_skipped"):
        cause = (
            f"the filters skip the activation file {where} (recording started there) and "
            "everything it ran; name the code to record with --trace-filter "
            "(the builtin-default filter skips the standard library)"
        )
    else:
        cause = "the filters skipped all the code that ran; check --trace-filter"
    return f"{WARNING_PREFIX}: {cause}"
