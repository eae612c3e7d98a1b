//! `tail.dat`: what the streams hold beyond their last sealed chunk, so that a process killed
//! mid-recording loses only the last writer tick. The debugger's streams address records by
//! `chunk size` (every chunk but the last is full), so a chunk cannot be sealed early; at
//! every tick the recording thread hands over a copy of the unsealed chunks of `steps`,
//! `values` and `events` instead, and the writer thread stores them here, in one of two
//! alternating internal files (the directory lists the one written last, so the one being
//! written is never the one a reader would find).
//!
//! Layout: `CTTL`, then one zstd frame of, per stream in that order: varint records already
//! sealed (the tail applies only when this matches the stream's sealed chunks), varint
//! records in the tail, length + raw chunk bytes.

use super::varint::{self, Cursor};

/// `CTTL`.
pub const MAGIC: [u8; 4] = *b"CTTL";

/// The unsealed part of one stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TailPart {
    /// Records in the stream's sealed chunks.
    pub sealed: u64,
    /// Records in `raw`.
    pub records: u64,
    /// The raw (uncompressed) chunk bytes.
    pub raw: Vec<u8>,
}

/// The unsealed parts of `steps`, `values` and `events`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tail {
    /// `steps.dat`'s.
    pub steps: TailPart,
    /// `values.dat`'s.
    pub values: TailPart,
    /// `events.dat`'s.
    pub events: TailPart,
}

impl Tail {
    /// The bytes of `tail.dat`, compressed at `level`.
    pub fn encode(&self, level: i32) -> std::io::Result<Vec<u8>> {
        let mut payload = Vec::new();
        for part in [&self.steps, &self.values, &self.events] {
            varint::put(&mut payload, part.sealed);
            varint::put(&mut payload, part.records);
            varint::put_bytes(&mut payload, &part.raw);
        }
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&zstd::bulk::compress(&payload, level)?);
        Ok(out)
    }

    /// Parses `tail.dat`; `None` when it is damaged.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let frame = bytes.strip_prefix(&MAGIC[..])?;
        let payload = zstd::decode_all(frame).ok()?;
        let mut c = Cursor::new(&payload);
        let mut part = || -> Option<TailPart> {
            Some(TailPart {
                sealed: c.varint()?,
                records: c.varint()?,
                raw: c.bytes()?.to_vec(),
            })
        };
        let tail = Self {
            steps: part()?,
            values: part()?,
            events: part()?,
        };
        c.is_empty().then_some(tail)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tails_round_trip() {
        let tail = Tail {
            steps: TailPart {
                sealed: 4096,
                records: 2,
                raw: vec![0, 5, 1, 2],
            },
            values: TailPart {
                sealed: 0,
                records: 1,
                raw: vec![0],
            },
            events: TailPart::default(),
        };
        let bytes = tail.encode(1).unwrap();
        assert_eq!(Tail::decode(&bytes).unwrap(), tail);
        assert!(Tail::decode(&bytes[..bytes.len() - 2]).is_none());
    }
}
