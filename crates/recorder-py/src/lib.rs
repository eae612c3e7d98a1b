//! `codetracer-recorder-py`: the native core of codetracer-python-recorder.
//!
//! Module wiring only: [`runtime`] turns sys.monitoring events into trace records,
//! [`session`] owns the recording lifecycle, [`errors`] the error model, [`policy_ffi`] the
//! process-wide policy, [`python_api`] the functions exposed to Python, [`reading`] reading traces back, [`io_api`]/[`io_proxy`]/[`tty_input`]/[`fd_capture`] IO capture, [`logging`] the bridge
//! to Python's `logging`, [`failure_injection`] the test-only fault hooks.

pub mod errors;
pub mod failure_injection;
pub mod fd_capture;
pub mod io_api;
pub mod io_proxy;
pub mod json_py;
pub mod logging;
pub mod policy_ffi;
pub mod python_api;
pub mod reading;
pub mod runtime;
pub mod session;
pub mod tty_input;

use codetracer_trace_stream::{dir, TraceFormat};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The names of a trace directory's files, from the trace-stream crate (the one place they
/// are spelled): `EVENTS_FILES` (`{format: file name}`), `METADATA_FILE`, `PATHS_FILE`.
fn add_file_names(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let events = PyDict::new(m.py());
    for format in TraceFormat::ALL {
        events.set_item(format.name(), format.events_file_name())?;
    }
    m.add("EVENTS_FILES", events)?;
    m.add("METADATA_FILE", dir::METADATA)?;
    m.add("PATHS_FILE", dir::PATHS)?;
    Ok(())
}

/// The `codetracer_python_recorder_core._native` extension module.
#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "ENV_CHILD_SESSION",
        codetracer_policy::env::ENV_CHILD_SESSION,
    )?;
    logging::init(m.py())?;
    errors::register(m)?;
    m.add_function(wrap_pyfunction!(python_api::start_tracing, m)?)?;
    m.add_function(wrap_pyfunction!(python_api::stop_tracing, m)?)?;
    m.add_function(wrap_pyfunction!(python_api::flush_tracing, m)?)?;
    m.add_function(wrap_pyfunction!(python_api::sync_trace, m)?)?;
    m.add_function(wrap_pyfunction!(python_api::end_series, m)?)?;
    m.add_function(wrap_pyfunction!(python_api::is_tracing, m)?)?;
    m.add_function(wrap_pyfunction!(python_api::before_fork, m)?)?;
    m.add_function(wrap_pyfunction!(python_api::after_fork_in_parent, m)?)?;
    m.add_function(wrap_pyfunction!(python_api::after_fork_in_child, m)?)?;
    m.add_function(wrap_pyfunction!(python_api::active_trace_dir, m)?)?;
    m.add_function(wrap_pyfunction!(python_api::child_session_env, m)?)?;
    m.add_function(wrap_pyfunction!(python_api::start_child_tracing, m)?)?;
    m.add_function(wrap_pyfunction!(reading::read_trace, m)?)?;
    m.add_function(wrap_pyfunction!(reading::iter_trace, m)?)?;
    m.add_class::<reading::TraceIterator>()?;
    m.add_function(wrap_pyfunction!(python_api::build_info, m)?)?;
    m.add_function(wrap_pyfunction!(io_api::io_capture_mode, m)?)?;
    m.add_class::<io_proxy::StreamTap>()?;
    m.add_function(wrap_pyfunction!(tty_input::set_input_audit, m)?)?;
    m.add_function(wrap_pyfunction!(io_api::start_fd_capture, m)?)?;
    m.add_function(wrap_pyfunction!(io_api::stop_fd_capture, m)?)?;
    m.add_function(wrap_pyfunction!(io_api::fd_capture_after_fork, m)?)?;
    m.add_function(wrap_pyfunction!(policy_ffi::configure_policy, m)?)?;
    m.add_function(wrap_pyfunction!(policy_ffi::configure_policy_from_env, m)?)?;
    m.add_function(wrap_pyfunction!(policy_ffi::policy_snapshot, m)?)?;
    session::fork::register_hooks(m)?;
    m.add_function(wrap_pyfunction!(policy_ffi::resolve_policy, m)?)?;
    m.add_function(wrap_pyfunction!(policy_ffi::session_env, m)?)?;
    m.add_function(wrap_pyfunction!(policy_ffi::session_env_names, m)?)?;
    m.add_function(wrap_pyfunction!(logging::open_log_file, m)?)?;
    m.add_function(wrap_pyfunction!(logging::python_log_level, m)?)?;
    m.add_function(wrap_pyfunction!(python_api::normalize_format, m)?)?;
    m.add_function(wrap_pyfunction!(errors::new_error, m)?)?;
    add_file_names(m)?;
    Ok(())
}
