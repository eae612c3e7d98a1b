//! Traces of child processes: a process recorded because its parent was writes a complete
//! trace directory of its own at `PARENT/children/<pid>-<n>/` — `pid` its process id, `n`
//! the smallest number from 1 not taken yet (a pid reused by a later child, or a process that
//! `exec`s another recorded program, gets the next one). Grandchildren nest the same way
//! under their parent's directory.
//!
//! Directories are created exclusively, so two children never share one. A new recording
//! into `PARENT` first removes the child directories an earlier recording left there (only
//! entries named `<pid>-<n>`; anything else in `children/` is left alone).

use std::fs;
use std::io::ErrorKind as IoErrorKind;
use std::path::{Path, PathBuf};

use crate::error::{ErrorKind, Result, TraceStreamError};

/// The sub-directory of a trace directory that holds its children's traces.
pub const CHILDREN: &str = "children";

/// One child trace directory found under a parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildDir {
    /// The child's process id.
    pub pid: u32,
    /// The sequence number among directories of the same pid.
    pub n: u32,
    /// The directory.
    pub dir: PathBuf,
}

impl ChildDir {
    /// The directory's path relative to the parent's trace directory (`children/<pid>-<n>`).
    pub fn relative(&self) -> String {
        format!("{CHILDREN}/{}-{}", self.pid, self.n)
    }
}

fn parse_name(name: &str) -> Option<(u32, u32)> {
    let (pid, n) = name.split_once('-')?;
    Some((pid.parse().ok()?, n.parse().ok()?))
}

/// Creates a fresh directory for the trace of child `pid` of the trace in `parent`.
pub fn create_child_dir(parent: &Path, pid: u32) -> Result<PathBuf> {
    let root = parent.join(CHILDREN);
    fs::create_dir_all(&root).map_err(|e| {
        TraceStreamError::new(
            ErrorKind::DirCreate,
            format!("cannot create {}: {e}", root.display()),
        )
        .at(&root)
    })?;
    for n in 1..=u32::MAX {
        let dir = root.join(format!("{pid}-{n}"));
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == IoErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(TraceStreamError::new(
                    ErrorKind::DirCreate,
                    format!(
                        "cannot create the child trace directory {}: {e}",
                        dir.display()
                    ),
                )
                .at(&dir))
            }
        }
    }
    Err(TraceStreamError::new(
        ErrorKind::DirCreate,
        format!(
            "no free child trace directory for pid {pid} in {}",
            root.display()
        ),
    ))
}

/// The child trace directories under `parent`, ordered by pid, then `n`.
pub fn child_dirs(parent: &Path) -> Vec<ChildDir> {
    let Ok(entries) = fs::read_dir(parent.join(CHILDREN)) else {
        return Vec::new();
    };
    let mut found: Vec<ChildDir> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let (pid, n) = parse_name(entry.file_name().to_str()?)?;
            entry.file_type().ok()?.is_dir().then(|| ChildDir {
                pid,
                n,
                dir: entry.path(),
            })
        })
        .collect();
    found.sort_by_key(|c| (c.pid, c.n));
    found
}

/// Removes the child trace directories an earlier recording left in `parent` (and
/// `children/` itself when that leaves it empty).
pub fn clear_children(parent: &Path) -> Result<()> {
    for child in child_dirs(parent) {
        fs::remove_dir_all(&child.dir).map_err(|e| {
            TraceStreamError::io("cannot remove the old child trace", &child.dir, e)
        })?;
    }
    let _ = fs::remove_dir(parent.join(CHILDREN)); // fails when not empty: fine
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn child_dirs_are_numbered_per_pid_and_cleared() {
        let tmp = tempfile::tempdir().unwrap();
        let a = create_child_dir(tmp.path(), 41).unwrap();
        let b = create_child_dir(tmp.path(), 41).unwrap();
        let c = create_child_dir(tmp.path(), 7).unwrap();
        assert_eq!(a, tmp.path().join("children/41-1"));
        assert_eq!(b, tmp.path().join("children/41-2"));
        assert_eq!(c, tmp.path().join("children/7-1"));
        fs::create_dir(tmp.path().join("children/notes")).unwrap();
        let found = child_dirs(tmp.path());
        let names: Vec<String> = found.iter().map(ChildDir::relative).collect();
        assert_eq!(names, ["children/7-1", "children/41-1", "children/41-2"]);
        clear_children(tmp.path()).unwrap();
        assert!(child_dirs(tmp.path()).is_empty());
        assert!(tmp.path().join("children/notes").is_dir()); // not ours: kept
    }
}
