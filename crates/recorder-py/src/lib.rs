//! `codetracer-recorder-py`: the native core of codetracer-python-recorder.
//!
//! Module wiring only: [`runtime`] turns sys.monitoring events into trace records,
//! [`session`] owns the recording lifecycle, [`errors`] the error model, [`policy_ffi`] the
//! process-wide policy, [`python_api`] the functions exposed to Python, [`reading`] reading traces back, [`logging`] the bridge
//! to Python's `logging`, [`failure_injection`] the test-only fault hooks.

pub mod errors;
pub mod failure_injection;
pub mod json_py;
pub mod logging;
pub mod policy_ffi;
pub mod python_api;
pub mod reading;
pub mod runtime;
pub mod session;

use pyo3::prelude::*;

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
    m.add_function(wrap_pyfunction!(policy_ffi::configure_policy, m)?)?;
    m.add_function(wrap_pyfunction!(policy_ffi::configure_policy_from_env, m)?)?;
    m.add_function(wrap_pyfunction!(policy_ffi::policy_snapshot, m)?)?;
    session::fork::register_hooks(m)?;
    Ok(())
}
