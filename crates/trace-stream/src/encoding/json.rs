//! [`Json`]: the JSON syntax of `trace.json` (a JSON array, one record per line, as
//! serde_json writes `codetracer_trace_types`).

use std::io::Write as _;

use codetracer_trace_types::{TraceLowLevelEvent, ValueRecord, VariableId};

use super::{Encoding, Head};
use crate::error::{ErrorKind, Result, TraceStreamError};
use crate::format::TraceFormat;

/// JSON (`trace.json`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json;

/// `{"kind":KIND,"FIRST_KEY":` per [`Head`].
const HEADS: [&[u8]; 10] = [
    b"{\"kind\":\"Int\",\"i\":",
    b"{\"kind\":\"Float\",\"f\":",
    b"{\"kind\":\"Bool\",\"b\":",
    b"{\"kind\":\"String\",\"text\":",
    b"{\"kind\":\"Raw\",\"r\":",
    b"{\"kind\":\"None\"",
    b"{\"kind\":\"BigInt\",\"b\":",
    b"{\"kind\":\"Sequence\",\"elements\":",
    b"{\"kind\":\"Tuple\",\"elements\":",
    b"{\"kind\":\"Struct\",\"field_values\":",
];

#[inline]
fn uint(out: &mut Vec<u8>, n: usize) {
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{n}");
}

impl Encoding for Json {
    const FORMAT: TraceFormat = TraceFormat::Json;
    const SEPARATED: bool = true;

    #[inline]
    fn head(out: &mut Vec<u8>, which: Head) {
        out.extend_from_slice(HEADS[which as usize]);
    }

    #[inline]
    fn key(out: &mut Vec<u8>, key: &str) {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
    }

    #[inline]
    fn int(out: &mut Vec<u8>, i: i64) {
        let _ = write!(out, "{i}");
    }

    #[inline]
    fn text(out: &mut Vec<u8>, s: &str) {
        // serde_json's own escaping; writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }

    #[inline]
    fn bool(out: &mut Vec<u8>, b: bool) {
        out.extend_from_slice(if b { b"true" } else { b"false" });
    }

    #[inline]
    fn type_id_and_close(out: &mut Vec<u8>, type_id: usize) {
        out.extend_from_slice(b",\"type_id\":");
        uint(out, type_id);
        out.push(b'}');
    }

    #[inline]
    fn open_array(out: &mut Vec<u8>, _n: usize) {
        out.push(b'[');
    }

    #[inline]
    fn close_array(out: &mut Vec<u8>) {
        out.push(b']');
    }

    #[inline]
    fn record_separator(out: &mut Vec<u8>, index: u64) {
        if index > 0 {
            out.push(b',');
        }
        out.push(b'\n');
    }

    #[inline]
    fn step_record(out: &mut Vec<u8>, path_id: usize, line: i64) {
        let _ = write!(
            out,
            "{{\"Step\":{{\"path_id\":{path_id},\"line\":{line}}}}}"
        );
    }

    #[inline]
    fn value_record(out: &mut Vec<u8>, variable_id: usize, value: &[u8]) {
        let _ = write!(
            out,
            "{{\"Value\":{{\"variable_id\":{variable_id},\"value\":"
        );
        out.extend_from_slice(value);
        out.extend_from_slice(b"}}");
    }

    fn return_record(out: &mut Vec<u8>, value: &[u8]) {
        out.extend_from_slice(b"{\"Return\":{\"return_value\":");
        out.extend_from_slice(value);
        out.extend_from_slice(b"}}");
    }

    fn call_record(out: &mut Vec<u8>, function_id: usize, args: &[(VariableId, &[u8])]) {
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

    fn record(out: &mut Vec<u8>, event: &TraceLowLevelEvent) -> Result<()> {
        serde_json::to_writer(&mut *out, event).map_err(|e| {
            TraceStreamError::new(
                ErrorKind::Encode,
                format!("cannot encode a trace record as JSON: {e}"),
            )
        })
    }

    fn decode_value(bytes: &[u8]) -> Result<ValueRecord> {
        serde_json::from_slice::<ValueRecord>(bytes).map_err(|e| {
            TraceStreamError::new(
                ErrorKind::Encode,
                format!("value bytes do not read back: {e}"),
            )
        })
    }

    fn prologue() -> &'static [u8] {
        b"["
    }

    fn epilogue() -> &'static [u8] {
        b"\n]\n"
    }
}
