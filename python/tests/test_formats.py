"""formats.py: names, aliases and the error for an unsupported format."""

from __future__ import annotations

import codetracer_python_recorder as ctr
import pytest
from codetracer_python_recorder.formats import SUPPORTED_FORMATS, normalize_format


def test_constants() -> None:
    assert ctr.TRACE_BINARY == "binary"
    assert ctr.TRACE_JSON == "json"
    assert ctr.TRACE_CTFS == "ctfs"
    assert ctr.DEFAULT_FORMAT == ctr.TRACE_BINARY
    assert SUPPORTED_FORMATS == ("binary", "json", "ctfs")


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("binary", "binary"),
        ("BINARY", "binary"),
        (" bin ", "binary"),
        ("cbor", "binary"),
        ("json", "json"),
        ("Json", "json"),
        ("ctfs", "ctfs"),
        (" CT ", "ctfs"),
    ],
)
def test_normalize_accepts_names_and_aliases(given: str, canonical: str) -> None:
    assert normalize_format(given) == canonical


@pytest.mark.parametrize("bad", ["xml", "", "jsonl", None, 3])
def test_unsupported_format_is_a_usage_error_with_code(bad: object) -> None:
    with pytest.raises(ctr.UsageError) as info:
        normalize_format(bad, source="CODETRACER_FORMAT")
    err = info.value
    assert isinstance(err, ctr.RecorderError)
    assert err.code == "ERR_UNSUPPORTED_FORMAT"
    assert err.kind == "usage"
    assert "CODETRACER_FORMAT" in str(err)
    assert "binary, json, ctfs" in str(err)
