//! [`OutputPaths`]: the files of a trace directory, and atomic JSON writes for the small ones
//! (`trace_metadata.json`, `trace_paths.json`): written to a temporary sibling and renamed, so
//! a reader never sees a half-written file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::writer::TraceFormat;
use crate::errors::RecorderFailure;

/// The files of one trace directory.
#[derive(Debug, Clone)]
pub struct OutputPaths {
    /// The trace directory.
    pub dir: PathBuf,
    /// `trace.bin` or `trace.json`.
    pub events: PathBuf,
    /// `trace_metadata.json`.
    pub metadata: PathBuf,
    /// `trace_paths.json`.
    pub paths: PathBuf,
}

impl OutputPaths {
    /// The layout for `dir` and `format`.
    pub fn new(dir: &Path, format: TraceFormat) -> Self {
        Self {
            dir: dir.to_path_buf(),
            events: dir.join(format.events_file_name()),
            metadata: dir.join("trace_metadata.json"),
            paths: dir.join("trace_paths.json"),
        }
    }

    /// Every file of the layout (for cleanup and summaries).
    pub fn files(&self) -> [&Path; 3] {
        [&self.events, &self.metadata, &self.paths]
    }

    /// Removes the files this layout wrote (partial traces after a failure).
    pub fn remove_files(&self) {
        for f in self.files() {
            let _ = fs::remove_file(f);
        }
    }
}

/// Writes `value` as pretty JSON to `path` atomically.
pub fn write_json_atomic(path: &Path, value: &serde_json::Value) -> Result<(), RecorderFailure> {
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_vec_pretty(value).map_err(|e| {
        RecorderFailure::internal(format!("cannot serialise {}: {e}", path.display()))
    })?;
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&text)?;
        f.write_all(b"\n")?;
        f.sync_data()?;
        fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        RecorderFailure::io("cannot write", path, e)
    })
}

/// Writes `trace_paths.json` (the path table, index = `PathId`).
pub fn write_paths(paths: &OutputPaths, list: &[String]) -> Result<(), RecorderFailure> {
    write_json_atomic(&paths.paths, &serde_json::json!(list))
}
