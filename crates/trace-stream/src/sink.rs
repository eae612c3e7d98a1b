//! [`TraceSink`]: collects serialised records into chunks and hands them to the
//! [`BackgroundFile`] writer thread — when a chunk is full, when asked to flush, and at each
//! writer tick (so a killed process loses only the last fraction of a second). Around a
//! `fork()` the writer thread is parked ([`TraceSink::park`] / [`TraceSink::resume`]).

use std::path::{Path, PathBuf};

use codetracer_trace_types::TraceLowLevelEvent;

use crate::background::{BackgroundFile, FileEncoding};
use crate::create::PRIVATE_FILE_MODE;
use crate::encoding::{Cbor, Encoding, Json};
use crate::error::{ErrorKind, Result, TraceStreamError};
use crate::format::TraceFormat;

/// Serialised bytes collected before a chunk is handed to the writer thread.
const CHUNK_BYTES: usize = 256 * 1024;

/// Streams records into the events file.
pub struct TraceSink {
    format: TraceFormat,
    path: PathBuf,
    chunk: Vec<u8>,
    file: BackgroundFile,
    records: u64,
}

impl TraceSink {
    /// Creates the events file at `path` as a private file and starts its writer thread.
    pub fn create(path: &Path, format: TraceFormat) -> Result<Self> {
        Self::create_with_mode(path, format, PRIVATE_FILE_MODE)
    }

    /// Creates the events file at `path` with file mode `mode` (never through a symlink, see
    /// [`crate::create`]) and starts its writer thread.
    pub fn create_with_mode(path: &Path, format: TraceFormat, mode: u32) -> Result<Self> {
        Self::open(path, format, mode, false)
    }

    /// As [`create_with_mode`](Self::create_with_mode), with the writer thread started only
    /// when needed ([`BackgroundFile::create_deferred`]): for many short traces in a process.
    pub fn create_deferred(path: &Path, format: TraceFormat, mode: u32) -> Result<Self> {
        Self::open(path, format, mode, true)
    }

    fn open(path: &Path, format: TraceFormat, mode: u32, deferred: bool) -> Result<Self> {
        let (encoding, prologue) =
            match format {
                TraceFormat::Binary => (FileEncoding::SeekableZstd, Cbor::prologue()),
                TraceFormat::Json => (FileEncoding::Plain, Json::prologue()),
                TraceFormat::Ctfs => return Err(TraceStreamError::new(
                    ErrorKind::UnsupportedFormat,
                    "a CTFS container is written by CtfsWriter (TraceWriter::create), not a sink",
                )),
            };
        let file = if deferred {
            BackgroundFile::create_deferred(path, encoding, mode)?
        } else {
            BackgroundFile::create(path, encoding, mode)?
        };
        let mut chunk = Vec::with_capacity(CHUNK_BYTES + 4096);
        chunk.extend_from_slice(prologue);
        Ok(Self {
            format,
            path: path.to_path_buf(),
            chunk,
            file,
            records: 0,
        })
    }

    /// The format written.
    #[inline]
    pub fn format(&self) -> TraceFormat {
        self.format
    }

    /// Records written so far.
    #[inline]
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Serialises one record through serde (declarations, events: off the hot path).
    pub fn emit(&mut self, event: &TraceLowLevelEvent) -> Result<()> {
        match self.format {
            TraceFormat::Json => self.push::<Json>(|out| Json::record(out, event)),
            TraceFormat::Binary | TraceFormat::Ctfs => {
                self.push::<Cbor>(|out| Cbor::record(out, event))
            }
        }
    }

    /// Writes one record whose bytes `write` produces in encoding `E` (which must be this
    /// sink's format).
    #[inline]
    pub fn push<E: Encoding>(
        &mut self,
        write: impl FnOnce(&mut Vec<u8>) -> Result<()>,
    ) -> Result<()> {
        debug_assert_eq!(E::FORMAT, self.format);
        E::record_separator(&mut self.chunk, self.records);
        write(&mut self.chunk)?;
        self.records += 1;
        if self.chunk.len() >= CHUNK_BYTES {
            self.hand_over(false)?;
        } else if self.file.due() {
            self.hand_over(true)?;
        }
        Ok(())
    }

    fn hand_over(&mut self, sync: bool) -> Result<()> {
        let next = self
            .file
            .spare_chunk()
            .unwrap_or_else(|| Vec::with_capacity(CHUNK_BYTES + 4096));
        let full = std::mem::replace(&mut self.chunk, next);
        self.file.send(full, sync)
    }

    /// Pushes every record written so far into the file.
    pub fn flush(&mut self) -> Result<()> {
        if !self.chunk.is_empty() {
            self.hand_over(false)?;
        }
        self.file.flush()
    }

    /// Ends the writer thread before a `fork()`, keeping its state; see
    /// [`BackgroundFile::park`]. Records may still be written meanwhile (they wait in the
    /// chunk and the queue).
    pub fn park(&mut self) -> Result<()> {
        self.file.park()
    }

    /// Restarts the writer thread after [`park`](Self::park) (in the parent of a fork).
    pub fn resume(&mut self) -> Result<()> {
        self.file.resume()
    }

    /// Restarts the writer thread at the next record instead of now (see
    /// [`BackgroundFile::resume_at_next_record`]).
    pub fn resume_at_next_record(&self) {
        self.file.resume_at_next_record();
    }

    /// Ends the stream; returns (records, file bytes).
    pub fn finish(mut self) -> Result<(u64, u64)> {
        self.chunk.extend_from_slice(match self.format {
            TraceFormat::Json => Json::epilogue(),
            TraceFormat::Binary | TraceFormat::Ctfs => Cbor::epilogue(),
        });
        if !self.chunk.is_empty() {
            self.hand_over(false)?;
        }
        let records = self.records;
        let bytes = self.file.finish()?;
        log::debug!(
            "wrote {records} records, {bytes} bytes to {}",
            self.path.display()
        );
        Ok((records, bytes))
    }
}
