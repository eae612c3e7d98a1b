//! The `#[pyfunction]`s of `_native` that drive a recording: argument conversion around
//! [`crate::session`]. No recording logic lives here (reading traces: [`crate::reading`]).

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::errors::RecorderFailure;
use crate::json_py::json_to_py;
use crate::policy_ffi;
use crate::runtime::ffi_str::escaped_text;
use crate::session::{self, StartRequest};
use codetracer_policy::process_env;
use codetracer_trace_filter::TestFramework;
use codetracer_trace_stream::format::FORMAT_NAMES;
use codetracer_trace_stream::TraceFormat;

/// Starts recording into the trace directory `path`. `program` and `args` may hold text
/// that is not valid UTF-8 (surrogate-escaped, as Python holds such a file name or
/// argument): it is recorded with the escapes Python shows (`\udcff`).
#[pyfunction]
#[pyo3(signature = (path, format, activation_path=None, *, program=None, args=None, trace_filter=None, policy=None, apply_env_policy=true, test_framework=None, durable=true, series=false))]
#[allow(clippy::too_many_arguments)]
pub fn start_tracing(
    py: Python<'_>,
    path: PathBuf,
    format: &str,
    activation_path: Option<PathBuf>,
    program: Option<Bound<'_, PyString>>,
    args: Option<Vec<Bound<'_, PyString>>>,
    trace_filter: Option<Vec<String>>,
    policy: Option<Bound<'_, PyDict>>,
    apply_env_policy: bool,
    test_framework: Option<String>,
    durable: bool,
    series: bool,
) -> PyResult<()> {
    let program = program.as_ref().map(escaped_text).transpose()?;
    let args = args
        .iter()
        .flatten()
        .map(escaped_text)
        .collect::<PyResult<Vec<String>>>()?;
    let run = || -> Result<(), RecorderFailure> {
        let format = TraceFormat::parse(format)?;
        let test_framework = match test_framework.as_deref() {
            None => None,
            Some(name) => Some(TestFramework::from_name(name).ok_or_else(|| {
                RecorderFailure::usage(
                    crate::errors::codes::INVALID_FILTER,
                    format!("unknown test framework {name:?}; accepted: pytest, unittest"),
                )
            })?),
        };
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
                args,
                policy,
                trace_filter: trace_filter.unwrap_or_default(),
                env_filter: if apply_env_policy {
                    process_env::session()
                        .trace_filter
                        .map(|s| s.to_string_lossy().into_owned())
                } else {
                    None
                },
                filter_dir: None,
                parent: None,
                test_framework,
                durable,
                series,
            },
        )
    };
    crate::errors::catch_panic("start", run).map_err(|e| e.into_pyerr(py))
}

/// Stops recording; returns a summary dict, or `None` when nothing was recording. `error` (a
/// traceback) may name files that are not valid UTF-8: see [`start_tracing`].
///
/// `extra_metadata` is a JSON object (as text) whose fields are added to the top level of
/// `trace_metadata.json` (the pytest plugin's `pytest` block).
#[pyfunction]
#[pyo3(signature = (exit_code=None, error=None, *, extra_metadata=None))]
pub fn stop_tracing(
    py: Python<'_>,
    exit_code: Option<i64>,
    error: Option<Bound<'_, PyString>>,
    extra_metadata: Option<String>,
) -> PyResult<Option<Py<PyAny>>> {
    let error = error.as_ref().map(escaped_text).transpose()?;
    let extra = match extra_metadata
        .as_deref()
        .map(serde_json::from_str::<serde_json::Value>)
    {
        None => serde_json::Map::new(),
        Some(Ok(serde_json::Value::Object(map))) => map,
        Some(_) => {
            return Err(RecorderFailure::usage(
                crate::errors::codes::INVALID_POLICY_VALUE,
                "extra_metadata must be the text of a JSON object",
            )
            .into_pyerr(py))
        }
    };
    let Some(report) = session::stop(py, exit_code, error, extra).map_err(|e| e.into_pyerr(py))?
    else {
        return Ok(None);
    };
    let summary = serde_json::json!({
        "trace_dir": report.dir.display().to_string(),
        "format": report.format.name(),
        "events": report.summary.events,
        "steps": report.summary.steps,
        "bytes": report.summary.bytes,
        "values": report.summary.values.to_json(),
        "seconds": report.seconds,
        "activation": report.summary.activation,
        "activation_skipped": report.summary.activation_skipped,
        "files": report.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "libraries_skipped": report
            .summary
            .filter
            .pointer("/stats/libraries_skipped")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0),
        "disabled": report.disabled_by.as_ref().map(|f| serde_json::json!({
            "code": f.code, "kind": f.kind.as_str(), "message": f.message,
        })),
    });
    json_to_py(py, &summary).map(Some)
}

/// Ends a series of recordings (started with `series=True`): the tracer left installed, idle,
/// by its last recording is uninstalled and its tool id freed. Nothing happens without one.
#[pyfunction]
pub fn end_series(py: Python<'_>) {
    session::series::end(py);
}

/// Makes the files of the (stopped) trace in `path`, of `format`, durable now: for a trace
/// recorded with `durable=False` that turned out to matter (a failed test's).
#[pyfunction]
pub fn sync_trace(py: Python<'_>, path: PathBuf, format: &str) -> PyResult<()> {
    let run = || -> Result<(), RecorderFailure> {
        let format = TraceFormat::parse(format)?;
        Ok(codetracer_trace_stream::TraceDir::new(&path, format).sync_files()?)
    };
    run().map_err(|e| e.into_pyerr(py))
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

/// `normalize_format(name, source="format")`: the canonical name of the trace format `name`
/// (case and spaces ignored, aliases accepted: the one table is the trace-stream crate's).
/// `source` says where the value came from (`--format`, `CODETRACER_FORMAT`) in the error.
///
/// # Errors
/// `UsageError` (`ERR_UNSUPPORTED_FORMAT`) for anything else, a non-`str` included.
#[pyfunction]
#[pyo3(signature = (name, source="format"))]
pub fn normalize_format(
    py: Python<'_>,
    name: &Bound<'_, PyAny>,
    source: &str,
) -> PyResult<&'static str> {
    let text = name.cast::<PyString>().ok().map(escaped_text).transpose()?;
    if let Some(format) = text.as_deref().and_then(|t| TraceFormat::parse(t).ok()) {
        return Ok(format.name());
    }
    let shown = match &text {
        Some(t) => format!("'{t}'"),
        None => name
            .repr()
            .map_or_else(|_| "?".to_owned(), |r| r.to_string()),
    };
    // The canonical names, in the table's order (`binary, json`).
    let names: Vec<&str> = FORMAT_NAMES
        .iter()
        .filter(|(n, f)| *n == f.name())
        .map(|(n, _)| *n)
        .collect();
    Err(RecorderFailure::usage(
        crate::errors::codes::UNSUPPORTED_FORMAT,
        format!(
            "unsupported trace format {shown} (from {source}); use one of: {}",
            names.join(", ")
        ),
    )
    .with("format", text.unwrap_or(shown))
    .with("source", source)
    .into_pyerr(py))
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
