"""The pytest plugin (``pytest --codetracer-dir DIR``): one trace per test, real pytest runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from codetracer_python_recorder.pytest_plugin import TRACE_PROPERTY, trace_dir_name
from support import Trace, assert_balanced, assert_no_recorder_frames, decode, run_python, write

CALC = """
def mul(a, b):
    product = a * b
    return product
"""

CONFTEST = """
import pytest

@pytest.fixture
def base():
    start = 10
    yield start
    finished = True

@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")
"""

SUITE = """
import pytest
from calc import mul

def test_pass(base):
    assert mul(base, 2) == 20

def test_fail():
    got = mul(3, 3)
    assert got == 10

def test_error(broken):
    pass

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass

@pytest.mark.xfail(reason="known")
def test_xfail():
    assert mul(1, 1) == 2

@pytest.mark.parametrize("n", [1, 2])
def test_param(n):
    assert mul(n, 1) == n

class TestGroup:
    def test_method(self):
        assert mul(2, 5) == 10
"""

SUITE_ID = "test_suite.py"
OUTCOMES = {
    f"{SUITE_ID}::test_pass": "passed",
    f"{SUITE_ID}::test_fail": "failed",
    f"{SUITE_ID}::test_error": "error",
    f"{SUITE_ID}::test_skipped": "skipped",
    f"{SUITE_ID}::test_xfail": "xfailed",
    f"{SUITE_ID}::test_param[1]": "passed",
    f"{SUITE_ID}::test_param[2]": "passed",
    f"{SUITE_ID}::TestGroup::test_method": "passed",
}
FAILING = {k for k, v in OUTCOMES.items() if v in ("failed", "error")}


def _project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    write(proj / "calc.py", CALC)
    write(proj / "conftest.py", CONFTEST)
    write(proj / "test_suite.py", SUITE)
    write(proj / "pytest.ini", "[pytest]\naddopts = -p no:cacheprovider\n")
    return proj


def _pytest(proj: Path, *args: str | Path) -> tuple[int, str]:
    proc = run_python("-m", "pytest", "-rA", *args, cwd=proj)
    return proc.returncode, proc.stdout + proc.stderr


def _traces(root: Path) -> dict[str, Path]:
    """node id -> trace directory, read from each trace's metadata."""
    found = {}
    for meta_file in root.glob("*/trace_metadata.json"):
        meta = json.loads(meta_file.read_text())
        found[meta["pytest"]["nodeid"]] = meta_file.parent
    return found


def test_inert_without_the_option(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    status, out = _pytest(proj)
    assert status == 1
    # Only pytest's list of plugins names it.
    assert [ln for ln in out.splitlines() if "codetracer" in ln and "plugins:" not in ln] == []
    assert not list(proj.glob("**/trace_metadata.json"))


def test_one_trace_per_test_with_outcomes_and_values(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    plain_status, plain = _pytest(proj)
    root = tmp_path / "traces"
    status, out = _pytest(proj, f"--codetracer-dir={root}")
    assert status == plain_status == 1
    # pytest's own result lines are unchanged; the plugin only adds its summary section.
    result_lines = [ln for ln in plain.splitlines() if ln.startswith(("PASSED", "FAILED", "ERROR",
                    "SKIPPED", "XFAIL"))]  # fmt: skip
    for line in result_lines:
        assert line in out
    assert "codetracer traces of failed tests" in out
    traces = _traces(root)
    assert set(traces) == set(OUTCOMES)
    for nodeid, trace_dir in traces.items():
        assert trace_dir.name == trace_dir_name(nodeid)
        meta = Trace(trace_dir).metadata
        block = meta["pytest"]
        assert block["outcome"] == OUTCOMES[nodeid], nodeid
        assert block["duration"] >= 0
        assert (block["traceback"] is not None) == (nodeid in FAILING)
        if nodeid in FAILING:
            assert f"{nodeid}: {trace_dir}" in out
    fail = Trace(traces[f"{SUITE_ID}::test_fail"])
    assert "test_fail" in fail.function_names
    assert [decode(v) for v in fail.returns_of("mul")] == [9]
    assert 9 in fail.int_values("got")
    assert "assert 9 == 10" in fail.metadata["pytest"]["traceback"]
    passed = Trace(traces[f"{SUITE_ID}::test_pass"])
    # setup + call + teardown: the fixture's code before and after its yield is recorded
    assert {"base", "test_pass", "mul"} <= set(passed.function_names)
    assert 10 in passed.int_values("start")
    assert [decode(v) for v in passed.returns_of("mul")] == [20]
    assert "test_fail" not in passed.function_names  # each trace holds its own test only
    error = Trace(traces[f"{SUITE_ID}::test_error"])
    assert "broken" in error.function_names
    assert "fixture broke" in error.metadata["pytest"]["traceback"]
    method = Trace(traces[f"{SUITE_ID}::TestGroup::test_method"])
    assert "TestGroup.test_method" in method.function_names
    for trace_dir in traces.values():
        trace = Trace(trace_dir)
        assert not any(
            part in p for p in trace.function_paths for part in ("/_pytest/", "/pluggy/")
        )
        assert_balanced(trace)
        assert_no_recorder_frames(trace)


def test_only_failed_keeps_only_failing_tests(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    root = tmp_path / "traces"
    status, _ = _pytest(proj, f"--codetracer-dir={root}", "--codetracer-only-failed")
    assert status == 1
    traces = _traces(root)
    assert set(traces) == FAILING
    assert sorted(p.name for p in root.iterdir()) == sorted(trace_dir_name(n) for n in FAILING)
    # A failing test after a passing one records into the passing one's emptied directory,
    # renamed: its trace is its own, whole, and names where it is.
    for nodeid, trace_dir in traces.items():
        trace = Trace(trace_dir)
        assert trace.metadata["trace_dir"]["path"] == str(trace_dir)
        assert trace.metadata["pytest"]["nodeid"] == nodeid
        assert_balanced(trace)
    assert "test_fail" in Trace(traces[f"{SUITE_ID}::test_fail"]).function_names
    assert "test_pass" not in Trace(traces[f"{SUITE_ID}::test_fail"]).function_names


def test_stop_at_first_failure(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    root = tmp_path / "traces"
    status, _ = _pytest(proj, f"--codetracer-dir={root}", "-x")
    assert status == 1
    assert set(_traces(root)) == {f"{SUITE_ID}::test_pass", f"{SUITE_ID}::test_fail"}


def test_xdist_workers_give_the_same_traces(tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    proj = _project(tmp_path)
    root = tmp_path / "traces"
    status, out = _pytest(proj, f"--codetracer-dir={root}", "-n", "2")
    assert status == 1, out
    traces = _traces(root)
    assert set(traces) == set(OUTCOMES)
    workers = {Trace(d).metadata["pytest"]["worker"] for d in traces.values()}
    assert workers <= {"gw0", "gw1"} and workers
    for nodeid, trace_dir in traces.items():
        assert Trace(trace_dir).metadata["pytest"]["outcome"] == OUTCOMES[nodeid]
    for nodeid in FAILING:
        assert f"{nodeid}: {traces[nodeid]}" in out


UNITTEST_STYLE = """
import unittest
from calc import mul

class Legacy(unittest.TestCase):
    def test_mul(self):
        value = mul(6, 7)
        self.assertEqual(value, 42)
"""


def test_unittest_testcases_collected_by_pytest(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    write(proj / "test_legacy.py", UNITTEST_STYLE)
    root = tmp_path / "traces"
    status, _ = _pytest(proj, f"--codetracer-dir={root}", "test_legacy.py")
    assert status == 0
    traces = _traces(root)
    assert set(traces) == {"test_legacy.py::Legacy::test_mul"}
    trace = Trace(traces["test_legacy.py::Legacy::test_mul"])
    assert "Legacy.test_mul" in trace.function_names
    assert 42 in trace.int_values("value")
    assert not any("/unittest/" in p for p in trace.function_paths)


def test_trace_property_on_failing_reports(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    root = tmp_path / "traces"
    write(
        proj / "conftest.py",
        CONFTEST
        + f"""
def pytest_runtest_logreport(report):
    if report.failed:
        props = dict(report.user_properties)
        print("PROP", report.nodeid, props.get({TRACE_PROPERTY!r}))
""",
    )
    proc = run_python("-m", "pytest", "-s", f"--codetracer-dir={root}", "test_suite.py::test_fail",
                      cwd=proj)  # fmt: skip
    line = next(ln for ln in proc.stdout.splitlines() if "PROP " in ln)
    nodeid = f"{SUITE_ID}::test_fail"
    assert line.endswith(f"PROP {nodeid} {root / trace_dir_name(nodeid)}")


def test_nodeid_names_are_distinct_and_safe() -> None:
    a, b = trace_dir_name("t.py::t[a/b]"), trace_dir_name("t.py::t[a_b]")
    assert a != b
    for name in (a, b, trace_dir_name("x" * 500), trace_dir_name("::")):
        assert "/" not in name and len(name) < 100 and name


EDGES = """
import pytest
from calc import mul

@pytest.fixture
def leaky():
    yield 5
    raise RuntimeError("teardown broke")

def test_teardown_error(leaky):
    kept = mul(leaky, 3)
    assert kept == 15

@pytest.mark.xfail(reason="thought broken")
def test_xpass():
    assert mul(2, 2) == 4

@pytest.mark.parametrize("word", ["a/b", "a_b", "ünï"])
def test_ids(word):
    size = len(word)
    assert size > 0
"""


def _record_file(tmp_path: Path, name: str, text: str, status: int) -> tuple[str, dict[str, Path]]:
    """Record the tests of one file ``name`` (beside the project); its output and traces."""
    proj = _project(tmp_path)
    write(proj / name, text)
    root = tmp_path / "traces"
    got, out = _pytest(proj, f"--codetracer-dir={root}", name)
    assert got == status, out
    return out, _traces(root)


def test_xpass_teardown_errors_and_parametrised_ids(tmp_path: Path) -> None:
    out, traces = _record_file(tmp_path, "test_edges.py", EDGES, 1)
    # pytest escapes non-ASCII ids (\\xfc); "a/b" and "a_b" read alike once made file-safe.
    ids = [f"test_edges.py::test_ids[{w}]" for w in ("a/b", "a_b", "\\xfcn\\xef")]
    expected = {"test_edges.py::test_teardown_error": "error",
                "test_edges.py::test_xpass": "xpassed", **dict.fromkeys(ids, "passed")}  # fmt: skip
    assert {n: Trace(d).metadata["pytest"]["outcome"] for n, d in traces.items()} == expected
    assert len({d.name for d in traces.values()}) == len(expected)
    for nodeid in ids:
        assert traces[nodeid].name == trace_dir_name(nodeid)
        assert Trace(traces[nodeid]).int_values("size") == [3]
    # The test body passed; the fixture's teardown failed: both are in the trace.
    teardown = Trace(traces["test_edges.py::test_teardown_error"])
    assert 15 in teardown.int_values("kept")
    assert {"leaky", "test_teardown_error"} <= set(teardown.function_names)
    assert "teardown broke" in teardown.metadata["pytest"]["traceback"]
    nodeid = "test_edges.py::test_teardown_error"
    assert f"{nodeid}: {traces[nodeid]}" in out


def test_test_files_of_the_same_name_get_their_own_traces(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    for pkg, factor in (("one", 2), ("two", 3)):
        write(proj / pkg / "__init__.py", "")
        body = (
            f"from calc import mul\n\ndef test_it():\n    out = mul({factor}, 7)\n    assert out\n"
        )
        write(proj / pkg / "test_same.py", body)
    root = tmp_path / "traces"
    status, out = _pytest(proj, f"--codetracer-dir={root}", "one", "two")
    assert status == 0, out
    traces = _traces(root)
    assert set(traces) == {"one/test_same.py::test_it", "two/test_same.py::test_it"}
    assert Trace(traces["one/test_same.py::test_it"]).int_values("out") == [14]
    assert Trace(traces["two/test_same.py::test_it"]).int_values("out") == [21]


def test_last_failed_reruns_record_only_the_failures(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    write(proj / "pytest.ini", "[pytest]\n")  # the cache provider on: --lf needs it
    status, _ = _pytest(proj)
    assert status == 1
    root = tmp_path / "traces"
    status, out = _pytest(proj, f"--codetracer-dir={root}", "--lf")
    assert status == 1, out
    assert set(_traces(root)) == FAILING


ASYNC_SUITE = """
import anyio
import pytest
from calc import mul

@pytest.fixture
def anyio_backend():
    return "asyncio"

async def twice(n):
    await anyio.sleep(0)
    return mul(n, 2)

@pytest.mark.anyio
async def test_async():
    value = await twice(21)
    assert value == 42
"""


def test_async_tests_with_anyio(tmp_path: Path) -> None:
    pytest.importorskip("anyio")
    _, traces = _record_file(tmp_path, "test_async.py", ASYNC_SUITE, 0)
    assert list(traces) == ["test_async.py::test_async"]
    trace = Trace(traces["test_async.py::test_async"])
    assert {"test_async", "twice", "mul"} <= set(trace.function_names)
    assert 42 in trace.int_values("value")
    assert not any(
        part in p for p in trace.function_paths for part in ("/anyio/", "/asyncio/", "/_pytest/")
    )
    assert_balanced(trace)


def _leak_suite(count: int) -> str:
    """``count`` trivial tests, with a probe of RSS and open fds after the warm-up and last."""
    probe = (
        "def test_probe_{name}():\n"
        "    rss = next(int(ln.split()[1]) for ln in open('/proc/self/status')\n"
        "               if ln.startswith('VmRSS:'))\n"
        "    with open('probe_{name}.json', 'w') as f:\n"
        "        json.dump({{'rss_kb': rss, 'fds': len(os.listdir('/proc/self/fd'))}}, f)\n"
    )
    tests = [f"def test_{i}():\n    assert {i} + 1 > {i}\n" for i in range(count)]
    return "\n".join(
        ["import json, os\n", *tests[:100], probe.format(name="a"), *tests[100:],
         probe.format(name="b")]
    )  # fmt: skip


def _probes(proj: Path) -> tuple[int, int]:
    """(RSS growth in KiB, open fds growth) from the first probe to the last."""
    a, b = (json.loads((proj / f"probe_{n}.json").read_text()) for n in "ab")
    return b["rss_kb"] - a["rss_kb"], b["fds"] - a["fds"]


def test_a_thousand_tests_leak_neither_memory_nor_fds(tmp_path: Path) -> None:
    # One tracer for the session (a series): 1000 per-test recordings must not grow the
    # process more than plain pytest grows over the same tests, nor leave a file open.
    proj = tmp_path / "proj"
    write(proj / "test_many.py", _leak_suite(1000))
    write(proj / "pytest.ini", "[pytest]\naddopts = -p no:cacheprovider -q\n")
    status, _ = _pytest(proj)
    assert status == 0
    plain_rss, plain_fds = _probes(proj)
    root = tmp_path / "traces"
    status, out = _pytest(proj, f"--codetracer-dir={root}")
    assert status == 0, out
    rss, fds = _probes(proj)
    assert fds == plain_fds == 0
    # KiB over 900 recordings of 900 new test functions (each function's cached facts, the
    # trace path on its reports: ~4 KiB a test); a leaked chunk or encoder would be >256 KiB.
    assert rss - plain_rss < 8192, (rss, plain_rss)
    traces = _traces(root)
    assert len(traces) == 1002
    for nodeid in ("test_many.py::test_0", "test_many.py::test_999", "test_many.py::test_probe_b"):
        trace = Trace(traces[nodeid])
        assert nodeid.rpartition("::")[2] in trace.function_names
        assert_balanced(trace)
