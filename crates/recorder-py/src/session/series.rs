//! A series of recordings in one process (the pytest plugin's one trace per test): a recording
//! started with `StartRequest::series` leaves its tracer installed when it stops, idle, under
//! the same tool id. The next recording with the same settings (the same request apart from
//! the directory, program and arguments, and a filter engine of the same key) starts on that
//! tracer ([`RuntimeTracer::begin_next`]): no tool id acquired, no callbacks registered, no
//! events switched (so CPython re-instruments nothing), no scope decision made again and the
//! code the filters skip stays disabled. Any other start, [`end`] and a fork's child release
//! the idle tracer first.

use std::sync::{Mutex, MutexGuard, PoisonError};

use codetracer_monitoring::{self as monitoring, ToolId};
use pyo3::prelude::*;

use super::StartRequest;
use crate::runtime::scope_cache::EngineKey;

/// The installed, idle tracer of the last recording of a series.
struct Idle {
    /// The tool id it is installed under.
    tool: ToolId,
    /// The request the series was started with.
    request: StartRequest,
    /// The key of the filter engine whose decisions its code cache holds.
    key: EngineKey,
}

static IDLE: Mutex<Option<Idle>> = Mutex::new(None);

fn idle() -> MutexGuard<'static, Option<Idle>> {
    IDLE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether `next` continues the series `idle` belongs to.
fn continues(idle: &Idle, next: &StartRequest, key: &EngineKey) -> bool {
    let last = &idle.request;
    next.series
        && next.activation_path.is_none()
        && next.parent.is_none()
        && idle.key == *key
        && last.format == next.format
        && last.policy == next.policy
        && last.trace_filter == next.trace_filter
        && last.env_filter == next.env_filter
        && last.filter_dir == next.filter_dir
        && last.test_framework == next.test_framework
        && last.durable == next.durable
}

/// Keeps the tracer installed under `tool` (its recording just finished) for the next
/// recording of the series; a tracer idle before is released.
pub(crate) fn park(py: Python<'_>, tool: ToolId, request: StartRequest, key: EngineKey) {
    let previous = idle().replace(Idle { tool, request, key });
    if let Some(previous) = previous {
        release(py, previous.tool);
    }
}

/// The tool id of the idle tracer when the recording `next` (whose filters have `key`)
/// continues its series; otherwise the idle tracer, if any, is released and `None` returned.
pub(crate) fn take_for(py: Python<'_>, next: &StartRequest, key: &EngineKey) -> Option<ToolId> {
    let taken = idle().take()?;
    if continues(&taken, next, key) {
        return Some(taken.tool);
    }
    release(py, taken.tool);
    None
}

/// Ends the series: the idle tracer, if any, is uninstalled and its tool id freed.
pub fn end(py: Python<'_>) {
    let taken = idle().take();
    if let Some(taken) = taken {
        release(py, taken.tool);
    }
}

fn release(py: Python<'_>, tool: ToolId) {
    let _ = monitoring::uninstall(py, tool);
    let _ = monitoring::release_tool_id(py, tool);
}
