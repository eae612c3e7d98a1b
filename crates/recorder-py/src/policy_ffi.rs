//! The process-wide recorder policy and its Python functions: `configure_policy(**fields)`,
//! `configure_policy_from_env()`, `policy_snapshot()`, and `resolve_policy()` (the policy a
//! recording would use, for the CLI: it asks the core instead of parsing anything itself).
//!
//! The policy model, validation and environment parsing live in `codetracer-policy`; this
//! module only holds the current value and converts Python arguments into policy updates.

use std::sync::{Mutex, MutexGuard, PoisonError};

use codetracer_policy::{env, process_env, PolicyError, PolicyUpdate, RecorderPolicy, SessionVars};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{codes, RecorderFailure};
use crate::json_py::json_to_py;

static POLICY: Mutex<Option<RecorderPolicy>> = Mutex::new(None);

fn lock() -> MutexGuard<'static, Option<RecorderPolicy>> {
    POLICY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The current policy (defaults until configured).
pub fn current() -> RecorderPolicy {
    lock().clone().unwrap_or_default()
}

/// Converts a policy error into `UsageError(ERR_INVALID_POLICY_VALUE)`.
pub fn policy_failure(err: &PolicyError) -> RecorderFailure {
    RecorderFailure::usage(codes::INVALID_POLICY_VALUE, err.to_string())
}

/// A policy update from Python keyword arguments; values are converted to text and parsed by
/// the policy crate (so `True`, `"yes"`, `3`, `"3"` all work; an int `trace_mode` is taken as
/// the number it is, `0o640`, and an octal string as its digits, `"0640"`). `None` leaves a
/// field unset, except `log_file=None`, which means "back to stderr".
pub fn update_from_kwargs(
    fields: Option<&Bound<'_, PyDict>>,
) -> Result<PolicyUpdate, RecorderFailure> {
    let mut update = PolicyUpdate::new();
    let Some(fields) = fields else {
        return Ok(update);
    };
    for (key, value) in fields.iter() {
        let name: String = key.extract().map_err(|_| {
            RecorderFailure::usage(
                codes::INVALID_POLICY_VALUE,
                "policy field names must be strings",
            )
        })?;
        let is_mode = name.replace('-', "_").eq_ignore_ascii_case("trace_mode");
        let text = if value.is_none() {
            if name.replace('-', "_").eq_ignore_ascii_case("log_file") {
                String::new()
            } else {
                continue;
            }
        } else if let Ok(b) = value.extract::<bool>() {
            if b {
                "true".into()
            } else {
                "false".into()
            }
        } else if let (true, Ok(bits)) = (is_mode, value.extract::<u32>()) {
            format!("{bits:o}")
        } else {
            value.str().map(|s| s.to_string()).map_err(|e| {
                RecorderFailure::usage(
                    codes::INVALID_POLICY_VALUE,
                    format!("policy field {name}: {e}"),
                )
            })?
        };
        update
            .set_field(&name, &text)
            .map_err(|e| policy_failure(&e))?;
    }
    Ok(update)
}

/// The environment's policy update (`CODETRACER_*` variables).
pub fn update_from_env() -> Result<PolicyUpdate, RecorderFailure> {
    PolicyUpdate::from_env(process_env::vars()).map_err(|e| policy_failure(&e))
}

/// `session_env(environ=None)`: the session variables (`CODETRACER_TRACE`,
/// `CODETRACER_FORMAT`, `CODETRACER_TRACE_FILTER`) of `environ` (a mapping of `str`, default:
/// the process environment) as `{"trace", "format", "trace_filter"}`, each trimmed or `None`
/// when unset or blank — so Python never names or parses a variable itself.
#[pyfunction]
#[pyo3(signature = (environ=None))]
pub fn session_env(
    py: Python<'_>,
    environ: Option<&Bound<'_, pyo3::types::PyMapping>>,
) -> PyResult<Py<PyAny>> {
    let vars = match environ {
        None => process_env::session(),
        Some(mapping) => {
            let mut pairs: Vec<(std::ffi::OsString, std::ffi::OsString)> = Vec::new();
            for item in mapping.items()?.iter() {
                let (k, v): (std::ffi::OsString, std::ffi::OsString) = item.extract()?;
                pairs.push((k, v));
            }
            SessionVars::from_env(pairs)
        }
    };
    let out = PyDict::new(py);
    out.set_item("trace", vars.trace)?;
    out.set_item("format", vars.format)?;
    out.set_item("trace_filter", vars.trace_filter)?;
    Ok(out.into_any().unbind())
}

/// `session_env_names()`: the names of the session variables, keyed like `session_env()`.
#[pyfunction]
pub fn session_env_names(py: Python<'_>) -> PyResult<Py<PyAny>> {
    let out = PyDict::new(py);
    out.set_item("trace", env::ENV_TRACE)?;
    out.set_item("format", env::ENV_FORMAT)?;
    out.set_item("trace_filter", env::ENV_TRACE_FILTER)?;
    Ok(out.into_any().unbind())
}

/// The policy a session uses: the configured policy, then the environment (when asked),
/// then the session's explicit fields.
pub fn effective(
    apply_env: bool,
    explicit: PolicyUpdate,
) -> Result<RecorderPolicy, RecorderFailure> {
    let mut policy = current();
    if apply_env {
        policy
            .apply(update_from_env()?)
            .map_err(|e| policy_failure(&e))?;
    }
    policy.apply(explicit).map_err(|e| policy_failure(&e))?;
    Ok(policy)
}

/// `configure_policy(**fields)`: updates the process-wide policy (all or nothing).
#[pyfunction]
#[pyo3(signature = (**fields))]
pub fn configure_policy(py: Python<'_>, fields: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
    let update = update_from_kwargs(fields).map_err(|e| e.into_pyerr(py))?;
    let mut guard = lock();
    let mut policy = guard.clone().unwrap_or_default();
    policy
        .apply(update)
        .map_err(|e| policy_failure(&e).into_pyerr(py))?;
    *guard = Some(policy);
    Ok(())
}

/// `configure_policy_from_env()`: applies the `CODETRACER_*` variables to the policy.
#[pyfunction]
pub fn configure_policy_from_env(py: Python<'_>) -> PyResult<()> {
    let update = update_from_env().map_err(|e| e.into_pyerr(py))?;
    let mut guard = lock();
    let mut policy = guard.clone().unwrap_or_default();
    policy
        .apply(update)
        .map_err(|e| policy_failure(&e).into_pyerr(py))?;
    *guard = Some(policy);
    Ok(())
}

/// `policy_snapshot()`: the current policy as a dict.
#[pyfunction]
pub fn policy_snapshot(py: Python<'_>) -> PyResult<Py<PyAny>> {
    snapshot(py, &current())
}

/// `resolve_policy(policy=None, apply_env_policy=True)`: the policy a recording started now
/// with the fields `policy` would use (configured < environment < `policy`), as a dict like
/// `policy_snapshot()`. Changes nothing; a bad value raises `UsageError`
/// (`ERR_INVALID_POLICY_VALUE`) naming the field or variable.
#[pyfunction]
#[pyo3(signature = (policy=None, apply_env_policy=true))]
pub fn resolve_policy(
    py: Python<'_>,
    policy: Option<&Bound<'_, PyDict>>,
    apply_env_policy: bool,
) -> PyResult<Py<PyAny>> {
    let resolved = update_from_kwargs(policy)
        .and_then(|explicit| effective(apply_env_policy, explicit))
        .map_err(|e| e.into_pyerr(py))?;
    snapshot(py, &resolved)
}

/// A policy as the dict `policy_snapshot()` returns.
fn snapshot(py: Python<'_>, policy: &RecorderPolicy) -> PyResult<Py<PyAny>> {
    let value = serde_json::to_value(policy).map_err(|e| {
        RecorderFailure::internal(format!("cannot serialise the policy: {e}")).into_pyerr(py)
    })?;
    json_to_py(py, &value)
}
