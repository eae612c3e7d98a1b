//! The recorder's error model: one Rust error type with stable codes, converted once into the
//! Python exception hierarchy `RecorderError` → `UsageError` / `EnvironmentError` /
//! `TargetError` / `InternalError`.
//!
//! Every error carries a stable code (`ERR_…`), a kind (which Python class it becomes), a
//! message that says what to do, and a small string→string context map. The Python exception
//! gets the same three as attributes `code`, `kind` and `context`.

use std::collections::BTreeMap;
use std::fmt;

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;

create_exception!(
    codetracer_python_recorder_core,
    RecorderError,
    PyException,
    "Base class of every error raised by the recorder; has `code`, `kind` and `context`."
);
create_exception!(
    codetracer_python_recorder_core,
    UsageError,
    RecorderError,
    "The recorder was used wrongly (bad argument, bad filter or policy value, started twice)."
);
create_exception!(
    codetracer_python_recorder_core,
    EnvironmentError,
    RecorderError,
    "The environment prevents recording (trace directory, disk, tool id in use)."
);
create_exception!(
    codetracer_python_recorder_core,
    TargetError,
    RecorderError,
    "The traced program did something the recorder cannot follow."
);
create_exception!(
    codetracer_python_recorder_core,
    InternalError,
    RecorderError,
    "A bug in the recorder (including a caught panic). Please report it."
);

/// Which Python exception class an error becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// `UsageError`.
    Usage,
    /// `EnvironmentError`.
    Environment,
    /// `TargetError`.
    Target,
    /// `InternalError`.
    Internal,
}

impl ErrorKind {
    /// The lower-case name exposed as the exception's `kind` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Usage => "usage",
            ErrorKind::Environment => "environment",
            ErrorKind::Target => "target",
            ErrorKind::Internal => "internal",
        }
    }
}

/// Stable error codes (the contract with users and tools; never renumber or rename). The
/// codes shared with other recorders live in `codetracer-policy`; the last one is specific
/// to this recorder's Python API (`read_trace`).
pub mod codes {
    use codetracer_policy::error_codes as shared;

    /// The trace directory exists but is not a directory (or holds something in the way).
    pub const TRACE_DIR_CONFLICT: &str = shared::ERR_TRACE_DIR_CONFLICT;
    /// The trace directory could not be created.
    pub const TRACE_DIR_CREATE_FAILED: &str = shared::ERR_TRACE_DIR_CREATE_FAILED;
    /// The requested trace format is not one we write.
    pub const UNSUPPORTED_FORMAT: &str = shared::ERR_UNSUPPORTED_FORMAT;
    /// A policy value (argument or environment variable) is invalid.
    pub const INVALID_POLICY_VALUE: &str = shared::ERR_INVALID_POLICY_VALUE;
    /// A trace filter could not be loaded.
    pub const INVALID_FILTER: &str = shared::ERR_INVALID_FILTER;
    /// Reading or writing a file failed.
    pub const IO: &str = shared::ERR_IO;
    /// `require_trace` was set but nothing was recorded.
    pub const TRACE_MISSING: &str = shared::ERR_TRACE_MISSING;
    /// A trace read strictly ends early.
    pub const TRACE_INCOMPLETE: &str = shared::ERR_TRACE_INCOMPLETE;
    /// A recording session is already active.
    pub const ALREADY_TRACING: &str = shared::ERR_ALREADY_TRACING;
    /// Every sys.monitoring tool id we could use is held by another tool.
    pub const TOOL_ID_IN_USE: &str = shared::ERR_TOOL_ID_IN_USE;
    /// A bug in the recorder.
    pub const INTERNAL: &str = shared::ERR_INTERNAL;
    /// The command line is wrong (the CLI's own usage errors).
    pub const USAGE: &str = shared::ERR_USAGE;
    /// The trace could not be read back.
    pub const INVALID_TRACE: &str = "ERR_INVALID_TRACE";
}

/// Every code of [`codes`] with the exception class it always becomes.
pub const CODE_KINDS: &[(&str, ErrorKind)] = &[
    (codes::TRACE_DIR_CONFLICT, ErrorKind::Environment),
    (codes::TRACE_DIR_CREATE_FAILED, ErrorKind::Environment),
    (codes::UNSUPPORTED_FORMAT, ErrorKind::Usage),
    (codes::INVALID_POLICY_VALUE, ErrorKind::Usage),
    (codes::INVALID_FILTER, ErrorKind::Usage),
    (codes::IO, ErrorKind::Environment),
    (codes::TRACE_MISSING, ErrorKind::Environment),
    (codes::TRACE_INCOMPLETE, ErrorKind::Environment),
    (codes::ALREADY_TRACING, ErrorKind::Usage),
    (codes::TOOL_ID_IN_USE, ErrorKind::Environment),
    (codes::INTERNAL, ErrorKind::Internal),
    (codes::USAGE, ErrorKind::Usage),
    (codes::INVALID_TRACE, ErrorKind::Usage),
];

/// An error of the recorder, before it becomes a Python exception.
#[derive(Debug, Clone)]
pub struct RecorderFailure {
    /// Stable code, one of [`codes`].
    pub code: &'static str,
    /// Which exception class.
    pub kind: ErrorKind,
    /// What happened and what to do, in one or two sentences.
    pub message: String,
    /// Extra facts (paths, values) for tools.
    pub context: BTreeMap<String, String>,
}

impl RecorderFailure {
    /// A new failure without context.
    pub fn new(code: &'static str, kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            code,
            kind,
            message: message.into(),
            context: BTreeMap::new(),
        }
    }

    /// A usage error.
    pub fn usage(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, ErrorKind::Usage, message)
    }

    /// An environment error.
    pub fn environment(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, ErrorKind::Environment, message)
    }

    /// An internal error (`ERR_INTERNAL`).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(codes::INTERNAL, ErrorKind::Internal, message)
    }

    /// An `ERR_IO` environment error about `path`.
    pub fn io(what: &str, path: &std::path::Path, err: impl fmt::Display) -> Self {
        Self::environment(
            codes::IO,
            format!(
                "{what} {}: {err}. Check the path, free disk space and permissions.",
                path.display()
            ),
        )
        .with("path", path.display().to_string())
    }

    /// Adds one context entry.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.context.insert(key.to_owned(), value.into());
        self
    }

    /// Converts into the matching Python exception, setting `code`, `kind` and `context`;
    /// its text (`str(exc)`) is the [`Display`](fmt::Display) form, `[CODE] message`.
    pub fn into_pyerr(self, py: Python<'_>) -> PyErr {
        let text = self.to_string();
        let err = match self.kind {
            ErrorKind::Usage => UsageError::new_err(text),
            ErrorKind::Environment => EnvironmentError::new_err(text),
            ErrorKind::Target => TargetError::new_err(text),
            ErrorKind::Internal => InternalError::new_err(text),
        };
        let value = err.value(py);
        let context = PyDict::new(py);
        for (k, v) in &self.context {
            // Setting items on a fresh dict of str cannot fail short of MemoryError; if it
            // does, the exception still carries code and message.
            let _ = context.set_item(k, v);
        }
        let _ = value.setattr("code", self.code);
        let _ = value.setattr("kind", self.kind.as_str());
        let _ = value.setattr("message", &self.message);
        let _ = value.setattr("context", context);
        err
    }
}

/// `[CODE] message`: the one text form of an error with its code (the message itself never
/// repeats the code; the CLI shows it as `codetracer: error[CODE]: message`).
impl fmt::Display for RecorderFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.code, self.message)
    }
}

impl std::error::Error for RecorderFailure {}

/// The trace-stream crate's errors, each with its stable code and exception class: the one
/// place they are translated.
impl From<codetracer_trace_stream::TraceStreamError> for RecorderFailure {
    fn from(err: codetracer_trace_stream::TraceStreamError) -> Self {
        use codetracer_trace_stream::ErrorKind as K;
        let failure = match err.kind() {
            K::UnsupportedFormat => Self::usage(codes::UNSUPPORTED_FORMAT, err.message()),
            K::DirConflict => Self::environment(codes::TRACE_DIR_CONFLICT, err.message()),
            K::DirCreate => Self::environment(codes::TRACE_DIR_CREATE_FAILED, err.message()),
            K::Io => Self::environment(
                codes::IO,
                format!(
                    "{}. Check the path, free disk space and permissions.",
                    err.message()
                ),
            ),
            K::InvalidTrace => Self::usage(codes::INVALID_TRACE, err.message()),
            K::Incomplete => Self::environment(
                codes::TRACE_INCOMPLETE,
                format!(
                    "{}; read it with strict=False to get the readable records",
                    err.message()
                ),
            ),
            K::Encode | K::Writer => Self::internal(err.message()),
        };
        match err.path() {
            Some(path) => failure.with("path", path.display().to_string()),
            None => failure,
        }
    }
}

/// Result alias of the recorder.
pub type RecorderResult<T> = Result<T, RecorderFailure>;

/// Runs `f`, turning a panic inside it into an `ERR_INTERNAL` failure about `what`: a panic
/// anywhere in the recorder becomes `InternalError`, never a crash or a `PanicException`.
pub fn catch_panic<T>(what: &str, f: impl FnOnce() -> RecorderResult<T>) -> RecorderResult<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "<non-string panic payload>".to_owned());
        Err(RecorderFailure::internal(format!(
            "the recorder panicked during {what}: {detail}. This is a bug; please report it."
        ))
        .with("panic", detail))
    })
}

/// `new_error(code, message, context=None)`: the exception of the stable `code` (its class,
/// `code`, `kind`, `message`, `context` and text set exactly as for the core's own errors), for
/// Python code that reports an error of its own (the CLI's usage errors).
///
/// # Errors
/// `ValueError` for a code that is not one of [`CODE_KINDS`].
#[pyfunction]
#[pyo3(signature = (code, message, context=None))]
pub fn new_error(
    py: Python<'_>,
    code: &str,
    message: &str,
    context: Option<BTreeMap<String, String>>,
) -> PyResult<Py<PyAny>> {
    let Some((code, kind)) = CODE_KINDS.iter().find(|(c, _)| *c == code) else {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "unknown recorder error code {code:?}"
        )));
    };
    let mut failure = RecorderFailure::new(code, *kind, message);
    failure.context = context.unwrap_or_default();
    Ok(failure.into_pyerr(py).into_value(py).into_any())
}

/// Registers the exception classes and the error codes (`ERR_…` constants) on the `_native`
/// module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    for (code, _) in CODE_KINDS {
        module.add(*code, *code)?;
    }
    module.add("RecorderError", py.get_type::<RecorderError>())?;
    module.add("UsageError", py.get_type::<UsageError>())?;
    module.add("EnvironmentError", py.get_type::<EnvironmentError>())?;
    module.add("TargetError", py.get_type::<TargetError>())?;
    module.add("InternalError", py.get_type::<InternalError>())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stable_code_has_one_exception_class() {
        for code in codetracer_policy::error_codes::ALL {
            assert!(CODE_KINDS.iter().any(|(c, _)| c == code), "{code}");
        }
        for (i, (code, _)) in CODE_KINDS.iter().enumerate() {
            assert!(CODE_KINDS[i + 1..].iter().all(|(c, _)| c != code), "{code}");
        }
    }
}
