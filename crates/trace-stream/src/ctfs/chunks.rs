//! [`ChunkedFile`]: one stream of a container read back — its `.idx` loaded once (8 bytes per
//! chunk), each chunk read and decompressed on demand.

use std::io;

use super::container_read::{ContainerReader, Entry};
use super::records::parse_idx;

/// A `.dat` + `.idx` stream of a container.
#[derive(Debug, Clone)]
pub struct ChunkedFile {
    entry: Entry,
    chunk_size: u32,
    offsets: Vec<u64>,
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

impl ChunkedFile {
    /// The stream `(dat, idx)` of `reader`, `None` when the container has no `dat`. Of a
    /// container cut short, the chunks whose index entries are readable.
    pub fn open(reader: &ContainerReader, (dat, idx): (&str, &str)) -> io::Result<Option<Self>> {
        let Some(entry) = reader.entry(dat) else {
            return Ok(None);
        };
        let index = reader.read_prefix(idx);
        let cut = (index.len() as u64) < reader.size(idx).unwrap_or(0);
        let (chunk_size, offsets) = match parse_idx(&index) {
            Some(parsed) => parsed,
            // No chunk yet (the header comes with the first), or the index itself is cut
            // off: no chunk can be located.
            None if cut || index.is_empty() => (1, Vec::new()),
            None => return Err(invalid(format!("{idx} is damaged"))),
        };
        let ordered = offsets.windows(2).all(|w| w[0] < w[1])
            && offsets.first().is_none_or(|&o| o == 0)
            && offsets.last().is_none_or(|&o| o < entry.size.max(1));
        if !ordered {
            return Err(invalid(format!(
                "{idx}: chunk offsets out of order or past {dat}"
            )));
        }
        Ok(Some(Self {
            entry,
            chunk_size,
            offsets,
        }))
    }

    /// Chunks in the stream.
    pub fn chunks(&self) -> usize {
        self.offsets.len()
    }

    /// Records per chunk (every chunk but the last).
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Chunk `i` as stored (its zstd frame).
    pub fn compressed(&self, reader: &ContainerReader, i: usize) -> io::Result<Vec<u8>> {
        let start = *self
            .offsets
            .get(i)
            .ok_or_else(|| invalid(format!("no chunk {i}")))?;
        let end = self.offsets.get(i + 1).copied().unwrap_or(self.entry.size);
        reader.read_range(self.entry, start, end - start)
    }

    /// Chunk `i`, decompressed.
    pub fn read(&self, reader: &ContainerReader, i: usize) -> io::Result<Vec<u8>> {
        zstd::decode_all(self.compressed(reader, i)?.as_slice())
    }
}
