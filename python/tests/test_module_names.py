"""Module-level code is named after its real module (SPEC §5.3), and `pkg:` filter selectors
see the same names: a script is `<__main__>`, a package `__init__` is `<pkg>`, a submodule
`<pkg.sub.mod>`, a namespace package's module and a module from an extra `sys.path` folder get
their dotted names, and `python -m pkg.mod` is `<pkg.mod>`."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import Trace, assert_balanced, run_cli, write


def make_project(root: Path) -> Path:
    """A script importing a package, a subpackage module, a namespace package and a module
    from an extra sys.path folder; returns the script."""
    write(root / "app" / "pkg" / "__init__.py", "PKG = 1\n")
    write(root / "app" / "pkg" / "sub" / "__init__.py", "")
    write(root / "app" / "pkg" / "sub" / "mod.py", "def helper():\n    return 2\n")
    write(root / "app" / "nspkg" / "inner.py", "def inner():\n    return 3\n")  # no __init__.py
    write(root / "extra" / "extmod.py", "def ext():\n    return 4\n")
    return write(
        root / "app" / "main.py",
        "import sys\n"
        f"sys.path.append({str(root / 'extra')!r})\n"
        "import pkg.sub.mod\n"
        "import nspkg.inner\n"
        "import extmod\n"
        "print(pkg.sub.mod.helper() + nspkg.inner.inner() + extmod.ext())\n",
    )


@pytest.mark.parametrize("fmt", ["binary", "json", "ctfs"])
def test_module_code_is_named_by_its_dotted_module(tmp_path: Path, fmt: str) -> None:
    script = make_project(tmp_path)
    out = tmp_path / "trace"
    # Run from another directory: names must not depend on the cwd.
    proc = run_cli("--trace-dir", out, "--format", fmt, script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "9\n"
    trace = Trace(out)
    names = trace.function_names
    for expected in [
        "<__main__>",
        "<pkg>",
        "<pkg.sub>",
        "<pkg.sub.mod>",
        "<nspkg.inner>",
        "<extmod>",
    ]:
        assert expected in names, names
    assert "<module>" not in names
    # Each module function points at its own file.
    by_name = dict(zip(names, trace.function_paths, strict=True))
    assert by_name["<pkg.sub.mod>"].endswith("pkg/sub/mod.py")
    assert by_name["<pkg>"].endswith("pkg/__init__.py")
    assert by_name["<extmod>"].endswith("extra/extmod.py")
    # The empty pkg/sub/__init__.py's code reports line 0; no record may carry it.
    assert all(s["line"] >= 1 for s in trace.of_kind("Step")), trace.of_kind("Step")
    assert all(f["line"] >= 1 for f in trace.functions), trace.functions
    assert_balanced(trace)


def test_run_with_dash_m_is_named_by_the_module(tmp_path: Path) -> None:
    make_project(tmp_path)
    write(tmp_path / "app" / "pkg" / "runme.py", "X = 5\nprint(X)\n")
    out = tmp_path / "trace"
    proc = run_cli("--trace-dir", out, "-m", "pkg.runme", cwd=tmp_path / "app")
    assert proc.returncode == 0, proc.stderr
    names = Trace(out).function_names
    assert "<pkg.runme>" in names, names


def test_pkg_selectors_match_the_same_names(tmp_path: Path) -> None:
    script = make_project(tmp_path)
    flt = write(
        tmp_path / "skip.toml",
        '[meta]\nname = "skip"\nversion = 1\n\n'
        '[[scope.rules]]\nselector = "pkg:pkg.sub.*"\nexec = "skip"\n\n'
        '[[scope.rules]]\nselector = "pkg:nspkg.inner"\nexec = "skip"\n\n'
        '[[scope.rules]]\nselector = "pkg:extmod"\nexec = "skip"\n',
    )
    out = tmp_path / "trace"
    proc = run_cli("--trace-dir", out, "--trace-filter", flt, script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    names = Trace(out).function_names
    for skipped in ["<pkg.sub.mod>", "helper", "<nspkg.inner>", "inner", "<extmod>", "ext"]:
        assert skipped not in names, names
    # Not matched by `pkg.sub.*`: the package itself and its `sub` package stay.
    assert "<pkg>" in names and "<pkg.sub>" in names and "<__main__>" in names
