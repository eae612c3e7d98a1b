//! The `#[pyfunction]`s of IO capture, called by `codetracer_python_recorder.io_capture`:
//! the mode of the running session and fd capture (`proxies+fd`) start/stop. The proxies'
//! write path is [`crate::io_proxy`].

use pyo3::prelude::*;

use crate::errors::RecorderFailure;
use crate::fd_capture;
use crate::session;

/// The IO capture mode of the running session (`"off"`, `"proxies"`, `"proxies+fd"`), or
/// `None` when nothing records.
#[pyfunction]
pub fn io_capture_mode() -> Option<&'static str> {
    session::io::capture_mode().map(|m| m.as_str())
}

/// Redirects fds 1 and 2 through pipes whose readers forward and record raw writes.
#[pyfunction]
pub fn start_fd_capture(py: Python<'_>) -> PyResult<()> {
    fd_capture::start().map_err(|e| {
        RecorderFailure::internal(format!("cannot capture fds 1 and 2: {e}")).into_pyerr(py)
    })
}

/// Restores fds 1 and 2 after the readers drained the pipes (waits without the GIL).
#[pyfunction]
pub fn stop_fd_capture(py: Python<'_>) {
    py.detach(fd_capture::stop);
}

/// In a forked child: restores fds 1 and 2 at once (the readers stay in the parent).
#[pyfunction]
pub fn fd_capture_after_fork() {
    fd_capture::after_fork_in_child();
}
