//! Error types: [`MonitoringError`] for the control API (acquiring tool ids, installing,
//! uninstalling, setting events) and [`TracerError`] for failures inside a tracer's callbacks.

use pyo3::PyErr;

use crate::tool::ToolId;

/// What went wrong while talking to `sys.monitoring` or managing an installed tracer.
///
/// Every message says what to do about it.
#[derive(thiserror::Error, Debug)]
pub enum MonitoringError {
    /// The running interpreter has no `sys.monitoring` (it is older than CPython 3.12).
    #[error(
        "sys.monitoring is not available in Python {version}; run the program with CPython 3.12 or newer"
    )]
    Unsupported {
        /// The running interpreter's version, e.g. `"3.11.7"`.
        version: String,
    },

    /// Every tool id that was asked for is already held by another tool.
    #[error(
        "all requested sys.monitoring tool ids are in use ({}); stop the other tool(s) or free an id with sys.monitoring.free_tool_id(id)",
        format_holders(.holders)
    )]
    ToolIdInUse {
        /// `(tool id, name the holder registered with sys.monitoring.use_tool_id)` for each id tried.
        holders: Vec<(u8, String)>,
    },

    /// A [`ToolId`] outside `0..=5` was passed.
    #[error("sys.monitoring tool id {0} is out of range; use an id between 0 and 5")]
    InvalidToolId(u8),

    /// [`install`](crate::install) was called for a tool id nobody has claimed.
    #[error("{tool} is not in use; claim it with acquire_tool_id() before install()")]
    NotAcquired {
        /// The unclaimed tool id.
        tool: ToolId,
    },

    /// [`install`](crate::install) was called for a tool that already has a tracer.
    #[error("a tracer is already installed for {tool}; call uninstall() first")]
    AlreadyInstalled {
        /// The tool id that already has a tracer.
        tool: ToolId,
    },

    /// An operation needed an installed tracer but the tool has none.
    #[error("no tracer is installed for {tool}; call install() first")]
    NotInstalled {
        /// The tool id without a tracer.
        tool: ToolId,
    },

    /// The tracer for `tool` is in the middle of a callback on this thread (a re-entrant call
    /// from inside the tracer, e.g. uninstalling from within an event handler).
    #[error(
        "the tracer for {tool} is running a callback on this thread; retry after the callback returns"
    )]
    Busy {
        /// The tool whose tracer is busy.
        tool: ToolId,
    },

    /// The tracer itself failed (e.g. in [`Tracer::flush`](crate::Tracer::flush)).
    #[error("the tracer for {tool} failed: {source}")]
    Tracer {
        /// The tool whose tracer failed.
        tool: ToolId,
        /// What the tracer reported.
        #[source]
        source: TracerError,
    },

    /// A `sys.monitoring` call raised a Python exception.
    #[error("sys.monitoring call failed: {0}")]
    Python(#[from] PyErr),
}

fn format_holders(holders: &[(u8, String)]) -> String {
    if holders.is_empty() {
        return "no tool ids were requested".to_owned();
    }
    holders
        .iter()
        .map(|(id, name)| format!("id {id} held by {name:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A failure inside a tracer callback, handed to the [`ErrorHook`](crate::ErrorHook).
#[derive(thiserror::Error, Debug)]
pub enum TracerError {
    /// A Python exception raised while handling an event.
    #[error("Python error in tracer: {0}")]
    Python(#[from] PyErr),

    /// A tracer-specific failure described in words.
    #[error("tracer error: {0}")]
    Message(String),

    /// The tracer panicked; the panic was caught at the callback boundary.
    #[error("tracer panicked while handling {event}: {message}")]
    Panic {
        /// The `sys.monitoring` event name being handled, e.g. `"LINE"`.
        event: &'static str,
        /// The panic payload, if it was a string.
        message: String,
    },
}

impl TracerError {
    /// Builds a [`TracerError::Message`].
    pub fn msg(message: impl Into<String>) -> Self {
        TracerError::Message(message.into())
    }
}
