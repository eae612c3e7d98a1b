//! [`CallsBuilder`]: `calls.dat`, built on the writer thread from the journal chunks as they
//! arrive, and written into the container when the recording finishes — placed at every
//! tick by [`super::calls_layout`], which takes the sealed chunks from here and the chunks
//! of calls still open as [`CallsBuilder::write_provisional`] encodes them.
//!
//! A call record needs what is known only when the call returns (last step, return value)
//! and its children, and records go in entry order — the outermost call, still open until
//! the end, comes first. The builder replays the journal's calls and returns (keys in entry
//! order, parents and depths from the per-thread stacks, [`CallStacks`]) and assembles the
//! records in chunks of [`CALLS_CHUNK`] keys: a chunk is sealed (encoded and compressed) as
//! soon as every call in it returned, which leaves in memory only the chunks that hold an
//! open call (at most one per open call) and the children lists of open calls (about one
//! byte per child). Sealed chunks wait in an unnamed spill file in the container's
//! directory (a private temporary file, removed at once where the system allows, so a
//! killed process leaves nothing behind and no name in a shared directory is ever opened)
//! until the end copies them into `calls.dat`, a piece at a time.
//!
//! A call with more than [`LONG_CHILDREN`] children (the script's `main`, open for the whole
//! run) is never assembled in memory: its chunk keeps the record's head and the children as
//! deltas, and the seal streams the record through the compressor into the spill file in
//! pieces, so memory does not grow with its children's absolute keys (3–4 bytes each, and
//! copied three times when the record was built whole).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::container::{Container, FileId};
use super::journal::{next_entry, EntryKind};
use super::pio::{read_at, write_at};
use super::records::{idx_header, split_framed, CallRecord, VOID_RETURN};
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

/// Children beyond which a call's record is streamed at its seal instead of assembled.
pub const LONG_CHILDREN: u64 = 4096;
/// Bytes per piece when a long record is streamed or the spill is copied into `calls.dat`.
const PIECE: usize = 64 * 1024;
/// Steps back from the journal's position for which the first key entered at each step is
/// remembered ([`CallsBuilder::cut_key`]): the sealed steps trail the journal at a tick by
/// less than a steps chunk (4096).
const RECENT_STEPS: u64 = 16_384;

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

impl OpenCall {
    /// Appends the record's fields before its return value, ending at `last_step`.
    fn put_fields(&self, out: &mut Vec<u8>, last_step: u64) {
        varint::put(out, self.function_id);
        varint::put_signed(out, self.parent);
        varint::put(out, self.first_step);
        varint::put(out, last_step.max(self.first_step));
        varint::put(out, self.depth);
        out.extend_from_slice(&self.args);
    }
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

    /// The keys, in order.
    fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        let mut deltas = Cursor::new(&self.deltas);
        let mut key = 0u64;
        std::iter::from_fn(move || {
            key += deltas.varint()?;
            Some(key)
        })
    }

    /// Appends the count, then every key (as `calls.dat` stores them).
    fn write_to(&self, out: &mut Vec<u8>) {
        varint::put(out, self.count);
        for key in self.keys() {
            varint::put(out, key);
        }
    }

    /// The bytes [`write_to`](Self::write_to) appends.
    fn encoded_len(&self) -> usize {
        varint::len(self.count) + self.keys().map(varint::len).sum::<usize>()
    }

    /// What [`write_to`](Self::write_to) appends, handed to `sink` in pieces of about
    /// [`PIECE`] bytes (through `buf`).
    fn write_in_pieces(
        &self,
        buf: &mut Vec<u8>,
        mut sink: impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        buf.clear();
        varint::put(buf, self.count);
        for key in self.keys() {
            varint::put(buf, key);
            if buf.len() >= PIECE {
                sink(buf)?;
                buf.clear();
            }
        }
        sink(buf)
    }
}

/// A completed record that is streamed at the seal: its framed head (the length prefix of
/// the whole record, then every field before the children) and its children.
struct LongRecord {
    head: Vec<u8>,
    children: ChildKeys,
    /// The bytes the children take ([`ChildKeys::encoded_len`]).
    children_len: usize,
}

/// One key's record in its chunk.
#[derive(Default)]
enum Slot {
    /// Not returned yet.
    #[default]
    Open,
    /// Framed in the chunk's arena at `(start, len)`.
    Encoded(usize, usize),
    /// Streamed at the seal.
    Long(Box<LongRecord>),
}

/// Writes at the end of the spill file, counting what it wrote.
struct SpillWriter<'a> {
    file: &'a File,
    at: u64,
}

impl Write for SpillWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        write_at(self.file, buf, self.at)?;
        self.at += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The records of one chunk, completed in any order.
#[derive(Default)]
struct PendingChunk {
    arena: Vec<u8>,
    /// Per key of the chunk: its record.
    slots: Vec<Slot>,
    filled: u32,
    /// Whether a slot is [`Slot::Long`].
    long: bool,
    /// The latest last step of the records filled.
    max_last: u64,
}

/// A sealed chunk in the spill file.
#[derive(Debug, Clone, Copy)]
struct Spilled {
    offset: u64,
    len: u64,
    /// The latest last step of its records.
    max_last: u64,
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
    spilled: BTreeMap<u64, Spilled>,
    /// `(step, first key entered at it)` for the steps of the last [`RECENT_STEPS`] that
    /// entered a call, in order.
    recent: VecDeque<(u64, u64)>,
    compressor: zstd::bulk::Compressor<'static>,
    scratch: Vec<u8>,
}

fn damaged() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "a journal chunk is damaged")
}

/// Appends the framed record `body` to `raw` as a container showing `steps` steps and the
/// calls below key `cut` holds it: unchanged when the call ended before step `steps`, else
/// ending at the last step with no return value and its children below `cut`.
fn clip(
    body: &[u8],
    steps: u64,
    cut: u64,
    raw: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) -> io::Result<()> {
    let mut c = Cursor::new(body);
    let head = (c.varint(), c.signed(), c.varint(), c.varint());
    let (Some(_), Some(_), Some(_), Some(last)) = head else {
        return Err(damaged());
    };
    if last < steps {
        varint::put_bytes(raw, body);
        return Ok(());
    }
    let mut r = CallRecord::decode(body).ok_or_else(damaged)?;
    r.last_step = steps.saturating_sub(1).max(r.first_step);
    r.ret = vec![VOID_RETURN];
    r.exception.clear();
    r.children.retain(|&k| k < cut);
    scratch.clear();
    r.encode(scratch);
    varint::put_bytes(raw, scratch);
    Ok(())
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
            recent: VecDeque::new(),
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
        if self
            .recent
            .back()
            .is_none_or(|&(step, _)| step != self.step)
        {
            self.recent.push_back((self.step, key));
            while self
                .recent
                .front()
                .is_some_and(|&(step, _)| step + RECENT_STEPS < self.step)
            {
                self.recent.pop_front();
            }
        }
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
                slots: std::iter::repeat_with(Slot::default)
                    .take(CALLS_CHUNK as usize)
                    .collect(),
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
        call.put_fields(s, last_step);
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
        let long = call.children.count > LONG_CHILDREN;
        if !long {
            call.children.write_to(s);
        }
        let chunk = key / u64::from(CALLS_CHUNK);
        let full = match self.pending.get_mut(&chunk) {
            Some(p) => {
                let slot = if long {
                    let children_len = call.children.encoded_len();
                    let len = self.scratch.len() + children_len;
                    let mut head = Vec::with_capacity(varint::len(len as u64) + len);
                    varint::put(&mut head, len as u64);
                    head.extend_from_slice(&self.scratch);
                    p.long = true;
                    Slot::Long(Box::new(LongRecord {
                        head,
                        children: call.children,
                        children_len,
                    }))
                } else {
                    let start = p.arena.len();
                    varint::put_bytes(&mut p.arena, &self.scratch);
                    Slot::Encoded(start, p.arena.len() - start)
                };
                p.slots[(key % u64::from(CALLS_CHUNK)) as usize] = slot;
                p.filled += 1;
                p.max_last = p.max_last.max(last_step);
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
        if self.spill.is_none() {
            // Created exclusively (`0600`) and unnamed at once where the system allows it.
            self.spill = Some(tempfile::tempfile_in(&self.spill_dir)?);
        }
        let Some(file) = &self.spill else {
            return Ok(());
        };
        let written = if p.long {
            Self::stream_chunk(file, self.spill_len, &p, &mut self.scratch)?
        } else {
            self.scratch.clear();
            for slot in &p.slots {
                if let Slot::Encoded(start, len) = slot {
                    self.scratch
                        .extend_from_slice(&p.arena[*start..start + len]);
                }
            }
            let compressed = self.compressor.compress(&self.scratch)?;
            write_at(file, &compressed, self.spill_len)?;
            compressed.len() as u64
        };
        self.spilled.insert(
            chunk,
            Spilled {
                offset: self.spill_len,
                len: written,
                max_last: p.max_last,
            },
        );
        self.spill_len += written;
        Ok(())
    }

    /// Compresses a chunk holding a [`Slot::Long`] record into `file` at `at` as one zstd
    /// frame, in pieces; returns the compressed bytes. The frame header carries the
    /// chunk's raw size, as every other chunk's does: the debugger's Nim reader sizes its
    /// buffer by it and refuses a frame without it.
    fn stream_chunk(file: &File, at: u64, p: &PendingChunk, buf: &mut Vec<u8>) -> io::Result<u64> {
        let raw: usize = p
            .slots
            .iter()
            .map(|slot| match slot {
                Slot::Open => 0,
                Slot::Encoded(_, len) => *len,
                Slot::Long(r) => r.head.len() + r.children_len,
            })
            .sum();
        let mut z = zstd::stream::Encoder::new(SpillWriter { file, at }, LEVEL)?;
        z.set_pledged_src_size(Some(raw as u64))?;
        for slot in &p.slots {
            match slot {
                Slot::Open => {}
                Slot::Encoded(start, len) => z.write_all(&p.arena[*start..start + len])?,
                Slot::Long(r) => {
                    z.write_all(&r.head)?;
                    r.children
                        .write_in_pieces(buf, |piece| z.write_all(piece))?;
                }
            }
        }
        let w = z.finish()?;
        Ok(w.at - at)
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
        self.close_all(steps)?;
        self.copy_into(c, dat, idx)
    }

    /// The key of the first call entered at step `steps` or later ([`calls`](Self::calls)
    /// when none): a container whose `steps.dat` holds `steps` records shows the calls below
    /// it.
    pub fn cut_key(&self, steps: u64) -> u64 {
        let i = self.recent.partition_point(|&(step, _)| step < steps);
        self.recent.get(i).map_or(self.next_key, |&(_, key)| key)
    }

    /// Compressed bytes of the chunks sealed so far.
    pub fn sealed_bytes(&self) -> u64 {
        self.spill_len
    }

    /// Whether chunk `chunk` is sealed with every call in it ended before step `steps`: its
    /// bytes are final for a container that shows `steps` steps.
    pub fn is_final(&self, chunk: u64, steps: u64) -> bool {
        self.spilled.get(&chunk).is_some_and(|s| s.max_last < steps)
    }

    /// The sealed chunk `chunk` as it is stored (one zstd frame).
    pub fn sealed_frame(&self, chunk: u64) -> io::Result<Vec<u8>> {
        let s = self.sealed(chunk)?;
        let mut frame = Vec::with_capacity(usize::try_from(s.len).map_err(io::Error::other)?);
        self.read_spilled(s, &mut |piece| {
            frame.extend_from_slice(piece);
            Ok(())
        })?;
        Ok(frame)
    }

    /// Writes the sealed chunk `chunk` as it is stored (one zstd frame) to `out`, in pieces
    /// (the chunk of a call that made millions of calls is megabytes).
    pub fn write_sealed(&self, chunk: u64, out: &mut dyn Write) -> io::Result<()> {
        self.read_spilled(self.sealed(chunk)?, &mut |piece| out.write_all(piece))
    }

    /// Where the sealed chunk `chunk` is in the spill file.
    fn sealed(&self, chunk: u64) -> io::Result<&Spilled> {
        self.spilled
            .get(&chunk)
            .ok_or_else(|| io::Error::other("the calls chunk is not sealed"))
    }

    /// Hands the stored bytes of the sealed chunk at `s` to `sink`, read from the spill file
    /// [`PIECE`] bytes at a time.
    fn read_spilled(
        &self,
        s: &Spilled,
        sink: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        let Some(f) = &self.spill else {
            return Err(io::Error::other("the calls spill file is missing"));
        };
        let mut buf = vec![0u8; PIECE.min(usize::try_from(s.len).map_err(io::Error::other)?)];
        let mut done = 0u64;
        while done < s.len {
            let n = (s.len - done).min(buf.len() as u64) as usize;
            read_at(f, &mut buf[..n], s.offset + done)?;
            sink(&buf[..n])?;
            done += n as u64;
        }
        Ok(())
    }

    /// Chunk `chunk` (one zstd frame) as a container showing `steps` steps and the calls
    /// below key `cut` holds it while recording: the calls below `cut`, each that has not
    /// ended before step `steps` ending at its last step with no return value and only
    /// its children below `cut` (what [`finish`](Self::finish) would write for the
    /// calls open if the recording stopped there).
    /// The frame is written to `out` as it is compressed.
    pub fn write_provisional(
        &mut self,
        chunk: u64,
        steps: u64,
        cut: u64,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let first = chunk * u64::from(CALLS_CHUNK);
        let end = (first + u64::from(CALLS_CHUNK)).min(cut);
        let mut raw = Vec::new();
        let mut record = Vec::new();
        // Open calls' children are not copied into `raw`: each run is (where in `raw` they
        // go, the call, how many), streamed into the compressor in pieces below (a call open
        // for the whole run has a child per call it made).
        let mut runs: Vec<(usize, u64, u64)> = Vec::new();
        let mut run_bytes = 0usize;
        if let Some(p) = self.pending.get(&chunk) {
            for key in first..end {
                match p.slots.get((key - first) as usize) {
                    Some(Slot::Encoded(start, len)) => {
                        let mut c = Cursor::new(&p.arena[*start..start + len]);
                        let body = c.bytes().ok_or_else(damaged)?;
                        clip(body, steps, cut, &mut raw, &mut record)?;
                    }
                    Some(Slot::Long(r)) => {
                        let mut framed = r.head.clone();
                        r.children.write_to(&mut framed);
                        let mut c = Cursor::new(&framed);
                        let body = c.bytes().ok_or_else(damaged)?;
                        clip(body, steps, cut, &mut raw, &mut record)?;
                    }
                    Some(Slot::Open) | None => {
                        let Some(call) = self.open.get(&key) else {
                            continue;
                        };
                        record.clear();
                        call.put_fields(&mut record, steps.saturating_sub(1));
                        varint::put_bytes(&mut record, &[VOID_RETURN]);
                        varint::put_bytes(&mut record, &[]);
                        let kept = call.children.keys().take_while(|&k| k < cut);
                        let (count, bytes) =
                            kept.fold((0u64, 0usize), |(n, b), k| (n + 1, b + varint::len(k)));
                        let len = record.len() + varint::len(count) + bytes;
                        varint::put(&mut raw, len as u64);
                        raw.extend_from_slice(&record);
                        varint::put(&mut raw, count);
                        runs.push((raw.len(), key, count));
                        run_bytes += bytes;
                    }
                }
            }
        } else if self.spilled.contains_key(&chunk) {
            let whole = zstd::decode_all(self.sealed_frame(chunk)?.as_slice())?;
            let ranges = split_framed(&whole).ok_or_else(damaged)?;
            for r in ranges.into_iter().take((end - first) as usize) {
                clip(&whole[r], steps, cut, &mut raw, &mut record)?;
            }
        }
        if runs.is_empty() {
            return out.write_all(&self.compressor.compress(&raw)?);
        }
        // One frame whose header carries the raw size (see `stream_chunk`).
        let mut z = zstd::stream::Encoder::new(out, LEVEL)?;
        z.set_pledged_src_size(Some((raw.len() + run_bytes) as u64))?;
        let mut piece = Vec::with_capacity(PIECE + varint::MAX_LEN);
        let mut at = 0;
        for (offset, key, count) in runs {
            z.write_all(&raw[at..offset])?;
            at = offset;
            let Some(call) = self.open.get(&key) else {
                return Err(damaged());
            };
            piece.clear();
            for k in call.children.keys().take(count as usize) {
                varint::put(&mut piece, k);
                if piece.len() >= PIECE {
                    z.write_all(&piece)?;
                    piece.clear();
                }
            }
            z.write_all(&piece)?;
        }
        z.write_all(&raw[at..])?;
        z.finish().map(|_| ())
    }

    /// Closes the calls still open (they end at the last of `steps`, with no return value)
    /// and seals the last chunks.
    pub fn close_all(&mut self, steps: u64) -> io::Result<()> {
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
        Ok(())
    }

    /// Writes every sealed chunk, in order, into `calls.dat` (`dat`) and `calls.idx` (`idx`)
    /// of `c`, after [`close_all`](Self::close_all).
    fn copy_into(self, c: &mut Container, dat: FileId, idx: FileId) -> io::Result<()> {
        c.append(idx, &idx_header(CALLS_CHUNK))?;
        for s in self.spilled.values() {
            c.append(idx, &c.size(dat).to_le_bytes())?;
            self.read_spilled(s, &mut |piece| c.append(dat, piece))?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ctfs::CALLS;
    use codetracer_trace_types::VariableId;

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

    /// `calls.dat` of a builder fed `journal`, decoded.
    pub(crate) fn built(journal: &[u8], steps: u64) -> Vec<crate::ctfs::records::CallRecord> {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("t.ct");
        let mut c = Container::create(&path, 0o600).unwrap();
        let (dat, idx) = (
            c.add_file(CALLS.0, false).unwrap(),
            c.add_file(CALLS.1, false).unwrap(),
        );
        let mut b = CallsBuilder::new(&path).unwrap();
        // fed in two journal chunks, split mid-way like a tick would
        let half = journal.len() / 2;
        let mut at = 0;
        let mut cursor = Cursor::new(journal);
        while at < half {
            next_entry(&mut cursor).unwrap();
            at = journal.len() - cursor.rest().len();
        }
        b.feed(&journal[..at]).unwrap();
        b.feed(&journal[at..]).unwrap();
        b.finish(&mut c, dat, idx, steps).unwrap();
        c.publish().unwrap();
        // read back checking every chunk as the debugger's readers need it
        crate::ctfs::calls_layout::tests::published(&path)
    }

    #[test]
    fn calls_with_many_children_are_streamed_whole() {
        use crate::ctfs::journal::{put_call, put_return};
        let arg: &[u8] = &[0xa1, 0x61, 0x6b, 0x01];
        let n = LONG_CHILDREN as usize * 3 + 5;
        let mut j = Vec::new();
        // key 0: open to the end (closed by finish); key 1: returns after n children
        put_call(&mut j, 0, None, 0, 0, &[]);
        put_call(&mut j, 0, None, 1, 1, &[(VariableId(2), arg)]);
        for i in 0..n {
            put_call(&mut j, 1, None, 2, 1, &[(VariableId(3), arg)]);
            put_return(&mut j, 0, None, i % 7 == 0, 1, &[0xf6]);
            if i % 1000 == 0 {
                // a short sibling of key 1 in the same chunk as key 0
                put_call(&mut j, 0, None, 3, 0, &[]);
                put_return(&mut j, 0, None, false, 0, &[0xf5]);
            }
        }
        put_return(&mut j, 0, None, false, 1, &[0xf4]);
        for _ in 0..n {
            put_call(&mut j, 0, None, 2, 1, &[]);
            put_return(&mut j, 0, None, false, 0, &[0xf6]);
        }
        let steps = 3 * n as u64 + 10;
        let calls = built(&j, steps);
        let mut children_of = vec![Vec::new(); calls.len()];
        for (k, c) in calls.iter().enumerate().skip(1) {
            children_of[c.parent as usize].push(k as u64);
        }
        for (k, c) in calls.iter().enumerate() {
            assert_eq!(c.children, children_of[k], "call {k}");
        }
        assert!(calls[0].children.len() as u64 > LONG_CHILDREN);
        assert!(calls[1].children.len() as u64 > LONG_CHILDREN);
        assert_eq!(
            (calls[0].ret.as_slice(), calls[0].last_step),
            (&[VOID_RETURN][..], steps - 1)
        );
        assert_eq!(calls[1].ret, [0xf4]);
        assert_eq!(calls[1].args, [(2, arg.to_vec())]);
        assert_eq!(
            (calls[1].function_id, calls[1].parent, calls[1].depth),
            (1, 0, 1)
        );
        let unwound = calls.iter().filter(|c| !c.exception.is_empty()).count();
        assert_eq!(unwound, n.div_ceil(7));
    }

    #[test]
    fn no_children_is_a_zero_count() {
        let mut written = Vec::new();
        ChildKeys::default().write_to(&mut written);
        assert_eq!(written, [0]);
    }
}
