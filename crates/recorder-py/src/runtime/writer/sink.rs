//! [`TraceSink`]: serialises records of the trace format into chunks and streams them to disk.

use std::path::{Path, PathBuf};

use runtime_tracing::TraceLowLevelEvent;

use super::background::{BackgroundFile, FileEncoding};
use crate::errors::{codes, RecorderFailure};

/// Serialised bytes collected before a chunk is handed to the writer thread.
const CHUNK_BYTES: usize = 256 * 1024;

/// The event file formats we write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceFormat {
    /// `trace.bin`: runtime_tracing's Binary v1 (CBOR records in a seekable zstd stream).
    Binary,
    /// `trace.json`: a JSON array, one record per line.
    Json,
}

impl TraceFormat {
    /// Parses a user-supplied format name.
    pub fn parse(name: &str) -> Result<Self, RecorderFailure> {
        match name.trim().to_ascii_lowercase().as_str() {
            "binary" | "bin" | "cbor" => Ok(Self::Binary),
            "json" => Ok(Self::Json),
            other => Err(RecorderFailure::usage(
                codes::UNSUPPORTED_FORMAT,
                format!("unsupported trace format '{other}': use 'binary' (trace.bin) or 'json' (trace.json)"),
            )
            .with("format", other)),
        }
    }

    /// The canonical name (`binary` / `json`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Binary => "binary",
            Self::Json => "json",
        }
    }

    /// The events file name inside the trace directory.
    pub fn events_file_name(self) -> &'static str {
        match self {
            Self::Binary => "trace.bin",
            Self::Json => "trace.json",
        }
    }
}

/// Streams trace records into the events file.
pub struct TraceSink {
    format: TraceFormat,
    path: PathBuf,
    chunk: Vec<u8>,
    file: BackgroundFile,
    events: u64,
}

impl TraceSink {
    /// Creates the events file and starts its writer thread.
    pub fn create(path: &Path, format: TraceFormat) -> Result<Self, RecorderFailure> {
        let encoding = match format {
            TraceFormat::Binary => FileEncoding::SeekableZstd,
            TraceFormat::Json => FileEncoding::Plain,
        };
        let file = BackgroundFile::create(path, encoding)?;
        let mut chunk = Vec::with_capacity(CHUNK_BYTES + 4096);
        if format == TraceFormat::Json {
            chunk.push(b'[');
        }
        Ok(Self {
            format,
            path: path.to_path_buf(),
            chunk,
            file,
            events: 0,
        })
    }

    /// Number of records written so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Serialises one record.
    #[inline]
    pub fn emit(&mut self, event: &TraceLowLevelEvent) -> Result<(), RecorderFailure> {
        match self.format {
            TraceFormat::Binary => {
                let chunk = std::mem::take(&mut self.chunk);
                self.chunk = cbor4ii::serde::to_vec(chunk, event).map_err(|e| {
                    RecorderFailure::internal(format!("cannot encode a trace record as CBOR: {e}"))
                })?;
            }
            TraceFormat::Json => {
                if self.events > 0 {
                    self.chunk.push(b',');
                }
                self.chunk.push(b'\n');
                serde_json::to_writer(&mut self.chunk, event).map_err(|e| {
                    RecorderFailure::internal(format!("cannot encode a trace record as JSON: {e}"))
                })?;
            }
        }
        self.events += 1;
        if self.chunk.len() >= CHUNK_BYTES {
            self.hand_over()?;
        }
        Ok(())
    }

    /// The format written.
    pub fn format(&self) -> TraceFormat {
        self.format
    }

    /// Writes one record whose bytes `write` produces directly (already in this sink's
    /// format; see `value_out`).
    #[inline]
    pub fn emit_with(
        &mut self,
        write: impl FnOnce(&mut Vec<u8>, TraceFormat),
    ) -> Result<(), RecorderFailure> {
        if self.format == TraceFormat::Json {
            if self.events > 0 {
                self.chunk.push(b',');
            }
            self.chunk.push(b'\n');
        }
        write(&mut self.chunk, self.format);
        self.events += 1;
        if self.chunk.len() >= CHUNK_BYTES {
            self.hand_over()?;
        }
        Ok(())
    }

    fn hand_over(&mut self) -> Result<(), RecorderFailure> {
        let next = self
            .file
            .spare_chunk()
            .unwrap_or_else(|| Vec::with_capacity(CHUNK_BYTES + 4096));
        let full = std::mem::replace(&mut self.chunk, next);
        self.file.send(full)
    }

    /// Pushes every record written so far to the file.
    pub fn flush(&mut self) -> Result<(), RecorderFailure> {
        if !self.chunk.is_empty() {
            self.hand_over()?;
        }
        self.file.flush()
    }

    /// Ends the stream; returns (records, file bytes).
    pub fn finish(mut self) -> Result<(u64, u64), RecorderFailure> {
        if self.format == TraceFormat::Json {
            self.chunk.extend_from_slice(b"\n]\n");
        }
        if !self.chunk.is_empty() {
            self.hand_over()?;
        }
        let events = self.events;
        let bytes = self.file.finish()?;
        log::debug!(
            "wrote {events} records, {bytes} bytes to {}",
            self.path.display()
        );
        Ok((events, bytes))
    }
}
