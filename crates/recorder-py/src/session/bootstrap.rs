//! Preparing a trace directory and writing `trace_metadata.json`.

use std::fs;
use std::path::Path;

use crate::errors::{codes, RecorderFailure};
use crate::runtime::output_paths::{write_json_atomic, OutputPaths};
use crate::runtime::writer::TraceFormat;

/// Creates `dir` if needed and checks it can hold a trace; removes a stale events file of the
/// other format (CodeTracer prefers `trace.json` over `trace.bin` when both exist).
pub fn prepare_trace_dir(dir: &Path, format: TraceFormat) -> Result<OutputPaths, RecorderFailure> {
    if dir.exists() && !dir.is_dir() {
        return Err(RecorderFailure::environment(
            codes::TRACE_DIR_CONFLICT,
            format!(
                "the trace directory {} exists and is not a directory; remove it or choose another --trace-dir",
                dir.display()
            ),
        )
        .with("path", dir.display().to_string()));
    }
    fs::create_dir_all(dir).map_err(|e| {
        RecorderFailure::environment(
            codes::TRACE_DIR_CREATE_FAILED,
            format!(
                "cannot create the trace directory {}: {e}; check the path and permissions",
                dir.display()
            ),
        )
        .with("path", dir.display().to_string())
    })?;
    let paths = OutputPaths::new(dir, format);
    let other = match format {
        TraceFormat::Binary => TraceFormat::Json,
        TraceFormat::Json => TraceFormat::Binary,
    };
    let stale = dir.join(other.events_file_name());
    if stale.is_file() {
        fs::remove_file(&stale)
            .map_err(|e| RecorderFailure::io("cannot remove the stale", &stale, e))?;
    }
    Ok(paths)
}

/// What `trace_metadata.json` says.
pub struct Metadata<'a> {
    /// The program recorded.
    pub program: &'a str,
    /// Its arguments.
    pub args: &'a [String],
    /// Exit status, once known.
    pub exit_status: Option<i64>,
    /// Events file format.
    pub format: TraceFormat,
    /// The `trace_filter` block, when filters are in use.
    pub trace_filter: Option<serde_json::Value>,
}

/// Writes `trace_metadata.json` atomically.
pub fn write_metadata(paths: &OutputPaths, meta: &Metadata<'_>) -> Result<(), RecorderFailure> {
    let workdir = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let mut value = serde_json::json!({
        "workdir": workdir,
        "program": meta.program,
        "args": meta.args,
        "process_exit_status": meta.exit_status,
        "format": meta.format.name(),
        "recorder": {
            "name": "codetracer-python-recorder",
            "version": env!("CARGO_PKG_VERSION"),
            "target_script": meta.program,
        },
    });
    if let (Some(filter), Some(obj)) = (&meta.trace_filter, value.as_object_mut()) {
        obj.insert("trace_filter".into(), filter.clone());
    }
    write_json_atomic(&paths.metadata, &value)
}
