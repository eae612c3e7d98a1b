"""The recorder policy as the native core resolves it: :class:`PolicySnapshot`, :func:`resolve`.

The core owns every policy decision (fields, defaults, the ``CODETRACER_*`` variables and their
accepted spellings); this module only names the shape of its answer for type checkers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict, cast

import codetracer_python_recorder_core as core


class PolicySnapshot(TypedDict):
    """``policy_snapshot()`` / ``resolve_policy()``: every policy field, canonical values."""

    on_recorder_error: str
    """``abort`` or ``disable``."""
    require_trace: bool
    keep_partial_trace: bool
    log_level: str
    """``off``, ``error``, ``warn``, ``info``, ``debug`` or ``trace``."""
    log_file: str | None
    json_errors: bool
    io_capture: str
    module_name_from_globals: bool
    propagate_script_exit: bool
    max_value_depth: int
    max_container_elements: int
    max_string_length: int
    max_value_nodes: int
    allow_repr: bool
    trace_mode: str
    """Four octal digits, e.g. ``"0600"``."""


def resolve(fields: Mapping[str, object] | None = None) -> PolicySnapshot:
    """The policy a recording started now with ``fields`` would use.

    Configured policy < ``CODETRACER_*`` environment < ``fields``, resolved by the core.

    Raises:
        UsageError: ``ERR_INVALID_POLICY_VALUE`` naming the bad field or variable.

    """
    return cast(PolicySnapshot, core.resolve_policy(dict(fields) if fields else None))


def file_mode(policy: PolicySnapshot) -> int:
    """The permission bits of ``trace_mode`` (``"0600"`` -> ``0o600``)."""
    return int(policy["trace_mode"], 8)
