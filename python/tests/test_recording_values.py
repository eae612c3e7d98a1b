"""End-to-end: how recorded programs' values look in the trace (SPEC §5.4).

Bounds (depth / elements / string length), cycles, big ints, non-finite floats, dicts, and
the rule that recording never runs user code (``__repr__``/``__str__``/``__len__``/properties).
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import pytest
from support import FORMATS, Run, decode, max_value_depth, record, run_untraced

pytestmark = pytest.mark.parametrize("fmt", FORMATS)


def last(t, name: str) -> dict:
    values = t.values(name)
    assert values, f"no value recorded for {name!r}"
    return values[-1]


def test_scalars_bigints_floats_strings_dicts(fmt: str, tmp_path: Path) -> None:
    run = record("values.py", fmt, tmp_path)
    t = run.trace
    assert run.proc.stdout.strip() == "5"
    big = last(t, "big")
    assert big["kind"] == "BigInt" and decode(big) == 2**100 + 12345
    neg = last(t, "neg_big")
    assert neg["kind"] == "BigInt" and neg["negative"] and decode(neg) == -(3**80)
    # Every float is a Float; f is the string CodeTracer's reader parses (NaN/inf included).
    assert last(t, "nan")["kind"] == "Float" and last(t, "nan")["f"] == "NaN"
    assert last(t, "pinf")["f"] == "inf" and last(t, "ninf")["f"] == "-inf"
    assert last(t, "fine")["kind"] == "Float" and last(t, "fine")["f"] == "2.5"
    text = last(t, "long_text")
    assert text["kind"] == "String"
    assert text["text"].startswith("x" * 1000) and len(text["text"]) < 1100
    assert text["text"] != "x" * 5000 and not text["text"].endswith("x" * 1001)
    assert "4000" in text["text"][1000:], text["text"][1000:]  # the marker says what was cut
    table = last(t, "table")
    assert table["kind"] == "Sequence"
    assert all(e["kind"] == "Tuple" and len(e["elements"]) == 2 for e in table["elements"])
    assert decode(table) == [("a", 1), ("b", [1, 2]), (3, "three")]
    assert last(t, "flag")["kind"] == "Bool" and last(t, "flag")["b"] is True
    assert last(t, "nothing")["kind"] == "None"
    blob = last(t, "blob")
    assert blob["kind"] == "Raw" and blob["r"] == "b'ab\\x00c'"
    assert decode(last(t, "pair")) == (1, "two")
    # *args / **kwargs in signature order
    (call,) = t.calls_of("keep")
    assert t.arg_names(call) == ["items", "named"]
    items = t.arg(call, "items")
    assert items["kind"] == "Tuple" and decode(items["elements"][0]) == 2**100 + 12345
    assert items["elements"][1] == {
        "kind": "Float",
        "f": "NaN",
        "type_id": items["elements"][1]["type_id"],
    }
    named = decode(t.arg(call, "named"))
    assert named == [("k", float("inf"))]
    # the module's dunder bookkeeping and builtins are never recorded
    names = set(t.variable_names)
    assert not names & {"__builtins__", "__loader__", "__spec__", "__cached__", "__file__"}


def test_json_trace_has_no_nan(fmt: str, tmp_path: Path) -> None:
    run = record("values.py", fmt, tmp_path)
    if fmt == "json":
        text = (run.trace_dir / "trace.json").read_text()
        json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))


def test_self_containing_list_and_dict(fmt: str, tmp_path: Path) -> None:
    run = record("selfref.py", fmt, tmp_path)
    t = run.trace
    assert run.proc.stdout.strip() == "2 2"
    a = last(t, "a")
    assert a["kind"] == "Sequence" and decode(a["elements"][0]) == 1
    marker = a["elements"][1]
    assert marker["kind"] == "Raw" and "cycle" in marker["r"], marker
    (call,) = t.calls_of("show")
    items = t.arg(call, "items")
    assert items["elements"][1]["kind"] == "Raw" and "cycle" in items["elements"][1]["r"]
    d = decode(last(t, "d"))
    assert d[0] == ("k", 1)
    assert d[1][0] == "self" and d[1][1][0] == "raw" and "cycle" in d[1][1][1]


def test_million_element_list_is_elided(fmt: str, tmp_path: Path) -> None:
    start = time.perf_counter()
    run = record("biglist.py", fmt, tmp_path)
    elapsed = time.perf_counter() - start
    t = run.trace
    assert run.proc.stdout.strip() == str(sum(range(10**6)))
    big = last(t, "big")
    assert big["kind"] == "Sequence"
    assert len(big["elements"]) <= 101
    assert [decode(e) for e in big["elements"][:100]] == list(range(100))
    tail = big["elements"][-1]
    assert tail["kind"] == "Raw" and str(10**6 - 100) in tail["r"], tail
    (call,) = t.calls_of("total")
    assert len(t.arg(call, "values")["elements"]) <= 101
    assert run.summary is not None and run.summary["bytes"] < 200_000, run.summary
    assert elapsed < 30, f"recording a program with a 10**6-element list took {elapsed:.1f}s"


def test_deeply_nested_list_is_bounded(fmt: str, tmp_path: Path) -> None:
    run = record("deepnest.py", fmt, tmp_path)
    t = run.trace
    assert run.proc.stdout.strip() == "200"
    assert max_value_depth(t) <= 10  # default depth 3 (+ markers), far below the JSON limit
    deep = last(t, "deep")
    cur = deep
    while cur["kind"] == "Sequence":
        cur = cur["elements"][0]
    assert cur["kind"] == "Raw" and "list" in cur["r"], cur
    if fmt == "json":
        json.loads((run.trace_dir / "trace.json").read_text())


def record_without_side_effects(program: str, log_name: str, fmt: str, tmp_path: Path) -> Run:
    """Run ``program`` untraced and recorded, each in its own folder; the program writes
    ``log_name`` when any of its hooks (``__repr__``, ``__len__``, ...) runs. Neither run may
    write it, and both must print the same."""
    plain_dir, traced_dir = tmp_path / "plain", tmp_path / "traced"
    plain_dir.mkdir()
    traced_dir.mkdir()
    plain = run_untraced(program, plain_dir)
    assert plain.returncode == 0, plain.stderr
    assert not (plain_dir / log_name).exists()
    run = record(program, fmt, traced_dir)
    log = traced_dir / log_name
    assert not log.exists(), f"user code ran while recording: {log.read_text()!r}"
    assert run.proc.stdout == plain.stdout
    return run


def test_user_code_never_runs_while_recording(fmt: str, tmp_path: Path) -> None:
    run = record_without_side_effects("sideeffects.py", "side_effects.log", fmt, tmp_path)
    assert "counter 0 Loud" in run.proc.stdout
    t = run.trace
    (call,) = t.calls_of("use")
    loud = t.arg(call, "obj")
    assert loud["kind"] == "Struct"
    assert {k: decode(v) for k, v in t.struct_fields(loud).items()} == {"data": 1}
    bad = t.arg(call, "bad")
    assert bad["kind"] == "Struct" and t.struct_fields(bad) == {}
    slotted = t.arg(call, "slotted")
    assert {k: decode(v) for k, v in t.struct_fields(slotted).items()} == {"a": 1}
    assert t.type_of(slotted)["lang_type"].endswith("Slotted")
    klass = last(t, "klass")
    assert klass["kind"] == "Raw" and "WithMeta" in klass["r"]


def test_container_subclass_len_not_called(fmt: str, tmp_path: Path) -> None:
    record_without_side_effects(
        "sideeffects_containers.py", "container_side_effects.log", fmt, tmp_path
    )


def test_container_subclass_len_raising_does_not_break_program(fmt: str, tmp_path: Path) -> None:
    plain = run_untraced("badlen.py", tmp_path)
    assert plain.stdout == "ok 1\nend\n"
    run = record("badlen.py", fmt, tmp_path)
    assert run.proc.returncode == 0, run.proc.stderr[-2000:]
    assert run.proc.stdout == plain.stdout
    (call,) = run.trace.calls_of("f")
    items = run.trace.arg(call, "items")
    assert [decode(e) for e in items["elements"]] == [1, 2, 3]


def test_struct_field_names_do_not_run_str(fmt: str, tmp_path: Path) -> None:
    run = record("strsubclass_field.py", fmt, tmp_path)
    assert run.proc.stdout == "1\n"
    log = tmp_path / "field_name_side_effects.log"
    (call,) = run.trace.calls_of("f")
    fields = run.trace.struct_fields(run.trace.arg(call, "o"))
    assert not log.exists(), "str subclass __str__ ran while recording"
    assert list(fields) == ["weird"] and decode(fields["weird"]) == 5


def test_value_kinds(fmt: str, tmp_path: Path) -> None:
    run = record("kinds.py", fmt, tmp_path)
    t = run.trace
    assert run.proc.stdout == "ok\n"
    (call,) = t.calls_of("show")
    values = t.arg(call, "values")
    by_name = {e["elements"][0]["text"]: e["elements"][1] for e in values["elements"]}

    def lang(name: str) -> str:
        return t.type_of(by_name[name])["lang_type"]

    assert by_name["s"]["kind"] == "Sequence" and t.type_of(by_name["s"])["kind"] == 1  # Set
    assert sorted(decode(by_name["s"])) == [1, 2] and lang("s") == "set"
    assert decode(by_name["fs"]) == [3] and lang("fs") == "frozenset"
    assert decode(by_name["c"]) == ("raw", "(2+3j)")
    assert decode(by_name["rg"]) == ("raw", "range(0, 5)")
    assert decode(by_name["mod"]) == ("raw", "<module 'os'>")
    assert decode(by_name["fn"]) == ("raw", "<function show>")
    assert decode(by_name["cls"]) == ("raw", "<class '__main__.Item'>")
    assert by_name["dq"]["kind"] == "Raw" and "deque" in by_name["dq"]["r"]
    item = t.struct_fields(by_name["item"])
    assert {k: decode(v) for k, v in item.items()} == {"name": "bolt", "qty": 3}
    assert lang("item") == "__main__.Item"
    assert by_name["pair"]["kind"] == "Tuple" and decode(by_name["pair"]) == (1, 2)
    assert lang("pair") == "__main__.Pair"
    assert decode(by_name["ml"]) == [1, 2] and lang("ml") == "__main__.MyList"
    assert by_name["col"] == {"kind": "Int", "i": 1, "type_id": by_name["col"]["type_id"]}
    assert lang("col") == "__main__.Color"
    assert by_name["mode"]["kind"] == "Struct"
    # nesting is cut at the default depth (3) with a marker
    nested = decode(by_name["nested"])
    assert nested[0][0] == "a" and nested[0][1][0][1][0] == "raw"
    long_bytes = by_name["long_bytes"]
    assert long_bytes["kind"] == "Raw" and long_bytes["r"].startswith("b'zzz")
    assert len(long_bytes["r"]) < 1100 and "2000" in long_bytes["r"]


CHANGING_CONTAINERS = """\
class Obj:
    def __init__(self):
        for i in range(10):
            setattr(self, f"a{i}", i)


def main():
    d = {f"k{i}": i for i in range(12)}
    items = list(range(10))
    obj = Obj()
    attrs = obj.__dict__  # shares its values with the instance (3.13: stored inline)
    obj.a1 = "changed through the instance"
    obj.a2 = 2000
    for step in range(40):
        d[f"k{step % 12}"] = step * 1000
        items[step % 10] = f"s{step}"
        if step % 7 == 0:
            items.append(step)
        if step % 9 == 0:
            del items[0]
        if step == 20:
            d["nested"] = [step]
        if step == 22:
            d["nested"].append(1)
        if step == 25:
            del d["nested"]
    return len(d)


main()
"""


def _snapshot(value: object) -> object:
    """A copy of ``value`` shaped like ``decode`` of its record (dict → list of pairs)."""
    if isinstance(value, dict):
        return [(k, list(v) if isinstance(v, list) else v) for k, v in value.items()]
    return list(value)  # type: ignore[call-overload]


def _states_by_settrace(
    source: str, names: tuple[str, ...], shape: Callable[[object], object]
) -> dict[str, list[object]]:
    """The ``shape`` of the variables ``names`` at every line of ``main``, as
    ``sys.settrace`` sees them (consecutive repeats collapsed)."""
    seen: dict[str, list[object]] = {name: [] for name in names}

    def tracer(frame: types.FrameType, event: str, arg: object) -> object:
        if frame.f_code.co_name != "main":
            return None
        if event == "line":
            for name, snaps in seen.items():
                if name in frame.f_locals:
                    snap = shape(frame.f_locals[name])
                    if not snaps or snaps[-1] != snap:
                        snaps.append(snap)
        return tracer

    namespace: dict[str, object] = {"__name__": "not_main"}
    exec(compile(source, "<oracle>", "exec"), namespace)
    sys.settrace(tracer)  # type: ignore[arg-type]
    try:
        namespace["main"]()  # type: ignore[operator]
    finally:
        sys.settrace(None)
    return seen


def test_changing_containers_are_recorded_exactly(fmt: str, tmp_path: Path) -> None:
    """Lists and dicts re-recorded at every step while single elements change (the encoder
    reuses the bytes of unchanged elements): every recorded state is the real one."""
    program = tmp_path / "containers.py"
    program.write_text(CHANGING_CONTAINERS)
    run = record(program, fmt, tmp_path)
    t = run.trace
    expected = _states_by_settrace(CHANGING_CONTAINERS, ("d", "items", "attrs"), _snapshot)
    for name in ("d", "items", "attrs"):
        recorded: list = []
        for value in t.values(name):
            decoded = decode(value)
            if not recorded or recorded[-1] != decoded:
                recorded.append(decoded)
        assert recorded == expected[name], name
        assert len(recorded) > (2 if name == "attrs" else 40), name


NESTED_OBJECTS = """\
class Vec:
    def __init__(self, x, y):
        self.x = x
        self.y = y


class Slot:
    __slots__ = ("a", "b")

    def __init__(self, a):
        self.a = a


class Part:
    def __init__(self, i):
        self.id = i
        self.pos = Vec(float(i), 0.5)
        self.tags = ["t", i]
        self.meta = {"k": i}
        self.slot = Slot(i)


class Other:
    pass


def main():
    ps = [Part(i) for i in range(10)]
    p = ps[0]
    q = ps[3]
    for step in range(30):
        p = ps[step % 10]
        p.pos.x += 1.0
        if step % 3 == 0:
            q.tags.append(step)
        if step % 4 == 0 and hasattr(q, "meta"):
            q.meta["k"] = step
        if step % 5 == 0:
            p.slot.b = step
        if step == 7:
            del p.slot.a
        if step == 9:
            ps[2] = Part(2)
        if step == 11:
            ps[4].__class__ = Other
        if step == 13:
            ps.sort(key=lambda r: -r.pos.x)
        if step == 15:
            del q.meta
        if step == 17:
            q.meta = {"back": 1}
        if step == 19:
            q.tags.sort(key=str)
        if step == 21:
            q.pos = q.pos
        if step == 23:
            ps[5].pos.y = -ps[5].pos.y
    return len(ps)


main()
"""


def _shape(value: object) -> object:
    """``value`` shaped like ``decode`` of its record: instances as ``("struct", fields)``
    (``__dict__`` entries, then filled ``__slots__``; one with neither is opaque), dicts as
    lists of pairs."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_shape(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_shape(v) for v in value)
    if isinstance(value, dict):
        return [(_shape(k), _shape(v)) for k, v in value.items()]
    fields = list(getattr(value, "__dict__", {}).values())
    for cls in type(value).__mro__:
        for name in cls.__dict__.get("__slots__", ()):
            with contextlib.suppress(AttributeError):  # an unset slot is not recorded
                fields.append(cls.__dict__[name].__get__(value))
    if not fields and not hasattr(value, "__dict__"):
        cls = type(value)  # nothing to show: opaque (the oracle's module is the script's)
        module = "__main__" if cls.__module__ == "not_main" else cls.__module__
        return ("raw", f"<{module}.{cls.__qualname__} object>")
    return ("struct", [_shape(f) for f in fields])


def test_mutated_nested_objects_are_recorded_exactly(fmt: str, tmp_path: Path) -> None:
    """Instances holding instances, lists, dicts and slots, mutated a little at every step
    (the encoder reuses the bytes of every object that did not change): every recorded state
    of every variable is what ``sys.settrace`` sees at the same lines."""
    program = tmp_path / "nested.py"
    program.write_text(NESTED_OBJECTS)
    run = record(program, fmt, tmp_path)
    expected = _states_by_settrace(NESTED_OBJECTS, ("ps", "p", "q"), _shape)
    for name in ("ps", "p", "q"):
        recorded: list = []
        for value in run.trace.values(name):
            decoded = decode(value)
            if not recorded or recorded[-1] != decoded:
                recorded.append(decoded)
        assert recorded == expected[name], name
        assert len(recorded) > 20, name


def test_recorder_releases_the_objects_it_stops_referring_to(fmt: str, tmp_path: Path) -> None:
    """An element dropped from a recorded container is released at once, not kept alive by
    the recorder's caches (references dropped inside sys.monitoring callbacks must not wait
    for pyo3's deferred pool)."""
    program = tmp_path / "refs.py"
    program.write_text(
        "import sys\n"
        "def main():\n"
        "    s = ''.join(['ab', 'cd'])\n"
        "    items = [s] + list(range(10))\n"
        "    before = sys.getrefcount(s)\n"
        "    items[0] = None\n"
        "    pad = 1\n"
        "    pad = 2\n"
        "    print(sys.getrefcount(s))\n"
        "main()\n"
    )
    untraced = run_untraced(program, tmp_path)
    assert untraced.returncode == 0, untraced.stderr
    run = record(program, fmt, tmp_path)
    assert run.proc.stdout == untraced.stdout
