//! `meta.dat` version 3, the container's binary metadata as the CodeTracer debugger parses
//! it (strictly: known flag bits only, no trailing bytes): magic `CTMD`, u16 version, u16
//! flags, then varint-length strings — recording id (UUIDv7), program, the arguments
//! (count first), workdir, recorder id, the paths (count first).

use super::varint::{self, Cursor};

/// `CTMD`.
pub const MAGIC: [u8; 4] = *b"CTMD";
/// The version written and read.
pub const VERSION: u16 = 3;
/// Bit 4: step positions address `(line, column)` through per-line length tables.
pub const FLAG_COLUMN_AWARE: u16 = 1 << 4;
/// Bit 8: `calls.dat` + `calls.idx`.
pub const FLAG_CALL_STREAM: u16 = 1 << 8;
/// Bit 9: `steps.dat` + `steps.idx`.
pub const FLAG_STEP_STREAM: u16 = 1 << 9;
/// Bit 10: `values.dat` + `values.idx`.
pub const FLAG_VALUE_STREAM: u16 = 1 << 10;
/// Bit 11: `events.dat` + `events.idx`.
pub const FLAG_IO_EVENT_STREAM: u16 = 1 << 11;
/// The flags this crate writes.
pub const FLAGS: u16 = FLAG_COLUMN_AWARE
    | FLAG_CALL_STREAM
    | FLAG_STEP_STREAM
    | FLAG_VALUE_STREAM
    | FLAG_IO_EVENT_STREAM;

/// The content of `meta.dat`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetaDat {
    /// Capability flags.
    pub flags: u16,
    /// The recording's UUIDv7.
    pub recording_id: String,
    /// The program recorded.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The working directory.
    pub workdir: String,
    /// Who wrote the trace (`name/version`).
    pub recorder_id: String,
    /// The source paths (the `paths` table's strings).
    pub paths: Vec<String>,
}

impl MetaDat {
    /// The bytes of `meta.dat`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&self.flags.to_le_bytes());
        varint::put_bytes(&mut out, self.recording_id.as_bytes());
        varint::put_bytes(&mut out, self.program.as_bytes());
        varint::put(&mut out, self.args.len() as u64);
        for a in &self.args {
            varint::put_bytes(&mut out, a.as_bytes());
        }
        varint::put_bytes(&mut out, self.workdir.as_bytes());
        varint::put_bytes(&mut out, self.recorder_id.as_bytes());
        varint::put(&mut out, self.paths.len() as u64);
        for p in &self.paths {
            varint::put_bytes(&mut out, p.as_bytes());
        }
        out
    }

    /// Parses `meta.dat` (version 3, no optional blocks); `None` when it is not that.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut c = Cursor::new(bytes);
        if c.take(4)? != MAGIC {
            return None;
        }
        let version = u16::from_le_bytes(c.take(2)?.try_into().ok()?);
        if version != VERSION {
            return None;
        }
        let flags = u16::from_le_bytes(c.take(2)?.try_into().ok()?);
        let text = |c: &mut Cursor<'_>| -> Option<String> {
            Some(String::from_utf8_lossy(c.bytes()?).into_owned())
        };
        let recording_id = text(&mut c)?;
        let program = text(&mut c)?;
        let args = (0..c.varint()?)
            .map(|_| text(&mut c))
            .collect::<Option<_>>()?;
        let workdir = text(&mut c)?;
        let recorder_id = text(&mut c)?;
        let paths = (0..c.varint()?)
            .map(|_| text(&mut c))
            .collect::<Option<_>>()?;
        Some(Self {
            flags,
            recording_id,
            program,
            args,
            workdir,
            recorder_id,
            paths,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn meta_dat_round_trips() {
        let meta = MetaDat {
            flags: FLAGS,
            recording_id: super::super::uuid::new_v7(),
            program: "app.py".into(),
            args: vec!["-v".into(), "é".into()],
            workdir: "/w".into(),
            recorder_id: "rec/1".into(),
            paths: vec!["/w/app.py".into()],
        };
        let bytes = meta.encode();
        assert_eq!(&bytes[..8], b"CTMD\x03\x00\x10\x0f");
        assert_eq!(MetaDat::decode(&bytes).unwrap(), meta);
        assert_eq!(MetaDat::decode(&bytes[..bytes.len() - 1]), None);
    }
}
