//! `journal.dat`: this crate's own stream inside the container (the debugger does not read
//! it). It holds, in order, every record of the legacy event stream that the debugger's
//! streams do not carry as such — the declarations (with what the interning tables leave
//! out: a function's path and line, a type's kind and fields), call entries with their
//! arguments, returns, event and thread start/exit markers — each preceded by how many
//! *filler* records (`Step`/`ThreadSwitch` from `steps.dat`, `Value` from `values.dat`)
//! come before it since the previous entry. Merging the two gives back the exact record
//! sequence the binary format writes ([`super::reader`]); replaying the calls and returns
//! (with their thread markers, [`super::stacks`]) gives every call its key, parent, depth
//! and steps for `calls.dat` ([`super::calls`]).
//!
//! Its chunks are sealed at every writer tick (they need not hold a fixed number of
//! entries), so a killed process keeps its calls and declarations up to the last tick.
//!
//! Entry: `varint skip, kind u8, fields`. A call or return on another thread than the
//! previous call or return has the kind's bit 7 set and the thread id next. Steps are
//! deltas from the step of the previous call or return.
//!
//! | kind | fields |
//! |---|---|
//! | 0 `Path`, 3 `VariableName`, 7 `Event` | — (the string or event is the next one of its table / `events.dat`) |
//! | 1 `Function` | varint path id, varint line |
//! | 2 `Type` | length + CBOR `TypeRecord` |
//! | 4 `Call` | varint function id, varint step delta, varint argument count, per argument `varint name id, length + CBOR` (the shape of a `calls.dat` record's arguments) |
//! | 5 `Return`, 6 return by exception | varint step delta, length + CBOR value |
//! | 8 `ThreadStart`, 9 `ThreadExit` | varint thread id |
//! | 10 `Value` (before the first step) | varint variable id, length + CBOR |

use codetracer_trace_types::VariableId;

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
/// Kind bit: a thread id follows (a call or return on another thread than the last one).
pub const ON_THREAD: u8 = 0x80;

/// Starts an entry.
#[inline]
pub fn put_head(out: &mut Vec<u8>, skip: u64, kind: u8) {
    varint::put(out, skip);
    out.push(kind);
}

fn put_call_head(out: &mut Vec<u8>, skip: u64, kind: u8, thread: Option<u64>) {
    match thread {
        Some(id) => {
            put_head(out, skip, kind | ON_THREAD);
            varint::put(out, id);
        }
        None => put_head(out, skip, kind),
    }
}

/// A call entry (`thread`: the thread, when it changed since the last call or return).
#[inline]
pub fn put_call(
    out: &mut Vec<u8>,
    skip: u64,
    thread: Option<u64>,
    function_id: u64,
    step_delta: u64,
    args: &[(VariableId, &[u8])],
) {
    put_call_head(out, skip, CALL, thread);
    varint::put(out, function_id);
    varint::put(out, step_delta);
    varint::put(out, args.len() as u64);
    for (name, value) in args {
        varint::put(out, name.0 as u64);
        varint::put_bytes(out, value);
    }
}

/// A return (by an exception when `unwind`).
#[inline]
pub fn put_return(
    out: &mut Vec<u8>,
    skip: u64,
    thread: Option<u64>,
    unwind: bool,
    step_delta: u64,
    value: &[u8],
) {
    put_call_head(out, skip, if unwind { UNWIND } else { RETURN }, thread);
    varint::put(out, step_delta);
    varint::put_bytes(out, value);
}

/// The arguments of a call entry, in their encoded form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Args<'a> {
    count: u64,
    raw: &'a [u8],
}

impl<'a> Args<'a> {
    /// How many.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Their bytes after the count: `varint name id, length + CBOR` each.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// `(name id, CBOR)` per argument; `None` for damaged bytes.
    pub fn decode(&self) -> Option<Vec<(u64, &'a [u8])>> {
        let mut c = Cursor::new(self.raw);
        (0..self.count)
            .map(|_| Some((c.varint()?, c.bytes()?)))
            .collect()
    }
}

/// One decoded entry, borrowing its chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Filler records before it.
    pub skip: u64,
    /// What it is.
    pub kind: EntryKind<'a>,
}

/// The decoded kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind<'a> {
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
    Type(&'a [u8]),
    /// The next variable name of the table.
    Variable,
    /// A call entry.
    Call {
        /// The thread, when it changed.
        thread: Option<u64>,
        /// Function id.
        function_id: u64,
        /// Steps since the previous call or return.
        step_delta: u64,
        /// The arguments.
        args: Args<'a>,
    },
    /// A return.
    Return {
        /// The thread, when it changed.
        thread: Option<u64>,
        /// Steps since the previous call or return.
        step_delta: u64,
        /// CBOR return value (the exception when `unwind`).
        value: &'a [u8],
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
        value: &'a [u8],
    },
}

/// Decodes the entry at `c`; `None` at damaged bytes.
pub fn next_entry<'a>(c: &mut Cursor<'a>) -> Option<Entry<'a>> {
    let skip = c.varint()?;
    let byte = c.byte()?;
    let thread = if byte & ON_THREAD != 0 {
        Some(c.varint()?)
    } else {
        None
    };
    let kind = match byte & !ON_THREAD {
        PATH => EntryKind::Path,
        FUNCTION => EntryKind::Function {
            path_id: c.varint()?,
            line: c.varint()?,
        },
        TYPE => EntryKind::Type(c.bytes()?),
        VARIABLE => EntryKind::Variable,
        CALL => {
            let function_id = c.varint()?;
            let step_delta = c.varint()?;
            let count = c.varint()?;
            let start = c.rest();
            for _ in 0..count {
                c.varint()?;
                c.bytes()?;
            }
            let raw = &start[..start.len() - c.rest().len()];
            EntryKind::Call {
                thread,
                function_id,
                step_delta,
                args: Args { count, raw },
            }
        }
        k @ (RETURN | UNWIND) => EntryKind::Return {
            thread,
            step_delta: c.varint()?,
            value: c.bytes()?,
            unwind: k == UNWIND,
        },
        EVENT => EntryKind::Event,
        THREAD_START => EntryKind::ThreadStart(c.varint()?),
        THREAD_EXIT => EntryKind::ThreadExit(c.varint()?),
        VALUE => EntryKind::Value {
            variable_id: c.varint()?,
            value: c.bytes()?,
        },
        _ => return None,
    };
    Some(Entry { skip, kind })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn entries_round_trip() {
        let mut raw = Vec::new();
        put_head(&mut raw, 0, PATH);
        put_head(&mut raw, 2, FUNCTION);
        varint::put(&mut raw, 0);
        varint::put(&mut raw, 7);
        put_call(&mut raw, 1, None, 3, 4, &[(VariableId(2), &[0xf6][..])]);
        put_return(&mut raw, 5, Some(99), true, 9, &[0xf7]);
        put_head(&mut raw, 0, THREAD_START);
        varint::put(&mut raw, 1234);
        let mut c = Cursor::new(&raw);
        let mut entries = Vec::new();
        while !c.is_empty() {
            entries.push(next_entry(&mut c).unwrap());
        }
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
        let EntryKind::Call {
            thread: None,
            function_id: 3,
            step_delta: 4,
            args,
        } = &entries[2].kind
        else {
            panic!("{:?}", entries[2])
        };
        assert_eq!(args.decode().unwrap(), [(2, &[0xf6][..])]);
        assert_eq!(args.raw(), [2, 1, 0xf6]);
        assert_eq!(
            entries[3],
            Entry {
                skip: 5,
                kind: EntryKind::Return {
                    thread: Some(99),
                    step_delta: 9,
                    value: &[0xf7],
                    unwind: true
                }
            }
        );
        assert_eq!(entries[4].kind, EntryKind::ThreadStart(1234));
        let mut cut = Cursor::new(&raw[..raw.len() - 1]);
        let n = std::iter::from_fn(|| next_entry(&mut cut)).count();
        assert_eq!(n, 4);
    }
}
