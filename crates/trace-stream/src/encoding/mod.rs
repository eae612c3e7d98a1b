//! [`Encoding`]: the byte syntax of one event-file format — CBOR for `trace.bin`
//! ([`Cbor`]), JSON for `trace.json` ([`Json`]) — as one type with two implementations, so
//! the code that writes values and records ([`crate::ValueOut`], [`crate::TraceWriter`]) is
//! written once and monomorphised per format, with no per-primitive format checks.
//!
//! Every byte shape is the one serde gives `codetracer_trace_types` (0.16): externally tagged
//! records (`{"Step": {...}}`), values tagged by `"kind"`, `Float.f` as a decimal string that
//! `f64::from_str` reads back exactly. The tests decode our bytes with serde and with the
//! reader the CodeTracer debugger links.

mod cbor;
mod json;

pub use cbor::Cbor;
pub use json::Json;

use codetracer_trace_types::{TraceLowLevelEvent, ValueRecord, VariableId};

use crate::error::Result;
use crate::format::TraceFormat;

/// The constant beginnings of value maps: `{"kind": KIND, FIRST_KEY:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    /// `Int` (`i`).
    Int,
    /// `Float` (`f`).
    Float,
    /// `Bool` (`b`).
    Bool,
    /// `String` (`text`).
    String,
    /// `Raw` (`r`).
    Raw,
    /// `None` (no field before `type_id`).
    None,
    /// `BigInt` (`b`, then `negative`).
    BigInt,
    /// `Sequence` (`elements`, then `is_slice`).
    Sequence,
    /// `Tuple` (`elements`).
    Tuple,
    /// `Struct` (`field_values`).
    Struct,
}

/// The byte syntax of one format. Implemented by the zero-sized [`Cbor`] and [`Json`].
pub trait Encoding: Copy + Default + Send + Sync + 'static {
    /// The format this syntax writes.
    const FORMAT: TraceFormat;
    /// Whether the elements of an array are separated (JSON commas).
    const SEPARATED: bool;

    /// `{"kind": KIND, FIRST_KEY:` (the map's field count included in CBOR).
    fn head(out: &mut Vec<u8>, head: Head);
    /// A further key of the open map (`,"key":` in JSON).
    fn key(out: &mut Vec<u8>, key: &str);
    /// An integer.
    fn int(out: &mut Vec<u8>, i: i64);
    /// A string.
    fn text(out: &mut Vec<u8>, s: &str);
    /// A boolean.
    fn bool(out: &mut Vec<u8>, b: bool);
    /// The closing `"type_id": t}` of every value.
    fn type_id_and_close(out: &mut Vec<u8>, type_id: usize);
    /// Opens an array of exactly `n` items.
    fn open_array(out: &mut Vec<u8>, n: usize);
    /// Closes the array opened by [`Self::open_array`].
    fn close_array(out: &mut Vec<u8>);

    /// What goes before the `index`-th record of the file (JSON: a newline, and a comma
    /// after the previous record).
    fn record_separator(out: &mut Vec<u8>, index: u64);
    /// `{"Step": {"path_id": p, "line": l}}`.
    fn step_record(out: &mut Vec<u8>, path_id: usize, line: i64);
    /// `{"Value": {"variable_id": id, "value": <value>}}`, the value's bytes given.
    fn value_record(out: &mut Vec<u8>, variable_id: usize, value: &[u8]);
    /// `{"Return": {"return_value": <value>}}`.
    fn return_record(out: &mut Vec<u8>, value: &[u8]);
    /// `{"Call": {"function_id": f, "args": [{"variable_id": id, "value": v}, ...]}}`.
    fn call_record(out: &mut Vec<u8>, function_id: usize, args: &[(VariableId, &[u8])]);
    /// Any record, through serde (declarations, events: the records off the hot path).
    fn record(out: &mut Vec<u8>, event: &TraceLowLevelEvent) -> Result<()>;
    /// Reads value bytes written in this encoding back (tests and tools).
    fn decode_value(bytes: &[u8]) -> Result<ValueRecord>;
    /// Bytes at the start of the events file's record stream.
    fn prologue() -> &'static [u8];
    /// Bytes at the end of the events file's record stream.
    fn epilogue() -> &'static [u8];
}

/// The shortest text `f64::from_str` reads back as exactly `f` (`1.5`, `1e300`, `NaN`,
/// `inf`, `-inf`): how `Float.f` is written.
pub(crate) fn float_text(f: f64, buffer: &mut ryu::Buffer) -> &str {
    if f.is_nan() {
        "NaN"
    } else if f.is_infinite() {
        if f > 0.0 {
            "inf"
        } else {
            "-inf"
        }
    } else {
        buffer.format_finite(f)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::float_text;

    #[test]
    fn float_text_round_trips_exactly() {
        let mut scratch = ryu::Buffer::new();
        for f in [
            0.0,
            -0.0,
            1.5,
            0.1,
            1e300,
            -1e-300,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let text = float_text(f, &mut scratch).to_owned();
            let back: f64 = text.parse().unwrap();
            assert_eq!(back.to_bits(), f.to_bits(), "{text}");
        }
        assert_eq!(float_text(f64::NAN, &mut scratch), "NaN");
        assert_eq!(float_text(f64::INFINITY, &mut scratch), "inf");
        assert_eq!(float_text(f64::NEG_INFINITY, &mut scratch), "-inf");
    }
}
