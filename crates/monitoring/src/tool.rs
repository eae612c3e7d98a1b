//! Tool ids: acquiring, naming and releasing one of the six `sys.monitoring` tool slots.

use std::fmt;

use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::api::monitoring_module;
use crate::error::MonitoringError;

/// One of the six `sys.monitoring` tool ids (`0..=5`).
///
/// The field is public for convenience; functions taking a `ToolId` reject values above 5 with
/// [`MonitoringError::InvalidToolId`].
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct ToolId(pub u8);

impl ToolId {
    /// `sys.monitoring.DEBUGGER_ID` (0).
    pub const DEBUGGER: ToolId = ToolId(0);
    /// `sys.monitoring.COVERAGE_ID` (1).
    pub const COVERAGE: ToolId = ToolId(1);
    /// `sys.monitoring.PROFILER_ID` (2).
    pub const PROFILER: ToolId = ToolId(2);
    /// `sys.monitoring.OPTIMIZER_ID` (5).
    pub const OPTIMIZER: ToolId = ToolId(5);
    /// Number of tool ids CPython provides.
    pub const COUNT: usize = 6;

    /// Returns the tool id if `id` is in `0..=5`.
    pub const fn new(id: u8) -> Option<ToolId> {
        if (id as usize) < Self::COUNT {
            Some(ToolId(id))
        } else {
            None
        }
    }

    /// The id as an index into per-tool tables, checked to be in range.
    pub(crate) fn index(self) -> Result<usize, MonitoringError> {
        let idx = usize::from(self.0);
        if idx < Self::COUNT {
            Ok(idx)
        } else {
            Err(MonitoringError::InvalidToolId(self.0))
        }
    }
}

impl fmt::Display for ToolId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.0 {
            0 => " (DEBUGGER_ID)",
            1 => " (COVERAGE_ID)",
            2 => " (PROFILER_ID)",
            5 => " (OPTIMIZER_ID)",
            _ => "",
        };
        write!(f, "sys.monitoring tool id {}{}", self.0, label)
    }
}

/// The name this crate's users register with `sys.monitoring.use_tool_id`.
pub const TOOL_NAME: &str = "codetracer";

/// The order in which a recorder should try tool ids: [`ToolId::DEBUGGER`] (0) first (a recorder
/// is a debugger), then the unnamed ids 3 and 4 (left free by convention), then
/// [`ToolId::PROFILER`] (2). [`ToolId::COVERAGE`] and [`ToolId::OPTIMIZER`] are left to
/// coverage tools and JITs.
pub const DEFAULT_TOOL_PREFERENCE: &[ToolId] =
    &[ToolId::DEBUGGER, ToolId(3), ToolId(4), ToolId::PROFILER];

/// Claims the first free tool id in `preference` under `name` (`sys.monitoring.use_tool_id`).
///
/// Ids already held are skipped. If every id is held, returns
/// [`MonitoringError::ToolIdInUse`] naming each holder.
pub fn acquire_tool_id(
    py: Python<'_>,
    name: &str,
    preference: &[ToolId],
) -> Result<ToolId, MonitoringError> {
    let module = monitoring_module(py)?;
    let mut holders = Vec::with_capacity(preference.len());
    for &tool in preference {
        tool.index()?;
        if let Some(holder) = tool_name(py, tool)? {
            holders.push((tool.0, holder));
            continue;
        }
        match module.call_method1(pyo3::intern!(py, "use_tool_id"), (tool.0, name)) {
            Ok(_) => return Ok(tool),
            // Lost a race with another thread: record the new holder and keep looking.
            Err(err) if err.is_instance_of::<pyo3::exceptions::PyValueError>(py) => {
                let holder = tool_name(py, tool)?.unwrap_or_else(|| "<unknown>".to_owned());
                holders.push((tool.0, holder));
            }
            Err(err) => return Err(err.into()),
        }
    }
    Err(MonitoringError::ToolIdInUse { holders })
}

/// Releases a tool id (`sys.monitoring.free_tool_id`). Uninstall any tracer first.
pub fn release_tool_id(py: Python<'_>, tool: ToolId) -> Result<(), MonitoringError> {
    tool.index()?;
    monitoring_module(py)?.call_method1(pyo3::intern!(py, "free_tool_id"), (tool.0,))?;
    Ok(())
}

/// The name the holder of `tool` registered, or `None` if the id is free
/// (`sys.monitoring.get_tool`).
pub fn tool_name(py: Python<'_>, tool: ToolId) -> Result<Option<String>, MonitoringError> {
    tool.index()?;
    let name = monitoring_module(py)?.call_method1(pyo3::intern!(py, "get_tool"), (tool.0,))?;
    if name.is_none() {
        return Ok(None);
    }
    match name.cast::<PyString>() {
        Ok(s) => Ok(Some(s.to_str()?.to_owned())),
        Err(_) => Ok(Some(name.str()?.to_str()?.to_owned())),
    }
}
