"""The one task runner: every build, test, lint, bench and demo goes through ``nox``.

``nox -l`` lists the sessions. ``nox -s test lint`` is what CI (``.ci/run``) runs.

CPython 3.12/3.13 are found by ``tools/find_python.py`` (pyenv versions that are not on PATH
included) and their directories are put first on PATH, so ``python="3.12"`` resolves to them.
Cargo artefacts: ``$CARGO_TARGET_DIR`` (default ``target/``) for ``cargo test``/clippy/bench,
and one sub-directory per interpreter and profile for the wheels, so the sessions never
invalidate each other's builds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tools"))
from find_python import find_all  # noqa: E402

WANTED = ["3.12", "3.13"]
FOUND = find_all(WANTED)
PYTHONS = [v for v in WANTED if v in FOUND] or WANTED[:1]
for _path in reversed(FOUND.values()):
    os.environ["PATH"] = f"{Path(_path).parent}{os.pathsep}{os.environ.get('PATH', '')}"

CORE_DIR = ROOT / "crates" / "recorder-py"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target").resolve()
WHEELS = TARGET / "wheels"
LINT_PATHS = ["python", "benches", "examples", "tools", "noxfile.py", "crates/recorder-py/python"]
DEMO_EXAMPLE = "examples/fib.py"
# The `test` extra of pyproject.toml (pytest, pytest-timeout): one list, read from there.
TEST_REQUIREMENTS: list[str] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
    "optional-dependencies"
]["test"]

# The "test" wheel profile: the dev profile with light optimisation and no debug info; it
# compiles in about half the time of the LTO release build and runs fast enough for tests.
TEST_PROFILE_ENV = {"CARGO_PROFILE_DEV_OPT_LEVEL": "1", "CARGO_PROFILE_DEV_DEBUG": "0"}

nox.options.sessions = ["test", "lint"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True


def _interpreter(session: nox.Session) -> str:
    """The session's Python executable (the venv's)."""
    return str(Path(session.bin) / ("python.exe" if sys.platform == "win32" else "python"))


def _rust_env(python: str) -> dict[str, str]:
    """Environment for cargo commands that link libpython (tests with auto-initialize)."""
    probe = "import sysconfig; print(sysconfig.get_config_var('LIBDIR') or '')"
    libdir = subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    ld = os.environ.get("LD_LIBRARY_PATH", "")
    return {"PYO3_PYTHON": python, "LD_LIBRARY_PATH": f"{libdir}{os.pathsep}{ld}" if ld else libdir}


def _base_python() -> str:
    """The first supported interpreter found (for sessions that need one outside a venv)."""
    if not FOUND:
        msg = f"no CPython {' or '.join(WANTED)} found; run .ci/run to install one"
        raise RuntimeError(msg)
    return next(iter(FOUND.values()))


def _without_capnp(env: dict[str, str]) -> dict[str, str]:
    """``env`` with a ``capnp`` first on PATH that fails: proves the wheel builds without it.

    Only the reference reader (a dev-dependency of the tests) needs Cap'n Proto; nothing in the
    shipped wheel's dependency graph may run it.
    """
    shim = TARGET / "no-capnp"
    shim.mkdir(parents=True, exist_ok=True)
    script = shim / "capnp"
    script.write_text(
        "#!/bin/sh\necho 'capnp must not be needed to build the wheel' >&2\nexit 97\n"
    )
    script.chmod(0o755)
    return {**env, "PATH": f"{shim}{os.pathsep}{os.environ.get('PATH', '')}"}


def build_core_wheel(session: nox.Session, *, release: bool = False) -> Path:
    """Build the core wheel for the session's interpreter (cached per interpreter and profile).

    The build runs with a failing ``capnp`` first on PATH (see ``_without_capnp``).
    """
    session.install("maturin>=1.9,<2")
    version = session.run(
        "python", "-c", "import sys; print('%d.%d' % sys.version_info[:2])", silent=True
    )
    tag = f"py{str(version).strip()}-{'release' if release else 'test'}"
    out = WHEELS / tag
    for old in out.glob("*.whl"):
        old.unlink()
    env = {"CARGO_TARGET_DIR": str(TARGET / "maturin" / tag)}
    profile = ["--release"] if release else ["--profile", "dev"]
    # The test wheel carries the failure-injection hooks (armed only by
    # CODETRACER_TEST_INJECT_FAILURE) so python/tests/test_faults_injection.py runs; the
    # release wheel never does.
    features = [] if release else ["--features", "failure-injection"]
    if not release:
        env.update(TEST_PROFILE_ENV)
    with session.chdir(CORE_DIR):
        session.run(
            "maturin", "build", *profile, *features, "--interpreter", _interpreter(session),
            "--out", str(out), env=_without_capnp(env),
        )  # fmt: skip
    wheels = sorted(out.glob("*.whl"))
    if len(wheels) != 1:
        session.error(f"expected one wheel in {out}, found {wheels}")
    return wheels[0]


def install_packages(session: nox.Session, *, release: bool = False) -> None:
    """Install both distributions (core wheel + the Python layer) into the session venv."""
    wheel = build_core_wheel(session, release=release)
    session.install("--force-reinstall", "--no-deps", str(wheel))
    session.install("--force-reinstall", "--no-deps", str(ROOT))
    session.run("python", "-m", "pip", "check", silent=True)


@nox.session(python=False)
def test(session: nox.Session) -> None:
    """Run every test: test-rust, then test-py on each supported CPython."""
    session.notify("test-rust")
    for version in PYTHONS:
        session.notify(f"test-py-{version}")


# The independent CTFS checker (opens a `.ct` the way the CodeTracer debugger does), when the
# workspace has it beside this project; the project's own tests do not need it.
CTFSCHECK_ENV = "CODETRACER_CTFSCHECK"
CTFSCHECK_SCRIPT = ROOT.parent / "shared" / "tools" / "ctfscheck.sh"


def _ctfscheck_env(session: nox.Session) -> dict[str, str]:
    """The environment naming the independent CTFS checker (``CODETRACER_CTFSCHECK``).

    The variable if set, else the checker built from ``../shared/tools`` if present, else
    nothing (the CTFS checks then run without it).
    """
    given = os.environ.get(CTFSCHECK_ENV)
    if given:
        return {CTFSCHECK_ENV: given}
    if not CTFSCHECK_SCRIPT.is_file():
        session.log(f"{CTFSCHECK_SCRIPT} not found: .ct containers are not checked by ctfscheck")
        return {}
    out = session.run("bash", str(CTFSCHECK_SCRIPT), silent=True, external=True)
    path = str(out).strip().splitlines()[-1] if out else ""
    return {CTFSCHECK_ENV: path} if path else {}


@nox.session(name="test-rust", python=False)
def test_rust(session: nox.Session) -> None:
    """Run the Rust tests of every crate (cargo test --workspace)."""
    session.run(
        "cargo",
        "test",
        "--workspace",
        *session.posargs,
        env=_rust_env(_base_python()) | _ctfscheck_env(session),
        external=True,
    )


@nox.session(name="test-py", python=PYTHONS)
def test_py(session: nox.Session) -> None:
    """Build the core wheel, install both packages and run pytest python/tests.

    Every trace the tests read strictly is also loaded by CodeTracer's own reader
    (``codetracer_trace_reader``, wrapped by the trace-stream crate's ``reference_read``
    example), built here and named in ``CODETRACER_REFERENCE_READER``; every ``.ct`` by
    ``ctfscheck`` when ``../shared/tools`` has it (``CODETRACER_CTFSCHECK``).
    """
    install_packages(session)
    session.install(*TEST_REQUIREMENTS)
    reader = build_reference_reader(session)
    env = {"CODETRACER_REFERENCE_READER": str(reader)} | _ctfscheck_env(session)
    with session.chdir(ROOT):
        session.run("python", "-m", "pytest", "python/tests", *session.posargs, env=env)


def build_reference_reader(session: nox.Session) -> Path:
    """Build the program that loads a trace with CodeTracer's reader; return its path."""
    session.run(
        "cargo", "build", "--quiet", "-p", "codetracer-trace-stream", "--example",
        "reference_read", "--target-dir", str(TARGET), external=True,
    )  # fmt: skip
    return TARGET / "debug" / "examples" / "reference_read"


@nox.session(python=PYTHONS[0])
def lint(session: nox.Session) -> None:
    """Check ruff, mypy, the _native stub (stubtest), versions, rustfmt and clippy."""
    # The test requirements too: the pytest plugin is type-checked against pytest's own types.
    session.install("ruff>=0.6", "mypy>=1.11", *TEST_REQUIREMENTS)
    session.run("ruff", "check", *LINT_PATHS)
    session.run("ruff", "format", "--check", *LINT_PATHS)
    session.run("python", str(ROOT / "tools" / "check_versions.py"))
    session.run("mypy")
    install_packages(session)
    allowlist = CORE_DIR / "stubtest-allowlist.txt"
    extra = ["--allowlist", str(allowlist)] if allowlist.exists() else []
    session.run("python", "-m", "mypy.stubtest", "codetracer_python_recorder_core._native", *extra)
    session.run("cargo", "fmt", "--all", "--check", external=True)
    session.run(
        "cargo", "clippy", "--workspace", "--all-targets", "--", "-D", "warnings",
        env=_rust_env(_base_python()), external=True,
    )  # fmt: skip


@nox.session(python=PYTHONS[0])
def bench(session: nox.Session) -> None:
    """Run the criterion benches, the end-to-end micro-benchmarks and the real programs.

    Criterion runs in quick mode; ``benches/run.py`` and ``benches/real_programs.py`` time each
    workload traced vs untraced; ``benches/pytest_plugin.py`` times the pytest plugin on 1000
    trivial tests and on the tests of toolz's and six's sdists.
    """
    env = _rust_env(_base_python())
    session.run(
        "cargo", "bench", "--workspace", "--bench", "*", "--",
        "--quick", "--warm-up-time", "1", "--measurement-time", "2",
        env=env, external=True,
    )  # fmt: skip
    install_packages(session, release=True)
    session.run("python", str(ROOT / "benches" / "run.py"), *session.posargs)
    # Real programs (benches/real/): libraries from PyPI; black from its sdist (pure Python).
    session.install("pygments", "docutils", "sqlparse", "rich")
    session.install("--no-binary", "black", "black")
    session.run("python", str(ROOT / "benches" / "real_programs.py"))
    # The pytest plugin (one trace per test): 1000 trivial tests, then real suites, the tests
    # of toolz's and six's sdists (each runs against its own source tree).
    session.install("pytest")
    plugin_bench = str(ROOT / "benches" / "pytest_plugin.py")
    session.run("python", plugin_bench, "--reps", "3")
    suites = [f"--suite={name}={where}" for name, where in _test_suites(session).items()]
    session.run("python", plugin_bench, "--reps", "3", *suites)


# The real test suites of the plugin bench: sdist (pinned) -> what pytest runs in it.
BENCH_SUITES = {"toolz==1.2.0": "toolz/tests", "six==1.17.0": "test_six.py"}


def _test_suites(session: nox.Session) -> dict[str, str]:
    """Fetch and unpack the sdists of ``BENCH_SUITES``; name -> ``DIR:TESTPATH``."""
    where = TARGET / "bench-suites"
    where.mkdir(parents=True, exist_ok=True)
    session.run(
        "python", "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
        "--dest", str(where), *BENCH_SUITES,
    )  # fmt: skip
    suites = {}
    for requirement, testpath in BENCH_SUITES.items():
        name, _, version = requirement.partition("==")
        archive = where / f"{name}-{version}.tar.gz"
        with tarfile.open(archive) as tar:
            tar.extractall(where, filter="data")
        suites[name] = f"{where / f'{name}-{version}'}:{testpath}"
    return suites


@nox.session(python=PYTHONS[0])
def build(session: nox.Session) -> None:
    """Build both wheels and sdists into dist/ (release profile)."""
    dist = ROOT / "dist"
    session.install("maturin>=1.9,<2", "build")
    env = {"CARGO_TARGET_DIR": str(TARGET / "maturin" / "dist")}
    with session.chdir(CORE_DIR):
        session.run("maturin", "sdist", "--out", str(dist), env=env)
        session.run(
            "maturin", "build", "--release", "--interpreter", _interpreter(session),
            "--out", str(dist), env=env,
        )  # fmt: skip
    session.run("python", "-m", "build", "--outdir", str(dist), str(ROOT))
    session.log(f"built: {', '.join(sorted(p.name for p in dist.iterdir()))}")


@nox.session(python=PYTHONS[0])
def demo(session: nox.Session) -> None:
    """Install both packages, record a bundled example and summarise the trace read back."""
    install_packages(session)
    trace_dir = ROOT / "trace-out" / "demo"
    example = session.posargs[0] if session.posargs else DEMO_EXAMPLE
    with session.chdir(ROOT):
        session.run(
            "python", "-m", "codetracer_python_recorder", "--trace-dir", str(trace_dir),
            example, "12",
        )  # fmt: skip
        session.run("codetracer-python-recorder", "summary", str(trace_dir))
    session.log(f"trace written to {trace_dir}")
