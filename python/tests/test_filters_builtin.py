"""End-to-end: the builtin-default filter (SPEC §6), with no other filter in the chain.

- secrets are redacted by whole-word name, for locals, arguments and attributes;
- the standard library and installed packages (site-packages) are skipped ("just my code";
  ``--include-libraries`` records packages), extra ``sys.path`` folders are kept.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest
from support.filters import (
    FORMATS,
    REDACTED,
    chain,
    copy_project,
    filter_stats,
    is_marker,
    raw_markers,
    record_cli,
)

SECRETS = [
    "password",
    "api_key",
    "db_password",
    "authToken",
    "userToken",
    "SECRET_KEY",
    "sessionId",
    "aws_credentials",
    "password2",
    "secret",
]
NOT_SECRETS = {
    "company_name": "ACME",
    "span": 7,
    "author": "ann",
    "tokenizer": "bpe",
    "passage": "text",
    "secretary": "joan",
    "session": "s",
    "key": "k",
    "owner": "ann",
}
# secrets_prog.py: login's line steps 12..20 see password and api_key (9 each), db_password
# (8), authToken (7); Account.__init__'s steps 3, 4 see secret (2); more()'s steps 25..33 see
# userToken (9), SECRET_KEY (8), sessionId (7), aws_credentials (6), password2 (5).
LOCAL_REDACTIONS = 9 + 9 + 8 + 7 + 2 + 9 + 8 + 7 + 6 + 5
# Call args: login(password, api_key), Account.__init__(..., secret).
ARG_REDACTIONS = 3
# `acct.secret`: acct at login steps 19, 20; describe's Call arg and its step 8.
ATTR_REDACTIONS = 4


def plain(value: dict[str, object]) -> object:
    """An Int or String value record as its Python value."""
    return value.get("i", value.get("text"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_builtin_default_redacts_secrets_by_whole_word(fmt: str, tmp_path: Path) -> None:
    project = copy_project("secrets", tmp_path)
    proc, t = record_cli(project / "secrets_prog.py", tmp_path / "t", cwd=tmp_path, fmt=fmt)
    assert proc.stdout.strip() == "39 10"
    assert [name for name, _ in chain(t)] == ["builtin-default"]

    for name in SECRETS:
        values = t.values(name)
        assert values, f"{name} was not recorded at all"
        assert all(is_marker(v, REDACTED) for v in values), (name, values)
    for name, expected in NOT_SECRETS.items():
        values = t.values(name)
        assert values, f"{name} was not recorded at all"
        assert all(plain(v) == expected for v in values), (name, values)

    # Arguments: the secret ones are redacted in the Call record, the others kept.
    (login,) = t.calls_of("login")
    assert t.arg_names(login) == ["password", "api_key"]
    assert all(is_marker(a["value"], REDACTED) for a in login["args"])
    (init,) = t.calls_of("Account.__init__")
    assert is_marker(t.arg(init, "secret"), REDACTED)
    assert t.arg(init, "owner")["text"] == "ann"

    # Attribute `self.secret`: the field is redacted wherever an Account is recorded.
    accounts = t.values("acct")
    assert len(accounts) == 2
    for acct in [*accounts, t.arg(t.calls_of("describe")[0], "account")]:
        fields = t.struct_fields(acct)
        assert fields["owner"]["text"] == "ann"
        assert is_marker(fields["secret"], REDACTED), fields

    # Counters match the program and the markers in the trace.
    stats = filter_stats(t)
    assert stats["value_redactions"] == {
        "local": LOCAL_REDACTIONS,
        "arg": ARG_REDACTIONS,
        "attr": ATTR_REDACTIONS,
        "global": 0,
        "ret": 0,
    }
    assert stats["value_drops"] == {"local": 0, "arg": 0, "attr": 0, "global": 0, "ret": 0}
    markers = raw_markers(t, REDACTED)
    assert markers == {
        "value": LOCAL_REDACTIONS,
        "arg": ARG_REDACTIONS,
        "field": ATTR_REDACTIONS,
        "ret": 0,
    }
    assert stats["scopes_skipped"] > 0  # the stdlib the interpreter runs (importlib, codecs)


def _is_stdlib(path: str) -> bool:
    p = Path(path).resolve()
    stdlib = [Path(sysconfig.get_paths()[k]).resolve() for k in ("stdlib", "platstdlib")]
    site = [Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")]
    return any(p.is_relative_to(s) for s in stdlib) and not any(p.is_relative_to(s) for s in site)


@pytest.mark.parametrize("fmt", FORMATS)
def test_builtin_default_records_just_my_code(fmt: str, tmp_path: Path) -> None:
    packaging = pytest.importorskip("packaging.version")
    site_file = Path(packaging.__file__).resolve()
    project = copy_project("stdlib_site", tmp_path)
    proc, t = record_cli(
        project / "prog.py",
        tmp_path / "t",
        cwd=tmp_path,
        fmt=fmt,
        env={"PYTHONPATH": str(project / "extlibs")},
    )
    assert proc.stdout.strip() == "('{\"a\": 1}', '42', 'HI!', '1.2.3')"

    # No stdlib code at all: no Path, no Function (json.dumps, re.match, ...).
    assert not [p for p in t.paths if _is_stdlib(p)], t.paths
    assert not {"dumps", "match", "_compile", "JSONEncoder.encode"} & set(t.function_names)
    # ...while the caller's lines around those calls are recorded.
    assert set(t.lines_in("prog.py")) >= {9, 10, 11, 12, 13, 16}
    assert t.values("data")[-1]["text"] == '{"a": 1}'

    # A module from an extra sys.path folder (neither stdlib nor site-packages) is traced.
    (shout,) = t.calls_of("shout")
    assert t.arg(shout, "word")["text"] == "hi"
    assert set(t.lines_in("extlib.py")) >= {5, 6}

    # An installed package (site-packages) is not the user's code: skipped, and said so...
    assert not any(Path(p).resolve() == site_file for p in t.paths), t.paths
    assert "Version.__init__" not in t.call_names()
    stats = filter_stats(t)
    assert stats["libraries_skipped"] > 0 and stats["scopes_skipped"] >= stats["libraries_skipped"]
    assert "library code not recorded" in proc.stderr and "--include-libraries" in proc.stderr
    # ...but the value it returned into recorded code is still captured.
    assert t.values("v"), "the Version object in work() is recorded"

    # --include-libraries records it (also when site-packages lies inside a stdlib folder).
    proc, t = record_cli(
        project / "prog.py",
        tmp_path / "t2",
        "--include-libraries",
        cwd=tmp_path,
        fmt=fmt,
        env={"PYTHONPATH": str(project / "extlibs")},
    )
    assert any(Path(p).resolve() == site_file for p in t.paths), t.paths
    assert "Version.__init__" in t.call_names()
    assert filter_stats(t)["libraries_skipped"] == 0
    assert "library code not recorded" not in proc.stderr
    assert not [p for p in t.paths if _is_stdlib(p)], "the stdlib stays skipped"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_later_filter_re_enables_one_library(fmt: str, tmp_path: Path) -> None:
    packaging = pytest.importorskip("packaging.version")
    site_file = Path(packaging.__file__).resolve()
    project = copy_project("stdlib_site", tmp_path)
    rule = tmp_path / "packaging.toml"
    rule.write_text(
        '[meta]\nname = "mine"\nversion = 1\n[[scope.rules]]\n'
        "selector = 'pkg:regex:^packaging(\\.|$)'\nexec = \"trace\"\n"
    )
    _, t = record_cli(
        project / "prog.py",
        tmp_path / "t",
        "--trace-filter",
        rule,
        cwd=tmp_path,
        fmt=fmt,
        env={"CODETRACER_INCLUDE_LIBRARIES": "0", "PYTHONPATH": str(project / "extlibs")},
    )
    assert any(Path(p).resolve() == site_file for p in t.paths), t.paths
    assert "Version.__init__" in t.call_names()


def test_include_libraries_from_the_environment(tmp_path: Path) -> None:
    packaging = pytest.importorskip("packaging.version")
    site_file = Path(packaging.__file__).resolve()
    project = copy_project("stdlib_site", tmp_path)
    _, t = record_cli(
        project / "prog.py",
        tmp_path / "t",
        cwd=tmp_path,
        env={"CODETRACER_INCLUDE_LIBRARIES": "yes", "PYTHONPATH": str(project / "extlibs")},
    )
    assert any(Path(p).resolve() == site_file for p in t.paths), t.paths
