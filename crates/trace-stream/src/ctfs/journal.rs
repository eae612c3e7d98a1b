//! `journal.dat`: this crate's own stream inside the container (the debugger does not read
//! it). It holds, in order, every record of the legacy event stream that the debugger's
//! streams do not carry as such — the declarations (with what the interning tables leave
//! out: a function's path and line, a type's kind and fields), call entries with their
//! arguments, returns, event and thread start/exit markers — each preceded by how many
//! *filler* records (`Step`/`ThreadSwitch` from `steps.dat`, `Value` from `values.dat`)
//! come before it since the previous entry. Merging the two gives back the exact record
//! sequence the binary format writes ([`super::reader`]), and the call entries and returns
//! are what `calls.dat` is built from when the recording finishes ([`super::calls`]).
//!
//! Its chunks are sealed at every writer tick (they need not hold a fixed number of
//! entries), so a killed process keeps its calls and declarations up to the last tick.
//!
//! Entry: `varint skip, kind u8, fields`:
//!
//! | kind | fields |
//! |---|---|
//! | 0 `Path`, 3 `VariableName`, 7 `Event` | — (the string or event is the next one of its table / `events.dat`) |
//! | 1 `Function` | varint path id, varint line |
//! | 2 `Type` | length + CBOR `TypeRecord` |
//! | 4 `Call` | varint function id, zigzag parent key, varint depth, varint first step, varint argument count, per argument `varint name id, length + CBOR` |
//! | 5 `Return`, 6 return by exception | varint call key, varint last step, length + CBOR value |
//! | 8 `ThreadStart`, 9 `ThreadExit` | varint thread id |
//! | 10 `Value` (before the first step) | varint variable id, length + CBOR |

use super::varint::{self, Cursor};

/// `Path` entry.
pub const PATH: u8 = 0;
/// `Function` entry.
pub const FUNCTION: u8 = 1;
/// `Type` entry.
pub const TYPE: u8 = 2;
/// `VariableName` entry.
pub const VARIABLE: u8 = 3;
/// Call entry.
pub const CALL: u8 = 4;
/// Return.
pub const RETURN: u8 = 5;
/// Return by an exception.
pub const UNWIND: u8 = 6;
/// `Event` marker.
pub const EVENT: u8 = 7;
/// `ThreadStart`.
pub const THREAD_START: u8 = 8;
/// `ThreadExit`.
pub const THREAD_EXIT: u8 = 9;
/// A `Value` with no step before it.
pub const VALUE: u8 = 10;

/// Starts an entry.
#[inline]
pub fn put_head(out: &mut Vec<u8>, skip: u64, kind: u8) {
    varint::put(out, skip);
    out.push(kind);
}

/// A call entry.
pub fn put_call(
    out: &mut Vec<u8>,
    skip: u64,
    function_id: u64,
    parent: i64,
    depth: u64,
    first_step: u64,
    args: &[(usize, &[u8])],
) {
    put_head(out, skip, CALL);
    varint::put(out, function_id);
    varint::put_signed(out, parent);
    varint::put(out, depth);
    varint::put(out, first_step);
    varint::put(out, args.len() as u64);
    for (name, value) in args {
        varint::put(out, *name as u64);
        varint::put_bytes(out, value);
    }
}

/// A return (by an exception when `unwind`).
pub fn put_return(
    out: &mut Vec<u8>,
    skip: u64,
    unwind: bool,
    key: u64,
    last_step: u64,
    value: &[u8],
) {
    put_head(out, skip, if unwind { UNWIND } else { RETURN });
    varint::put(out, key);
    varint::put(out, last_step);
    varint::put_bytes(out, value);
}

/// One decoded entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Filler records before it.
    pub skip: u64,
    /// What it is.
    pub kind: EntryKind,
}

/// The decoded kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// The next path of the table.
    Path,
    /// The next function: its path and line.
    Function {
        /// Its path id.
        path_id: u64,
        /// Its definition line.
        line: u64,
    },
    /// The next type, as CBOR `TypeRecord`.
    Type(Vec<u8>),
    /// The next variable name of the table.
    Variable,
    /// A call entry.
    Call {
        /// Function id.
        function_id: u64,
        /// The caller's key, `-1` for none.
        parent: i64,
        /// Open calls below it on its thread.
        depth: u64,
        /// Step at entry.
        first_step: u64,
        /// `(name id, CBOR)` per argument.
        args: Vec<(u64, Vec<u8>)>,
    },
    /// A return.
    Return {
        /// The returning call.
        key: u64,
        /// Step at exit.
        last_step: u64,
        /// CBOR return value (the exception when `unwind`).
        value: Vec<u8>,
        /// Whether it ended by an exception.
        unwind: bool,
    },
    /// The next event of `events.dat`.
    Event,
    /// A thread starts recording.
    ThreadStart(u64),
    /// A thread's recorded stack emptied.
    ThreadExit(u64),
    /// A value written before any step.
    Value {
        /// Its variable.
        variable_id: u64,
        /// CBOR.
        value: Vec<u8>,
    },
}

fn decode_one(c: &mut Cursor<'_>) -> Option<Entry> {
    let skip = c.varint()?;
    let kind = match c.byte()? {
        PATH => EntryKind::Path,
        FUNCTION => EntryKind::Function {
            path_id: c.varint()?,
            line: c.varint()?,
        },
        TYPE => EntryKind::Type(c.bytes()?.to_vec()),
        VARIABLE => EntryKind::Variable,
        CALL => {
            let function_id = c.varint()?;
            let parent = c.signed()?;
            let depth = c.varint()?;
            let first_step = c.varint()?;
            let n = c.varint()?;
            let mut args = Vec::new();
            for _ in 0..n {
                let name = c.varint()?;
                args.push((name, c.bytes()?.to_vec()));
            }
            EntryKind::Call {
                function_id,
                parent,
                depth,
                first_step,
                args,
            }
        }
        k @ (RETURN | UNWIND) => EntryKind::Return {
            key: c.varint()?,
            last_step: c.varint()?,
            value: c.bytes()?.to_vec(),
            unwind: k == UNWIND,
        },
        EVENT => EntryKind::Event,
        THREAD_START => EntryKind::ThreadStart(c.varint()?),
        THREAD_EXIT => EntryKind::ThreadExit(c.varint()?),
        VALUE => EntryKind::Value {
            variable_id: c.varint()?,
            value: c.bytes()?.to_vec(),
        },
        _ => return None,
    };
    Some(Entry { skip, kind })
}

/// Decodes a raw journal chunk; `None` when it is damaged.
pub fn decode_chunk(raw: &[u8]) -> Option<Vec<Entry>> {
    let mut c = Cursor::new(raw);
    let mut out = Vec::new();
    while !c.is_empty() {
        out.push(decode_one(&mut c)?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn entries_round_trip() {
        let mut raw = Vec::new();
        put_head(&mut raw, 0, PATH);
        put_head(&mut raw, 2, FUNCTION);
        varint::put(&mut raw, 0);
        varint::put(&mut raw, 7);
        put_call(&mut raw, 1, 3, -1, 0, 4, &[(2, &[0xf6][..])]);
        put_return(&mut raw, 5, true, 0, 9, &[0xf7]);
        put_head(&mut raw, 0, THREAD_START);
        varint::put(&mut raw, 1234);
        let entries = decode_chunk(&raw).unwrap();
        assert_eq!(entries.len(), 5);
        assert_eq!(
            entries[1],
            Entry {
                skip: 2,
                kind: EntryKind::Function {
                    path_id: 0,
                    line: 7
                }
            }
        );
        assert_eq!(
            entries[2].kind,
            EntryKind::Call {
                function_id: 3,
                parent: -1,
                depth: 0,
                first_step: 4,
                args: vec![(2, vec![0xf6])]
            }
        );
        assert_eq!(
            entries[3],
            Entry {
                skip: 5,
                kind: EntryKind::Return {
                    key: 0,
                    last_step: 9,
                    value: vec![0xf7],
                    unwind: true
                }
            }
        );
        assert_eq!(entries[4].kind, EntryKind::ThreadStart(1234));
        assert!(decode_chunk(&raw[..raw.len() - 1]).is_none());
    }
}
