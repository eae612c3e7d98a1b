//! [`CallsLayout`]: `calls.dat` and `calls.idx` published at every writer tick, so that a
//! killed process leaves a call tree the debugger opens.
//!
//! What the debugger's readers require (ctfscheck's `calls.dat` checks, the Rust
//! `CallStreamReader` and the Nim `ChunkedRecords`): chunk `i` is the bytes of `calls.dat`
//! from `calls.idx` offset `i` to offset `i + 1` (or the end), offsets strictly increasing
//! from 0, so chunks lie in key order; every chunk but the last holds exactly
//! [`CALLS_CHUNK`] records; a chunk starts with one zstd frame whose header carries its
//! content size (the Nim reader sizes its buffer by it), and may be followed by skippable
//! frames (both readers' zstd calls skip them); every call's steps lie below the step count
//! and its children are listed, exactly once, in its parent's record.
//!
//! The outermost call stays open until the end and its chunk comes first, so the chunks
//! after it cannot sit at fixed offsets behind it. The container maps each internal file
//! through block numbers ([`Container::remap`]), so `calls.dat` is assembled from
//! **segments** that each start on a block: a *run* of consecutive final chunks (written
//! once, the bytes of its last partial block kept until the run is closed) and a
//! *provisional* chunk (one holding a call not ended at the cut, re-encoded at every tick
//! into fresh blocks by [`CallsBuilder::provisional_frame`]). A segment followed by another
//! is padded to its last block with a skippable frame. At each tick the layout is written
//! into the one of two `calls.dat`/`calls.idx` pairs the directory does not list, which is
//! then listed instead of the other: the published pair is never written, and blocks it
//! stops using are reused only after the next publish.
//!
//! The cut: the debugger sees the steps of the sealed steps chunks only, so the calls shown
//! are those entered before the last sealed step ([`CallsBuilder::cut_key`]), each call not
//! ended by then ending at that step.
//!
//! Cost per tick: the chunks that are provisional (at most one per open call, plus the
//! chunks holding calls that ended after the cut), the chunks sealed since the last tick
//! (copied once from the builder's spill file), and the mapping and index of the whole file
//! (8 bytes per 4096-byte block and per chunk). A provisional chunk's open call is
//! re-encoded whole, children included; beyond [`CHEAP_PROVISIONAL`] bytes of provisional
//! chunks the update waits until as many bytes of chunks were sealed (see
//! [`CallsLayout::update`]), so that re-encoding never costs more than the calls written.
//!
//! At the end ([`CallsLayout::finish`]) every segment gets its final chunks; a recording that
//! never published calls keeps the plain contiguous `calls.dat` of
//! [`CallsBuilder::finish`].

use std::io::{self, Write};

use super::calls::CallsBuilder;
use super::container::{BlockWriter, Container, FileId, BLOCK_SIZE};
use super::records::idx_header;
use super::{CALLS, CALLS_CHUNK};

/// The magic of the skippable frame that pads a segment (`0x184D2A50`, little endian).
const SKIPPABLE_MAGIC: [u8; 4] = [0x50, 0x2A, 0x4D, 0x18];
/// The bytes of a skippable frame's header (magic, then the content's length).
const SKIPPABLE_HEADER: usize = 8;
/// Provisional bytes re-encoded at every tick whatever the progress (see
/// [`CallsLayout::update`]).
pub const CHEAP_PROVISIONAL: u64 = 256 * 1024;

/// One piece of `calls.dat`, starting on a block.
#[derive(Debug, Default)]
struct Segment {
    /// The first chunk in it.
    first: u64,
    /// Each chunk's start, from the segment's.
    offsets: Vec<u64>,
    /// Its whole blocks of chunk bytes (a provisional segment: all its blocks, padding
    /// included).
    blocks: Vec<u64>,
    /// A run's bytes after its whole blocks.
    tail: Vec<u8>,
    /// Where `tail` is written now (one block, two when padded past a block's end).
    tail_blocks: Vec<u64>,
    /// Whether `tail_blocks` hold the tail padded.
    tail_padded: bool,
    /// Whether `tail` changed since it was written.
    tail_dirty: bool,
    /// Bytes of chunk data (no padding).
    len: u64,
    /// A provisional chunk (re-encoded at every tick until final).
    provisional: bool,
    /// A run that another segment follows (no more chunks).
    closed: bool,
}

/// The bytes that pad `len` bytes to a whole block: none, or one skippable frame.
fn padding(len: u64) -> Vec<u8> {
    let mut gap = (BLOCK_SIZE - len % BLOCK_SIZE) % BLOCK_SIZE;
    if gap == 0 {
        return Vec::new();
    }
    if gap < SKIPPABLE_HEADER as u64 {
        gap += BLOCK_SIZE;
    }
    let mut out = Vec::with_capacity(gap as usize);
    out.extend_from_slice(&SKIPPABLE_MAGIC);
    out.extend_from_slice(&((gap as u32) - SKIPPABLE_HEADER as u32).to_le_bytes());
    out.resize(gap as usize, 0);
    out
}

/// `calls.dat` while recording: its segments and the two published pairs.
#[derive(Debug)]
pub struct CallsLayout {
    dats: [FileId; 2],
    idxs: [FileId; 2],
    /// The pair listed now.
    listed: Option<usize>,
    segments: Vec<Segment>,
    /// Chunks that have a segment (chunks `0..placed`).
    placed: u64,
    /// Blocks no published file maps.
    free: Vec<u64>,
    /// Blocks the listed pair maps and the next one will not: free after the next publish.
    released: Vec<u64>,
    /// Bytes of the provisional chunks at the last update.
    provisional_bytes: u64,
    /// [`CallsBuilder::sealed_bytes`] at the last update.
    sealed_at_update: u64,
    /// [`CHEAP_PROVISIONAL`] (a test sets less).
    cheap: u64,
}

impl CallsLayout {
    /// Adds the two pairs of files to `c`, neither listed.
    pub fn new(c: &mut Container) -> io::Result<Self> {
        let mut dats = [c.add_remapped_file(CALLS.0)?, c.add_remapped_file(CALLS.0)?];
        let mut idxs = [c.add_file(CALLS.1, true)?, c.add_file(CALLS.1, true)?];
        for id in dats.iter_mut().chain(idxs.iter_mut()) {
            c.unlist(*id);
        }
        Ok(Self {
            dats,
            idxs,
            listed: None,
            segments: Vec::new(),
            placed: 0,
            free: Vec::new(),
            released: Vec::new(),
            provisional_bytes: 0,
            sealed_at_update: 0,
            cheap: CHEAP_PROVISIONAL,
        })
    }

    /// Whether calls were published (the end then completes this layout).
    pub fn published(&self) -> bool {
        self.listed.is_some()
    }

    /// Writes `calls.dat`/`calls.idx` of a container whose `steps.dat` holds `steps`
    /// records into the pair not listed and lists it (visible from the next
    /// [`Container::publish`], after which call [`Self::after_publish`]).
    ///
    /// An open call's record lists all its children, so the provisional chunks grow with
    /// the calls their open calls made (the script's outermost call: every call it made).
    /// Beyond [`CHEAP_PROVISIONAL`] bytes they are encoded again only once at least as many
    /// bytes of chunks were sealed since the last update: the re-encoding costs at most as
    /// much as the calls written anyway, and the published call tree lags meanwhile (the
    /// pair listed stays consistent: its calls end before its own cut). Returns whether
    /// it wrote.
    pub fn update(
        &mut self,
        c: &mut Container,
        calls: &mut CallsBuilder,
        steps: u64,
    ) -> io::Result<bool> {
        let progress = calls.sealed_bytes() - self.sealed_at_update;
        if self.listed.is_some()
            && self.provisional_bytes > self.cheap
            && progress < self.provisional_bytes
        {
            return Ok(false);
        }
        self.sealed_at_update = calls.sealed_bytes();
        self.provisional_bytes = 0;
        let cut = calls.cut_key(steps);
        let chunks = cut.div_ceil(u64::from(CALLS_CHUNK));
        if chunks == 0 && self.listed.is_none() {
            return Ok(false);
        }
        // Provisional chunks: final now, or encoded again.
        for i in 0..self.segments.len() {
            if !self.segments[i].provisional {
                continue;
            }
            // Final, it stays a segment of its own (its size was not known before).
            let chunk = self.segments[i].first;
            if calls.is_final(chunk, steps) {
                self.rewrite_single(c, i, false, |out| calls.write_sealed(chunk, out))?;
            } else {
                self.rewrite_single(c, i, true, |out| {
                    calls.write_provisional(chunk, steps, cut, out)
                })?;
            }
        }
        for chunk in self.placed..chunks {
            if calls.is_final(chunk, steps) {
                let frame = calls.sealed_frame(chunk)?;
                self.append_final(c, chunk, &frame)?;
            } else {
                if let Some(run) = self.segments.last_mut() {
                    run.closed = true;
                }
                self.segments.push(Segment {
                    first: chunk,
                    offsets: vec![0],
                    provisional: true,
                    ..Segment::default()
                });
                let i = self.segments.len() - 1;
                self.rewrite_single(c, i, true, |out| {
                    calls.write_provisional(chunk, steps, cut, out)
                })?;
            }
        }
        self.placed = self.placed.max(chunks);
        self.write_pair(c)?;
        Ok(true)
    }

    /// Completes the layout at the end, after [`CallsBuilder::close_all`]: every chunk is
    /// final.
    pub fn finish(&mut self, c: &mut Container, calls: &CallsBuilder) -> io::Result<()> {
        // Every call ended by `steps`: the cut is every call, every chunk sealed.
        let chunks = calls.calls().div_ceil(u64::from(CALLS_CHUNK));
        for i in 0..self.segments.len() {
            if self.segments[i].provisional {
                let chunk = self.segments[i].first;
                self.rewrite_single(c, i, false, |out| calls.write_sealed(chunk, out))?;
            }
        }
        for chunk in self.placed..chunks {
            let frame = calls.sealed_frame(chunk)?;
            self.append_final(c, chunk, &frame)?;
        }
        self.placed = self.placed.max(chunks);
        self.write_pair(c)
    }

    /// Frees the blocks the pair listed before the last publish alone mapped.
    pub fn after_publish(&mut self) {
        self.free.append(&mut self.released);
    }

    /// Gives the single-chunk segment `i` the frame `fill` writes (then padding), streamed
    /// into fresh blocks.
    fn rewrite_single(
        &mut self,
        c: &mut Container,
        i: usize,
        provisional: bool,
        fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut out = BlockWriter::new(c, &mut self.free);
        fill(&mut out)?;
        let len = out.len();
        out.write_all(&padding(len))?;
        let blocks = out.finish()?;
        if provisional {
            self.provisional_bytes += len;
        }
        let seg = &mut self.segments[i];
        self.released.append(&mut seg.blocks);
        seg.blocks = blocks;
        seg.len = len;
        seg.provisional = provisional;
        seg.closed = true;
        Ok(())
    }

    /// Appends the final chunk `chunk` to the last run, or starts a run with it.
    fn append_final(&mut self, c: &mut Container, chunk: u64, frame: &[u8]) -> io::Result<()> {
        let open = self
            .segments
            .last()
            .is_some_and(|s| !s.provisional && !s.closed);
        if !open {
            self.segments.push(Segment {
                first: chunk,
                ..Segment::default()
            });
        }
        let Some(seg) = self.segments.last_mut() else {
            return Ok(());
        };
        seg.offsets.push(seg.len);
        seg.len += frame.len() as u64;
        seg.tail.extend_from_slice(frame);
        seg.tail_dirty = true;
        let whole = seg.tail.len() / BLOCK_SIZE as usize * BLOCK_SIZE as usize;
        if whole > 0 {
            let blocks = c.write_blocks(&seg.tail[..whole], &mut self.free)?;
            seg.blocks.extend(blocks);
            seg.tail.drain(..whole);
            // Kept for the run's life: no more than its bytes.
            seg.tail.shrink_to(BLOCK_SIZE as usize);
        }
        Ok(())
    }

    /// Writes every run's tail where it changed, then the mapping and the index into the
    /// pair not listed, and lists it.
    fn write_pair(&mut self, c: &mut Container) -> io::Result<()> {
        let count = self.segments.len();
        let mut blocks = Vec::new();
        let mut idx = idx_header(CALLS_CHUNK).to_vec();
        let mut at = 0u64;
        for (i, seg) in self.segments.iter_mut().enumerate() {
            for off in &seg.offsets {
                idx.extend_from_slice(&(at + off).to_le_bytes());
            }
            blocks.extend_from_slice(&seg.blocks);
            at += seg.blocks.len() as u64 * BLOCK_SIZE;
            if seg.tail.is_empty() && seg.tail_blocks.is_empty() {
                continue;
            }
            // A run's tail: padded unless it ends the file.
            let last = i + 1 == count;
            if seg.tail_dirty || seg.tail_blocks.is_empty() || seg.tail_padded == last {
                let mut bytes = seg.tail.clone();
                if !last {
                    bytes.extend_from_slice(&padding(bytes.len() as u64));
                }
                let written = c.write_blocks(&bytes, &mut self.free)?;
                self.released.append(&mut seg.tail_blocks);
                seg.tail_blocks = written;
                seg.tail_padded = !last;
                seg.tail_dirty = false;
            }
            blocks.extend_from_slice(&seg.tail_blocks);
            at += if last {
                seg.tail.len() as u64
            } else {
                seg.tail_blocks.len() as u64 * BLOCK_SIZE
            };
            if seg.closed {
                // Written padded for good (a closed run is never last): its bytes go.
                seg.tail = Vec::new();
            }
        }
        let next = self.listed.map_or(0, |l| 1 - l);
        c.remap(self.dats[next], &blocks, at)?;
        c.rewrite(self.idxs[next], &idx)?;
        c.relist(self.dats[next]);
        c.relist(self.idxs[next]);
        if let Some(l) = self.listed {
            c.unlist(self.dats[l]);
            c.unlist(self.idxs[l]);
        }
        self.listed = Some(next);
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ctfs::calls::LONG_CHILDREN;
    use crate::ctfs::chunks::ChunkedFile;
    use crate::ctfs::container_read::ContainerReader;
    use crate::ctfs::journal::{put_call, put_return};
    use crate::ctfs::records::{split_framed, CallRecord, VOID_RETURN};
    use std::path::Path;

    /// What a shown call must say: parent, depth, first and last step, children, and
    /// whether it ended (with its return value) before the cut.
    type Shown = (i64, u64, u64, u64, Vec<u64>, bool);

    /// A call as the program made it.
    #[derive(Clone)]
    struct Made {
        parent: i64,
        depth: u64,
        first: u64,
        last: Option<u64>,
        children: Vec<u64>,
    }

    /// A program's journal and the calls it made.
    #[derive(Default)]
    struct Program {
        journal: Vec<u8>,
        step: u64,
        stack: Vec<u64>,
        calls: Vec<Made>,
        seed: u64,
    }

    impl Program {
        fn rand(&mut self, n: u64) -> u64 {
            self.seed = self
                .seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.seed >> 33) % n
        }
        fn call(&mut self) {
            let delta = self.rand(3);
            self.step += delta;
            let function = 1 + self.rand(3);
            put_call(&mut self.journal, 0, None, function, delta, &[]);
            let key = self.calls.len() as u64;
            let parent = self.stack.last().map_or(-1, |&p| p as i64);
            if let Some(&p) = self.stack.last() {
                self.calls[p as usize].children.push(key);
            }
            self.calls.push(Made {
                parent,
                depth: self.stack.len() as u64,
                first: self.step,
                last: None,
                children: Vec::new(),
            });
            self.stack.push(key);
        }
        fn ret(&mut self) {
            let delta = self.rand(3);
            self.step += delta;
            put_return(&mut self.journal, 0, None, false, delta, &[0xf6]);
            let key = self.stack.pop().unwrap();
            self.calls[key as usize].last = Some(self.step);
        }
        /// What a container showing `steps` steps must hold: the calls entered before
        /// step `steps`, each not ended before it ending at its last step.
        fn expected(&self, steps: u64) -> Vec<Shown> {
            let shown: Vec<&Made> = self.calls.iter().take_while(|m| m.first < steps).collect();
            let cut = shown.len() as u64;
            shown
                .iter()
                .map(|m| {
                    let ended = m.last.filter(|&l| l < steps);
                    let children = m.children.iter().copied().filter(|&k| k < cut).collect();
                    let last = ended.unwrap_or(steps - 1).max(m.first);
                    (m.parent, m.depth, m.first, last, children, ended.is_some())
                })
                .collect()
        }
    }

    /// `calls.dat` of the container at `path` as published, decoded, checking what the
    /// debugger's readers require of its chunks.
    pub(crate) fn published(path: &Path) -> Vec<CallRecord> {
        let reader = ContainerReader::open(path).unwrap();
        let file = ChunkedFile::open(&reader, CALLS).unwrap().unwrap();
        assert_eq!(file.chunk_size(), CALLS_CHUNK);
        let mut out = Vec::new();
        for i in 0..file.chunks() {
            let frame = file.compressed(&reader, i).unwrap();
            let raw = file.read(&reader, i).unwrap();
            // one frame with its content size first (what the Nim reader inflates), then
            // at most padding
            let size = zstd::zstd_safe::get_frame_content_size(&frame).unwrap();
            assert_eq!(size, Some(raw.len() as u64), "chunk {i}");
            let records = split_framed(&raw).unwrap();
            if i + 1 < file.chunks() {
                assert_eq!(records.len(), CALLS_CHUNK as usize, "chunk {i}");
            }
            for r in records {
                out.push(CallRecord::decode(&raw[r]).unwrap());
            }
        }
        out
    }

    fn check(records: &[CallRecord], expected: &[Shown], at: u64) {
        assert_eq!(records.len(), expected.len(), "calls at step {at}");
        for (k, (r, e)) in records.iter().zip(expected).enumerate() {
            let got = (
                r.parent,
                r.depth,
                r.first_step,
                r.last_step,
                r.children.clone(),
            );
            let want = (e.0, e.1, e.2, e.3, e.4.clone());
            assert_eq!(got, want, "call {k} at step {at}");
            if !e.5 {
                assert_eq!(r.ret, [VOID_RETURN], "call {k} at step {at}");
            }
        }
    }

    #[test]
    fn a_container_published_mid_recording_shows_the_calls_up_to_the_cut() {
        published_mid_recording(CHEAP_PROVISIONAL);
    }

    #[test]
    fn costly_provisional_chunks_wait_for_progress_and_the_published_tree_stays_whole() {
        published_mid_recording(1);
    }

    fn published_mid_recording(cheap: u64) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("t.ct");
        let mut c = Container::create(&path, 0o600).unwrap();
        let mut layout = CallsLayout::new(&mut c).unwrap();
        layout.cheap = cheap;
        let mut shown = 0;
        let mut skipped = 0;
        let mut builder = CallsBuilder::new(&path).unwrap();
        let mut p = Program {
            seed: 7,
            ..Program::default()
        };
        p.call(); // main: open to the end
        let mut fed = 0;
        let mut ticks = 0;
        for round in 0..60 {
            for _ in 0..1500 {
                let depth = p.stack.len();
                if depth < 9 && (depth <= 1 || p.rand(100) < 52) {
                    p.call();
                } else if depth > 1 {
                    p.ret();
                }
            }
            if round % 20 == 5 {
                // a call with many children, open over a tick, then ended
                p.call();
                for _ in 0..LONG_CHILDREN + 300 {
                    p.call();
                    p.ret();
                }
            }
            if round % 20 == 9 {
                while p.stack.len() > 1 {
                    p.ret();
                }
            }
            builder.feed(&p.journal[fed..]).unwrap();
            fed = p.journal.len();
            // the sealed steps trail the journal
            let steps = p.step.saturating_sub(p.rand(500)).max(1);
            if layout.update(&mut c, &mut builder, steps).unwrap() {
                shown = steps;
            } else {
                skipped += 1;
            }
            c.publish().unwrap();
            layout.after_publish();
            check(&published(&path), &p.expected(shown), shown);
            ticks += 1;
        }
        assert!(ticks > 0 && p.calls.len() > 40_000, "{}", p.calls.len());
        assert_eq!(skipped > 0, cheap < CHEAP_PROVISIONAL, "{skipped} skipped");
        // the end: every call, the open ones ending at the last step
        let steps = p.step + 1;
        builder.close_all(steps).unwrap();
        layout.finish(&mut c, &builder).unwrap();
        c.publish().unwrap();
        let all = published(&path);
        check(&all, &p.expected(steps), steps);
        // the same records as a recording that never published calls
        let plain = crate::ctfs::calls::tests::built(&p.journal, steps);
        let shape = |records: &[CallRecord]| -> Vec<_> {
            let fields = |r: &CallRecord| {
                let steps = (r.first_step, r.last_step);
                (r.parent, steps, r.ret.clone(), r.children.clone())
            };
            records.iter().map(fields).collect()
        };
        assert_eq!(shape(&all), shape(&plain));
        // the padding is bounded, and so is what the container holds besides calls.dat
        // (mapping blocks, the two indexes, blocks left free)
        let s1 = ContainerReader::open(&path).unwrap().size(CALLS.0).unwrap();
        let plain_len = builder.sealed_bytes(); // what a plain calls.dat takes
        eprintln!("calls.dat {s1} (plain {plain_len}), container {}", c.len());
        let segments = layout.segments.len() as u64;
        assert!(
            s1 <= plain_len + segments * (BLOCK_SIZE + 8),
            "{s1} vs {plain_len}"
        );
        assert!(
            c.len() <= s1 + s1 / 4 + 64 * BLOCK_SIZE,
            "{} vs {s1}",
            c.len()
        );
    }
}
