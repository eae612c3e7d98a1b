//! [`Container`]: the writing side of a CTFS container file — version 4, 4096-byte blocks,
//! a directory of 24-byte entries in block 0, and each internal file's data blocks reached
//! through chained mapping blocks. [`BlockWriter`] streams bytes into fresh blocks.
//!
//! Layout (what the CodeTracer db-backend reader and `codetracer_ctfs` resolve):
//!
//! - block 0: `C0 DE 72 AC E2`, version `04`, encryption `00`, max shards `01`, block size
//!   (u32 LE), directory capacity (u32 LE, 31), then one entry per internal file:
//!   `size u64, root mapping block u64, base-40 name u64` (all LE); unused entries are zero.
//! - a mapping block holds 512 block numbers (u64 LE). In the root (level 1) block, slots
//!   0..511 point at data blocks 0..510 and slot 511 at the level-2 block; a level-k block
//!   points with slots 0..511 at level-(k-1) sub-blocks (sub-blocks use all 511 slots for
//!   children) and with slot 511 at the level-(k+1) block.
//!
//! **Crash safety.** Bytes the directory already publishes are never written again: data is
//! only appended past a file's published size, mapping slots only past its published blocks,
//! and the file always ends on a whole block (readers refuse blocks past the last whole one).
//! New bytes become visible only when [`Container::publish`] rewrites the directory, one
//! write inside block 0, after every data and mapping write it covers. A process killed at
//! any moment therefore leaves the container of its last publish. Files written with
//! [`Container::rewrite`] (small files rewritten whole) are the exception the caller
//! manages: it alternates between two of them and publishes the one not being written.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::base40;
use super::pio::write_at;
use crate::create::create_replacing;

/// Bytes per block.
pub const BLOCK_SIZE: u64 = 4096;
/// Directory entries in block 0 (the upstream writers' default).
pub const MAX_ENTRIES: usize = 31;
/// The container magic (`C0 DE 72 AC E2`).
pub const MAGIC: [u8; 5] = [0xC0, 0xDE, 0x72, 0xAC, 0xE2];
/// The container version written.
pub const VERSION: u8 = 4;
/// Bytes of the header before the directory (magic, version, two tag bytes, block size,
/// directory capacity).
pub const HEADER_BYTES: usize = 16;
/// Bytes of one directory entry.
pub const ENTRY_BYTES: usize = 24;
/// Block numbers per mapping block.
pub const POINTERS: u64 = BLOCK_SIZE / 8;
/// Data (or child) pointers per mapping block; the last slot chains to the next level.
pub const FANOUT: u64 = POINTERS - 1;
/// Mapping levels a file may use (5 levels of 511-way blocks: far beyond any trace).
pub const MAX_LEVELS: usize = 5;

/// One internal file, by its index in [`Container`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId(usize);

/// Where the next data block's pointer goes: the chain of per-level blocks and, in the
/// current level, the sub-blocks on the way down (with the index prefix each covers).
#[derive(Debug, Default)]
struct MapCursor {
    /// `chain[k]` is the level-(k+1) block (`chain[0]` is the root).
    chain: Vec<u64>,
    /// For the current level: `(prefix, block)` per depth, top first.
    path: Vec<(u64, u64)>,
    /// The level `path` belongs to.
    level: usize,
}

#[derive(Debug)]
struct InternalFile {
    name: u64,
    /// Bytes written.
    size: u64,
    /// Data blocks written.
    blocks: u64,
    /// The last data block (valid when `blocks > 0`).
    last_block: u64,
    /// Every data block, in order — kept only for files rewritten in place.
    kept: Option<Vec<u64>>,
    map: MapCursor,
    /// The mapping blocks allocated, in order — kept only for files remapped with
    /// [`Container::remap`], which reuses them.
    map_blocks: Option<Vec<u64>>,
    /// Mapping blocks to reuse before allocating new ones (during a remap).
    map_pool: Vec<u64>,
    /// Whether the directory lists this file.
    listed: bool,
}

/// A CTFS container being written.
#[derive(Debug)]
pub struct Container {
    file: File,
    path: PathBuf,
    next_block: u64,
    files: Vec<InternalFile>,
    /// Mapping-slot writes not yet on disk: (byte offset, block number).
    slots: Vec<(u64, u64)>,
}

fn slot_offset(block: u64, slot: u64) -> u64 {
    block * BLOCK_SIZE + slot * 8
}

impl Container {
    /// Creates `path` as a new file of `mode` with an empty directory (replacing what is
    /// there without following a symlink, see [`crate::create`]).
    pub fn create(path: &Path, mode: u32) -> io::Result<Self> {
        let file = create_replacing(path, mode).map_err(io::Error::other)?;
        file.set_len(BLOCK_SIZE)?;
        let mut container = Self {
            file,
            path: path.to_path_buf(),
            next_block: 1,
            files: Vec::new(),
            slots: Vec::new(),
        };
        container.publish()?;
        Ok(container)
    }

    /// The container's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The container's size in bytes (always whole blocks).
    pub fn len(&self) -> u64 {
        self.next_block * BLOCK_SIZE
    }

    /// Whether nothing but block 0 was allocated.
    pub fn is_empty(&self) -> bool {
        self.next_block == 1
    }

    /// Adds an internal file named `name` (base 40, ≤ 12 characters), listed from the next
    /// publish on. `rewritable`: the file will be rewritten whole with [`Self::rewrite`].
    pub fn add_file(&mut self, name: &str, rewritable: bool) -> io::Result<FileId> {
        let packed = base40::encode(name).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("bad CTFS file name {name:?}"),
            )
        })?;
        if self.files.iter().filter(|f| f.listed).count() >= MAX_ENTRIES {
            return Err(io::Error::other(format!(
                "the CTFS directory is full ({MAX_ENTRIES} files)"
            )));
        }
        self.files.push(InternalFile {
            name: packed,
            size: 0,
            blocks: 0,
            last_block: 0,
            kept: rewritable.then(Vec::new),
            map: MapCursor::default(),
            map_blocks: None,
            map_pool: Vec::new(),
            listed: true,
        });
        Ok(FileId(self.files.len() - 1))
    }

    /// Adds an internal file named `name` whose data blocks are given whole by
    /// [`Self::remap`] (blocks written with [`Self::write_blocks`]), not listed until
    /// [`Self::relist`].
    pub fn add_remapped_file(&mut self, name: &str) -> io::Result<FileId> {
        let id = self.add_file(name, false)?;
        let f = self.file_mut(id)?;
        f.map_blocks = Some(Vec::new());
        f.listed = false;
        Ok(id)
    }

    /// Writes `bytes` into whole blocks — taken from `free` first, then new ones — that no
    /// file maps yet (zeros after the end); returns them in order.
    pub fn write_blocks(&mut self, bytes: &[u8], free: &mut Vec<u64>) -> io::Result<Vec<u64>> {
        let n = (bytes.len() as u64).div_ceil(BLOCK_SIZE);
        let mut blocks = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let block = match free.pop() {
                Some(b) => b,
                None => self.allocate(1)?,
            };
            blocks.push(block);
        }
        let mut last = vec![0u8; BLOCK_SIZE as usize];
        for (i, piece) in bytes.chunks(BLOCK_SIZE as usize).enumerate() {
            let at = blocks[i] * BLOCK_SIZE;
            if piece.len() == BLOCK_SIZE as usize {
                write_at(&self.file, piece, at)?;
            } else {
                last[..piece.len()].copy_from_slice(piece);
                last[piece.len()..].fill(0);
                write_at(&self.file, &last, at)?;
            }
        }
        Ok(blocks)
    }

    /// Makes the remapped file `id` (see [`Self::add_remapped_file`]) the `size` bytes held
    /// by `blocks`, in order, from the next publish on. Its mapping blocks are rewritten (and
    /// reused): the caller must not have it listed in the published directory meanwhile.
    pub fn remap(&mut self, id: FileId, blocks: &[u64], size: u64) -> io::Result<()> {
        let f = self.file_mut(id)?;
        let Some(used) = f.map_blocks.as_mut() else {
            return Err(io::Error::other("the CTFS file is not remapped"));
        };
        let mut pool = std::mem::take(used);
        pool.reverse();
        f.map_pool = pool;
        f.map = MapCursor::default();
        f.blocks = 0;
        f.last_block = 0;
        for &block in blocks {
            self.add_block(id, block)?;
        }
        let f = self.file_mut(id)?;
        f.size = size;
        // Mapping blocks not needed this time stay its own for the next remap.
        let rest = std::mem::take(&mut f.map_pool);
        if let Some(used) = f.map_blocks.as_mut() {
            used.extend(rest.into_iter().rev());
        }
        Ok(())
    }

    /// A new mapping block for `id`: one of its own from an earlier map when remapped.
    fn map_block(&mut self, id: FileId) -> io::Result<u64> {
        let f = self.file_mut(id)?;
        let block = match f.map_pool.pop() {
            Some(b) => b,
            None => self.allocate(1)?,
        };
        if let Some(used) = self.file_mut(id)?.map_blocks.as_mut() {
            used.push(block);
        }
        Ok(block)
    }

    /// Takes `id` out of the directory from the next publish on (its blocks stay unused).
    pub fn unlist(&mut self, id: FileId) {
        if let Some(f) = self.files.get_mut(id.0) {
            f.listed = false;
        }
    }

    /// Lists `id` again (after [`Self::unlist`]).
    pub fn relist(&mut self, id: FileId) {
        if let Some(f) = self.files.get_mut(id.0) {
            f.listed = true;
        }
    }

    /// Bytes written to `id`.
    pub fn size(&self, id: FileId) -> u64 {
        self.files.get(id.0).map_or(0, |f| f.size)
    }

    fn allocate(&mut self, n: u64) -> io::Result<u64> {
        let first = self.next_block;
        self.next_block += n;
        self.file.set_len(self.next_block * BLOCK_SIZE)?;
        Ok(first)
    }

    /// Appends `bytes` to the internal file `id`.
    pub fn append(&mut self, id: FileId, bytes: &[u8]) -> io::Result<()> {
        let (size, last) = {
            let f = self.file_mut(id)?;
            (f.size, f.last_block)
        };
        let mut rest = bytes;
        let used = size % BLOCK_SIZE;
        if used != 0 && !rest.is_empty() {
            let n = rest.len().min((BLOCK_SIZE - used) as usize);
            write_at(&self.file, &rest[..n], last * BLOCK_SIZE + used)?;
            rest = &rest[n..];
        }
        if !rest.is_empty() {
            let n = (rest.len() as u64).div_ceil(BLOCK_SIZE);
            let first = self.allocate(n)?;
            write_at(&self.file, rest, first * BLOCK_SIZE)?;
            for block in first..first + n {
                self.add_block(id, block)?;
            }
        }
        self.file_mut(id)?.size = size + bytes.len() as u64;
        Ok(())
    }

    /// Replaces the content of the rewritable file `id` with `bytes`, reusing its blocks.
    /// The caller must not have it listed in the published directory meanwhile.
    pub fn rewrite(&mut self, id: FileId, bytes: &[u8]) -> io::Result<()> {
        let kept = self
            .file_mut(id)?
            .kept
            .clone()
            .ok_or_else(|| io::Error::other("the CTFS file is not rewritable"))?;
        let mut rest = bytes;
        let mut reused = 0u64;
        for block in &kept {
            if rest.is_empty() {
                break;
            }
            let n = rest.len().min(BLOCK_SIZE as usize);
            write_at(&self.file, &rest[..n], block * BLOCK_SIZE)?;
            rest = &rest[n..];
            reused += 1;
        }
        let f = self.file_mut(id)?;
        if rest.is_empty() {
            f.size = bytes.len() as u64;
            return Ok(());
        }
        // Every kept block is full: continue as an append after them.
        f.size = reused * BLOCK_SIZE;
        self.append(id, rest)?;
        Ok(())
    }

    fn file_mut(&mut self, id: FileId) -> io::Result<&mut InternalFile> {
        self.files
            .get_mut(id.0)
            .ok_or_else(|| io::Error::other("unknown CTFS internal file"))
    }

    /// Records `block` as the next data block of `id` in its mapping blocks.
    fn add_block(&mut self, id: FileId, block: u64) -> io::Result<()> {
        let index = self.file_mut(id)?.blocks;
        // Which level holds data index `index`, and its index within that level.
        let mut level = 1usize;
        let mut within = index;
        let mut capacity = FANOUT;
        while within >= capacity {
            within -= capacity;
            level += 1;
            capacity = capacity.saturating_mul(FANOUT);
            if level > MAX_LEVELS {
                return Err(io::Error::other("CTFS file too large for 5 mapping levels"));
            }
        }
        // The chain of per-level blocks up to `level`.
        while self.file_mut(id)?.map.chain.len() < level {
            let new = self.map_block(id)?;
            let f = self.file_mut(id)?;
            if let Some(&below) = f.map.chain.last() {
                self.slots.push((slot_offset(below, FANOUT), new));
            }
            self.file_mut(id)?.map.chain.push(new);
        }
        let f = self.file_mut(id)?;
        if f.map.level != level {
            f.map.level = level;
            f.map.path.clear();
        }
        let mut current = f.map.chain[level - 1];
        // Down through the sub-blocks: at depth d (levels below), the prefix is within/511^d.
        for depth in (1..level).rev() {
            let prefix = within / FANOUT.pow(depth as u32);
            let slot = prefix % FANOUT;
            let at = level - 1 - depth;
            let f = self.file_mut(id)?;
            let cached = f
                .map
                .path
                .get(at)
                .filter(|(p, _)| *p == prefix)
                .map(|(_, b)| *b);
            let child = match cached {
                Some(b) => b,
                None => {
                    let new = self.map_block(id)?;
                    self.slots.push((slot_offset(current, slot), new));
                    let f = self.file_mut(id)?;
                    f.map.path.truncate(at);
                    f.map.path.push((prefix, new));
                    new
                }
            };
            current = child;
        }
        self.slots
            .push((slot_offset(current, within % FANOUT), block));
        let f = self.file_mut(id)?;
        f.blocks += 1;
        f.last_block = block;
        if let Some(kept) = f.kept.as_mut() {
            kept.push(block);
        }
        Ok(())
    }

    /// Makes everything written so far visible: the pending mapping slots, then the
    /// directory (one write in block 0).
    pub fn publish(&mut self) -> io::Result<()> {
        // By offset, the last write of a slot winning (a remapped file may set one twice).
        self.slots.sort_by_key(|&(offset, _)| offset);
        let mut slots: Vec<(u64, u64)> = Vec::with_capacity(self.slots.len());
        for &(offset, value) in &self.slots {
            match slots.last_mut() {
                Some(last) if last.0 == offset => last.1 = value,
                _ => slots.push((offset, value)),
            }
        }
        let mut run: Vec<u8> = Vec::new();
        let mut run_start = 0u64;
        for &(offset, value) in &slots {
            if !run.is_empty() && run_start + run.len() as u64 != offset {
                write_at(&self.file, &run, run_start)?;
                run.clear();
            }
            if run.is_empty() {
                run_start = offset;
            }
            run.extend_from_slice(&value.to_le_bytes());
        }
        if !run.is_empty() {
            write_at(&self.file, &run, run_start)?;
        }
        self.slots.clear();
        let mut block0 = Vec::with_capacity(HEADER_BYTES + MAX_ENTRIES * ENTRY_BYTES);
        block0.extend_from_slice(&MAGIC);
        block0.extend_from_slice(&[VERSION, 0, 1]);
        block0.extend_from_slice(&(BLOCK_SIZE as u32).to_le_bytes());
        block0.extend_from_slice(&(MAX_ENTRIES as u32).to_le_bytes());
        for f in self.files.iter().filter(|f| f.listed) {
            let root = f.map.chain.first().copied().unwrap_or(0);
            block0.extend_from_slice(&f.size.to_le_bytes());
            block0.extend_from_slice(&root.to_le_bytes());
            block0.extend_from_slice(&f.name.to_le_bytes());
        }
        block0.resize(HEADER_BYTES + MAX_ENTRIES * ENTRY_BYTES, 0);
        write_at(&self.file, &block0, 0)
    }
}

/// Bytes streamed into fresh blocks of a [`Container`] as they come
/// ([`Container::write_blocks`] a few blocks at a time), so a large internal-file piece is
/// never held whole in memory.
pub struct BlockWriter<'a> {
    c: &'a mut Container,
    free: &'a mut Vec<u64>,
    pending: Vec<u8>,
    blocks: Vec<u64>,
    len: u64,
}

/// Whole blocks [`BlockWriter`] gathers before writing them.
const WRITER_BLOCKS: usize = 16;

impl<'a> BlockWriter<'a> {
    /// Writes into blocks taken from `free` first, then new ones, of `c`.
    pub fn new(c: &'a mut Container, free: &'a mut Vec<u64>) -> Self {
        Self {
            c,
            free,
            pending: Vec::with_capacity(WRITER_BLOCKS * BLOCK_SIZE as usize),
            blocks: Vec::new(),
            len: 0,
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Writes the last (zero-filled) block; returns every block in order.
    pub fn finish(mut self) -> io::Result<Vec<u64>> {
        if !self.pending.is_empty() {
            let more = self.c.write_blocks(&self.pending, self.free)?;
            self.blocks.extend(more);
        }
        Ok(self.blocks)
    }
}

impl io::Write for BlockWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let room = self.pending.capacity() - self.pending.len();
        let n = bytes.len().min(room.max(1));
        self.pending.extend_from_slice(&bytes[..n]);
        self.len += n as u64;
        let whole = self.pending.len() / BLOCK_SIZE as usize * BLOCK_SIZE as usize;
        if self.pending.len() >= WRITER_BLOCKS * BLOCK_SIZE as usize {
            let more = self.c.write_blocks(&self.pending[..whole], self.free)?;
            self.blocks.extend(more);
            self.pending.drain(..whole);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ctfs::container_read::ContainerReader;
    use std::io::Write;

    #[test]
    fn bytes_streamed_in_odd_pieces_read_back_as_written() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("t.ct");
        let mut c = Container::create(&path, 0o600).unwrap();
        let id = c.add_remapped_file("calls.dat").unwrap();
        // 23 blocks and a bit, written in pieces of 1..=9000 bytes, from a free list first.
        let bytes: Vec<u8> = (0..94_321u32).map(|i| (i * 7 + i / 251) as u8).collect();
        let mut free = c
            .write_blocks(&[1u8; 3 * BLOCK_SIZE as usize], &mut Vec::new())
            .unwrap();
        free.reverse();
        let reused: Vec<u64> = free.iter().rev().copied().collect();
        let mut w = BlockWriter::new(&mut c, &mut free);
        let mut at = 0;
        let mut step = 1;
        while at < bytes.len() {
            let n = step.min(bytes.len() - at);
            w.write_all(&bytes[at..at + n]).unwrap();
            at += n;
            step = step * 5 % 9001 + 1;
        }
        assert_eq!(w.len(), bytes.len() as u64);
        let blocks = w.finish().unwrap();
        assert!(free.is_empty());
        assert_eq!(&blocks[..3], &reused[..]);
        assert_eq!(
            blocks.len() as u64,
            (bytes.len() as u64).div_ceil(BLOCK_SIZE)
        );
        c.remap(id, &blocks, bytes.len() as u64).unwrap();
        c.relist(id);
        c.publish().unwrap();
        let r = ContainerReader::open(&path).unwrap();
        assert_eq!(r.read("calls.dat").unwrap(), bytes);
    }
}
