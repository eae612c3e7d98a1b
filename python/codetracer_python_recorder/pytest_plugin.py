"""The pytest plugin: ``pytest --codetracer-dir DIR`` records one trace per test.

Registered through the ``pytest11`` entry point and inert unless ``--codetracer-dir`` is given.
Each test's setup, call and teardown (fixtures included) are recorded into
``DIR/<trace_dir_name(node id)>/`` with the ``builtin-pytest`` filter, so pytest's internals
stay out; the trace's ``trace_metadata.json`` gets a ``pytest`` block (node id, outcome,
duration, the failure's traceback). Failing reports carry the trace directory as the
``codetracer_trace`` user property and the terminal summary lists them.
``--codetracer-only-failed`` records every test but keeps only the traces of tests that failed
or errored. Per-test traces are recorded with ``durable=False`` (no file synced as it is
written, the metadata and path table written once, at the stop): a failed test's trace is
synced when it stops; the kept traces of the other tests are left to the operating system's
normal write-back, like any other file a test run writes (syncing them cost a run on a slow
disk more than the recording did, and ``os.sync()`` would flush every file system of the
machine). The recordings of one session are a *series* (``start_session(series=True)``):
the native tracer stays installed between tests and keeps its decisions about the code it saw,
so a test's start and stop only open and close its trace; ``pytest_unconfigure`` releases it.
Under pytest-xdist each worker records the tests it runs (one directory per test, so no two
workers write one directory).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from collections.abc import Generator
from pathlib import Path
from typing import TypedDict

import pytest

from codetracer_python_recorder.errors import RecorderError, format_error
from codetracer_python_recorder.formats import DEFAULT_FORMAT
from codetracer_python_recorder.session import (
    TraceSession,
    active_session,
    end_series,
    start_session,
)

TRACE_PROPERTY = "codetracer_trace"
"""The user property (of a test's failing reports) that names its trace directory."""
PLUGIN_NAME = "codetracer-recorder"
"""The name the recording plugin object is registered under (the entry point's module is
``codetracer``)."""
_NAME_LIMIT = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class TestMetadata(TypedDict):
    """The ``pytest`` block of a per-test trace's ``trace_metadata.json``."""

    nodeid: str
    outcome: str
    """``passed``, ``failed`` (the call failed), ``error`` (setup/teardown failed),
    ``skipped``, ``xfailed`` or ``xpassed``."""
    duration: float
    """Seconds of setup + call + teardown, as pytest measured them."""
    traceback: str | None
    """The failure's report text (pytest's ``longreprtext``), for failed/errored tests."""
    worker: str | None
    """The pytest-xdist worker that ran the test (``gw0``, ...), else ``None``."""


def trace_dir_name(nodeid: str) -> str:
    """The per-test directory name: the node id made file-name safe, plus a short hash of it.

    The hash keeps two node ids that read the same once sanitised (``t[a/b]``, ``t[a_b]``)
    apart, with no shared state between xdist workers.
    """
    readable = _UNSAFE.sub("_", nodeid.replace("::", ".")).strip("._")[:_NAME_LIMIT]
    digest = hashlib.sha1(nodeid.encode("utf-8"), usedforsecurity=False).hexdigest()[:10]
    return f"{readable}-{digest}" if readable else digest


def _outcome(reports: list[pytest.TestReport]) -> tuple[str, str | None]:
    """The test's outcome and failure text from its setup/call/teardown reports."""
    for report in reports:
        if report.failed:
            kind = "failed" if report.when == "call" else "error"
            return kind, report.longreprtext
    for report in reports:
        if report.skipped:
            return ("xfailed" if hasattr(report, "wasxfail") else "skipped"), None
    call = next((r for r in reports if r.when == "call"), None)
    if call is not None and hasattr(call, "wasxfail"):
        return "xpassed", None
    return "passed", None


class CodetracerPlugin:
    """Records each test of this process into its own trace directory."""

    def __init__(self, config: pytest.Config, root: Path, only_failed: bool) -> None:
        self.config = config
        self.root = root
        self.only_failed = only_failed
        self.worker: str | None = os.environ.get("PYTEST_XDIST_WORKER") or None
        self._reports: dict[str, list[pytest.TestReport]] = {}
        self._dirs: dict[str, Path] = {}
        """The trace directory of each test being run (its name is computed once)."""
        self._failed: list[tuple[str, str]] = []
        self._problem: str | None = None
        self._spare: Path | None = None
        """With only-failed: the emptied directory of the last passing test, renamed to the
        next test's (a directory removed and made again costs far more on some disks)."""

    def _start(self, item: pytest.Item) -> TraceSession | None:
        if self._problem is not None:
            return None
        if active_session() is not None:
            self._problem = "a recording is already running in this process"
            return None
        target = self._dirs[item.nodeid]
        if target.exists():  # a previous run's trace of this test
            shutil.rmtree(target)
        if self._spare is not None:
            spare, self._spare = self._spare, None
            try:
                spare.rename(target)
            except OSError:
                shutil.rmtree(spare, ignore_errors=True)
        try:
            return start_session(
                target,
                DEFAULT_FORMAT,
                program=str(item.path),
                args=[item.nodeid],
                test_framework="pytest",
                durable=False,
                series=True,
            )
        except RecorderError as exc:
            self._problem = format_error(exc)
            return None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, object, object]:
        """Record setup + call + teardown of ``item``; stop and describe the trace after."""
        self._reports[item.nodeid] = []
        self._dirs[item.nodeid] = self.root / trace_dir_name(item.nodeid)
        began = time.perf_counter()
        session = self._start(item)
        try:
            return (yield)
        finally:
            if session is not None:
                self._stop(item, session, time.perf_counter() - began)
            self._reports.pop(item.nodeid, None)
            self._dirs.pop(item.nodeid, None)

    def _stop(self, item: pytest.Item, session: TraceSession, wall: float) -> None:
        reports = self._reports.get(item.nodeid, [])
        outcome, failure = _outcome(reports)
        meta = TestMetadata(
            nodeid=item.nodeid,
            outcome=outcome,
            duration=sum(r.duration for r in reports) if reports else wall,
            traceback=failure,
            worker=self.worker,
        )
        failing = outcome in ("failed", "error")
        try:
            session.stop(
                exit_code=1 if failing else 0,
                error=failure,
                extra_metadata={"pytest": meta},
            )
        except RecorderError as exc:
            self._problem = format_error(exc)
            return
        if failing:
            self._sync(session)
        elif self.only_failed:
            self._discard(session.path)

    def _sync(self, session: TraceSession) -> None:
        try:
            session.sync()
        except RecorderError as exc:
            self._problem = format_error(exc)

    def _discard(self, trace_dir: Path) -> None:
        """Empty a passing test's trace directory and keep it for the next test."""
        try:
            with os.scandir(trace_dir) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path)
                    else:
                        os.unlink(entry.path)
        except OSError:
            shutil.rmtree(trace_dir, ignore_errors=True)
            return
        self._spare = trace_dir

    def pytest_sessionfinish(self) -> None:
        """Remove the spare directory (only-failed)."""
        if self._spare is not None:
            shutil.rmtree(self._spare, ignore_errors=True)
            self._spare = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Name the trace directory on the failing reports (all reports unless only-failed)."""
        report = yield
        if item.nodeid in self._reports:
            self._reports[item.nodeid].append(report)
            if report.failed or not self.only_failed:
                report.user_properties.append((TRACE_PROPERTY, str(self._dirs[item.nodeid])))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect the failed tests' trace paths (also the reports xdist workers send)."""
        if not report.failed:
            return
        for name, value in report.user_properties:
            if name == TRACE_PROPERTY and (report.nodeid, str(value)) not in self._failed:
                self._failed.append((report.nodeid, str(value)))

    def pytest_unconfigure(self) -> None:
        """Release the tracer the per-test recordings shared (one series per session)."""
        end_series()

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """One line per failed test naming its trace, and any reason recording stopped."""
        if self._problem is not None:
            terminalreporter.write_line(f"codetracer: per-test recording stopped: {self._problem}")
        if not self._failed:
            return
        terminalreporter.section("codetracer traces of failed tests")
        for nodeid, path in self._failed:
            terminalreporter.write_line(f"{nodeid}: {path}")


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--codetracer-dir DIR`` and ``--codetracer-only-failed``."""
    group = parser.getgroup("codetracer", "CodeTracer recording (one trace per test)")
    group.addoption(
        "--codetracer-dir",
        metavar="DIR",
        default=None,
        help="record each test (setup, call, teardown) into DIR/<test id>/ for CodeTracer",
    )
    group.addoption(
        "--codetracer-only-failed",
        action="store_true",
        default=False,
        help="with --codetracer-dir: keep only the traces of tests that failed or errored",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the recording plugin when ``--codetracer-dir`` is given (else do nothing)."""
    directory = config.getoption("codetracer_dir")
    if not directory:
        return
    root = Path(directory).resolve()
    root.mkdir(parents=True, exist_ok=True)
    only_failed = bool(config.getoption("codetracer_only_failed"))
    config.pluginmanager.register(CodetracerPlugin(config, root, only_failed), PLUGIN_NAME)
