//! Reading a trace back, one record at a time: [`TraceEvents`] streams the records of
//! `trace.bin` (CBOR in zstd frames), `trace.json` or `trace.ct` (through
//! [`crate::ctfs::reader::CtfsEvents`]) with memory that does not grow with the trace, and
//! says at the end whether the file was complete or only a readable prefix (the file of a
//! process killed mid-recording: complete zstd frames / complete JSON lines / the container
//! of the last writer tick).

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use codetracer_trace_types::TraceLowLevelEvent;

use crate::background::HEADER_V1;
use crate::ctfs::container_read::is_container;
use crate::ctfs::reader::CtfsEvents;
use crate::error::{ErrorKind, Result, TraceStreamError};
use crate::format::TraceFormat;

/// The last 4 bytes of a seekable zstd stream (the seek table's magic number, LE): present
/// only when the writer finished the file.
const SEEK_TABLE_MAGIC: [u8; 4] = [0xB1, 0xEA, 0x92, 0x8F];

/// How much of a trace was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    /// The whole file, as its writer finished it.
    Complete,
    /// Only a prefix was readable (the file was cut short).
    Prefix,
}

/// Finds the events file: `path` itself, or the events file inside the trace directory
/// `path` (in CodeTracer's order: `trace.ct` or another `*.ct`, `trace.json`, `trace.bin`).
pub fn events_file(path: &Path) -> Result<PathBuf> {
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    for format in TraceFormat::ALL {
        let candidate = path.join(format.events_file_name());
        if candidate.is_file() {
            return Ok(candidate);
        }
        if format == TraceFormat::Ctfs {
            if let Some(other) = any_container(path) {
                return Ok(other);
            }
        }
    }
    let names: Vec<_> = TraceFormat::ALL
        .iter()
        .map(|f| f.events_file_name())
        .collect();
    Err(TraceStreamError::invalid(
        path,
        format!(
            "no {} there; pass a trace directory written by the recorder",
            names.join(" or ")
        ),
    ))
}

/// The first `*.ct` container of `dir` (by name), if any.
fn any_container(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "ct") && is_container(p))
        .collect();
    found.sort();
    found.into_iter().next()
}

enum Source {
    Json(JsonLines),
    Cbor(CborStream),
    Ctfs(Box<CtfsEvents>),
    /// A JSON trace not laid out one record per line: parsed whole (foreign writers only).
    Loaded(std::vec::IntoIter<TraceLowLevelEvent>),
    /// An events file with nothing in it yet (a recording killed at its start).
    Empty,
}

/// The records of one trace, in order. Ends at the end of the file or at the first record
/// that cannot be read; [`TraceEvents::mode`] then tells which.
pub struct TraceEvents {
    source: Source,
    format: TraceFormat,
    path: PathBuf,
    done: Option<ReadMode>,
}

impl TraceEvents {
    /// Opens the trace at `path` (a trace directory or an events file).
    pub fn open(path: &Path) -> Result<Self> {
        let file_path = events_file(path)?;
        if is_container(&file_path) {
            return Ok(Self {
                source: Source::Ctfs(Box::new(CtfsEvents::open(&file_path)?)),
                format: TraceFormat::Ctfs,
                path: file_path,
                done: None,
            });
        }
        let is_json = file_path.extension().is_some_and(|e| e == "json");
        let file = File::open(&file_path).map_err(|e| TraceStreamError::invalid(&file_path, e))?;
        let (source, format) = if is_json {
            (JsonLines::open(file, &file_path)?, TraceFormat::Json)
        } else {
            (
                Source::Cbor(CborStream::open(file, &file_path)?),
                TraceFormat::Binary,
            )
        };
        Ok(Self {
            source,
            format,
            path: file_path,
            done: None,
        })
    }

    /// The events file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its format.
    pub fn format(&self) -> TraceFormat {
        self.format
    }

    /// `None` while records remain; once the iterator ended, whether the file was complete.
    pub fn mode(&self) -> Option<ReadMode> {
        self.done
    }

    /// Reads the rest into memory (small traces and tests; prefer iterating).
    pub fn read_all(mut self) -> Result<(Vec<TraceLowLevelEvent>, ReadMode)> {
        let mut events = Vec::new();
        for event in self.by_ref() {
            events.push(event);
        }
        Ok((events, self.done.unwrap_or(ReadMode::Prefix)))
    }
}

impl Iterator for TraceEvents {
    type Item = TraceLowLevelEvent;

    fn next(&mut self) -> Option<TraceLowLevelEvent> {
        if self.done.is_some() {
            return None;
        }
        let next = match &mut self.source {
            Source::Json(lines) => lines.next_event(),
            Source::Cbor(stream) => stream.next_event(),
            Source::Ctfs(events) => match events.next() {
                Some(e) => Ok(e),
                None => Err(events.mode().unwrap_or(ReadMode::Prefix)),
            },
            Source::Loaded(events) => match events.next() {
                Some(e) => Ok(e),
                None => Err(ReadMode::Complete),
            },
            Source::Empty => Err(ReadMode::Prefix),
        };
        match next {
            Ok(event) => Some(event),
            Err(mode) => {
                self.done = Some(mode);
                None
            }
        }
    }
}

/// `trace.json` as this crate writes it: `[`, one record per line (`,` at the end of all but
/// the last), `]`.
struct JsonLines {
    reader: BufReader<File>,
    line: String,
}

impl JsonLines {
    fn open(file: File, path: &Path) -> Result<Source> {
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let mut first = String::new();
        reader
            .read_line(&mut first)
            .map_err(|e| TraceStreamError::invalid(path, e))?;
        if first.is_empty() {
            return Ok(Source::Empty);
        }
        if first.trim() == "[" {
            return Ok(Source::Json(Self {
                reader,
                line: String::new(),
            }));
        }
        // Some other layout: parse the whole document.
        let mut rest = first;
        reader
            .read_to_string(&mut rest)
            .map_err(|e| TraceStreamError::invalid(path, e))?;
        let events: Vec<TraceLowLevelEvent> = serde_json::from_str(&rest)
            .map_err(|e| TraceStreamError::invalid(path, format!("not a trace.json: {e}")))?;
        Ok(Source::Loaded(events.into_iter()))
    }

    fn next_event(&mut self) -> std::result::Result<TraceLowLevelEvent, ReadMode> {
        loop {
            self.line.clear();
            match self.reader.read_line(&mut self.line) {
                Ok(0) | Err(_) => return Err(ReadMode::Prefix),
                Ok(_) => {}
            }
            let text = self.line.trim();
            if text == "]" {
                return Err(ReadMode::Complete);
            }
            let text = text.strip_suffix(',').unwrap_or(text);
            if text.is_empty() {
                continue;
            }
            return serde_json::from_str(text).map_err(|_| ReadMode::Prefix);
        }
    }
}

/// `trace.bin`: the 8-byte header, then zstd frames of CBOR records, then the seek table.
struct CborStream {
    reader: BufReader<zstd::stream::read::Decoder<'static, BufReader<File>>>,
    finished_by_writer: bool,
}

impl CborStream {
    fn open(mut file: File, path: &Path) -> Result<Self> {
        let mut header = [0u8; 8];
        file.read_exact(&mut header)
            .map_err(|e| TraceStreamError::invalid(path, e))?;
        if header != HEADER_V1 {
            return Err(TraceStreamError::invalid(
                path,
                "not a Binary v1 trace (unknown header)",
            ));
        }
        let mut tail = [0u8; 4];
        let finished_by_writer = file.seek(SeekFrom::End(-4)).is_ok()
            && file.read_exact(&mut tail).is_ok()
            && tail == SEEK_TABLE_MAGIC;
        file.seek(SeekFrom::Start(HEADER_V1.len() as u64))
            .map_err(|e| TraceStreamError::invalid(path, e))?;
        let decoder = zstd::stream::read::Decoder::new(file)
            .map_err(|e| TraceStreamError::invalid(path, e))?;
        Ok(Self {
            reader: BufReader::with_capacity(1 << 16, decoder),
            finished_by_writer,
        })
    }

    fn next_event(&mut self) -> std::result::Result<TraceLowLevelEvent, ReadMode> {
        match self.reader.fill_buf() {
            // A cut-off final frame ends the read with an error; what came before is kept.
            Err(_) => return Err(ReadMode::Prefix),
            Ok([]) => {
                return Err(if self.finished_by_writer {
                    ReadMode::Complete
                } else {
                    ReadMode::Prefix
                })
            }
            Ok(_) => {}
        }
        cbor4ii::serde::from_reader::<TraceLowLevelEvent, _>(&mut self.reader)
            .map_err(|_| ReadMode::Prefix)
    }
}

/// Reads every record of the trace at `path`; a trace cut short is an error when `strict`.
pub fn read_events(path: &Path, strict: bool) -> Result<(Vec<TraceLowLevelEvent>, ReadMode)> {
    let events = TraceEvents::open(path)?;
    let file = events.path().to_path_buf();
    let (records, mode) = events.read_all()?;
    if strict && mode == ReadMode::Prefix {
        return Err(incomplete(&file, records.len()));
    }
    Ok((records, mode))
}

/// The error of a strict read of a trace cut short after `records` records.
pub fn incomplete(file: &Path, records: usize) -> TraceStreamError {
    TraceStreamError::new(
        ErrorKind::Incomplete,
        format!(
            "the trace {} ends early (only the first {records} records are readable): the recording was cut short",
            file.display()
        ),
    )
    .at(file)
}
