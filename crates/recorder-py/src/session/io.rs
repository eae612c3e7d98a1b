//! The session's side of IO capture: which mode the running session captures in, and one IO
//! event handed to its tracer. The streams themselves are wrapped by the Python layer
//! (`codetracer_python_recorder.io_capture`); raw fd capture is [`crate::fd_capture`].

use codetracer_monitoring as monitoring;
use codetracer_policy::IoCapture;
use pyo3::prelude::*;

use super::session;
use crate::runtime::tracer::{IoOrigin, IoStream, RuntimeTracer};

/// The IO capture mode of the running session (`None` when nothing records).
pub fn capture_mode() -> Option<IoCapture> {
    session().as_ref().map(|a| a.request.policy.io_capture)
}

/// Records one IO event in the running session. Returns false when it was not recorded:
/// no session, the tracer busy (the event comes from the recorder's own output inside a
/// callback, which is never captured) or failed.
pub fn record(py: Python<'_>, stream: IoStream, origin: IoOrigin, text: &str) -> bool {
    // The session lock is not held while the tracer is: the tracer slot may be waited for.
    let Some(tool) = session().as_ref().map(|a| a.tool) else {
        return false;
    };
    monitoring::with_tracer(py, tool, |py, t: &mut RuntimeTracer| {
        match t.record_io(py, stream, origin, text) {
            Ok(()) => true,
            Err(e) => {
                log::error!("codetracer: recording failed: {e}; the program continues untraced");
                false
            }
        }
    })
    .unwrap_or(false)
}
