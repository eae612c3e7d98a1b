//! [`CallsBuilder`]: `calls.dat`, built on the writer thread from the journal chunks as they
//! arrive, and written into the container when the recording finishes.
//!
//! A call record needs what is known only when the call returns (last step, return value)
//! and its children, and records go in entry order — the outermost call, still open until
//! the end, comes first. The builder replays the journal's calls and returns (keys in entry
//! order, parents and depths from the per-thread stacks, [`CallStacks`]) and assembles the
//! records in chunks of [`CALLS_CHUNK`] keys: a chunk is sealed (encoded and compressed) as
//! soon as every call in it returned, which leaves in memory only the chunks that hold an
//! open call (at most one per open call) and the children lists of open calls. Sealed chunks
//! wait in an unnamed spill file in the container's directory (a private temporary file,
//! removed at once where the system allows, so a killed process leaves nothing behind and no
//! name in a shared directory is ever opened) until the end copies them into `calls.dat`.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::path::{Path, PathBuf};

use super::container::{Container, FileId};
use super::journal::{next_entry, EntryKind};
use super::pio::{read_at, write_at};
use super::records::{idx_header, VOID_RETURN};
use super::stacks::CallStacks;
use super::varint::{self, Cursor};
use super::{CALLS_CHUNK, LEVEL};

/// Hashes a call key with one multiplication (keys are sequential integers).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, key: u64) {
        self.0 = key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

/// A call that has not returned yet.
struct OpenCall {
    function_id: u64,
    parent: i64,
    depth: u64,
    first_step: u64,
    /// The encoded arguments: count, then `name id, length + CBOR` each.
    args: Vec<u8>,
    children: ChildKeys,
}

/// The keys of an open call's children, kept as varint deltas: keys only grow, so most take
/// one byte instead of eight. A call that stays open for the whole run (the script's `main`)
/// collects a child per call it makes; this is what its list costs until it returns.
#[derive(Default)]
struct ChildKeys {
    count: u64,
    last: u64,
    deltas: Vec<u8>,
}

impl ChildKeys {
    fn push(&mut self, key: u64) {
        varint::put(&mut self.deltas, key.saturating_sub(self.last));
        self.last = key;
        self.count += 1;
    }

    /// Appends the count, then every key (as `calls.dat` stores them).
    fn write_to(&self, out: &mut Vec<u8>) {
        varint::put(out, self.count);
        let mut deltas = Cursor::new(&self.deltas);
        let mut key = 0u64;
        while let Some(delta) = deltas.varint() {
            key += delta;
            varint::put(out, key);
        }
    }
}

/// The records of one chunk, completed in any order.
#[derive(Default)]
struct PendingChunk {
    arena: Vec<u8>,
    /// Per key of the chunk: where its framed record is in `arena`.
    slots: Vec<Option<(usize, usize)>>,
    filled: u32,
}

/// The replay state and the sealed chunks of `calls.dat`.
pub struct CallsBuilder {
    stacks: CallStacks,
    step: u64,
    next_key: u64,
    open: KeyMap<OpenCall>,
    pending: BTreeMap<u64, PendingChunk>,
    spill_dir: PathBuf,
    spill: Option<File>,
    spill_len: u64,
    spilled: BTreeMap<u64, (u64, u64)>,
    compressor: zstd::bulk::Compressor<'static>,
    scratch: Vec<u8>,
}

fn damaged() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "a journal chunk is damaged")
}

impl CallsBuilder {
    /// A builder whose spill file will be next to `container`.
    pub fn new(container: &Path) -> io::Result<Self> {
        let spill_dir = match container.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Ok(Self {
            stacks: CallStacks::new(),
            step: 0,
            next_key: 0,
            open: KeyMap::default(),
            pending: BTreeMap::new(),
            spill_dir,
            spill: None,
            spill_len: 0,
            spilled: BTreeMap::new(),
            compressor: zstd::bulk::Compressor::new(LEVEL)?,
            scratch: Vec::new(),
        })
    }

    /// Calls entered so far.
    pub fn calls(&self) -> u64 {
        self.next_key
    }

    /// Replays one raw journal chunk.
    pub fn feed(&mut self, raw: &[u8]) -> io::Result<()> {
        let mut c = Cursor::new(raw);
        while !c.is_empty() {
            let entry = next_entry(&mut c).ok_or_else(damaged)?;
            match entry.kind {
                EntryKind::Call {
                    thread,
                    function_id,
                    step_delta,
                    args,
                } => {
                    self.advance(thread, step_delta);
                    self.enter(function_id, args.count(), args.raw());
                }
                EntryKind::Return {
                    thread,
                    step_delta,
                    value,
                    unwind,
                } => {
                    self.advance(thread, step_delta);
                    if let Some(key) = self.stacks.pop() {
                        self.complete(key, self.step, Some((value, unwind)))?;
                    }
                }
                EntryKind::ThreadStart(id) => self.stacks.start(id),
                EntryKind::ThreadExit(id) => self.stacks.exit(id),
                _ => {}
            }
        }
        Ok(())
    }

    /// A call or return entry's thread marker and step delta.
    fn advance(&mut self, thread: Option<u64>, step_delta: u64) {
        if let Some(t) = thread {
            self.stacks.switch(t);
        }
        self.step += step_delta;
    }

    fn enter(&mut self, function_id: u64, count: u64, raw_args: &[u8]) {
        let key = self.next_key;
        self.next_key += 1;
        let parent = self.stacks.top();
        if let Some(p) = parent.and_then(|p| self.open.get_mut(&p)) {
            p.children.push(key);
        }
        let mut args = Vec::with_capacity(raw_args.len() + 1);
        varint::put(&mut args, count);
        args.extend_from_slice(raw_args);
        self.open.insert(
            key,
            OpenCall {
                function_id,
                parent: parent.map_or(-1, |p| p as i64),
                depth: self.stacks.depth() as u64,
                first_step: self.step,
                args,
                children: ChildKeys::default(),
            },
        );
        self.stacks.push(key);
        self.pending
            .entry(key / u64::from(CALLS_CHUNK))
            .or_insert_with(|| PendingChunk {
                slots: vec![None; CALLS_CHUNK as usize],
                ..PendingChunk::default()
            });
    }

    /// Encodes the record of `key` (`ending`: its return value or exception; `None`: it
    /// never returned) into its chunk, sealing the chunk when it is complete.
    fn complete(
        &mut self,
        key: u64,
        last_step: u64,
        ending: Option<(&[u8], bool)>,
    ) -> io::Result<()> {
        let Some(call) = self.open.remove(&key) else {
            return Ok(());
        };
        let s = &mut self.scratch;
        s.clear();
        varint::put(s, call.function_id);
        varint::put_signed(s, call.parent);
        varint::put(s, call.first_step);
        varint::put(s, last_step.max(call.first_step));
        varint::put(s, call.depth);
        s.extend_from_slice(&call.args);
        match ending {
            Some((value, false)) => {
                varint::put_bytes(s, value);
                varint::put_bytes(s, &[]);
            }
            Some((exception, true)) => {
                varint::put_bytes(s, &[VOID_RETURN]);
                varint::put_bytes(s, exception);
            }
            None => {
                varint::put_bytes(s, &[VOID_RETURN]);
                varint::put_bytes(s, &[]);
            }
        }
        call.children.write_to(s);
        let chunk = key / u64::from(CALLS_CHUNK);
        let full = match self.pending.get_mut(&chunk) {
            Some(p) => {
                let start = p.arena.len();
                varint::put_bytes(&mut p.arena, &self.scratch);
                p.slots[(key % u64::from(CALLS_CHUNK)) as usize] =
                    Some((start, p.arena.len() - start));
                p.filled += 1;
                p.filled == CALLS_CHUNK
            }
            None => false,
        };
        if full {
            self.seal(chunk)?;
        }
        Ok(())
    }

    fn seal(&mut self, chunk: u64) -> io::Result<()> {
        let Some(p) = self.pending.remove(&chunk) else {
            return Ok(());
        };
        self.scratch.clear();
        for (start, len) in p.slots.iter().flatten() {
            self.scratch
                .extend_from_slice(&p.arena[*start..start + len]);
        }
        let compressed = self.compressor.compress(&self.scratch)?;
        if self.spill.is_none() {
            // Created exclusively (`0600`) and unnamed at once where the system allows it.
            self.spill = Some(tempfile::tempfile_in(&self.spill_dir)?);
        }
        if let Some(f) = &self.spill {
            write_at(f, &compressed, self.spill_len)?;
        }
        self.spilled
            .insert(chunk, (self.spill_len, compressed.len() as u64));
        self.spill_len += compressed.len() as u64;
        Ok(())
    }

    /// Closes the calls still open (they end at the last step, with no return value),
    /// seals the last chunks and writes `calls.dat` (`dat`) and `calls.idx` (`idx`) of `c`;
    /// `steps` is the number of `steps.dat` records.
    pub fn finish(
        mut self,
        c: &mut Container,
        dat: FileId,
        idx: FileId,
        steps: u64,
    ) -> io::Result<()> {
        let last = steps.saturating_sub(1);
        self.stacks.drain_open();
        let mut open: Vec<u64> = self.open.keys().copied().collect();
        open.sort_unstable();
        for key in open {
            self.complete(key, last, None)?;
        }
        let chunks: Vec<u64> = self.pending.keys().copied().collect();
        for chunk in chunks {
            self.seal(chunk)?;
        }
        c.append(idx, &idx_header(CALLS_CHUNK))?;
        let mut buf = Vec::new();
        for (_, (offset, len)) in std::mem::take(&mut self.spilled) {
            buf.resize(len as usize, 0);
            if let Some(f) = &self.spill {
                read_at(f, &mut buf, offset)?;
            }
            let at = c.size(dat);
            c.append(dat, &buf)?;
            c.append(idx, &at.to_le_bytes())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_keys_are_written_as_absolute_varints() {
        let keys = [1u64, 2, 3, 130, 131, 20_000, 5_000_000, 5_000_001];
        let mut children = ChildKeys::default();
        for &k in &keys {
            children.push(k);
        }
        let mut expected = Vec::new();
        varint::put(&mut expected, keys.len() as u64);
        for &k in &keys {
            varint::put(&mut expected, k);
        }
        let mut written = Vec::new();
        children.write_to(&mut written);
        assert_eq!(written, expected);
        // near-consecutive keys cost one byte each in memory
        assert!(children.deltas.len() < keys.len() * 3);
    }

    #[test]
    fn no_children_is_a_zero_count() {
        let mut written = Vec::new();
        ChildKeys::default().write_to(&mut written);
        assert_eq!(written, [0]);
    }
}
