//! The logging bridge: Rust `log` records reach Python's `logging` through `pyo3-log`.
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

use codetracer_policy::LogLevel;
use log::{LevelFilter, Log, Metadata, Record};
use pyo3::prelude::*;
use pyo3_log::{Caching, Logger};

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
