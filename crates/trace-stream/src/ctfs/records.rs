//! The record shapes of the CTFS streams the debugger reads, and their chunk framing.
//!
//! Every stream is a `.dat` of independently zstd-compressed chunks and an `.idx` of
//! `chunk size: u32 LE` then one `offset: u64 LE` per chunk; every chunk but the last holds
//! exactly chunk-size records, so record `N` lives in chunk `N / chunk size`.
//!
//! - `steps.dat`: tag `0` + varint position (absolute), tag `1` + zigzag delta from the
//!   previous position, tag `4` + varint thread id (a thread switch, also a step id). The
//!   first position of every chunk is absolute; positions are column-aware
//!   ([`super::lines`]).
//! - `values.dat`: one varint-length-prefixed record per `steps.dat` record — empty, or tag
//!   `0`, varint count, then per variable `varint name id, varint length, CBOR value`.
//! - `calls.dat`: one length-prefixed record per call, in entry order: function id, zigzag
//!   parent key (`-1` for a root), first and last step ids, depth, the arguments (count,
//!   then `name id, length, CBOR`), the return value (length + CBOR, `FF` for none), the
//!   exception (length + CBOR, empty when none), the child keys (count, then keys).
//! - `events.dat`: one length-prefixed record per event: kind (u8, `EventLogKind`), step id,
//!   metadata and content (length + bytes each).

use std::ops::Range;

use super::varint::{self, Cursor};

/// Step tag: an absolute position.
pub const TAG_ABSOLUTE: u8 = 0;
/// Step tag: a position relative to the previous one.
pub const TAG_DELTA: u8 = 1;
/// Step tag: execution switched to another thread.
pub const TAG_THREAD_SWITCH: u8 = 4;
/// Largest delta written as a delta (the spec's three-byte bound); larger jumps are absolute.
pub const MAX_DELTA: i64 = 1_048_575;
/// Values tag: the variables visible at the step.
pub const TAG_STEP_VALUES: u8 = 0;
/// The return value of a call that returned none.
pub const VOID_RETURN: u8 = 0xFF;

/// One decoded `steps.dat` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepEvent {
    /// A line step at this absolute position.
    Position(u64),
    /// Execution switched to this thread.
    ThreadSwitch(u64),
    /// A record that is not a location (raise, catch, thread start/exit of other writers).
    Other,
}

/// Decodes a raw steps chunk (the running position starts at 0 in every chunk, as the
/// CodeTracer readers compute it). Also knows the tags other recorders write.
pub fn decode_steps(raw: &[u8]) -> Option<Vec<StepEvent>> {
    let mut c = Cursor::new(raw);
    let mut out = Vec::new();
    let mut position = 0i64;
    while !c.is_empty() {
        out.push(match c.byte()? {
            TAG_ABSOLUTE => {
                position = i64::try_from(c.varint()?).ok()?;
                StepEvent::Position(position as u64)
            }
            TAG_DELTA | 7 => {
                position = position.checked_add(c.signed()?)?;
                StepEvent::Position(u64::try_from(position).ok()?)
            }
            2 => {
                c.varint()?;
                c.bytes()?;
                StepEvent::Other
            }
            3 | 5 | 6 => {
                c.varint()?;
                StepEvent::Other
            }
            TAG_THREAD_SWITCH => StepEvent::ThreadSwitch(c.varint()?),
            _ => return None,
        });
    }
    Some(out)
}

/// The records of a length-prefixed chunk, as byte ranges of `raw`.
pub fn split_framed(raw: &[u8]) -> Option<Vec<Range<usize>>> {
    let mut c = Cursor::new(raw);
    let mut out = Vec::new();
    while !c.is_empty() {
        let len = usize::try_from(c.varint()?).ok()?;
        let start = raw.len() - c.rest().len();
        c.take(len)?;
        out.push(start..start + len);
    }
    Some(out)
}

/// The variables of one values record: `(name id, CBOR value)`; the ranges index `raw`.
pub fn decode_values_record(raw: &[u8], record: Range<usize>) -> Option<Vec<(u64, Range<usize>)>> {
    let body = raw.get(record.clone())?;
    let mut c = Cursor::new(body);
    let mut out = Vec::new();
    while !c.is_empty() {
        match c.byte()? {
            TAG_STEP_VALUES => {
                for _ in 0..c.varint()? {
                    let name = c.varint()?;
                    let value = c.bytes()?;
                    let start = record.start + (value.as_ptr() as usize - body.as_ptr() as usize);
                    out.push((name, start..start + value.len()));
                }
            }
            // The other value events (bind/drop/cell/compound/assignment): skipped.
            1 | 8 => {
                c.varint()?;
                c.signed()?;
            }
            2 => {
                c.varint()?;
            }
            3 => {
                for _ in 0..c.varint()? {
                    c.varint()?;
                }
            }
            4..=6 => {
                c.signed()?;
                c.bytes()?;
            }
            7 => {
                c.signed()?;
                c.varint()?;
                c.signed()?;
            }
            9 => {
                c.varint()?;
                c.byte()?;
                c.bytes()?;
            }
            _ => return None,
        }
    }
    Some(out)
}

/// A `calls.dat` record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallRecord {
    /// The function (index into `funcs`).
    pub function_id: u64,
    /// The caller's key, `-1` for a root.
    pub parent: i64,
    /// The step at entry.
    pub first_step: u64,
    /// The step at exit.
    pub last_step: u64,
    /// Calls open below it on its thread.
    pub depth: u64,
    /// `(name id, CBOR value)` per argument.
    pub args: Vec<(u64, Vec<u8>)>,
    /// The CBOR return value, or `[VOID_RETURN]`.
    pub ret: Vec<u8>,
    /// The CBOR exception it ended with, or empty.
    pub exception: Vec<u8>,
    /// Keys of the calls it made, in entry order.
    pub children: Vec<u64>,
}

impl CallRecord {
    /// Appends the record (without its length prefix).
    pub fn encode(&self, out: &mut Vec<u8>) {
        varint::put(out, self.function_id);
        varint::put_signed(out, self.parent);
        varint::put(out, self.first_step);
        varint::put(out, self.last_step);
        varint::put(out, self.depth);
        varint::put(out, self.args.len() as u64);
        for (name, value) in &self.args {
            varint::put(out, *name);
            varint::put_bytes(out, value);
        }
        varint::put_bytes(out, &self.ret);
        varint::put_bytes(out, &self.exception);
        varint::put(out, self.children.len() as u64);
        for &child in &self.children {
            varint::put(out, child);
        }
    }

    /// Parses a record (without its length prefix).
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut c = Cursor::new(bytes);
        let mut r = Self {
            function_id: c.varint()?,
            parent: c.signed()?,
            first_step: c.varint()?,
            last_step: c.varint()?,
            depth: c.varint()?,
            ..Self::default()
        };
        for _ in 0..c.varint()? {
            let name = c.varint()?;
            r.args.push((name, c.bytes()?.to_vec()));
        }
        r.ret = c.bytes()?.to_vec();
        r.exception = c.bytes()?.to_vec();
        for _ in 0..c.varint()? {
            r.children.push(c.varint()?);
        }
        c.is_empty().then_some(r)
    }
}

/// An `events.dat` record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventRecord {
    /// `EventLogKind` ordinal.
    pub kind: u8,
    /// The step it happened at.
    pub step: u64,
    /// Its metadata bytes.
    pub metadata: Vec<u8>,
    /// Its content bytes.
    pub content: Vec<u8>,
}

impl EventRecord {
    /// Appends `[kind, step, metadata, content]` (without the length prefix).
    pub fn encode_parts(out: &mut Vec<u8>, kind: u8, step: u64, metadata: &[u8], content: &[u8]) {
        out.push(kind);
        varint::put(out, step);
        varint::put_bytes(out, metadata);
        varint::put_bytes(out, content);
    }

    /// Parses a record (without its length prefix).
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut c = Cursor::new(bytes);
        let r = Self {
            kind: c.byte()?,
            step: c.varint()?,
            metadata: c.bytes()?.to_vec(),
            content: c.bytes()?.to_vec(),
        };
        c.is_empty().then_some(r)
    }
}

/// Appends a record with its varint length prefix, encoded by `write` into `scratch`.
pub fn put_framed(out: &mut Vec<u8>, scratch: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) {
    scratch.clear();
    write(scratch);
    varint::put_bytes(out, scratch);
}

/// The first 4 bytes of an `.idx`: the records per chunk.
pub fn idx_header(chunk_size: u32) -> [u8; 4] {
    chunk_size.to_le_bytes()
}

/// Parses an `.idx`: records per chunk and the chunk offsets (a partial trailing offset of a
/// file cut short is ignored).
pub fn parse_idx(bytes: &[u8]) -> Option<(u32, Vec<u64>)> {
    let mut c = Cursor::new(bytes);
    let chunk_size = c.u32_le()?;
    let mut offsets = Vec::with_capacity(c.rest().len() / 8);
    while let Some(o) = c.u64_le() {
        offsets.push(o);
    }
    (chunk_size > 0).then_some((chunk_size, offsets))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn steps_decode_with_running_positions_and_foreign_tags() {
        let mut raw = vec![TAG_ABSOLUTE];
        varint::put(&mut raw, 1000);
        raw.push(TAG_DELTA);
        varint::put_signed(&mut raw, -7);
        raw.push(TAG_THREAD_SWITCH);
        varint::put(&mut raw, 42);
        raw.extend_from_slice(&[7, 2, 3, 1, 5, 9]); // DeltaColumn +1, Catch 1, ThreadStart 9
        assert_eq!(
            decode_steps(&raw).unwrap(),
            [
                StepEvent::Position(1000),
                StepEvent::Position(993),
                StepEvent::ThreadSwitch(42),
                StepEvent::Position(994),
                StepEvent::Other,
                StepEvent::Other,
            ]
        );
        assert!(decode_steps(&[9]).is_none());
        assert!(decode_steps(&[TAG_DELTA, 1]).is_none(), "negative position");
    }

    #[test]
    fn values_calls_and_events_round_trip() {
        let mut raw = Vec::new();
        let mut scratch = Vec::new();
        put_framed(&mut raw, &mut scratch, |_| {});
        put_framed(&mut raw, &mut scratch, |o| {
            o.push(TAG_STEP_VALUES);
            varint::put(o, 2);
            varint::put(o, 3);
            varint::put_bytes(o, b"abc");
            varint::put(o, 0);
            varint::put_bytes(o, b"");
        });
        let records = split_framed(&raw).unwrap();
        assert_eq!(records.len(), 2);
        assert!(decode_values_record(&raw, records[0].clone())
            .unwrap()
            .is_empty());
        let vals = decode_values_record(&raw, records[1].clone()).unwrap();
        assert_eq!(vals.len(), 2);
        assert_eq!((vals[0].0, &raw[vals[0].1.clone()]), (3, &b"abc"[..]));

        let call = CallRecord {
            function_id: 3,
            parent: -1,
            first_step: 5,
            last_step: 9,
            depth: 0,
            args: vec![(1, vec![0xa0])],
            ret: vec![VOID_RETURN],
            exception: vec![],
            children: vec![7, 8],
        };
        let mut bytes = Vec::new();
        call.encode(&mut bytes);
        assert_eq!(CallRecord::decode(&bytes).unwrap(), call);
        assert!(CallRecord::decode(&bytes[..bytes.len() - 1]).is_none());

        let mut ev = Vec::new();
        EventRecord::encode_parts(&mut ev, 11, 4, b"", "é".as_bytes());
        let back = EventRecord::decode(&ev).unwrap();
        assert_eq!(
            (back.kind, back.step, back.content),
            (11, 4, "é".as_bytes().to_vec())
        );

        let mut idx = idx_header(256).to_vec();
        idx.extend_from_slice(&0u64.to_le_bytes());
        idx.extend_from_slice(&77u64.to_le_bytes());
        idx.push(1);
        assert_eq!(parse_idx(&idx).unwrap(), (256, vec![0, 77]));
        assert!(parse_idx(&[0, 0, 0, 0]).is_none());
    }
}
