//! The trace directory: the name of every file in it (one constant each), its layout
//! ([`TraceDir`]), preparing it for a recording, atomic writes of its small JSON files and
//! cleanup of a failed recording.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{ErrorKind, Result, TraceStreamError};
use crate::format::TraceFormat;

/// The events file of the binary format.
pub const EVENTS_BINARY: &str = "trace.bin";
/// The events file of the JSON format.
pub const EVENTS_JSON: &str = "trace.json";
/// The container of the CTFS format.
pub const EVENTS_CTFS: &str = "trace.ct";
/// The metadata file (`workdir`, `program`, `args`, exit status, recorder, ...).
pub const METADATA: &str = "trace_metadata.json";
/// The path table (index = `PathId`).
pub const PATHS: &str = "trace_paths.json";

/// The files of one trace directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceDir {
    /// The trace directory.
    pub dir: PathBuf,
    /// `trace.bin`, `trace.json` or `trace.ct`.
    pub events: PathBuf,
    /// `trace_metadata.json`.
    pub metadata: PathBuf,
    /// `trace_paths.json`.
    pub paths: PathBuf,
}

impl TraceDir {
    /// The layout of `dir` for `format` (nothing is touched on disk).
    pub fn new(dir: &Path, format: TraceFormat) -> Self {
        Self {
            dir: dir.to_path_buf(),
            events: dir.join(format.events_file_name()),
            metadata: dir.join(METADATA),
            paths: dir.join(PATHS),
        }
    }

    /// Creates `dir` if needed and checks it can hold a trace. Removes a stale events file
    /// of another format: CodeTracer opens a `.ct` before `trace.json` before `trace.bin`,
    /// so two must never be there at once.
    pub fn prepare(dir: &Path, format: TraceFormat) -> Result<Self> {
        if dir.exists() && !dir.is_dir() {
            return Err(TraceStreamError::new(
                ErrorKind::DirConflict,
                format!(
                    "the trace directory {} exists and is not a directory; remove it or choose another --trace-dir",
                    dir.display()
                ),
            )
            .at(dir));
        }
        fs::create_dir_all(dir).map_err(|e| {
            TraceStreamError::new(
                ErrorKind::DirCreate,
                format!(
                    "cannot create the trace directory {}: {e}; check the path and permissions",
                    dir.display()
                ),
            )
            .at(dir)
        })?;
        for other in TraceFormat::ALL.into_iter().filter(|f| *f != format) {
            let stale = dir.join(other.events_file_name());
            if stale.is_file() {
                fs::remove_file(&stale)
                    .map_err(|e| TraceStreamError::io("cannot remove the stale", &stale, e))?;
            }
        }
        Ok(Self::new(dir, format))
    }

    /// Every file of the layout.
    pub fn files(&self) -> [&Path; 3] {
        [&self.events, &self.metadata, &self.paths]
    }

    /// The files of the layout that exist.
    pub fn existing_files(&self) -> Vec<PathBuf> {
        self.files()
            .iter()
            .filter(|p| p.is_file())
            .map(|p| p.to_path_buf())
            .collect()
    }

    /// Removes the files of the layout (a failed recording's partial trace).
    pub fn remove_files(&self) {
        for f in self.files() {
            let _ = fs::remove_file(f);
        }
    }

    /// Writes `trace_paths.json` (the path table, index = `PathId`) atomically.
    pub fn write_paths(&self, list: &[String]) -> Result<()> {
        write_json_atomic(&self.paths, &serde_json::json!(list))
    }
}

/// Creates (or truncates) a file of the trace. The one place trace files are created.
pub(crate) fn create_file(path: &Path) -> Result<fs::File> {
    fs::File::create(path).map_err(|e| TraceStreamError::io("cannot create", path, e))
}

/// Writes `value` as pretty JSON to `path` atomically: into a temporary sibling, synced,
/// then renamed over `path`, so a reader never sees a half-written file.
pub fn write_json_atomic(path: &Path, value: &serde_json::Value) -> Result<()> {
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let text = serde_json::to_vec_pretty(value).map_err(|e| {
        TraceStreamError::new(
            ErrorKind::Encode,
            format!("cannot serialise {}: {e}", path.display()),
        )
    })?;
    let write = || -> Result<()> {
        let mut f = create_file(&tmp)?;
        let io = |e| TraceStreamError::io("cannot write", &tmp, e);
        f.write_all(&text).map_err(io)?;
        f.write_all(b"\n").map_err(io)?;
        f.sync_data().map_err(io)?;
        fs::rename(&tmp, path).map_err(|e| TraceStreamError::io("cannot write", path, e))
    };
    write().inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn prepare_creates_the_directory_and_removes_the_other_format() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        let layout = TraceDir::prepare(&dir, TraceFormat::Binary).unwrap();
        assert!(dir.is_dir());
        assert_eq!(layout.events, dir.join(EVENTS_BINARY));
        fs::write(dir.join(EVENTS_JSON), "[]").unwrap();
        TraceDir::prepare(&dir, TraceFormat::Binary).unwrap();
        assert!(!dir.join(EVENTS_JSON).exists());
    }

    #[test]
    fn prepare_refuses_a_file_in_the_way() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, "x").unwrap();
        let err = TraceDir::prepare(&file, TraceFormat::Json).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::DirConflict);
        assert_eq!(err.path(), Some(file.as_path()));
    }

    #[test]
    fn atomic_json_leaves_no_temporary_file() {
        let tmp = tempfile::tempdir().unwrap();
        let layout = TraceDir::new(tmp.path(), TraceFormat::Json);
        layout.write_paths(&["a.py".into(), "b.py".into()]).unwrap();
        let back: Vec<String> = serde_json::from_slice(&fs::read(&layout.paths).unwrap()).unwrap();
        assert_eq!(back, ["a.py", "b.py"]);
        let names: Vec<_> = fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
        layout.remove_files();
        assert!(layout.existing_files().is_empty());
    }
}
