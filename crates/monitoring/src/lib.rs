//! `codetracer-monitoring`: safe Rust bindings to CPython's `sys.monitoring` (PEP 669).
//!
//! - [`acquire_tool_id`] / [`release_tool_id`] / [`tool_name`]: claim one of the six tool ids.
//! - [`MonitoringEvents`] / [`EventSet`]: the running interpreter's event constants.
//! - [`Tracer`]: one method per event; [`install`] registers native callbacks for the events in
//!   [`Tracer::interest`] through a declarative event table, and [`uninstall`] removes them.
//! - [`set_local_events`], [`set_global_events`], [`restart_events`], [`disable_sentinel`]:
//!   the rest of `sys.monitoring`.
//!
//! Callbacks never panic into the interpreter: a tracer's `Err` or panic is handed to the
//! [`ErrorHook`] given to [`install`], which decides whether to raise it into the program. An
//! event arriving while the tracer is busy (re-entrancy) is skipped, never waited for.
//!
//! See `README.md` and `examples/line_counter.rs` for a complete tracer.

mod api;
mod callbacks;
mod error;
mod events;
mod install;
mod tool;
mod tracer;

pub use api::{
    disable_sentinel, get_global_events, get_local_events, missing_sentinel, monitoring_module,
    restart_events, set_global_events, set_local_events,
};
pub use error::{MonitoringError, TracerError};
pub use events::{EventSet, MonitoringEvents};
pub use install::{flush, install, is_installed, uninstall, with_tracer};
pub use tool::{
    acquire_tool_id, release_tool_id, tool_name, ToolId, DEFAULT_TOOL_PREFERENCE, TOOL_NAME,
};
pub use tracer::{AsAnyMut, CallbackOutcome, CallbackResult, ErrorHook, Tracer};

/// One row of the dispatch table, as seen from outside (for diagnostics and documentation).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct EventInfo {
    /// The `sys.monitoring.events` name, e.g. `"LINE"`.
    pub name: &'static str,
    /// The [`Tracer`] method the event is dispatched to, e.g. `"on_line"`.
    pub method: &'static str,
    /// Whether [`CallbackOutcome::Disable`] is passed on to CPython for this event.
    pub disableable: bool,
    /// The event's bit in the running interpreter; `None` if it lacks the event
    /// (`BRANCH_LEFT`/`BRANCH_RIGHT` before 3.14).
    pub event: Option<EventSet>,
}

/// Every row of the dispatch table, in table order.
pub fn event_table(events: &MonitoringEvents) -> impl Iterator<Item = EventInfo> + '_ {
    callbacks::TABLE.iter().map(move |row| EventInfo {
        name: row.name,
        method: row.method,
        disableable: row.disableable,
        event: (row.select)(events),
    })
}

/// Compiles the README's example as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
