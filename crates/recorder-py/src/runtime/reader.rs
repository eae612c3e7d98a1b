//! Reading a trace back: the events of `trace.bin` / `trace.json` in a trace directory, via
//! runtime_tracing's own readers, with a tolerant fallback for the readable prefix a killed
//! process leaves (complete zstd frames / complete JSON lines).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use runtime_tracing::{create_trace_reader, TraceEventsFileFormat, TraceLowLevelEvent};

use super::writer::background::HEADER_V1;
use crate::errors::{codes, ErrorKind, RecorderFailure};

/// How a trace was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    /// runtime_tracing's reader accepted the whole file.
    Complete,
    /// Only a prefix was readable (the file was cut short).
    Prefix,
}

fn invalid(path: &Path, why: impl std::fmt::Display) -> RecorderFailure {
    RecorderFailure::new(
        codes::INVALID_TRACE,
        ErrorKind::Usage,
        format!("cannot read the trace {}: {why}", path.display()),
    )
    .with("path", path.display().to_string())
}

/// Finds the events file: `path` itself, or `trace.json` / `trace.bin` inside it.
pub fn events_file(path: &Path) -> Result<PathBuf, RecorderFailure> {
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    for name in ["trace.json", "trace.bin"] {
        let candidate = path.join(name);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(invalid(
        path,
        "no trace.json or trace.bin there; pass a trace directory written by the recorder",
    ))
}

/// Reads every event of the trace at `path` (a directory or an events file).
pub fn read_events(path: &Path) -> Result<(Vec<TraceLowLevelEvent>, ReadMode), RecorderFailure> {
    let file = events_file(path)?;
    let is_json = file.extension().is_some_and(|e| e == "json");
    if !is_json {
        let mut header = [0u8; 8];
        File::open(&file)
            .and_then(|mut f| f.read_exact(&mut header))
            .map_err(|e| invalid(&file, e))?;
        if header != HEADER_V1 {
            // runtime_tracing's reader panics on unknown headers and we never write v0.
            return Err(invalid(&file, "not a Binary v1 trace (unknown header)"));
        }
    }
    let format = if is_json {
        TraceEventsFileFormat::Json
    } else {
        TraceEventsFileFormat::Binary
    };
    let mut reader = create_trace_reader(format);
    let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        reader.load_trace_events(&file)
    }));
    if let Ok(Ok(events)) = loaded {
        return Ok((events, ReadMode::Complete));
    }
    let events = if is_json {
        json_prefix(&file)?
    } else {
        binary_prefix(&file)?
    };
    Ok((events, ReadMode::Prefix))
}

fn json_prefix(file: &Path) -> Result<Vec<TraceLowLevelEvent>, RecorderFailure> {
    let text = std::fs::read_to_string(file).map_err(|e| invalid(file, e))?;
    let mut events = Vec::new();
    for line in text.lines() {
        let line = line.trim().trim_end_matches(',');
        if line.is_empty() || line == "[" || line == "]" {
            continue;
        }
        match serde_json::from_str::<TraceLowLevelEvent>(line) {
            Ok(e) => events.push(e),
            Err(_) => break,
        }
    }
    Ok(events)
}

fn binary_prefix(file: &Path) -> Result<Vec<TraceLowLevelEvent>, RecorderFailure> {
    let mut f = File::open(file).map_err(|e| invalid(file, e))?;
    let mut header = [0u8; 8];
    f.read_exact(&mut header).map_err(|e| invalid(file, e))?;
    let mut decoder =
        zstd::stream::read::Decoder::new(BufReader::new(f)).map_err(|e| invalid(file, e))?;
    let mut bytes = Vec::new();
    // A cut-off final frame ends the read with an error; everything before it is kept.
    let mut buf = [0u8; 1 << 16];
    loop {
        match decoder.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
        }
    }
    let mut events = Vec::new();
    let mut rest: &[u8] = &bytes;
    while !rest.is_empty() {
        match cbor4ii::serde::from_reader::<TraceLowLevelEvent, _>(&mut rest) {
            Ok(e) => events.push(e),
            Err(_) => break,
        }
    }
    Ok(events)
}
