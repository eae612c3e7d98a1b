//! The value encoder in isolation, against a real interpreter: values are encoded into a
//! trace file, which is read back with the reader the CodeTracer debugger links
//! (`codetracer_trace_reader` 0.17).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use codetracer_policy::ValueLimits;
use codetracer_recorder_py::runtime::types::TypeRegistry;
use codetracer_recorder_py::runtime::value_encoder::{FormatEncoder, Out, ValueEncoder};
use codetracer_trace_reader::{create_trace_reader, TraceEventsFileFormat};
use codetracer_trace_stream::types::{TraceLowLevelEvent, TypeKind, ValueRecord};
use codetracer_trace_stream::{Cbor, TraceFormat, TraceWriter};
use pyo3::prelude::*;

/// Encodes the value of the Python expression `expr` (after running `setup`) and returns it
/// together with the type records declared on the way.
fn encode(
    setup: &str,
    expr: &str,
    limits: ValueLimits,
) -> (ValueRecord, Vec<(TypeKind, String, Vec<String>)>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trace.bin");
    let mut rec = TraceWriter::create(&path, TraceFormat::Binary).unwrap();
    let mut types = TypeRegistry::new();
    types.declare_none(&mut rec).unwrap();
    let value = Python::attach(|py| {
        let globals = run_setup(py, setup);
        let obj = py
            .eval(&std::ffi::CString::new(expr).unwrap(), Some(&globals), None)
            .unwrap();
        let mut enc = ValueEncoder::<Cbor>::new(limits);
        enc.encode_record(py, &obj, &mut Out::new(&mut types, &mut rec))
            .unwrap()
    });
    rec.value(codetracer_trace_stream::types::VariableId(0), value.clone())
        .unwrap();
    rec.finish().unwrap();
    let events = create_trace_reader(TraceEventsFileFormat::Binary)
        .load_trace_events(&path)
        .unwrap();
    let types = events
        .iter()
        .filter_map(|e| match e {
            TraceLowLevelEvent::Type(t) => Some((
                t.kind,
                t.lang_type.clone(),
                match &t.specific_info {
                    codetracer_trace_stream::types::TypeSpecificInfo::Struct { fields } => {
                        fields.iter().map(|f| f.name.clone()).collect()
                    }
                    _ => Vec::new(),
                },
            )),
            _ => None,
        })
        .collect();
    (value, types)
}

fn defaults() -> ValueLimits {
    ValueLimits::default()
}

#[test]
fn scalars() {
    assert!(matches!(
        encode("", "42", defaults()).0,
        ValueRecord::Int { i: 42, .. }
    ));
    assert!(matches!(
        encode("", "True", defaults()).0,
        ValueRecord::Bool { b: true, .. }
    ));
    assert!(matches!(
        encode("", "None", defaults()).0,
        ValueRecord::None { .. }
    ));
    match encode("", "1.5", defaults()).0 {
        ValueRecord::Float { f, .. } => assert!((f - 1.5).abs() < f64::EPSILON),
        other => panic!("{other:?}"),
    }
    match encode("", "'héllo'", defaults()).0 {
        ValueRecord::String { text, .. } => assert_eq!(text, "héllo"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_float_is_a_float_and_reads_back_exactly() {
    for (expr, want) in [
        ("float('nan')", f64::NAN),
        ("float('inf')", f64::INFINITY),
        ("-float('inf')", f64::NEG_INFINITY),
        ("1e300", 1e300),
        ("-0.0", -0.0),
        ("0.1 + 0.2", 0.1 + 0.2),
        ("5e-324", 5e-324),
    ] {
        match encode("", expr, defaults()).0 {
            ValueRecord::Float { f, .. } => {
                assert!(
                    f.to_bits() == want.to_bits() || (f.is_nan() && want.is_nan()),
                    "{expr}: {f}"
                )
            }
            other => panic!("{expr}: {other:?}"),
        }
    }
}

#[test]
fn big_ints_are_big_endian_magnitudes() {
    match encode("", "-(2**70 + 5)", defaults()).0 {
        ValueRecord::BigInt { b, negative, .. } => {
            assert!(negative);
            let mut expect = vec![0x40u8];
            expect.extend([0u8; 7]);
            expect.push(5);
            assert_eq!(b, expect);
        }
        other => panic!("{other:?}"),
    }
}

/// An int of more hexadecimal digits than the string limit is its sign, 16 leading digits and
/// a marker (the rest is never converted); an int subclass's `__abs__`/`__rshift__` never run.
#[test]
fn big_ints_beyond_the_string_limit_are_cut() {
    let limits = ValueLimits {
        max_string_len: 16,
        ..defaults()
    };
    let setup = "class I(int):\n    def __abs__(self): raise SystemExit\n    def __rshift__(self, n): raise SystemExit";
    for (expr, want) in [
        ("-(16**40 + 0xabc)", "-0x1000000000000000…<+25 hex digits>"),
        (
            "0xfedcba9876543210f * 16**100",
            "0xfedcba9876543210…<+101 hex digits>",
        ),
        (
            "I(0x123456789abcdef01 << 4000)",
            "0x123456789abcdef0…<+1001 hex digits>",
        ),
    ] {
        match encode(setup, expr, limits).0 {
            ValueRecord::Raw { r, .. } => assert_eq!(r, want, "{expr}"),
            other => panic!("{expr}: {other:?}"),
        }
    }
    // At the limit (17 hex digits under a limit of 17): still an exact BigInt.
    let seventeen = ValueLimits {
        max_string_len: 17,
        ..defaults()
    };
    match encode("", "2**64 + 255", seventeen).0 {
        ValueRecord::BigInt { b, negative, .. } => {
            assert!(!negative);
            assert_eq!(b, vec![1, 0, 0, 0, 0, 0, 0, 0, 0xff]);
        }
        other => panic!("{other:?}"),
    }
    // Default limit (1000 digits): a pidigits-sized int (10 000 decimal digits) is cut.
    match encode("", "10**10000", defaults()).0 {
        ValueRecord::Raw { r, .. } => assert!(r.ends_with("…<+8289 hex digits>"), "{r}"),
        other => panic!("{other:?}"),
    }
}

/// One value costs at most `max_value_nodes` nodes: containers show at most one element per
/// node left, and whatever is beyond the budget is a `…<max_value_nodes>` marker.
#[test]
fn values_are_cut_at_the_node_budget() {
    let limits = ValueLimits {
        max_nodes: 16,
        ..defaults()
    };
    fn nodes(v: &ValueRecord) -> usize {
        match v {
            ValueRecord::Sequence { elements, .. }
            | ValueRecord::Tuple { elements, .. }
            | ValueRecord::Struct {
                field_values: elements,
                ..
            } => 1 + elements.iter().map(nodes).sum::<usize>(),
            _ => 1,
        }
    }
    let marker = codetracer_recorder_py::runtime::value_encoder::NODES_MARKER;
    let is_marker = |v: &ValueRecord| matches!(v, ValueRecord::Raw { r, .. } if r == marker);
    match encode("", "[list(range(10)) for _ in range(10)]", limits).0 {
        ValueRecord::Sequence { elements, .. } => {
            assert_eq!(elements.len(), 10);
            match &elements[1] {
                ValueRecord::Sequence {
                    elements: inner, ..
                } => {
                    assert_eq!(inner.len(), 4, "{inner:?}"); // 3 shown and `…<+7 more>`
                    assert!(
                        matches!(&inner[3], ValueRecord::Raw { r, .. } if r.contains("+7 more"))
                    );
                }
                other => panic!("{other:?}"),
            }
            assert!(elements[2..].iter().all(is_marker), "{elements:?}");
        }
        other => panic!("{other:?}"),
    }
    let setup = "class P:\n    def __init__(self, i): self.a, self.b, self.c = i, [i, i], {'k': i}";
    let (value, _) = encode(setup, "[P(i) for i in range(50)]", limits);
    // 16 real nodes, the rest markers (at most one per element of a container in progress).
    assert!(nodes(&value) <= 16 + 15 + 3, "{value:?}");
    match &value {
        ValueRecord::Sequence { elements, .. } => {
            // 15 elements (one per node left) and `…<+35 more>`: P(0), P(1) cut, markers.
            assert_eq!(elements.len(), 16);
            assert!(matches!(&elements[0], ValueRecord::Struct { .. }));
            assert!(matches!(&elements[1], ValueRecord::Struct { .. }));
            assert!(elements[2..15].iter().all(is_marker), "{elements:?}");
            assert!(matches!(&elements[15], ValueRecord::Raw { r, .. } if r.contains("+35 more")));
        }
        other => panic!("{other:?}"),
    }
}

/// Summaries at the depth limit name the class (names are cached per class): renaming a
/// class (`__qualname__`, `__module__`) shows at the next encoding by the same encoder.
#[test]
fn summaries_follow_renamed_classes() {
    let limits = ValueLimits {
        max_depth: 1,
        ..defaults()
    };
    Python::attach(|py| {
        let setup = "__name__ = 'm'\nclass T(tuple): pass\nclass O:\n    def __init__(self): self.a = 1\nv = [T((1, 2)), O()]";
        let globals = run_setup(py, setup);
        let dir = tempfile::tempdir().unwrap();
        let (mut rec, mut types) = writer(&dir, TraceFormat::Binary);
        let mut enc = ValueEncoder::<Cbor>::new(limits);
        let mut texts = |enc: &mut ValueEncoder<Cbor>| -> Vec<String> {
            let v = py.eval(c"v", Some(&globals), None).unwrap();
            match enc
                .encode_record(py, &v, &mut Out::new(&mut types, &mut rec))
                .unwrap()
            {
                ValueRecord::Sequence { elements, .. } => elements
                    .iter()
                    .map(|e| match e {
                        ValueRecord::Raw { r, .. } => r.clone(),
                        other => panic!("{other:?}"),
                    })
                    .collect(),
                other => panic!("{other:?}"),
            }
        };
        let want = |a: &str, b: &str| vec![a.to_string(), b.to_string()];
        let first = texts(&mut enc);
        assert_eq!(first, want("<m.T of 2 items>", "<m.O object>"));
        py.run(
            c"T.__qualname__ = 'Renamed'\nO.__module__ = 'elsewhere'",
            Some(&globals),
            None,
        )
        .unwrap();
        assert_eq!(
            texts(&mut enc),
            want("<m.Renamed of 2 items>", "<elsewhere.O object>")
        );
    });
}

#[test]
fn containers_are_bounded_with_an_elision_marker() {
    let limits = ValueLimits {
        max_elements: 3,
        ..defaults()
    };
    match encode("", "list(range(10))", limits).0 {
        ValueRecord::Sequence { elements, .. } => {
            assert_eq!(elements.len(), 4);
            assert!(matches!(&elements[3], ValueRecord::Raw { r, .. } if r.contains("+7 more")));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn dicts_are_sequences_of_pairs() {
    match encode("", "{'a': 1}", defaults()).0 {
        ValueRecord::Sequence { elements, .. } => match &elements[0] {
            ValueRecord::Tuple { elements, .. } => {
                assert!(matches!(&elements[0], ValueRecord::String { text, .. } if text == "a"));
                assert!(matches!(&elements[1], ValueRecord::Int { i: 1, .. }));
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn cycles_are_marked_not_followed() {
    match encode("a = [1]\na.append(a)", "a", defaults()).0 {
        ValueRecord::Sequence { elements, .. } => {
            assert!(matches!(&elements[1], ValueRecord::Raw { r, .. } if r.contains("cycle")));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn depth_is_capped() {
    let (value, _) = encode("x = []\nfor _ in range(200): x = [x]", "x", defaults());
    fn depth(v: &ValueRecord) -> usize {
        match v {
            ValueRecord::Sequence { elements, .. } | ValueRecord::Tuple { elements, .. } => {
                1 + elements.iter().map(depth).max().unwrap_or(0)
            }
            _ => 0,
        }
    }
    assert_eq!(depth(&value), 3);
}

#[test]
fn long_strings_are_truncated() {
    let limits = ValueLimits {
        max_string_len: 20,
        ..defaults()
    };
    match encode("", "'x' * 50", limits).0 {
        ValueRecord::String { text, .. } => {
            assert!(text.starts_with(&"x".repeat(20)));
            assert!(text.contains("+30 chars"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn strings_of_every_storage_kind_are_cut_by_characters() {
    let limits = ValueLimits {
        max_string_len: 4,
        ..defaults()
    };
    let text = |expr: &str| match encode("", expr, limits).0 {
        ValueRecord::String { text, .. } => text,
        other => panic!("{other:?}"),
    };
    // ASCII, Latin-1, UCS-2 and UCS-4 storage; short ones are whole.
    assert_eq!(text("'abcdefg'"), "abcd…<+3 chars>");
    assert_eq!(text("'é' * 6"), "éééé…<+2 chars>");
    assert_eq!(text("'aé中😀x'"), "aé中😀…<+1 chars>");
    assert_eq!(text("'中' * 5"), "中中中中…<+1 chars>");
    assert_eq!(text("'😀' * 9"), "😀😀😀😀…<+5 chars>");
    assert_eq!(text("'abcd'"), "abcd");
    assert_eq!(text("'é中'"), "é中");
    // Lone surrogates cannot be UTF-8: replaced, whatever the length.
    assert_eq!(text("'a\\ud800'"), "a\u{fffd}");
    assert_eq!(
        text("'\\ud800' * 6"),
        "\u{fffd}\u{fffd}\u{fffd}\u{fffd}…<+2 chars>"
    );
}

#[test]
fn instances_are_structs_and_never_run_user_code() {
    let setup = "calls = []\n\
                 class P:\n    def __init__(self):\n        self.x = 1\n        self.y = 'two'\n    \
                 def __repr__(self):\n        calls.append('repr')\n        raise RuntimeError\n    \
                 def __getattribute__(self, name):\n        calls.append(name)\n        return object.__getattribute__(self, name)\n\
                 p = P()\ncalls.clear()";
    let (value, types) = encode(setup, "p", defaults());
    match value {
        ValueRecord::Struct { field_values, .. } => assert_eq!(field_values.len(), 2),
        other => panic!("{other:?}"),
    }
    let st = types.iter().find(|t| t.0 == TypeKind::Struct).unwrap();
    assert_eq!(st.1, "P");
    assert_eq!(st.2, vec!["x".to_owned(), "y".to_owned()]);
    let calls = encode(&format!("{setup}\nimport builtins"), "calls", defaults()).0;
    assert!(
        matches!(calls, ValueRecord::Sequence { ref elements, .. } if elements.is_empty()),
        "{calls:?}"
    );
}

#[test]
fn slots_are_read_through_member_descriptors() {
    let setup = "class S:\n    __slots__ = ('a', 'b')\ns = S()\ns.a = 7";
    let (value, types) = encode(setup, "s", defaults());
    match value {
        ValueRecord::Struct { field_values, .. } => {
            assert_eq!(field_values.len(), 1);
            assert!(matches!(field_values[0], ValueRecord::Int { i: 7, .. }));
        }
        other => panic!("{other:?}"),
    }
    assert!(types
        .iter()
        .any(|t| t.0 == TypeKind::Struct && t.2 == vec!["a".to_owned()]));
}

#[test]
fn opaque_objects_get_safe_descriptions() {
    match encode("import os", "os", defaults()).0 {
        ValueRecord::Raw { r, .. } => assert_eq!(r, "<module 'os'>"),
        other => panic!("{other:?}"),
    }
    match encode("def f(): pass", "f", defaults()).0 {
        ValueRecord::Raw { r, .. } => assert_eq!(r, "<function f>"),
        other => panic!("{other:?}"),
    }
    match encode("", "ValueError('boom')", defaults()).0 {
        ValueRecord::Raw { r, .. } => assert_eq!(r, "ValueError: boom"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn repr_is_used_only_when_the_policy_allows_it() {
    match encode(
        "import collections",
        "collections.deque([1, 2])",
        defaults(),
    )
    .0
    {
        ValueRecord::Raw { r, .. } => assert_eq!(r, "<collections.deque object>"),
        other => panic!("{other:?}"),
    }
    let allow = ValueLimits {
        allow_repr: true,
        ..defaults()
    };
    match encode("import collections", "collections.deque([1, 2])", allow).0 {
        ValueRecord::Raw { r, .. } => assert_eq!(r, "deque([1, 2])"),
        other => panic!("{other:?}"),
    }
}

/// Runs `setup` in fresh globals and returns them.
fn run_setup<'py>(py: Python<'py>, setup: &str) -> Bound<'py, pyo3::types::PyDict> {
    let globals = pyo3::types::PyDict::new(py);
    py.run(
        &std::ffi::CString::new(setup).unwrap(),
        Some(&globals),
        None,
    )
    .unwrap();
    globals
}

/// How many mutation steps `run_setup` defined (`steps`).
fn step_count(py: Python<'_>, globals: &Bound<'_, pyo3::types::PyDict>) -> usize {
    py.eval(c"len(steps)", Some(globals), None)
        .unwrap()
        .extract()
        .unwrap()
}

/// Runs mutation step `step` (`run(step)` of the setup).
fn run_step(py: Python<'_>, globals: &Bound<'_, pyo3::types::PyDict>, step: usize) {
    py.run(
        &std::ffi::CString::new(format!("run({step})")).unwrap(),
        Some(globals),
        None,
    )
    .unwrap();
}

/// An events file in `dir` and a type table with `None` declared.
fn writer(dir: &tempfile::TempDir, format: TraceFormat) -> (TraceWriter, TypeRegistry) {
    let mut rec = TraceWriter::create(&dir.path().join("trace"), format).unwrap();
    let mut types = TypeRegistry::new();
    types.declare_none(&mut rec).unwrap();
    (rec, types)
}

/// The container cache must be invisible: after every mutation, an encoder that has seen the
/// containers before writes exactly the bytes a fresh encoder writes; also when the node
/// budget cuts values (a copied element counts its nodes as a fresh one, and one cut by the
/// budget is never remembered).
#[test]
fn reused_container_bytes_equal_a_fresh_encoding() {
    for limits in [
        defaults(),
        ValueLimits {
            max_nodes: 40,
            ..defaults()
        },
        ValueLimits {
            max_nodes: 95,
            ..defaults()
        },
    ] {
        reused_bytes_equal_fresh(limits);
    }
}

fn reused_bytes_equal_fresh(limits: ValueLimits) {
    const SETUP: &str = r#"
d = {f"k{i}": i for i in range(30)}
big = {i: str(i) * 3 for i in range(150)}
l = [f"s{i}" for i in range(20)]
t = tuple(range(10, 40))
nested = [[1, 2], "x", 3.5, None, True, b"raw", 10**30, "y", "z", 1]
steps = [
    lambda: d.__setitem__("k3", 1000),
    lambda: d.__setitem__("new", "v"),
    lambda: d.pop("k0"),
    lambda: d.__setitem__("k5", [1, 2, 3]),
    lambda: d.__setitem__("k5", 5),
    lambda: big.__setitem__(7, "changed"),
    lambda: big.pop(0),
    lambda: l.insert(0, "front"),
    lambda: l.__setitem__(10, "middle"),
    lambda: l.pop(),
    lambda: l.extend(["a", "b"]),
    lambda: l.__delitem__(slice(0, 15)),
    lambda: nested[0].append(3),
    lambda: nested.__setitem__(2, 4.5),
    lambda: None,
]
def run(i):
    steps[i]()
"#;
    for format in [TraceFormat::Binary, TraceFormat::Json] {
        let dir = tempfile::tempdir().unwrap();
        let (mut rec, mut types) = writer(&dir, format);
        Python::attach(|py| {
            let globals = run_setup(py, SETUP);
            let mut warm = FormatEncoder::new(format, limits);
            let exprs = [
                "d",
                "big",
                "l",
                "t",
                "nested",
                "[d, l, t]",
                "[l, d, big]",
                "list(range(12))",
            ];
            let n_steps = step_count(py, &globals);
            for step in 0..=n_steps {
                for expr in exprs {
                    let obj = py
                        .eval(&std::ffi::CString::new(expr).unwrap(), Some(&globals), None)
                        .unwrap();
                    // Twice with the warm encoder (the second copies everything).
                    for _ in 0..2 {
                        let got = warm
                            .encode(py, &obj, &mut Out::new(&mut types, &mut rec))
                            .unwrap()
                            .to_vec();
                        let mut fresh = FormatEncoder::new(format, limits);
                        let want = fresh
                            .encode(py, &obj, &mut Out::new(&mut types, &mut rec))
                            .unwrap()
                            .to_vec();
                        assert_eq!(
                            got,
                            want,
                            "{format:?}: {expr} after step {step}: {}",
                            String::from_utf8_lossy(&got)
                        );
                    }
                }
                if step < n_steps {
                    run_step(py, &globals, step);
                }
            }
        });
    }
}

/// The value cache must be invisible: after every kind of mutation a program can make to an
/// object it holds (attributes of dict-backed and `__slots__` instances, nested attributes,
/// list/dict/set operations in place, rebinding to an equal object, aliases, class changes,
/// cycles), an encoder that has seen the objects before writes exactly the bytes a fresh
/// encoder writes — under the default limits and at the depth, element and node-budget edges,
/// with and without attribute filters (one redacting, one dropping an attribute: a slotted
/// instance whose only filled slot is dropped is described like an opaque object, at every
/// depth). It must also actually reuse bytes.
#[test]
fn reused_value_bytes_equal_a_fresh_encoding_after_every_mutation() {
    let tight = [
        defaults(),
        ValueLimits {
            max_depth: 2,
            ..defaults()
        },
        ValueLimits {
            max_elements: 3,
            ..defaults()
        },
        ValueLimits {
            max_nodes: 16,
            ..defaults()
        },
        ValueLimits {
            max_nodes: 37,
            ..defaults()
        },
    ];
    for limits in tight {
        for filtered in [false, true] {
            value_cache_matches_fresh(limits, filtered);
        }
    }
}

fn value_cache_matches_fresh(limits: ValueLimits, filtered: bool) {
    use codetracer_trace_filter::ValueAction;
    const SETUP: &str = r#"
from collections import namedtuple
class Vec:
    def __init__(self, x, y):
        self.x = x
        self.y = y
class Slotted:
    __slots__ = ("a", "b", "c")
    def __init__(self):
        self.a = 1
        self.b = [1, 2]
class Other:
    def __init__(self):
        self.x = "other"
class P:
    def __init__(self, i):
        self.id = i
        self.pos = Vec(float(i), 2.0)
        self.tags = ["t", i]
        self.meta = {"k": i}
        self.password = "S3CR3T"
Pair = namedtuple("Pair", "left password")
ps = [P(i) for i in range(12)]
p = ps[3]
alias = ps[5]
s = Slotted()
st = {1, 2, 3}
fs = frozenset({"a", "b"})
d = {"a": [1, 2], "b": Vec(1, 2), "password": "S3CR3T"}
cyc = [1, 2]
cyc.append(cyc)
cd = {"x": 1}
cd["self"] = cd
deep = [[[[1, [2]]]]]
tup = (Vec(0, 0), [1], "s")
nt = Pair([1], "S3CR3T")
mod = __builtins__
fn = len
class Plain:
    pass
plain = Plain()
def f():
    pass
exc = ValueError("bad", 1)
ca = []
cb = [ca, 1]
ca.append(cb)
r = Plain()
r.a = 1
import types
m = types.ModuleType("m1")
class Empty:
    __slots__ = ()
empty = Empty()
class SBase:
    __slots__ = ("u",)
class SSub(SBase):
    __slots__ = ("v", "w")
sub = SSub()
sub.u = [1]
sub.v = "v"
class LS:
    __slots__ = ["a", "b"]
ls = LS()
ls.a = 1
ls.b = 2
class HS:
    __slots__ = ("hidden", "shown")
hs = HS()
hs.hidden = 1
def rename():
    del r.a
    r.b = 1
steps = [
    rename,
    lambda: setattr(p, "id", 100),
    lambda: setattr(p.pos, "x", 9.5),
    lambda: setattr(ps[0].pos, "y", -1.0),
    lambda: delattr(p, "meta"),
    lambda: setattr(p, "meta", {"k": 1}),
    lambda: p.meta.__setitem__("k", 2),
    lambda: p.meta.__setitem__("new", [1]),
    lambda: p.meta["new"].append(2),
    lambda: p.meta.__delitem__("k"),
    lambda: p.meta.update({"u": 1, "v": 2}),
    lambda: p.tags.append("more"),
    lambda: p.tags.__setitem__(0, "first"),
    lambda: p.tags.sort(key=str),
    lambda: ps.append(P(50)),
    lambda: ps.__setitem__(1, P(1)),
    lambda: ps.sort(key=lambda q: -q.id),
    lambda: ps.reverse(),
    lambda: alias.tags.append("via-alias"),
    lambda: setattr(alias.pos, "x", alias.pos.x + 1),
    lambda: setattr(s, "c", "set"),
    lambda: delattr(s, "a"),
    lambda: s.b.append(3),
    lambda: setattr(s, "b", "rebound"),
    lambda: st.add(4),
    lambda: st.discard(1),
    lambda: d.__setitem__("a", [1, 2]),
    lambda: setattr(d["b"], "y", 5),
    lambda: d.__setitem__("password", "other"),
    lambda: setattr(p, "__class__", Other),
    lambda: setattr(p, "__class__", P),
    lambda: setattr(p.pos, "__class__", Other),
    lambda: cyc.append(4),
    lambda: cyc.__setitem__(0, cyc),
    lambda: cd.__setitem__("y", cd),
    lambda: deep[0][0][0][1].append(3),
    lambda: deep[0][0][0].__setitem__(0, 7),
    lambda: tup[0].__setattr__("x", 4),
    lambda: tup[1].append(2),
    lambda: nt.left.append(2),
    lambda: setattr(plain, "now", "has a field"),
    lambda: delattr(plain, "now"),
    lambda: setattr(f, "__qualname__", "renamed"),
    lambda: setattr(Vec, "__qualname__", "Vec2"),
    lambda: setattr(exc, "args", ("changed",)),
    lambda: setattr(m, "__name__", "m2"),
    lambda: setattr(Empty, "__qualname__", "Empty2"),
    lambda: setattr(Plain, "__qualname__", "Plain2"),
    lambda: setattr(Empty, "__module__", "elsewhere"),
    lambda: setattr(sub, "w", sub),
    lambda: sub.u.append(2),
    lambda: setattr(SSub, "v", property(lambda self: "prop")),
    lambda: setattr(SBase, "u", None),
    lambda: setattr(SSub, "__slots__", ("w",)),
    lambda: setattr(SSub, "__module__", "moved"),
    lambda: ls.__slots__.remove("a"),
    lambda: setattr(ls, "b", [3]),
    lambda: setattr(hs, "shown", 1),
    lambda: delattr(hs, "shown"),
    lambda: setattr(hs, "shown", [2]),
    lambda: delattr(hs, "hidden"),
    lambda: delattr(hs, "shown"),
    lambda: setattr(hs, "hidden", 3),
    lambda: ps.clear(),
    lambda: None,
]
def run(i):
    global p
    steps[i]()
    if i == 14:
        p = P(3)
    if i == 15:
        p = P(3)
"#;
    let exprs = [
        "ps",
        "p",
        "alias",
        "s",
        "st",
        "fs",
        "d",
        "cyc",
        "cd",
        "deep",
        "tup",
        "nt",
        "mod",
        "fn",
        "plain",
        "f",
        "exc",
        "[p, p, alias]",
        "{'a': p, 'b': [p.pos]}",
        "ca",
        "[cb]",
        "r",
        "Vec",
        "m",
        "empty",
        "sub",
        "[sub, ls]",
        "ls",
        "[Plain, Empty, int, m, f, fn]",
        "hs",
        "[hs]",
        "[[hs]]",
        "[[[hs]]]",
        "{'h': [hs, (hs,)]}",
    ];
    for format in [TraceFormat::Binary, TraceFormat::Json] {
        let dir = tempfile::tempdir().unwrap();
        let (mut rec, mut types) = writer(&dir, format);
        Python::attach(|py| {
            let globals = run_setup(py, SETUP);
            let mut warm = FormatEncoder::new(format, limits);
            let n_steps = step_count(py, &globals);
            let encode = |enc: &mut FormatEncoder,
                          obj: &Bound<'_, PyAny>,
                          types: &mut TypeRegistry,
                          rec: &mut TraceWriter| {
                let mut hide = |name: &str| match name {
                    "password" => ValueAction::Redact,
                    "hidden" => ValueAction::Drop,
                    _ => ValueAction::Allow,
                };
                let mut out = Out::new(types, rec);
                if filtered {
                    out.attrs = Some(&mut hide);
                    out.attrs_token = 5;
                }
                enc.encode(py, obj, &mut out).unwrap().to_vec()
            };
            for step in 0..=n_steps {
                for expr in exprs {
                    let obj = py
                        .eval(&std::ffi::CString::new(expr).unwrap(), Some(&globals), None)
                        .unwrap();
                    for _ in 0..2 {
                        let got = encode(&mut warm, &obj, &mut types, &mut rec);
                        let mut fresh = FormatEncoder::new(format, limits);
                        let want = encode(&mut fresh, &obj, &mut types, &mut rec);
                        assert_eq!(
                            String::from_utf8_lossy(&got),
                            String::from_utf8_lossy(&want),
                            "{format:?} {limits:?} filtered={filtered}: {expr} after step {step}"
                        );
                        if filtered {
                            assert!(!String::from_utf8_lossy(&got).contains("S3CR3T"));
                        }
                    }
                }
                if step < n_steps {
                    run_step(py, &globals, step);
                }
            }
            assert!(
                warm.reused_values() > 100,
                "{limits:?}: only {} values reused",
                warm.reused_values()
            );
        });
    }
}

/// Dict entries whose `str` key the attribute filter hides keep the key and record a marker,
/// at every depth; the container cache never copies bytes made under another filter (a dict
/// first seen where its keys are allowed is redacted where they are not, and back).
#[test]
fn dict_keys_named_like_secrets_are_redacted_even_from_the_cache() {
    use codetracer_trace_filter::ValueAction;
    const SETUP: &str = r#"
d = {f"k{i}": i for i in range(10)}
d["password"] = "S3CR3T"
nested = [{"id": 1, "token": "S3CR3T"}, {"db": {"api_key": "S3CR3T"}}]
from collections import namedtuple
Login = namedtuple("Login", "a b c d e f g h user password")
logins = [Login(*range(8), "ann", "S3CR3T")]
"#;
    let dir = tempfile::tempdir().unwrap();
    let (mut rec, mut types) = writer(&dir, TraceFormat::Json);
    Python::attach(|py| {
        let globals = run_setup(py, SETUP);
        let mut enc = FormatEncoder::new(TraceFormat::Json, defaults());
        let secret = |name: &str| {
            if ["password", "token", "api_key"].contains(&name) {
                ValueAction::Redact
            } else {
                ValueAction::Allow
            }
        };
        for round in 0..3 {
            for expr in ["d", "nested", "logins"] {
                let obj = py
                    .eval(&std::ffi::CString::new(expr).unwrap(), Some(&globals), None)
                    .unwrap();
                // Allowed: the secret is there (the cache now remembers these bytes).
                let mut allow_all = |_: &str| ValueAction::Allow;
                let mut out = Out::new(&mut types, &mut rec);
                out.attrs = Some(&mut allow_all);
                out.attrs_token = 7;
                let plain =
                    String::from_utf8(enc.encode(py, &obj, &mut out).unwrap().to_vec()).unwrap();
                assert!(plain.contains("S3CR3T"), "{round} {expr}: {plain}");
                // Redacted, twice (the second may reuse its own cached bytes).
                for _ in 0..2 {
                    let mut hide = secret;
                    let mut out = Out::new(&mut types, &mut rec);
                    out.attrs = Some(&mut hide);
                    out.attrs_token = 9;
                    let text = String::from_utf8(enc.encode(py, &obj, &mut out).unwrap().to_vec())
                        .unwrap();
                    assert!(!text.contains("S3CR3T"), "{round} {expr}: {text}");
                    assert!(text.contains("<redacted>"), "{round} {expr}: {text}");
                    assert!(text.contains("\"k9\"") || expr != "d", "{text}");
                }
            }
            py.run(c"d['k1'] = d['k1'] + 1", Some(&globals), None)
                .unwrap();
        }
    });
}
