//! [`TraceStreamError`]: every failure of writing or reading a trace directory, typed by what
//! the caller can do about it ([`ErrorKind`]), with the path involved and a message that says
//! what to do.

use std::fmt;
use std::path::{Path, PathBuf};

/// What went wrong, from the caller's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A format name that is not one of [`crate::TraceFormat`]'s.
    UnsupportedFormat,
    /// The trace directory path is taken by something that is not a directory.
    DirConflict,
    /// The trace directory could not be created.
    DirCreate,
    /// Reading or writing a file failed (disk full, permissions, ...).
    Io,
    /// The file is not a trace this crate can read.
    InvalidTrace,
    /// A trace read strictly ends early (a process killed mid-recording).
    Incomplete,
    /// A record could not be encoded (a bug, or a value serde rejects).
    Encode,
    /// The background writer thread failed or is gone.
    Writer,
}

/// An error of this crate.
#[derive(Debug, Clone)]
pub struct TraceStreamError {
    kind: ErrorKind,
    message: String,
    path: Option<PathBuf>,
}

/// Results of this crate.
pub type Result<T, E = TraceStreamError> = std::result::Result<T, E>;

impl TraceStreamError {
    /// A new error.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            path: None,
        }
    }

    /// Attaches the path the error is about.
    pub fn at(mut self, path: &Path) -> Self {
        self.path = Some(path.to_path_buf());
        self
    }

    /// An I/O error: `"{what} {path}: {err}"`.
    pub fn io(what: &str, path: &Path, err: impl fmt::Display) -> Self {
        Self::new(ErrorKind::Io, format!("{what} {}: {err}", path.display())).at(path)
    }

    /// A file that is not a readable trace.
    pub fn invalid(path: &Path, why: impl fmt::Display) -> Self {
        Self::new(
            ErrorKind::InvalidTrace,
            format!("cannot read the trace {}: {why}", path.display()),
        )
        .at(path)
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message (what happened and what to do).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The path involved, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

impl fmt::Display for TraceStreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TraceStreamError {}
