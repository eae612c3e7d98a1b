"""``--pytest ARGS...`` / ``--unittest ARGS...``: record a test run in-process.

``--pytest ARGS`` runs pytest as ``python -m pytest ARGS`` would (``sys.argv`` as pytest sees
it, its exit status as the program's), ``--unittest ARGS`` likewise for ``python -m unittest``.
Recording starts at once (no activation file), and the framework's builtin filter
(``builtin-pytest`` / ``builtin-unittest``) follows ``builtin-default`` in the filter chain, so
the framework's internals are skipped while test modules, ``conftest.py``, fixtures and the code
under test are recorded. ``--no-framework-filters`` leaves that filter out.
"""

from __future__ import annotations

import importlib.util

from codetracer_python_recorder import _target

FRAMEWORK_FLAGS: dict[str, str] = {"--pytest": "pytest", "--unittest": "unittest"}
"""The command-line markers that start a test run, and the framework each one runs."""


def framework_target(framework: str, args: list[str]) -> _target.Target:
    """The module run for ``framework`` (``python -m pytest`` / ``python -m unittest``).

    Raises:
        _target.TargetNotFoundError: the framework is not installed (a usage error).

    """
    if importlib.util.find_spec(framework) is None:
        msg = f"--{framework}: {framework} is not installed in this interpreter"
        raise _target.TargetNotFoundError(msg)
    return _target.module_target(framework, args)


def activation_path(
    explicit: str | None, target: _target.Target, framework: str | None
) -> str | None:
    """The activation path: the explicit one, else the program's file.

    A test run has none (it records from the start).
    """
    if explicit:
        return explicit
    return None if framework else target.file


def filter_framework(framework: str | None, *, no_framework_filters: bool) -> str | None:
    """The framework whose builtin filter joins the chain (``None`` with the opt-out)."""
    return None if no_framework_filters else framework
