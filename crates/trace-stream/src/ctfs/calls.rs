//! Building `calls.dat` from the journal at the end of a recording.
//!
//! A call record needs what is known only when the call returns (last step, return value)
//! and its children, and records go in entry order — the outermost call, still open until
//! the end, comes first. So the records are assembled from the journal's call entries and
//! returns in chunks of [`CALLS_CHUNK`] keys: a chunk is sealed (encoded and compressed) as
//! soon as every call in it returned, which at any moment leaves only the chunks holding an
//! open call in memory (at most one per open call, plus the children lists of open calls).
//! Sealed chunks that cannot be written yet (an earlier chunk is still open) wait in a
//! spill file next to the container, and are copied into `calls.dat` in order at the end.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io;
use std::path::PathBuf;

use super::chunks::ChunkedFile;
use super::container::{Container, FileId};
use super::container_read::ContainerReader;
use super::journal::{decode_chunk, EntryKind};
use super::pio::{read_at, write_at};
use super::records::{idx_header, CallRecord, VOID_RETURN};
use super::varint;
use super::{Stream, CALLS_CHUNK, LEVEL};

struct PendingChunk {
    records: Vec<Option<Vec<u8>>>,
    filled: usize,
}

struct Builder<'c> {
    c: &'c mut Container,
    dat: FileId,
    idx: FileId,
    next_key: u64,
    open: HashMap<u64, CallRecord>,
    pending: BTreeMap<u64, PendingChunk>,
    /// The next chunk `calls.dat` takes.
    next_chunk: u64,
    spill_path: PathBuf,
    spill: Option<File>,
    spill_len: u64,
    spilled: BTreeMap<u64, (u64, u64)>,
    compressor: zstd::bulk::Compressor<'static>,
}

impl Builder<'_> {
    fn call(
        &mut self,
        function_id: u64,
        parent: i64,
        depth: u64,
        first_step: u64,
        args: Vec<(u64, Vec<u8>)>,
    ) {
        let key = self.next_key;
        self.next_key += 1;
        if let Some(p) = u64::try_from(parent)
            .ok()
            .and_then(|p| self.open.get_mut(&p))
        {
            p.children.push(key);
        }
        self.open.insert(
            key,
            CallRecord {
                function_id,
                parent,
                first_step,
                last_step: first_step,
                depth,
                args,
                ret: vec![VOID_RETURN],
                exception: Vec::new(),
                children: Vec::new(),
            },
        );
        self.pending
            .entry(key / u64::from(CALLS_CHUNK))
            .or_insert_with(|| PendingChunk {
                records: vec![None; CALLS_CHUNK as usize],
                filled: 0,
            });
    }

    fn ret(&mut self, key: u64, last_step: u64, value: Vec<u8>, unwind: bool) -> io::Result<()> {
        let Some(mut record) = self.open.remove(&key) else {
            return Ok(()); // a return without a recorded call: not in the call tree
        };
        record.last_step = last_step.max(record.first_step);
        if unwind {
            record.exception = value;
        } else {
            record.ret = value;
        }
        self.place(key, &record)
    }

    fn place(&mut self, key: u64, record: &CallRecord) -> io::Result<()> {
        let chunk = key / u64::from(CALLS_CHUNK);
        let mut bytes = Vec::new();
        record.encode(&mut bytes);
        let mut framed = Vec::with_capacity(bytes.len() + 3);
        varint::put_bytes(&mut framed, &bytes);
        let full = match self.pending.get_mut(&chunk) {
            Some(p) => {
                p.records[(key % u64::from(CALLS_CHUNK)) as usize] = Some(framed);
                p.filled += 1;
                p.filled == CALLS_CHUNK as usize
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
        let raw: Vec<u8> = p.records.into_iter().flatten().flatten().collect();
        let compressed = self.compressor.compress(&raw)?;
        if chunk == self.next_chunk {
            self.write(&compressed)?;
            self.drain()
        } else {
            self.spill_chunk(chunk, &compressed)
        }
    }

    fn write(&mut self, compressed: &[u8]) -> io::Result<()> {
        let offset = self.c.size(self.dat);
        self.c.append(self.dat, compressed)?;
        self.c.append(self.idx, &offset.to_le_bytes())?;
        self.next_chunk += 1;
        Ok(())
    }

    fn spill_chunk(&mut self, chunk: u64, compressed: &[u8]) -> io::Result<()> {
        if self.spill.is_none() {
            self.spill = Some(
                File::options()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&self.spill_path)?,
            );
        }
        if let Some(f) = &self.spill {
            write_at(f, compressed, self.spill_len)?;
        }
        self.spilled
            .insert(chunk, (self.spill_len, compressed.len() as u64));
        self.spill_len += compressed.len() as u64;
        Ok(())
    }

    /// Writes the spilled chunks that are next in order.
    fn drain(&mut self) -> io::Result<()> {
        while let Some((offset, len)) = self.spilled.remove(&self.next_chunk) {
            let mut buf = vec![0u8; len as usize];
            if let Some(f) = &self.spill {
                read_at(f, &mut buf, offset)?;
            }
            self.write(&buf)?;
        }
        Ok(())
    }

    /// Closes the calls still open (no return was recorded) at `last_step`, then seals
    /// everything left in order.
    fn end(&mut self, last_step: u64) -> io::Result<()> {
        let mut keys: Vec<u64> = self.open.keys().copied().collect();
        keys.sort_unstable();
        for key in keys {
            if let Some(mut record) = self.open.remove(&key) {
                record.last_step = last_step.max(record.first_step);
                self.place(key, &record)?;
            }
        }
        let chunks: Vec<u64> = self.pending.keys().copied().collect();
        for chunk in chunks {
            self.seal(chunk)?;
        }
        self.drain()
    }
}

/// Builds `calls.dat` (`dat`) and `calls.idx` (`idx`) of `c` from its published journal;
/// `steps` is the number of `steps.dat` records (calls still open end at the last one).
pub fn build(c: &mut Container, (dat, idx): (FileId, FileId), steps: u64) -> io::Result<()> {
    c.append(idx, &idx_header(CALLS_CHUNK))?;
    let reader = ContainerReader::open(c.path())?;
    let journal = ChunkedFile::open(&reader, Stream::Journal.files())?;
    let mut spill_path = c.path().as_os_str().to_owned();
    spill_path.push(".calls.tmp");
    let mut b = Builder {
        c,
        dat,
        idx,
        next_key: 0,
        open: HashMap::new(),
        pending: BTreeMap::new(),
        next_chunk: 0,
        spill_path: PathBuf::from(spill_path),
        spill: None,
        spill_len: 0,
        spilled: BTreeMap::new(),
        compressor: zstd::bulk::Compressor::new(LEVEL)?,
    };
    let result = (|| -> io::Result<()> {
        if let Some(j) = &journal {
            for i in 0..j.chunks() {
                let raw = j.read(&reader, i)?;
                let entries = decode_chunk(&raw).ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidData, "journal.dat is damaged")
                })?;
                for e in entries {
                    match e.kind {
                        EntryKind::Call {
                            function_id,
                            parent,
                            depth,
                            first_step,
                            args,
                        } => b.call(function_id, parent, depth, first_step, args),
                        EntryKind::Return {
                            key,
                            last_step,
                            value,
                            unwind,
                        } => b.ret(key, last_step, value, unwind)?,
                        _ => {}
                    }
                }
            }
        }
        b.end(steps.saturating_sub(1))
    })();
    if b.spill.take().is_some() {
        let _ = std::fs::remove_file(&b.spill_path);
    }
    result
}
