//! The `#[pyfunction]`s of IO capture, called by `codetracer_python_recorder.io_capture`:
//! the mode of the running session, one IO event from a stream proxy, and fd capture
//! (`proxies+fd`) start/stop.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::RecorderFailure;
use crate::fd_capture;
use crate::runtime::tracer::{IoOrigin, IoStream};
use crate::session;

/// The IO capture mode of the running session (`"off"`, `"proxies"`, `"proxies+fd"`), or
/// `None` when nothing records.
#[pyfunction]
pub fn io_capture_mode() -> Option<&'static str> {
    session::io::capture_mode().map(|m| m.as_str())
}

/// Records `text` as an IO event of `stream` (0 stdout, 1 stderr, 2 stdin) at the calling
/// thread's innermost recorded line. Returns whether it was recorded.
#[pyfunction]
pub fn record_io(py: Python<'_>, stream: u8, text: &str) -> PyResult<bool> {
    let Some(which) = IoStream::from_index(stream) else {
        return Err(PyValueError::new_err(format!(
            "stream must be 0 (stdout), 1 (stderr) or 2 (stdin), not {stream}"
        )));
    };
    Ok(session::io::record(py, which, IoOrigin::Proxy, text))
}

/// A proxy is about to write `data` (the bytes that will reach captured fd `fd`): its
/// reader must not record them again. Called before the write, so the bytes cannot reach
/// the pipe first.
#[pyfunction]
pub fn announce_fd_write(fd: i32, data: &[u8]) {
    fd_capture::expect(fd, data);
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
