//! The trace directory: the name of every file in it (one constant each), its layout
//! ([`TraceDir`]), preparing it for a recording, atomic writes of its small JSON files and
//! cleanup of a failed recording. Every file is created by [`crate::create`]: never through
//! a planted symlink, with the trace's mode (private by default).

use std::fs;
use std::path::{Path, PathBuf};

use crate::create::{create_dirs, write_replacing_with, PRIVATE_FILE_MODE};
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
    /// The trace directory (a symlink given as the directory is resolved once, here).
    pub dir: PathBuf,
    /// `trace.bin`, `trace.json` or `trace.ct`.
    pub events: PathBuf,
    /// `trace_metadata.json`.
    pub metadata: PathBuf,
    /// `trace_paths.json`.
    pub paths: PathBuf,
    /// The mode of the files created (directories get [`crate::create::dir_mode`] of it).
    pub mode: u32,
    /// The symlink the directory was given as, when it was one (`dir` is its target).
    pub symlink: Option<PathBuf>,
    /// Whether each small JSON file is synced before it replaces the last one (default).
    /// `false` for many short traces in one process (one per test), made durable, when
    /// wanted, by [`TraceDir::sync_files`] at the end.
    pub durable: bool,
}

impl TraceDir {
    /// The layout of `dir` for `format`, private files (nothing is touched on disk).
    pub fn new(dir: &Path, format: TraceFormat) -> Self {
        Self {
            dir: dir.to_path_buf(),
            events: dir.join(format.events_file_name()),
            metadata: dir.join(METADATA),
            paths: dir.join(PATHS),
            mode: PRIVATE_FILE_MODE,
            symlink: None,
            durable: true,
        }
    }

    /// [`TraceDir::prepare_with_mode`] with private files (`0600`, directories `0700`).
    pub fn prepare(dir: &Path, format: TraceFormat) -> Result<Self> {
        Self::prepare_with_mode(dir, format, PRIVATE_FILE_MODE)
    }

    /// Creates `dir` if needed (missing directories get the directory mode of `mode`; an
    /// existing one keeps its own) and checks it can hold a trace whose files get `mode`. The
    /// layout's paths are absolute (resolved against the current directory now).
    /// A `dir` that is a symlink is resolved once: the trace goes to its target, which must
    /// be an existing directory (a dangling link is never followed to create one), and
    /// [`TraceDir::symlink`] records the link. Removes a stale events file of another
    /// format: CodeTracer opens a `.ct` before `trace.json` before `trace.bin`, so two must
    /// never be there at once.
    pub fn prepare_with_mode(dir: &Path, format: TraceFormat, mode: u32) -> Result<Self> {
        let conflict = |why: &str| {
            TraceStreamError::new(
                ErrorKind::DirConflict,
                format!(
                    "the trace directory {} {why}; remove it or choose another --trace-dir",
                    dir.display()
                ),
            )
            .at(dir)
        };
        let (target, symlink) = match fs::symlink_metadata(dir) {
            Ok(meta) if meta.is_symlink() => match fs::canonicalize(dir) {
                Ok(target) if target.is_dir() => (target, Some(dir.to_path_buf())),
                Ok(_) => {
                    return Err(conflict(
                        "is a symbolic link to something that is not a directory",
                    ))
                }
                Err(_) => {
                    return Err(conflict(
                        "is a symbolic link to a directory that does not exist",
                    ))
                }
            },
            Ok(meta) if !meta.is_dir() => return Err(conflict("exists and is not a directory")),
            // Absolute: a program that changes its directory still writes its trace here.
            _ => (
                std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()),
                None,
            ),
        };
        create_dirs(&target, mode).map_err(|e| {
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
            let stale = target.join(other.events_file_name());
            // A file, or a symlink (removed, never followed).
            if fs::symlink_metadata(&stale).is_ok_and(|m| !m.is_dir()) {
                fs::remove_file(&stale)
                    .map_err(|e| TraceStreamError::io("cannot remove the stale", &stale, e))?;
            }
        }
        let mut layout = Self::new(&target, format);
        layout.mode = mode;
        layout.symlink = symlink;
        Ok(layout)
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
        self.write_file_json(&self.paths, &serde_json::json!(list))
    }

    /// Writes one of the layout's JSON files atomically with the layout's mode, synced when
    /// the layout is [`TraceDir::durable`].
    pub fn write_file_json(&self, path: &Path, value: &serde_json::Value) -> Result<()> {
        write_replacing_with(path, &json_bytes(path, value)?, self.mode, self.durable)
    }

    /// Makes the files of the layout that exist, and the directory entry naming them,
    /// durable now (for a layout that was not [`TraceDir::durable`]).
    pub fn sync_files(&self) -> Result<()> {
        for file in self.existing_files() {
            fs::File::open(&file)
                .and_then(|f| f.sync_data())
                .map_err(|e| TraceStreamError::io("cannot sync", &file, e))?;
        }
        sync_dir(&self.dir).map_err(|e| TraceStreamError::io("cannot sync", &self.dir, e))
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(()) // directories cannot be opened for syncing there
}

/// Writes `value` as pretty JSON to `path` atomically, as a private file: see
/// [`write_json`].
pub fn write_json_atomic(path: &Path, value: &serde_json::Value) -> Result<()> {
    write_json(path, value, PRIVATE_FILE_MODE)
}

/// Writes `value` as pretty JSON to `path` atomically with file mode `mode`: into a new
/// temporary sibling with an unpredictable name, synced, then renamed over `path` (see
/// [`crate::create::write_replacing`]), so a reader never sees a half-written file and a
/// planted symlink is never written through.
pub fn write_json(path: &Path, value: &serde_json::Value, mode: u32) -> Result<()> {
    write_replacing_with(path, &json_bytes(path, value)?, mode, true)
}

/// `value` as pretty JSON text ending in a newline (`path` names it in an error).
fn json_bytes(path: &Path, value: &serde_json::Value) -> Result<Vec<u8>> {
    let mut text = serde_json::to_vec_pretty(value).map_err(|e| {
        TraceStreamError::new(
            ErrorKind::Encode,
            format!("cannot serialise {}: {e}", path.display()),
        )
    })?;
    text.push(b'\n');
    Ok(text)
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
    fn a_layout_that_is_not_durable_writes_the_same_files_and_syncs_them_on_demand() {
        let tmp = tempfile::tempdir().unwrap();
        let mut layout = TraceDir::prepare(tmp.path(), TraceFormat::Binary).unwrap();
        layout.durable = false;
        layout.write_paths(&["a.py".into()]).unwrap();
        let text = fs::read_to_string(&layout.paths).unwrap();
        assert_eq!(
            serde_json::from_str::<Vec<String>>(&text).unwrap(),
            ["a.py"]
        );
        let names: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from(PATHS)]);
        layout.sync_files().unwrap();
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

    #[cfg(unix)]
    #[test]
    fn a_directory_symlink_is_resolved_once_and_a_dangling_one_refused() {
        use std::os::unix::fs::symlink;
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        fs::create_dir(&real).unwrap();
        let link = tmp.path().join("link");
        symlink(&real, &link).unwrap();
        let layout = TraceDir::prepare(&link, TraceFormat::Binary).unwrap();
        assert_eq!(layout.dir, real.canonicalize().unwrap());
        assert_eq!(layout.symlink.as_deref(), Some(link.as_path()));
        assert_eq!(layout.events, layout.dir.join(EVENTS_BINARY));

        let dangling = tmp.path().join("dangling");
        symlink(tmp.path().join("nowhere"), &dangling).unwrap();
        let err = TraceDir::prepare(&dangling, TraceFormat::Binary).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::DirConflict);
        assert!(!tmp.path().join("nowhere").exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_stale_events_symlink_is_removed_not_followed() {
        use std::os::unix::fs::symlink;
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim");
        fs::write(&victim, "precious").unwrap();
        let dir = tmp.path().join("t");
        fs::create_dir(&dir).unwrap();
        symlink(&victim, dir.join(EVENTS_JSON)).unwrap();
        TraceDir::prepare(&dir, TraceFormat::Binary).unwrap();
        assert!(fs::symlink_metadata(dir.join(EVENTS_JSON)).is_err());
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
    }
}
