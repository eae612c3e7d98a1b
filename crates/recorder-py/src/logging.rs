//! The logging bridge: Rust `log` records reach Python's `logging` through `pyo3-log`; and the
//! recorder's log file, opened by [`open_log_file`] without following a symlink.
//!
//! [`init`] runs once when `_native` is imported. Every record, whatever its Rust target
//! (`codetracer_recorder_py::session`, `codetracer_monitoring::install`, ...), is handed to
//! `pyo3-log` under the one target [`LOGGER_NAME`], so it is logged on the Python logger
//! `logging.getLogger("codetracer_python_recorder")` and applications configure the recorder's
//! logs the usual way (levels, handlers, `caplog`). The Rust module path, file and line stay on
//! the record.
//!
//! Two filters apply: the policy's `log_level` (the most verbose level the recorder emits at
//! all, applied with [`apply_level`] when a session starts; `warn` until then) and the Python
//! logger's own level. Logger objects are cached by `pyo3-log`, levels are not, so changing the
//! Python logger's level takes effect at once.

use std::path::PathBuf;

use codetracer_policy::LogLevel;
use log::{LevelFilter, Log, Metadata, Record};
use pyo3::prelude::*;
use pyo3_log::{Caching, Logger};

use crate::errors::RecorderFailure;

/// The Python logger every record of the recorder goes to.
pub const LOGGER_NAME: &str = "codetracer_python_recorder";

/// `pyo3-log`'s logger, with every record re-targeted to [`LOGGER_NAME`].
struct Retarget {
    inner: Logger,
}

impl Log for Retarget {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        let retargeted = Metadata::builder()
            .level(metadata.level())
            .target(LOGGER_NAME)
            .build();
        self.inner.enabled(&retargeted)
    }

    fn log(&self, record: &Record<'_>) {
        self.inner.log(
            &Record::builder()
                .args(*record.args())
                .level(record.level())
                .target(LOGGER_NAME)
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build(),
        );
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

/// Installs the bridge as the process's `log` logger. Another logger already installed
/// (an embedding application's) is left in place: the recorder then logs through it.
pub fn init(py: Python<'_>) -> PyResult<()> {
    let inner = Logger::new(py, Caching::Loggers)?.filter(LevelFilter::Trace);
    if log::set_boxed_logger(Box::new(Retarget { inner })).is_ok() {
        apply_level(LogLevel::default());
    }
    Ok(())
}

/// The `log` level filter of a policy `log_level`.
pub fn level_filter(level: LogLevel) -> LevelFilter {
    match level {
        LogLevel::Off => LevelFilter::Off,
        LogLevel::Error => LevelFilter::Error,
        LogLevel::Warn => LevelFilter::Warn,
        LogLevel::Info => LevelFilter::Info,
        LogLevel::Debug => LevelFilter::Debug,
        LogLevel::Trace => LevelFilter::Trace,
    }
}

/// Makes `level` the most verbose level the recorder emits (records above it are dropped in
/// Rust, before any Python call).
pub fn apply_level(level: LogLevel) {
    log::set_max_level(level_filter(level));
}

/// `python_log_level(level)`: the Python `logging` level of a policy `log_level` (`trace` is 5,
/// below `DEBUG`; `off` is above `CRITICAL`), so the CLI's handler lets exactly the recorder's
/// records through.
///
/// # Errors
/// `UsageError` (`ERR_INVALID_POLICY_VALUE`) for a level that is not one.
#[pyfunction]
pub fn python_log_level(py: Python<'_>, level: &str) -> PyResult<u32> {
    level
        .parse::<LogLevel>()
        .map(LogLevel::python_level)
        .map_err(|e| crate::policy_ffi::policy_failure(&e).into_pyerr(py))
}

/// `open_log_file(path, mode)`: opens the recorder's log file for appending and returns its
/// file descriptor (the caller owns it: `os.fdopen`). A missing file is created with `mode`
/// (the policy's `trace_mode`); an existing regular file is appended to; a symlink, or
/// anything that is not a regular file, is refused (`EnvironmentError`, `ERR_IO`) — the log is
/// never written through a link planted at its name.
#[pyfunction]
pub fn open_log_file(py: Python<'_>, path: PathBuf, mode: u32) -> PyResult<i64> {
    let file = codetracer_trace_stream::create::open_append(&path, mode)
        .map_err(|e| RecorderFailure::from(e).into_pyerr(py))?;
    Ok(into_descriptor(file))
}

#[cfg(unix)]
fn into_descriptor(file: std::fs::File) -> i64 {
    use std::os::unix::io::IntoRawFd;
    i64::from(file.into_raw_fd())
}

#[cfg(windows)]
fn into_descriptor(file: std::fs::File) -> i64 {
    use std::os::windows::io::IntoRawHandle;
    // A Windows HANDLE: Python wraps it with `msvcrt.open_osfhandle`.
    file.into_raw_handle() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_policy_level_maps_to_its_filter() {
        assert_eq!(level_filter(LogLevel::Off), LevelFilter::Off);
        assert_eq!(level_filter(LogLevel::Error), LevelFilter::Error);
        assert_eq!(level_filter(LogLevel::Warn), LevelFilter::Warn);
        assert_eq!(level_filter(LogLevel::Info), LevelFilter::Info);
        assert_eq!(level_filter(LogLevel::Debug), LevelFilter::Debug);
        assert_eq!(level_filter(LogLevel::Trace), LevelFilter::Trace);
    }
}
