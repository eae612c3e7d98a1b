//! [`ContainerReader`]: the reading side of a CTFS container — the directory of block 0 and
//! byte ranges of internal files resolved through their mapping blocks, read with positional
//! reads (the file is never loaded whole). Only whole blocks are read: the bytes past the
//! last whole block of a container whose writer was killed mid-write are ignored, as the
//! CodeTracer readers do.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::base40;
use super::container::{BLOCK_SIZE, ENTRY_BYTES, FANOUT, HEADER_BYTES, MAGIC, MAX_LEVELS};
use super::pio::read_at;

/// Container versions read (the layout of block 0 and the mapping is the same in 2–4).
const VERSIONS: std::ops::RangeInclusive<u8> = 2..=4;

/// One directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Bytes of the internal file.
    pub size: u64,
    /// Its root mapping block.
    pub root: u64,
}

/// An open CTFS container.
#[derive(Debug)]
pub struct ContainerReader {
    file: File,
    path: PathBuf,
    block_size: u64,
    whole_blocks: u64,
    entries: HashMap<String, Entry>,
}

fn corrupt(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Whether `path` starts with the CTFS container magic (versions 2–4).
pub fn is_container(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    let mut head = [0u8; 6];
    read_at(&file, &mut head, 0).is_ok() && head[..5] == MAGIC && VERSIONS.contains(&head[5])
}

impl ContainerReader {
    /// Opens `path` and reads its directory.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        let mut header = [0u8; HEADER_BYTES];
        read_at(&file, &mut header, 0)?;
        if header[..5] != MAGIC {
            return Err(corrupt("not a CTFS container (bad magic)"));
        }
        if !VERSIONS.contains(&header[5]) {
            return Err(corrupt(format!("unsupported CTFS version {}", header[5])));
        }
        let block_size = u64::from(u32::from_le_bytes([
            header[8], header[9], header[10], header[11],
        ]));
        if !matches!(block_size, 1024 | 2048 | 4096) {
            return Err(corrupt(format!("invalid CTFS block size {block_size}")));
        }
        let capacity = u32::from_le_bytes([header[12], header[13], header[14], header[15]]) as u64;
        let fits = len.saturating_sub(HEADER_BYTES as u64) / ENTRY_BYTES as u64;
        let count = capacity.min(fits) as usize;
        let mut region = vec![0u8; count * ENTRY_BYTES];
        read_at(&file, &mut region, HEADER_BYTES as u64)?;
        let mut entries = HashMap::new();
        for raw in region.chunks_exact(ENTRY_BYTES) {
            let word = |i: usize| {
                let mut b = [0u8; 8];
                b.copy_from_slice(&raw[i * 8..i * 8 + 8]);
                u64::from_le_bytes(b)
            };
            let name = word(2);
            if name != 0 {
                entries.insert(
                    base40::decode(name),
                    Entry {
                        size: word(0),
                        root: word(1),
                    },
                );
            }
        }
        Ok(Self {
            file,
            path: path.to_path_buf(),
            block_size,
            whole_blocks: len / block_size,
            entries,
        })
    }

    /// The container's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory entry of `name`.
    pub fn entry(&self, name: &str) -> Option<Entry> {
        self.entries.get(name).copied()
    }

    /// Whether the container has an internal file `name`.
    pub fn has(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// The names of its internal files (unordered).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// The size of the internal file `name`.
    pub fn size(&self, name: &str) -> Option<u64> {
        self.entry(name).map(|e| e.size)
    }

    /// Whether every internal file's last byte is in the container (not cut off).
    pub fn is_intact(&self) -> bool {
        self.entries
            .values()
            .all(|e| e.size == 0 || self.read_range(*e, e.size - 1, 1).is_ok())
    }

    /// The longest readable prefix of the internal file `name` (all of it unless the
    /// container was cut short), in whole blocks but the last.
    pub fn read_prefix(&self, name: &str) -> Vec<u8> {
        let Some(entry) = self.entry(name) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        while (out.len() as u64) < entry.size {
            let at = out.len() as u64;
            let n = self.block_size.min(entry.size - at);
            match self.read_range(entry, at, n) {
                Ok(bytes) => out.extend_from_slice(&bytes),
                Err(_) => break,
            }
        }
        out
    }

    /// The whole internal file `name`.
    pub fn read(&self, name: &str) -> io::Result<Vec<u8>> {
        let entry = self.entry(name).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no {name} in the container"),
            )
        })?;
        self.read_range(entry, 0, entry.size)
    }

    /// The container block that holds byte `offset` of the internal file `name` (for tools
    /// and tests that need to know where a file's bytes lie, e.g. to cut a container there).
    pub fn block_of(&self, name: &str, offset: u64) -> io::Result<u64> {
        let entry = self
            .entry(name)
            .filter(|e| offset < e.size)
            .ok_or_else(|| corrupt(format!("no byte {offset} in {name}")))?;
        self.resolve(entry.root, offset / self.block_size)
    }

    /// `len` bytes at `offset` of the internal file with `entry`.
    pub fn read_range(&self, entry: Entry, offset: u64, len: u64) -> io::Result<Vec<u8>> {
        let end = offset
            .checked_add(len)
            .filter(|e| *e <= entry.size)
            .ok_or_else(|| corrupt("read past the end of an internal file"))?;
        let mut out = vec![0u8; len as usize];
        let mut at = offset;
        while at < end {
            let index = at / self.block_size;
            let within = at % self.block_size;
            let n = (self.block_size - within).min(end - at);
            let block = self.resolve(entry.root, index)?;
            let dst = (at - offset) as usize;
            read_at(
                &self.file,
                &mut out[dst..dst + n as usize],
                block * self.block_size + within,
            )?;
            at += n;
        }
        Ok(out)
    }

    fn check(&self, block: u64) -> io::Result<u64> {
        if block == 0 || block >= self.whole_blocks {
            return Err(corrupt(format!(
                "block {block} is outside the container's {} whole blocks",
                self.whole_blocks
            )));
        }
        Ok(block)
    }

    fn pointer(&self, block: u64, slot: u64) -> io::Result<u64> {
        let mut b = [0u8; 8];
        read_at(
            &self.file,
            &mut b,
            self.check(block)? * self.block_size + slot * 8,
        )?;
        Ok(u64::from_le_bytes(b))
    }

    /// The container block holding data block `index` of the file rooted at `root`.
    fn resolve(&self, root: u64, index: u64) -> io::Result<u64> {
        let fanout = if self.block_size == BLOCK_SIZE {
            FANOUT
        } else {
            self.block_size / 8 - 1
        };
        let mut level = 1usize;
        let mut within = index;
        let mut capacity = fanout;
        let mut block = root;
        while within >= capacity {
            within -= capacity;
            level += 1;
            if level > MAX_LEVELS {
                return Err(corrupt("block index beyond the mapping levels"));
            }
            capacity = capacity.saturating_mul(fanout);
            block = self.pointer(block, fanout)?;
        }
        for depth in (1..level).rev() {
            let slot = (within / fanout.pow(depth as u32)) % fanout;
            block = self.pointer(block, slot)?;
        }
        self.check(self.pointer(block, within % fanout)?)
    }
}
