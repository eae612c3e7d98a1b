"""Command-line usage errors (``ERR_USAGE``) in the recorder's one error format.

:class:`UsageParser` is an :class:`argparse.ArgumentParser` whose errors raise
:class:`CliUsageError` instead of printing argparse's own ``PROG: error: ...`` line, so the
CLI and ``summary`` report them like every other error (:func:`report_usage_error`).
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from codetracer_python_recorder.errors import ERR_USAGE, error_line


class CliUsageError(Exception):
    """A command-line mistake: reported with the usage line, exit status 2."""


class UsageParser(argparse.ArgumentParser):
    """An argument parser whose errors are :class:`CliUsageError`.

    ``--help`` and ``--version`` still print and exit 0.
    """

    def error(self, message: str) -> NoReturn:
        """Raise instead of printing and exiting."""
        raise CliUsageError(message)


def report_usage_error(parser: argparse.ArgumentParser, message: str) -> None:
    """The usage line, then ``codetracer: error[ERR_USAGE]: message``, on stderr."""
    parser.print_usage(sys.stderr)
    print(error_line(ERR_USAGE, message), file=sys.stderr)
