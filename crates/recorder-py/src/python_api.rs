//! The `#[pyfunction]`s of `_native` that drive a recording: argument conversion around
//! [`crate::session`]. No recording logic lives here (reading traces: [`crate::reading`]).

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::RecorderFailure;
use crate::json_py::json_to_py;
use crate::policy_ffi;
use crate::session::{self, StartRequest};
use codetracer_trace_stream::TraceFormat;

/// Starts recording into the trace directory `path`.
#[pyfunction]
#[pyo3(signature = (path, format, activation_path=None, *, program=None, args=None, trace_filter=None, policy=None, apply_env_policy=true))]
#[allow(clippy::too_many_arguments)]
pub fn start_tracing(
    py: Python<'_>,
    path: PathBuf,
    format: &str,
    activation_path: Option<PathBuf>,
    program: Option<String>,
    args: Option<Vec<String>>,
    trace_filter: Option<Vec<String>>,
    policy: Option<Bound<'_, PyDict>>,
    apply_env_policy: bool,
) -> PyResult<()> {
    let run = || -> Result<(), RecorderFailure> {
        let format = TraceFormat::parse(format)?;
        let explicit = policy_ffi::update_from_kwargs(policy.as_ref())?;
        let policy = policy_ffi::effective(apply_env_policy, explicit)?;
        let program = program.unwrap_or_else(|| {
            activation_path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "<python>".to_owned())
        });
        session::start(
            py,
            StartRequest {
                dir: path,
                format,
                activation_path,
                program,
                args: args.unwrap_or_default(),
                policy,
                trace_filter: trace_filter.unwrap_or_default(),
                env_filter: if apply_env_policy {
                    std::env::var(codetracer_policy::env::ENV_TRACE_FILTER)
                        .ok()
                        .filter(|s| !s.trim().is_empty())
                } else {
                    None
                },
                filter_dir: None,
                parent: None,
            },
        )
    };
    crate::errors::catch_panic("start", run).map_err(|e| e.into_pyerr(py))
}

/// Stops recording; returns a summary dict, or `None` when nothing was recording.
#[pyfunction]
#[pyo3(signature = (exit_code=None, error=None))]
pub fn stop_tracing(
    py: Python<'_>,
    exit_code: Option<i64>,
    error: Option<String>,
) -> PyResult<Option<Py<PyAny>>> {
    let Some(report) = session::stop(py, exit_code, error).map_err(|e| e.into_pyerr(py))? else {
        return Ok(None);
    };
    let summary = serde_json::json!({
        "trace_dir": report.dir.display().to_string(),
        "format": report.format.name(),
        "events": report.summary.events,
        "steps": report.summary.steps,
        "bytes": report.summary.bytes,
        "seconds": report.seconds,
        "files": report.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "disabled": report.disabled_by.as_ref().map(|f| serde_json::json!({
            "code": f.code, "kind": f.kind.as_str(), "message": f.message,
        })),
    });
    json_to_py(py, &summary).map(Some)
}

/// Pushes everything recorded so far to the trace files.
#[pyfunction]
pub fn flush_tracing(py: Python<'_>) -> PyResult<()> {
    session::flush(py).map_err(|e| e.into_pyerr(py))
}

/// Whether a recording is running.
#[pyfunction]
pub fn is_tracing(py: Python<'_>) -> bool {
    session::is_tracing(py)
}

/// `os.register_at_fork(before=...)`: parks the recorder's writer thread, so the process
/// forks without it.
#[pyfunction]
pub fn before_fork(py: Python<'_>) {
    session::fork::before_fork(py);
}

/// `os.register_at_fork(after_in_parent=...)`: restarts the writer thread.
#[pyfunction]
pub fn after_fork_in_parent(py: Python<'_>) {
    session::fork::after_fork_in_parent(py);
}

/// `os.register_at_fork(after_in_child=...)`: drops the recording inherited from the parent
/// (nothing is written to the parent's files) and, when the parent follows its children,
/// starts the child's own (not in the child of a `subprocess` `preexec_fn`, which execs). A
/// failure to start is one line on stderr; the child runs untraced.
#[pyfunction]
pub fn after_fork_in_child(py: Python<'_>) {
    let record = !session::fork::forked_by_subprocess(py);
    if let Err(e) =
        crate::errors::catch_panic("fork", || session::fork::after_fork_in_child(py, record))
    {
        eprintln!(
            "codetracer: error[{}]: {} (in the forked child {}, which runs untraced)",
            e.code,
            e.message,
            std::process::id()
        );
    }
}

/// The trace directory of the active recording (`None`: nothing is recording).
#[pyfunction]
pub fn active_trace_dir() -> Option<String> {
    session::active_dir().map(|d| d.display().to_string())
}

/// The value of `ENV_CHILD_SESSION` that tells this recording's child processes where and
/// whether to record, or `None` when nothing is recording.
#[pyfunction]
pub fn child_session_env() -> Option<String> {
    session::child_session_value()
}

/// Starts the recording of a child process described by `value` (the parent's
/// `CODETRACER_CHILD_SESSION`); returns its trace directory and format, or `None` when the
/// parent does not follow its children.
#[pyfunction]
#[pyo3(signature = (value, *, program, args))]
pub fn start_child_tracing(
    py: Python<'_>,
    value: &str,
    program: String,
    args: Vec<String>,
) -> PyResult<Option<(String, &'static str)>> {
    let run = || -> Result<Option<(String, &'static str)>, RecorderFailure> {
        // The parent's policy and filters, as they were in effect there (flags included).
        let Some((request, parent)) = session::children::child_request(value, program, args)?
        else {
            return Ok(None);
        };
        let format = request.format.name();
        let dir = session::start_child(py, request, parent)?;
        Ok(Some((dir.display().to_string(), format)))
    };
    crate::errors::catch_panic("start", run).map_err(|e| e.into_pyerr(py))
}

/// Facts about this build of the native module.
#[pyfunction]
pub fn build_info(py: Python<'_>) -> PyResult<Py<PyAny>> {
    let info = serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
        "python_build": format!("{}.{}", py.version_info().major, py.version_info().minor),
        "trace_types": "0.16.3",
        "pyo3": "0.30.1",
        "failure_injection": cfg!(feature = "failure-injection"),
    });
    json_to_py(py, &info)
}
