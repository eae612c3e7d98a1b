//! Thin wrappers over the `sys.monitoring` functions: global and per-code-object ("local")
//! events, `restart_events`, callback registration and the `DISABLE` / `MISSING` sentinels.
//!
//! Code objects given to [`set_local_events`] are remembered (weakly) per tool so that
//! [`uninstall`](crate::uninstall) can clear their local events again.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyCode, PyModule, PyWeakrefMethods, PyWeakrefReference};

use crate::error::MonitoringError;
use crate::events::{EventSet, MonitoringEvents};
use crate::tool::ToolId;

static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
static DISABLE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static MISSING: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Code objects (by address) that were given local events, per tool; held weakly.
type LocalCodes = Mutex<BTreeMap<usize, Py<PyWeakrefReference>>>;
static LOCAL_CODES: [LocalCodes; ToolId::COUNT] =
    [const { Mutex::new(BTreeMap::new()) }; ToolId::COUNT];

/// The `sys.monitoring` module, imported once; [`MonitoringError::Unsupported`] before 3.12.
pub fn monitoring_module(py: Python<'_>) -> Result<&Bound<'_, PyModule>, MonitoringError> {
    let module = MODULE.get_or_try_init(py, || {
        let version = py.version_info();
        if (version.major, version.minor) < (3, 12) {
            return Err(MonitoringError::Unsupported {
                version: format!("{}.{}.{}", version.major, version.minor, version.patch),
            });
        }
        let sys = py.import("sys")?;
        let module = sys
            .getattr("monitoring")?
            .cast_into::<PyModule>()
            .map_err(PyErr::from)?;
        Ok::<_, MonitoringError>(module.unbind())
    })?;
    Ok(module.bind(py))
}

/// `sys.monitoring.DISABLE`, cached: return it from a callback to stop that event at that
/// code location (see [`CallbackOutcome::Disable`](crate::CallbackOutcome::Disable)).
pub fn disable_sentinel(py: Python<'_>) -> Result<&'static Py<PyAny>, MonitoringError> {
    DISABLE.get_or_try_init(py, || {
        Ok(monitoring_module(py)?
            .getattr(pyo3::intern!(py, "DISABLE"))?
            .unbind())
    })
}

/// `sys.monitoring.MISSING`, cached: the `arg0` of `CALL`/`C_RETURN`/`C_RAISE` when the call
/// has no arguments.
pub fn missing_sentinel(py: Python<'_>) -> Result<&'static Py<PyAny>, MonitoringError> {
    MISSING.get_or_try_init(py, || {
        Ok(monitoring_module(py)?
            .getattr(pyo3::intern!(py, "MISSING"))?
            .unbind())
    })
}

/// The cached `DISABLE` sentinel without initialising it (for the callback hot path).
pub(crate) fn cached_disable(py: Python<'_>) -> Option<&'static Py<PyAny>> {
    DISABLE.get(py)
}

/// Sets the events monitored everywhere for `tool` (`sys.monitoring.set_events`).
///
/// `C_RETURN`/`C_RAISE` are widened as described in [`MonitoringEvents::normalize`].
pub fn set_global_events(
    py: Python<'_>,
    tool: ToolId,
    events: EventSet,
) -> Result<(), MonitoringError> {
    tool.index()?;
    let events = MonitoringEvents::load(py)?.normalize(events);
    monitoring_module(py)?
        .call_method1(pyo3::intern!(py, "set_events"), (tool.0, events.bits()))?;
    Ok(())
}

/// The events monitored everywhere for `tool` (`sys.monitoring.get_events`).
pub fn get_global_events(py: Python<'_>, tool: ToolId) -> Result<EventSet, MonitoringError> {
    tool.index()?;
    let bits = monitoring_module(py)?
        .call_method1(pyo3::intern!(py, "get_events"), (tool.0,))?
        .extract::<u32>()?;
    Ok(EventSet::from_bits(bits))
}

/// Sets the events monitored for `tool` in one code object only
/// (`sys.monitoring.set_local_events`).
///
/// The code object is remembered weakly so [`uninstall`](crate::uninstall) can clear its local
/// events; setting [`EventSet::EMPTY`] forgets it. Local events cannot include the global-only
/// events (`PY_UNWIND`, `RAISE`, `EXCEPTION_HANDLED`, ...): CPython raises `ValueError`.
pub fn set_local_events(
    py: Python<'_>,
    tool: ToolId,
    code: &Bound<'_, PyCode>,
    events: EventSet,
) -> Result<(), MonitoringError> {
    let idx = tool.index()?;
    let events = MonitoringEvents::load(py)?.normalize(events);
    monitoring_module(py)?.call_method1(
        pyo3::intern!(py, "set_local_events"),
        (tool.0, code, events.bits()),
    )?;
    let key = code.as_ptr() as usize;
    let entry = if events.is_empty() {
        None
    } else {
        Some(PyWeakrefReference::new(code.as_any())?.unbind())
    };
    // Drop replaced entries only after the lock is released.
    let replaced = {
        let mut codes = LOCAL_CODES[idx]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match entry {
            Some(weak) => codes.insert(key, weak),
            None => codes.remove(&key),
        }
    };
    drop(replaced);
    Ok(())
}

/// The events monitored for `tool` in `code` only (`sys.monitoring.get_local_events`).
pub fn get_local_events(
    py: Python<'_>,
    tool: ToolId,
    code: &Bound<'_, PyCode>,
) -> Result<EventSet, MonitoringError> {
    tool.index()?;
    let bits = monitoring_module(py)?
        .call_method1(pyo3::intern!(py, "get_local_events"), (tool.0, code))?
        .extract::<u32>()?;
    Ok(EventSet::from_bits(bits))
}

/// Re-enables every location disabled by returning `DISABLE`, for all tools
/// (`sys.monitoring.restart_events`).
pub fn restart_events(py: Python<'_>) -> Result<(), MonitoringError> {
    monitoring_module(py)?.call_method0(pyo3::intern!(py, "restart_events"))?;
    Ok(())
}

/// Registers `callback` (or `None` to unregister) for one event (`sys.monitoring.register_callback`).
pub(crate) fn register_callback(
    py: Python<'_>,
    tool: ToolId,
    event: EventSet,
    callback: Option<&Bound<'_, PyAny>>,
) -> Result<(), MonitoringError> {
    monitoring_module(py)?.call_method1(
        pyo3::intern!(py, "register_callback"),
        (tool.0, event.bits(), callback),
    )?;
    Ok(())
}

/// Clears the local events of every live code object given to [`set_local_events`] for `tool`,
/// and forgets them. Returns the first error after trying all of them.
pub(crate) fn clear_local_events(py: Python<'_>, tool: ToolId) -> Result<(), MonitoringError> {
    let idx = tool.index()?;
    let codes: Vec<Py<PyWeakrefReference>> = {
        let mut map = LOCAL_CODES[idx]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut *map).into_values().collect()
    };
    let module = monitoring_module(py)?;
    let mut first_err = None;
    for weak in codes {
        if let Some(code) = weak.bind(py).upgrade() {
            if let Err(err) =
                module.call_method1(pyo3::intern!(py, "set_local_events"), (tool.0, code, 0u32))
            {
                first_err.get_or_insert(MonitoringError::from(err));
            }
        }
    }
    first_err.map_or(Ok(()), Err)
}
