"""Reading traces back: complete traces in both formats, and traces cut short (a killed
process, a full disk), which yield their readable prefix or, with ``strict=True``, raise
``ERR_TRACE_INCOMPLETE``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import codetracer_python_recorder as ctr
import codetracer_python_recorder_core as core
import pytest
from support import Trace, run_cli, write

PROGRAM = "total = 0\nfor i in range(50):\n    total += i\nprint(total)\n"


def record(tmp_path: Path, fmt: str) -> Path:
    script = write(tmp_path / "prog.py", PROGRAM)
    out = tmp_path / f"trace-{fmt}"
    proc = run_cli("--trace-dir", out, "--format", fmt, script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.parametrize("fmt", ["binary", "json", "ctfs"])
def test_complete_traces_read_strictly(tmp_path: Path, fmt: str) -> None:
    out = record(tmp_path, fmt)
    events = ctr.read_trace(str(out), strict=True)
    assert events == ctr.read_trace(str(out))
    assert Trace(out).int_values("total")[-1] == sum(range(50))


def test_a_json_trace_cut_short_yields_its_prefix(tmp_path: Path) -> None:
    out = record(tmp_path, "json")
    events_file = out / "trace.json"
    lines = events_file.read_text().splitlines()
    full = ctr.read_trace(str(out))
    events_file.write_text("\n".join(lines[: len(lines) // 2]) + "\n")  # no closing bracket
    prefix = ctr.read_trace(str(out))
    assert 0 < len(prefix) < len(full)
    assert prefix == full[: len(prefix)]
    with pytest.raises(ctr.RecorderError) as info:
        ctr.read_trace(str(out), strict=True)
    assert info.value.code == "ERR_TRACE_INCOMPLETE"
    assert "ends early" in str(info.value)


@pytest.mark.parametrize(
    ("fmt", "name", "tail"),
    [
        # Without its seek table the file is no longer a complete Binary v1 trace, although
        # every record is still there.
        ("binary", "trace.bin", 20),
        # Without its last block (calls.dat, written last) every record of a container is
        # still there (from its journal), but the container is not complete.
        ("ctfs", "trace.ct", 4096),
    ],
)
def test_a_trace_cut_short_raises_when_strict(
    tmp_path: Path, fmt: str, name: str, tail: int
) -> None:
    out = record(tmp_path, fmt)
    events_file = out / name
    full = ctr.read_trace(str(out), strict=True)
    data = events_file.read_bytes()
    events_file.write_bytes(data[: len(data) - tail])
    assert ctr.read_trace(str(out)) == full
    with pytest.raises(ctr.RecorderError) as info:
        ctr.read_trace(str(out), strict=True)
    assert info.value.code == "ERR_TRACE_INCOMPLETE"
    # Cut in the middle: what decodes is a prefix of the records.
    events_file.write_bytes(data[: len(data) // 2])
    prefix = ctr.read_trace(str(out))
    assert len(prefix) < len(full)
    assert prefix == full[: len(prefix)]
    with pytest.raises(ctr.RecorderError) as info:
        ctr.read_trace(str(out), strict=True)
    assert info.value.code == "ERR_TRACE_INCOMPLETE"


def test_not_a_trace_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ctr.RecorderError) as info:
        ctr.read_trace(str(tmp_path))
    assert "no trace.ct or trace.json or trace.bin" in str(info.value)


@pytest.mark.parametrize("fmt", ["binary", "json", "ctfs"])
def test_iter_trace_streams_what_read_trace_returns(tmp_path: Path, fmt: str) -> None:
    out = record(tmp_path, fmt)
    events = ctr.iter_trace(out)  # a Path is fine
    assert isinstance(events, Iterator)
    assert not isinstance(events, list)
    assert list(events) == ctr.read_trace(out) == list(ctr.iter_trace(str(out), strict=True))


def test_iter_trace_strict_on_a_trace_cut_short(tmp_path: Path) -> None:
    out = record(tmp_path, "json")
    events_file = out / "trace.json"
    lines = events_file.read_text().splitlines()
    events_file.write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    assert list(ctr.iter_trace(out)) == ctr.read_trace(out)
    with pytest.raises(ctr.RecorderError) as info:
        list(ctr.iter_trace(out, strict=True))  # may raise only after the readable records
    assert info.value.code == "ERR_TRACE_INCOMPLETE"


def test_iter_trace_uses_the_native_iterator_when_there_is_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[str, bool]] = []

    def native_iter_trace(path: str, strict: bool) -> Iterator[dict[str, object]]:
        calls.append((path, strict))
        return iter([{"Path": "/x.py"}])

    monkeypatch.setattr(core, "iter_trace", native_iter_trace, raising=False)
    assert list(ctr.iter_trace(tmp_path, strict=True)) == [{"Path": "/x.py"}]
    assert calls == [(str(tmp_path), True)]
