"""The command line: ``codetracer-python-recorder [options] script.py [args...]``.

``codetracer-python-recorder summary [DIR]`` summarises a recorded trace instead
(:mod:`codetracer_python_recorder.summary`). ``summary`` is the subcommand only as the very
first argument; a script literally named ``summary`` runs as ``./summary`` or ``-- summary``.

Recorder options come before the target; everything from the script path (or ``-m MODULE``,
or after ``--``) on belongs to the program and is passed through untouched, even arguments
that look like recorder flags. Exit status: 0 when the recording succeeded, the program's own
status with ``--propagate-script-exit`` (130 after Ctrl-C in any case), 1 when the recorder
failed, 2 for usage errors.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

import codetracer_python_recorder_core as core

from codetracer_python_recorder import _target, frameworks
from codetracer_python_recorder._usage import CliUsageError, UsageParser
from codetracer_python_recorder._version import __version__
from codetracer_python_recorder.api import split_filter_spec
from codetracer_python_recorder.empty_trace import empty_trace_warning
from codetracer_python_recorder.errors import (
    ERR_INTERNAL,
    ERR_USAGE,
    RecorderError,
    disabled_line,
    error_message,
    format_error,
    make_error,
    unexpected_error,
)
from codetracer_python_recorder.formats import DEFAULT_FORMAT, normalize_format
from codetracer_python_recorder.policy import PolicySnapshot, file_mode
from codetracer_python_recorder.policy import resolve as resolve_policy
from codetracer_python_recorder.session import TraceSession, TraceSummary, start_session
from codetracer_python_recorder.summary import human_size
from codetracer_python_recorder.summary import main as summary_main

PROG = "codetracer-python-recorder"
SUMMARY_COMMAND = "summary"
DEFAULT_TRACE_DIR = "trace-out"
INCLUDE_LIBRARIES_FLAG = "--include-libraries"
LOGGER_NAME = "codetracer_python_recorder"
EXIT_OK, EXIT_RECORDER_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

USAGE = (
    f"{PROG} [options] script.py [args ...]\n"
    f"       {PROG} [options] -m package.module [args ...]\n"
    f"       {PROG} [options] (--pytest | --unittest) [test args ...]\n"
    f"       {PROG} summary [--json] [--top N] [DIR]\n"
    f"       python -m codetracer_python_recorder [options] script.py [args ...]"
)
DESCRIPTION = (
    "Run a Python program and record a complete execution trace of it (every call, return, "
    "line and the variables at each line) for the CodeTracer time-travel debugger. "
    "Recorder options go BEFORE the script; everything after the script (or after -m MODULE, "
    "or after --) is passed to the program untouched."
)
EPILOG = f"""examples:
  {PROG} examples/fib.py 20
        record into ./trace-out (trace.bin + trace_metadata.json + trace_paths.json)
  {PROG} --trace-dir /tmp/t --format json app.py --verbose
        JSON trace into /tmp/t; app.py receives --verbose
  {PROG} -m http.server 8000
        record a module run as `python -m http.server 8000`
  {PROG} --out-dir /tmp/t --pytest tests/test_app.py -k login
        record a pytest run (tests and code under test; pytest's internals are skipped);
        one trace per test instead: pytest --codetracer-dir=DIR
  {PROG} summary /tmp/t
        summarise a recorded trace (records, busiest functions, threads, errors, exit
        status); `summary` is the subcommand only as the first argument: record a script
        named summary as `./summary` or `-- summary`

exit status: 0 when the trace was written (a failing program is still recorded; its status
is reported on stderr), the program's status with --propagate-script-exit, 1 when the
recorder failed, 2 for usage errors. Environment variables (CODETRACER_*) are listed in the
README; explicit flags override them.
"""


@dataclass(frozen=True)
class SplitArgs:
    """The command line split into recorder options and the target."""

    options: list[str]
    script: str | None = None
    module: str | None = None
    program_args: tuple[str, ...] = ()
    framework: str | None = None
    """``pytest``/``unittest`` for ``--pytest ARGS``/``--unittest ARGS`` (``module`` too)."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the recorder options (the target is split off beforehand)."""
    parser = UsageParser(
        prog=PROG,
        usage=USAGE,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument(
        "--version", action="version", version=version_text(), help="print both versions and exit"
    )
    parser.add_argument(
        "-m",
        dest="module",
        metavar="MODULE",
        help="run a module as `python -m MODULE` would (instead of a script)",
    )
    tests = parser.add_argument_group("recording tests")
    for flag, framework in frameworks.FRAMEWORK_FLAGS.items():
        tests.add_argument(
            flag,
            metavar="ARGS",
            nargs=argparse.REMAINDER,
            help=f"run {framework} in-process with the rest of the command line as its "
            f"arguments (`python -m {framework} ARGS`), recording from the start with the "
            f"builtin-{framework} filter",
        )
    tests.add_argument(
        "--no-framework-filters",
        action="store_true",
        default=False,
        help="with --pytest/--unittest: also record the framework's own internals",
    )
    out = parser.add_argument_group("output")
    out.add_argument(
        "--trace-dir",
        "--out-dir",
        dest="trace_dir",
        metavar="DIR",
        default=DEFAULT_TRACE_DIR,
        help=f"trace directory, created if missing (default: ./{DEFAULT_TRACE_DIR}); "
        "--out-dir is the same flag (the spelling CodeTracer's `ct record` passes)",
    )
    out.add_argument(
        "--format",
        metavar="{binary,json,ctfs}",
        default=None,
        help="trace format: binary = trace.bin (compact), json = trace.json, "
        "ctfs = trace.ct (the container CodeTracer opens first, read on demand) "
        f"(default: {DEFAULT_FORMAT})",
    )
    out.add_argument(
        "--activation-path",
        metavar="PATH",
        help="start recording when code from this file first runs, stop when that frame "
        "returns (default: the script; with -m, the module's file)",
    )
    out.add_argument(
        "--follow-children",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also record child processes (forks, multiprocessing workers, Python programs "
        "the program starts), each into DIR/children/<pid>-<n>/ (default: on)",
    )
    out.add_argument(
        "--trace-mode",
        metavar="MODE",
        default=None,
        help="octal mode of the trace files and the log file (default: 0600, private: a trace "
        "holds the program's memory); a directory the recorder creates gets the same bits "
        "plus search where reading is allowed (0700)",
    )
    out.add_argument(
        "--propagate-script-exit",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="exit with the program's exit status instead of 0 (default: off)",
    )

    filt = parser.add_argument_group("what to record")
    filt.add_argument(
        "--trace-filter",
        metavar="SPEC",
        action="append",
        default=None,
        help="trace filter file (TOML); repeatable; a.toml::b.toml chains several",
    )
    filt.add_argument(
        INCLUDE_LIBRARIES_FLAG,
        dest="include_libraries",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="record installed third-party packages (site-packages) too; by default only your "
        "own code is recorded, like the standard library is skipped "
        "(default: off, or $CODETRACER_INCLUDE_LIBRARIES)",
    )
    filt.add_argument(
        "--module-name-from-globals",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="name module-level code from its __name__/__spec__ (default: on)",
    )
    filt.add_argument(
        "--io-capture",
        choices=("off", "proxies", "proxies+fd"),
        default=None,
        help="record stdin/stdout/stderr: off, proxies (sys.std* wrappers, default) or "
        "proxies+fd (also raw writes to fds 1/2) [not implemented yet]",
    )
    filt.add_argument(
        "--max-value-depth", metavar="N", default=None, help="nesting depth of values (default: 3)"
    )
    filt.add_argument(
        "--max-container-elements",
        metavar="N",
        default=None,
        help="elements recorded per container (default: 100)",
    )
    filt.add_argument(
        "--max-string-length",
        metavar="N",
        default=None,
        help="characters recorded per string, hexadecimal digits per int (default: 1000)",
    )
    filt.add_argument(
        "--max-value-nodes",
        metavar="N",
        default=None,
        help="nodes recorded per value, all levels together (default: 1000)",
    )
    filt.add_argument(
        "--allow-repr",
        action="store_true",
        default=None,
        help="allow calling repr() on objects the recorder cannot describe itself "
        "(runs user code; default: off)",
    )

    err = parser.add_argument_group("errors and logging")
    err.add_argument(
        "--on-recorder-error",
        choices=("abort", "disable"),
        default=None,
        help="when the recorder fails: abort (exit 1) or disable (program continues "
        "untraced, exit 0) (default: abort)",
    )
    err.add_argument(
        "--require-trace",
        action="store_true",
        default=None,
        help="fail when no events were recorded",
    )
    err.add_argument(
        "--keep-partial-trace",
        action="store_true",
        default=None,
        help="keep the trace files after a recorder failure",
    )
    err.add_argument(
        "--log-level",
        metavar="LEVEL",
        default=None,
        help="recorder log level: off, error, warn (default), info, debug, trace",
    )
    err.add_argument(
        "--log-file", metavar="PATH", default=None, help="recorder log file (default: stderr)"
    )
    err.add_argument(
        "--json-errors",
        action="store_true",
        default=None,
        help="also print a one-line JSON error trailer on stderr",
    )
    return parser


def _value_flags(parser: argparse.ArgumentParser) -> frozenset[str]:
    """The option strings that take a value (so their value is not mistaken for the script)."""
    return frozenset(
        flag for action in parser._actions if action.nargs != 0 for flag in action.option_strings
    )


def split_argv(argv: Sequence[str], value_flags: frozenset[str]) -> SplitArgs:
    """Split at the first positional argument, ``-m MODULE`` or ``--``.

    The options before it are the recorder's; the rest is the program's, untouched.
    """
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            rest = argv[i + 1 :]
            if not rest:
                raise CliUsageError("missing the script to run after '--'")
            return SplitArgs(list(argv[:i]), script=rest[0], program_args=tuple(rest[1:]))
        if tok == "-m":
            if i + 1 >= len(argv):
                raise CliUsageError("argument -m: expected a module name")
            return SplitArgs(list(argv[:i]), module=argv[i + 1], program_args=tuple(argv[i + 2 :]))
        if tok in frameworks.FRAMEWORK_FLAGS:
            framework = frameworks.FRAMEWORK_FLAGS[tok]
            return SplitArgs(
                list(argv[:i]),
                module=framework,
                program_args=tuple(argv[i + 1 :]),
                framework=framework,
            )
        if tok.startswith("-m") and not tok.startswith("--"):
            return SplitArgs(list(argv[:i]), module=tok[2:], program_args=tuple(argv[i + 1 :]))
        if tok.startswith("-") and tok != "-":
            i += 2 if (tok in value_flags and "=" not in tok) else 1
            continue
        return SplitArgs(list(argv[:i]), script=tok, program_args=tuple(argv[i + 1 :]))
    return SplitArgs(list(argv))


def version_text() -> str:
    """``--version``: the versions of both distributions and how the core was built."""
    try:
        info = core.build_info()
    except Exception:  # noqa: BLE001 - --version must always answer
        info = {}
    details = ", ".join(f"{k} {info[k]}" for k in ("profile", "python_build") if k in info)
    core_line = f"codetracer-python-recorder-core {core.__version__}"
    return f"{PROG} {__version__}\n{core_line}" + (f" ({details})" if details else "")


def _policy_from(ns: argparse.Namespace) -> dict[str, object]:
    """The policy fields given as flags, as plain data for the native core (which validates them).

    Each flag's dest is the field's name; the field list is the core's own. Every policy
    decision of the CLI (exit status, JSON errors, what a failure does, logging) is taken from
    the policy the core resolves from these and the environment (:func:`resolve_policy`): the
    CLI parses no ``CODETRACER_*`` variable itself.
    """
    given = vars(ns)
    return {name: given[name] for name in core.policy_snapshot() if given.get(name) is not None}


def summary_line(summary: TraceSummary, trace_dir: str, seconds: float) -> str:
    """``codetracer: trace written to DIR (N events, SIZE, T s)``."""
    events = summary.get("events", "?")
    size = summary.get("bytes")
    size_text = human_size(size) if isinstance(size, int) else "? B"
    where = summary.get("trace_dir") or trace_dir
    line = f"codetracer: trace written to {where} ({events} events, {size_text}, {seconds:.2f} s)"
    skipped = summary.get("libraries_skipped")
    if isinstance(skipped, int) and skipped > 0:
        line += (
            f"; library code not recorded ({skipped} code objects): add {INCLUDE_LIBRARIES_FLAG}"
        )
    return line


def json_trailer(code: str, kind: str, message: str, context: dict[str, str]) -> str:
    """The one-line JSON error trailer of ``--json-errors``.

    Keys ``error_code``, ``error_kind``, ``message``, ``context``; the same facts are also
    nested under ``error`` (``code``/``kind``/``message``/``context``) for older readers.
    """
    facts = {"code": code, "kind": kind, "message": message, "context": context}
    payload: dict[str, object] = {
        "error_code": code,
        "error_kind": kind,
        "message": message,
        "context": context,
        "error": facts,
    }
    return json.dumps(payload, sort_keys=True)


def _trailer_of(exc: RecorderError) -> str:
    return json_trailer(
        getattr(exc, "code", None) or ERR_INTERNAL,
        getattr(exc, "kind", None) or "internal",
        error_message(exc),
        {str(k): str(v) for k, v in dict(getattr(exc, "context", None) or {}).items()},
    )


def _report_recorder_error(exc: RecorderError, json_errors: bool) -> None:
    print(format_error(exc), file=sys.stderr)
    if json_errors:
        print(_trailer_of(exc), file=sys.stderr)


def _open_log_file(path: str, mode: int) -> TextIO:
    """The log file, opened by the core.

    Appended to, created with ``mode``, never through a symlink (``EnvironmentError``
    ``ERR_IO`` otherwise).
    """
    handle = core.open_log_file(path, mode)
    if sys.platform == "win32":  # the core hands over a HANDLE there
        import msvcrt  # noqa: PLC0415 - Windows only

        handle = msvcrt.open_osfhandle(handle, os.O_APPEND)
    return os.fdopen(handle, "a", encoding="utf-8")


def configure_logging(policy: PolicySnapshot) -> logging.Logger:
    """Set up the ``codetracer_python_recorder`` logger for a CLI run.

    ``log_level``/``log_file`` of the resolved ``policy`` (``--log-level``/``--log-file``, else
    ``CODETRACER_LOG_LEVEL``/``CODETRACER_LOG_FILE``; default warn on stderr). The handler
    holds the real stderr (or the file, created with the policy's ``trace_mode``) opened
    *before* recording starts, and the logger does not propagate, so the recorder's own
    messages never reach the program's handlers or the captured streams.

    Raises:
        EnvironmentError: ``ERR_IO`` when the log file cannot be opened (or is a symlink).

    """
    logger = logging.getLogger(LOGGER_NAME)
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    handler: logging.Handler
    log_file = policy["log_file"]
    if log_file:
        handler = logging.StreamHandler(_open_log_file(log_file, file_mode(policy)))
    else:
        handler = logging.StreamHandler(sys.__stderr__ or sys.stderr)
    handler.setFormatter(logging.Formatter("codetracer: %(levelname)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(core.python_log_level(policy["log_level"]))
    logger.propagate = False
    return logger


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI (``codetracer-python-recorder`` / ``python -m codetracer_python_recorder``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == [SUMMARY_COMMAND]:
        return summary_main(args[1:], prog=PROG)
    parser = build_parser()
    json_errors = "--json-errors" in args  # until the policy is known
    try:
        split = split_argv(args, _value_flags(parser))
        ns = parser.parse_args(split.options)
        module = split.module or ns.module
        if split.script is None and module is None:
            raise CliUsageError("missing the script to run (or -m MODULE); see --help")
        policy = resolve_policy(_policy_from(ns))
        json_errors = policy["json_errors"]
        fmt = normalize_format(ns.format or DEFAULT_FORMAT, source="--format")
        if split.framework is not None:
            target = frameworks.framework_target(split.framework, list(split.program_args))
        elif split.script is not None:
            target = _target.script_target(split.script, list(split.program_args))
        else:
            target = _target.module_target(str(module), list(split.program_args))
    except SystemExit as exc:  # argparse: --help, --version
        return exit_status_for_argparse(exc)
    except (CliUsageError, _target.TargetNotFoundError) as exc:
        parser.print_usage(sys.stderr)
        _report_recorder_error(make_error(ERR_USAGE, str(exc)), json_errors)
        return EXIT_USAGE
    except RecorderError as exc:  # a bad policy value, ERR_UNSUPPORTED_FORMAT
        _report_recorder_error(exc, json_errors)
        return EXIT_USAGE
    return record(ns, target, fmt, policy, framework=split.framework)


def exit_status_for_argparse(exc: SystemExit) -> int:
    """Argparse exits with 0 (--help/--version)."""
    return exc.code if isinstance(exc.code, int) else EXIT_USAGE


def record(
    ns: argparse.Namespace,
    target: _target.Target,
    fmt: str,
    policy: PolicySnapshot,
    *,
    framework: str | None = None,
) -> int:
    """Start the recording, run the target, stop, and turn the outcome into the exit status.

    ``policy`` is the policy the core resolved for this run (flags over environment);
    ``framework`` (``--pytest``/``--unittest``): record from the start with its filter.
    """
    json_errors = policy["json_errors"]
    propagate = policy["propagate_script_exit"]
    began = time.perf_counter()
    recorder_pid = os.getpid()
    try:
        configure_logging(policy)
    except RecorderError as exc:
        _report_recorder_error(exc, json_errors)
        return EXIT_RECORDER_FAILED
    try:
        # Start with sys.argv / sys.path[0] already as the program will see them, so the
        # recorder's module-name roots match the program's.
        with _target.program_sys(target):
            session = start_session(
                ns.trace_dir,
                fmt,
                activation_path=frameworks.activation_path(ns.activation_path, target, framework),
                program=target.file,
                args=target.args,
                trace_filter=split_filter_spec(ns.trace_filter),
                policy=_policy_from(ns),
                test_framework=frameworks.filter_framework(
                    framework, no_framework_filters=ns.no_framework_filters
                ),
            )
    except Exception as raised:  # noqa: BLE001 - whatever fails at start follows the policy
        failure = raised if isinstance(raised, RecorderError) else unexpected_error(raised, "start")
        usage = getattr(failure, "kind", None) == "usage"
        if not usage and policy["on_recorder_error"] == "disable":
            return run_untraced(target, failure, json_errors=json_errors, propagate=propagate)
        _report_recorder_error(failure, json_errors)
        return EXIT_USAGE if usage else EXIT_RECORDER_FAILED
    try:
        outcome = _target.run(target)
    except RecorderError as exc:
        if os.getpid() != recorder_pid:
            return EXIT_RECORDER_FAILED  # a forked child: its parent reports the recorder
        _report_recorder_error(exc, json_errors)
        with contextlib.suppress(RecorderError):
            session.stop(exit_code=1)
        return EXIT_RECORDER_FAILED
    if os.getpid() != recorder_pid:
        return finish_forked_child(session, outcome)
    try:
        summary = session.stop(exit_code=outcome.status, error=outcome.error)
    except RecorderError as exc:
        _report_recorder_error(exc, json_errors)
        return EXIT_RECORDER_FAILED
    disabled = summary.get("disabled")
    if isinstance(disabled, dict):
        code = str(disabled.get("code") or ERR_INTERNAL)
        message = str(disabled.get("message") or "")
        print(disabled_line(code, message, started=True), file=sys.stderr)
        if json_errors:
            kind = str(disabled.get("kind") or "internal")
            trailer = json_trailer(code, kind, message, {"on_recorder_error": "disable"})
            print(trailer, file=sys.stderr)
    else:
        print(summary_line(summary, ns.trace_dir, time.perf_counter() - began), file=sys.stderr)
        warning = empty_trace_warning(
            summary, frameworks.activation_path(ns.activation_path, target, framework)
        )
        if warning:
            print(warning, file=sys.stderr)
    if outcome.status != 0 and not propagate and not outcome.interrupted:
        print(
            f"codetracer: the program exited with status {outcome.status} (recorded in the trace; "
            "use --propagate-script-exit to exit with it)",
            file=sys.stderr,
        )
    if outcome.interrupted:
        return EXIT_INTERRUPTED
    return outcome.status if propagate else EXIT_OK


def finish_forked_child(session: TraceSession, outcome: _target.Outcome) -> int:
    """The program forked and this child ran to the end of the script: end as ``python`` would.

    The child exits with the program's status whatever ``--propagate-script-exit`` says (its
    parent sees that status, exactly as without the recorder) and prints nothing: the
    summary line is the recording process's. Whatever the child recorded is stopped here.
    """
    with contextlib.suppress(RecorderError):
        session.stop(exit_code=outcome.status, error=outcome.error)
    return outcome.status


def run_untraced(
    target: _target.Target, exc: RecorderError, *, json_errors: bool, propagate: bool
) -> int:
    """``on_recorder_error=disable`` and the recording could not start: say so, run untraced."""
    code = getattr(exc, "code", None) or ERR_INTERNAL
    print(disabled_line(code, error_message(exc), started=False), file=sys.stderr)
    outcome = _target.run(target)
    if json_errors:  # a trailer comes last, after the program's own output
        print(_trailer_of(exc), file=sys.stderr)
    if outcome.interrupted:
        return EXIT_INTERRUPTED
    return outcome.status if propagate else EXIT_OK
