//! [`ValueOut`]: writes trace values straight into bytes of the session's format (CBOR for
//! `trace.bin`, JSON for `trace.json`), in exactly the shape serde gives runtime_tracing's
//! `ValueRecord` (`{"kind": "Int", "i": 5, "type_id": 1}`, ...), so runtime_tracing's readers
//! load them, but without building a `ValueRecord` tree: no allocation per value, and the
//! bytes of an immutable value can be cached and spliced in again.

use std::io::Write as _;

use base64::Engine as _;
use runtime_tracing::{TypeId, VariableId};

use super::sink::TraceFormat;

/// The container shapes of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `Sequence` (`elements`, `is_slice`, `type_id`).
    Sequence,
    /// `Tuple` (`elements`, `type_id`).
    Tuple,
    /// `Struct` (`field_values`, `type_id`).
    Struct,
}

/// A value being written.
pub struct ValueOut {
    format: TraceFormat,
    buf: Vec<u8>,
    /// JSON only: per open container, whether the next element is its first.
    first: Vec<bool>,
}

fn cbor_head(buf: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    if n < 24 {
        buf.push(m | n as u8);
    } else if n <= u64::from(u8::MAX) {
        buf.push(m | 24);
        buf.push(n as u8);
    } else if n <= u64::from(u16::MAX) {
        buf.push(m | 25);
        buf.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n <= u64::from(u32::MAX) {
        buf.push(m | 26);
        buf.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        buf.push(m | 27);
        buf.extend_from_slice(&n.to_be_bytes());
    }
}

/// A CBOR text string.
pub fn cbor_text(buf: &mut Vec<u8>, s: &str) {
    cbor_head(buf, 3, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

/// A CBOR integer (minimal encoding).
pub fn cbor_int(buf: &mut Vec<u8>, i: i64) {
    if i >= 0 {
        cbor_head(buf, 0, i as u64);
    } else {
        cbor_head(buf, 1, (-1 - i) as u64);
    }
}

/// A CBOR map header of `n` entries.
pub fn cbor_map(buf: &mut Vec<u8>, n: u64) {
    cbor_head(buf, 5, n);
}

/// A CBOR array header of `n` items.
pub fn cbor_array(buf: &mut Vec<u8>, n: u64) {
    cbor_head(buf, 4, n);
}

/// A JSON string literal (escaped as serde_json does).
pub fn json_text(buf: &mut Vec<u8>, s: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *buf, s);
}

/// The constant beginnings of value maps.
#[derive(Clone, Copy)]
enum Head {
    Int,
    Float,
    Bool,
    String,
    Raw,
    None,
    BigInt,
    Sequence,
    Tuple,
    Struct,
}

/// `(CBOR, JSON)` bytes of `{"kind": KIND, FIRST_KEY:` per [`Head`] (CBOR: map header with the
/// field count, then text strings; JSON: the object opened up to the first value).
const HEADS: [(&[u8], &[u8]); 10] = [
    (b"\xa3\x64kind\x63Int\x61i", b"{\"kind\":\"Int\",\"i\":"),
    (b"\xa3\x64kind\x65Float\x61f", b"{\"kind\":\"Float\",\"f\":"),
    (b"\xa3\x64kind\x64Bool\x61b", b"{\"kind\":\"Bool\",\"b\":"),
    (
        b"\xa3\x64kind\x66String\x64text",
        b"{\"kind\":\"String\",\"text\":",
    ),
    (b"\xa3\x64kind\x63Raw\x61r", b"{\"kind\":\"Raw\",\"r\":"),
    (b"\xa2\x64kind\x64None", b"{\"kind\":\"None\""),
    (
        b"\xa4\x64kind\x66BigInt\x61b",
        b"{\"kind\":\"BigInt\",\"b\":",
    ),
    (
        b"\xa4\x64kind\x68Sequence\x68elements",
        b"{\"kind\":\"Sequence\",\"elements\":",
    ),
    (
        b"\xa3\x64kind\x65Tuple\x68elements",
        b"{\"kind\":\"Tuple\",\"elements\":",
    ),
    (
        b"\xa3\x64kind\x66Struct\x6cfield_values",
        b"{\"kind\":\"Struct\",\"field_values\":",
    ),
];

impl ValueOut {
    /// An empty value buffer for `format`.
    pub fn new(format: TraceFormat) -> Self {
        Self {
            format,
            buf: Vec::with_capacity(256),
            first: Vec::with_capacity(8),
        }
    }

    /// The format written.
    pub fn format(&self) -> TraceFormat {
        self.format
    }

    /// Starts a new value (drops what was written).
    #[inline]
    pub fn clear(&mut self) {
        self.buf.clear();
        self.first.clear();
    }

    /// The bytes written so far.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// JSON: the comma before every element but the first of a container.
    #[inline]
    fn sep(&mut self) {
        if let Some(first) = self.first.last_mut() {
            if *first {
                *first = false;
            } else {
                self.buf.push(b',');
            }
        }
    }

    /// Starts an element; returns where its bytes begin (after any separator). Call it once
    /// before every value (the value methods below do not).
    #[inline]
    pub fn element_start(&mut self) -> usize {
        if self.format == TraceFormat::Json {
            self.sep();
        }
        self.buf.len()
    }

    /// Where the next byte goes.
    #[inline]
    pub fn position(&self) -> usize {
        self.buf.len()
    }

    /// Appends the bytes of a whole value written earlier (from a cache).
    #[inline]
    pub fn splice(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Writes the constant head of a value: `{"kind": KIND, FIRST_KEY:` (from [`HEADS`]).
    #[inline]
    fn head(&mut self, which: Head) {
        let (cbor, json) = HEADS[which as usize];
        self.buf.extend_from_slice(match self.format {
            TraceFormat::Binary => cbor,
            TraceFormat::Json => json,
        });
    }

    fn key(&mut self, key: &str) {
        match self.format {
            TraceFormat::Binary => cbor_text(&mut self.buf, key),
            TraceFormat::Json => {
                self.buf.extend_from_slice(b",\"");
                self.buf.extend_from_slice(key.as_bytes());
                self.buf.extend_from_slice(b"\":");
            }
        }
    }

    fn int_raw(&mut self, i: i64) {
        match self.format {
            TraceFormat::Binary => cbor_int(&mut self.buf, i),
            TraceFormat::Json => {
                let _ = serde_json::to_writer(&mut self.buf, &i);
            }
        }
    }

    #[inline]
    fn type_id_and_close(&mut self, t: TypeId) {
        self.buf.extend_from_slice(match self.format {
            TraceFormat::Binary => b"\x67type_id",
            TraceFormat::Json => b",\"type_id\":",
        });
        self.int_raw(t.0 as i64);
        if self.format == TraceFormat::Json {
            self.buf.push(b'}');
        }
    }

    fn text_raw(&mut self, s: &str) {
        match self.format {
            TraceFormat::Binary => cbor_text(&mut self.buf, s),
            TraceFormat::Json => json_text(&mut self.buf, s),
        }
    }

    fn bool_raw(&mut self, b: bool) {
        match self.format {
            TraceFormat::Binary => self.buf.push(if b { 0xf5 } else { 0xf4 }),
            TraceFormat::Json => self
                .buf
                .extend_from_slice(if b { b"true" } else { b"false" }),
        }
    }

    /// `Int`.
    #[inline]
    pub fn int(&mut self, i: i64, t: TypeId) {
        self.head(Head::Int);
        self.int_raw(i);
        self.type_id_and_close(t);
    }

    /// `Float` (finite values only; the caller writes NaN/inf as `Raw`).
    pub fn float(&mut self, f: f64, t: TypeId) {
        self.head(Head::Float);
        match self.format {
            TraceFormat::Binary => {
                self.buf.push(0xfb);
                self.buf.extend_from_slice(&f.to_be_bytes());
            }
            TraceFormat::Json => {
                let _ = serde_json::to_writer(&mut self.buf, &f);
            }
        }
        self.type_id_and_close(t);
    }

    /// `Bool`.
    pub fn bool(&mut self, b: bool, t: TypeId) {
        self.head(Head::Bool);
        self.bool_raw(b);
        self.type_id_and_close(t);
    }

    /// `String`.
    pub fn string(&mut self, s: &str, t: TypeId) {
        self.head(Head::String);
        self.text_raw(s);
        self.type_id_and_close(t);
    }

    /// `Raw`.
    pub fn raw(&mut self, s: &str, t: TypeId) {
        self.head(Head::Raw);
        self.text_raw(s);
        self.type_id_and_close(t);
    }

    /// `None`.
    pub fn none(&mut self, t: TypeId) {
        self.head(Head::None);
        self.type_id_and_close(t);
    }

    /// `BigInt` (big-endian magnitude, base64 in both formats as serde writes it).
    pub fn bigint(&mut self, magnitude: &[u8], negative: bool, t: TypeId) {
        self.head(Head::BigInt);
        let b64 = base64::engine::general_purpose::STANDARD.encode(magnitude);
        self.text_raw(&b64);
        self.key("negative");
        self.bool_raw(negative);
        self.type_id_and_close(t);
    }

    /// Opens a container of exactly `n` elements (write them next, then [`Self::end`]).
    pub fn begin(&mut self, shape: Shape, n: usize) {
        self.head(match shape {
            Shape::Sequence => Head::Sequence,
            Shape::Tuple => Head::Tuple,
            Shape::Struct => Head::Struct,
        });
        match self.format {
            TraceFormat::Binary => cbor_array(&mut self.buf, n as u64),
            TraceFormat::Json => {
                self.buf.push(b'[');
                self.first.push(true);
            }
        }
    }

    /// Closes the container opened by the matching [`Self::begin`].
    pub fn end(&mut self, shape: Shape, t: TypeId) {
        if self.format == TraceFormat::Json {
            self.buf.push(b']');
            self.first.pop();
        }
        if shape == Shape::Sequence {
            self.key("is_slice");
            self.bool_raw(false);
        }
        self.type_id_and_close(t);
    }
}

/// Writes the record `{"Value": {"variable_id": id, "value": <value>}}` into `out`.
pub fn write_value_record(out: &mut Vec<u8>, format: TraceFormat, id: VariableId, value: &[u8]) {
    match format {
        TraceFormat::Binary => {
            cbor_map(out, 1);
            cbor_text(out, "Value");
            cbor_map(out, 2);
            cbor_text(out, "variable_id");
            cbor_int(out, id.0 as i64);
            cbor_text(out, "value");
        }
        TraceFormat::Json => {
            let _ = write!(out, "{{\"Value\":{{\"variable_id\":{},\"value\":", id.0);
        }
    }
    out.extend_from_slice(value);
    if format == TraceFormat::Json {
        out.extend_from_slice(b"}}");
    }
}

/// Writes `{"Return": {"return_value": <value>}}` into `out`.
pub fn write_return_record(out: &mut Vec<u8>, format: TraceFormat, value: &[u8]) {
    match format {
        TraceFormat::Binary => {
            cbor_map(out, 1);
            cbor_text(out, "Return");
            cbor_map(out, 1);
            cbor_text(out, "return_value");
        }
        TraceFormat::Json => out.extend_from_slice(b"{\"Return\":{\"return_value\":"),
    }
    out.extend_from_slice(value);
    if format == TraceFormat::Json {
        out.extend_from_slice(b"}}");
    }
}

/// Writes `{"Call": {"function_id": f, "args": [{"variable_id": id, "value": v}, ...]}}`.
pub fn write_call_record(
    out: &mut Vec<u8>,
    format: TraceFormat,
    function_id: usize,
    args: &[(VariableId, &[u8])],
) {
    match format {
        TraceFormat::Binary => {
            cbor_map(out, 1);
            cbor_text(out, "Call");
            cbor_map(out, 2);
            cbor_text(out, "function_id");
            cbor_int(out, function_id as i64);
            cbor_text(out, "args");
            cbor_array(out, args.len() as u64);
            for (id, value) in args {
                cbor_map(out, 2);
                cbor_text(out, "variable_id");
                cbor_int(out, id.0 as i64);
                cbor_text(out, "value");
                out.extend_from_slice(value);
            }
        }
        TraceFormat::Json => {
            let _ = write!(out, "{{\"Call\":{{\"function_id\":{function_id},\"args\":[");
            for (i, (id, value)) in args.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let _ = write!(out, "{{\"variable_id\":{},\"value\":", id.0);
                out.extend_from_slice(value);
                out.push(b'}');
            }
            out.extend_from_slice(b"]}}");
        }
    }
}

/// Writes `{"Step": {"path_id": p, "line": l}}`.
#[inline]
pub fn write_step_record(out: &mut Vec<u8>, format: TraceFormat, path_id: usize, line: i64) {
    match format {
        TraceFormat::Binary => {
            cbor_map(out, 1);
            cbor_text(out, "Step");
            cbor_map(out, 2);
            cbor_text(out, "path_id");
            cbor_int(out, path_id as i64);
            cbor_text(out, "line");
            cbor_int(out, line);
        }
        TraceFormat::Json => {
            let _ = write!(
                out,
                "{{\"Step\":{{\"path_id\":{path_id},\"line\":{line}}}}}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use runtime_tracing::{TraceLowLevelEvent, ValueRecord};

    fn both(f: impl Fn(&mut ValueOut)) -> (ValueRecord, ValueRecord) {
        let mut c = ValueOut::new(TraceFormat::Binary);
        f(&mut c);
        let mut j = ValueOut::new(TraceFormat::Json);
        f(&mut j);
        let from_cbor: ValueRecord = cbor4ii::serde::from_slice(c.bytes()).unwrap();
        let from_json: ValueRecord = serde_json::from_slice(j.bytes()).unwrap();
        (from_cbor, from_json)
    }

    #[test]
    fn every_shape_reads_back_with_serde_in_both_formats() {
        let (c, j) = both(|o| {
            o.element_start();
            o.begin(Shape::Sequence, 3);
            o.element_start();
            o.int(-300, TypeId(1));
            o.element_start();
            o.string("é\"x", TypeId(2));
            o.element_start();
            o.begin(Shape::Tuple, 2);
            o.element_start();
            o.bigint(&[1, 0], true, TypeId(3));
            o.element_start();
            o.float(1.5, TypeId(4));
            o.end(Shape::Tuple, TypeId(5));
            o.end(Shape::Sequence, TypeId(6));
        });
        for v in [c, j] {
            match v {
                ValueRecord::Sequence {
                    elements,
                    is_slice,
                    type_id,
                } => {
                    assert!(!is_slice);
                    assert_eq!(type_id, TypeId(6));
                    assert!(matches!(elements[0], ValueRecord::Int { i: -300, .. }));
                    assert!(
                        matches!(&elements[1], ValueRecord::String { text, .. } if text == "é\"x")
                    );
                    match &elements[2] {
                        ValueRecord::Tuple { elements, .. } => {
                            assert!(
                                matches!(&elements[0], ValueRecord::BigInt { b, negative: true, .. } if b == &vec![1, 0])
                            );
                        }
                        other => panic!("{other:?}"),
                    }
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn records_read_back_with_serde() {
        for format in [TraceFormat::Binary, TraceFormat::Json] {
            let mut v = ValueOut::new(format);
            v.none(TypeId(0));
            let mut out = Vec::new();
            write_call_record(
                &mut out,
                format,
                3,
                &[(VariableId(1), v.bytes()), (VariableId(2), v.bytes())],
            );
            let ev: TraceLowLevelEvent = match format {
                TraceFormat::Binary => cbor4ii::serde::from_slice(&out).unwrap(),
                TraceFormat::Json => serde_json::from_slice(&out).unwrap(),
            };
            assert!(
                matches!(ev, TraceLowLevelEvent::Call(c) if c.args.len() == 2 && c.function_id.0 == 3)
            );
            out.clear();
            write_step_record(&mut out, format, 2, 40);
            let ev: TraceLowLevelEvent = match format {
                TraceFormat::Binary => cbor4ii::serde::from_slice(&out).unwrap(),
                TraceFormat::Json => serde_json::from_slice(&out).unwrap(),
            };
            assert!(
                matches!(ev, TraceLowLevelEvent::Step(s) if s.path_id.0 == 2 && s.line.0 == 40)
            );
        }
    }
}
