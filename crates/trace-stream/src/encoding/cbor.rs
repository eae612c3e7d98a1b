//! [`Cbor`]: the CBOR syntax of `trace.bin` records, as cbor4ii's serde serialiser writes
//! `codetracer_trace_types` (definite-length maps and arrays, minimal integer heads).

use codetracer_trace_types::{TraceLowLevelEvent, ValueRecord, VariableId};

use super::{Encoding, Head};
use crate::error::{ErrorKind, Result, TraceStreamError};
use crate::format::TraceFormat;

/// CBOR (`trace.bin`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cbor;

/// A CBOR item head: major type and argument, minimally encoded.
#[inline]
fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    if n < 24 {
        out.push(m | n as u8);
    } else if n <= u64::from(u8::MAX) {
        out.push(m | 24);
        out.push(n as u8);
    } else if n <= u64::from(u16::MAX) {
        out.push(m | 25);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n <= u64::from(u32::MAX) {
        out.push(m | 26);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// A CBOR map header of `n` entries.
#[inline]
fn map(out: &mut Vec<u8>, n: u64) {
    head(out, 5, n);
}

/// `{"kind": KIND, FIRST_KEY:` per [`Head`]: map header with the field count, then text
/// strings (`0x6N` = text of N bytes).
const HEADS: [&[u8]; 10] = [
    b"\xa3\x64kind\x63Int\x61i",
    b"\xa3\x64kind\x65Float\x61f",
    b"\xa3\x64kind\x64Bool\x61b",
    b"\xa3\x64kind\x66String\x64text",
    b"\xa3\x64kind\x63Raw\x61r",
    b"\xa2\x64kind\x64None",
    b"\xa4\x64kind\x66BigInt\x61b",
    b"\xa4\x64kind\x68Sequence\x68elements",
    b"\xa3\x64kind\x65Tuple\x68elements",
    b"\xa3\x64kind\x66Struct\x6cfield_values",
];

impl Encoding for Cbor {
    const FORMAT: TraceFormat = TraceFormat::Binary;
    const SEPARATED: bool = false;

    #[inline]
    fn head(out: &mut Vec<u8>, which: Head) {
        out.extend_from_slice(HEADS[which as usize]);
    }

    #[inline]
    fn key(out: &mut Vec<u8>, key: &str) {
        Self::text(out, key);
    }

    #[inline]
    fn int(out: &mut Vec<u8>, i: i64) {
        if i >= 0 {
            head(out, 0, i as u64);
        } else {
            head(out, 1, (-1 - i) as u64);
        }
    }

    #[inline]
    fn text(out: &mut Vec<u8>, s: &str) {
        head(out, 3, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    }

    #[inline]
    fn bool(out: &mut Vec<u8>, b: bool) {
        out.push(if b { 0xf5 } else { 0xf4 });
    }

    #[inline]
    fn type_id_and_close(out: &mut Vec<u8>, type_id: usize) {
        out.extend_from_slice(b"\x67type_id");
        head(out, 0, type_id as u64);
    }

    #[inline]
    fn open_array(out: &mut Vec<u8>, n: usize) {
        head(out, 4, n as u64);
    }

    #[inline]
    fn close_array(_out: &mut Vec<u8>) {}

    #[inline]
    fn record_separator(_out: &mut Vec<u8>, _index: u64) {}

    #[inline]
    fn step_record(out: &mut Vec<u8>, path_id: usize, line: i64) {
        out.extend_from_slice(b"\xa1\x64Step\xa2\x67path_id");
        head(out, 0, path_id as u64);
        out.extend_from_slice(b"\x64line");
        Self::int(out, line);
    }

    #[inline]
    fn value_record(out: &mut Vec<u8>, variable_id: usize, value: &[u8]) {
        out.extend_from_slice(b"\xa1\x65Value\xa2\x6bvariable_id");
        head(out, 0, variable_id as u64);
        out.extend_from_slice(b"\x65value");
        out.extend_from_slice(value);
    }

    fn return_record(out: &mut Vec<u8>, value: &[u8]) {
        out.extend_from_slice(b"\xa1\x66Return\xa1\x6creturn_value");
        out.extend_from_slice(value);
    }

    fn call_record(out: &mut Vec<u8>, function_id: usize, args: &[(VariableId, &[u8])]) {
        out.extend_from_slice(b"\xa1\x64Call\xa2\x6bfunction_id");
        head(out, 0, function_id as u64);
        out.extend_from_slice(b"\x64args");
        head(out, 4, args.len() as u64);
        for (id, value) in args {
            map(out, 2);
            out.extend_from_slice(b"\x6bvariable_id");
            head(out, 0, id.0 as u64);
            out.extend_from_slice(b"\x65value");
            out.extend_from_slice(value);
        }
    }

    fn record(out: &mut Vec<u8>, event: &TraceLowLevelEvent) -> Result<()> {
        let buf = std::mem::take(out);
        *out = cbor4ii::serde::to_vec(buf, event).map_err(|e| {
            TraceStreamError::new(
                ErrorKind::Encode,
                format!("cannot encode a trace record as CBOR: {e}"),
            )
        })?;
        Ok(())
    }

    fn decode_value(bytes: &[u8]) -> Result<ValueRecord> {
        cbor4ii::serde::from_slice::<ValueRecord>(bytes).map_err(|e| {
            TraceStreamError::new(
                ErrorKind::Encode,
                format!("value bytes do not read back: {e}"),
            )
        })
    }

    fn prologue() -> &'static [u8] {
        b""
    }

    fn epilogue() -> &'static [u8] {
        b""
    }
}
