//! The session across `fork()`: the three `os.register_at_fork` hooks.
//!
//! - before: the writer thread of the active recording is parked (it ends, keeping its open
//!   file and encoder), so the process is single-threaded as far as the recorder is concerned
//!   when it forks — no inherited half-thread in the child, and no "multi-threaded fork"
//!   warning caused by the recorder;
//! - after, in the parent: the writer thread is restarted and the recording goes on. CPython
//!   3.13 counts threads for its warning only *after* the parent's hooks ran, so there the
//!   restart is deferred to just after `os.fork()` returns: to a pending call (run by the
//!   main thread at its next bytecode boundary) or the next record, whichever comes first;
//! - after, in the child: the inherited recording is dropped — its sys.monitoring callbacks
//!   uninstalled, its tool id released, its buffers freed without a byte written to the
//!   parent's files and without waiting for the parent's thread — and, when the parent
//!   follows its children, the child starts a recording of its own into
//!   `PARENT/children/<pid>-<n>/` with the parent's settings, from the line after `fork()`.

use std::path::PathBuf;

use codetracer_monitoring as monitoring;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::children::{Parent, StartedBy};
use super::{session, start_child};
use crate::errors::RecorderResult;
use crate::runtime::tracer::RuntimeTracer;

/// Registers the module's `before_fork`, `after_fork_in_parent` and `after_fork_in_child`
/// with `os.register_at_fork` (when the module is imported: every way of starting a recording
/// is covered; with nothing recording they do nothing).
pub fn register_hooks(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    let os = py.import("os")?;
    if !os.hasattr("register_at_fork")? {
        return Ok(()); // no fork() here
    }
    let hooks = PyDict::new(py);
    hooks.set_item("before", module.getattr("before_fork")?)?;
    hooks.set_item("after_in_parent", module.getattr("after_fork_in_parent")?)?;
    hooks.set_item("after_in_child", module.getattr("after_fork_in_child")?)?;
    os.getattr("register_at_fork")?.call((), Some(&hooks))?;
    Ok(())
}

/// Whether the fork being handled is `subprocess`'s (it has a `preexec_fn`): such a child runs
/// no Python program of its own before it `exec`s — the program it execs records, if Python.
pub fn forked_by_subprocess(py: Python<'_>) -> bool {
    let Some(frame) = crate::runtime::frame::current_frame(py) else {
        return false;
    };
    let name = frame
        .getattr("f_code")
        .and_then(|code| code.getattr("co_name"))
        .and_then(|n| n.extract::<String>());
    let module = frame
        .getattr("f_globals")
        .and_then(|g| g.get_item("__name__"))
        .and_then(|n| n.extract::<String>());
    matches!((name, module), (Ok(n), Ok(m)) if n == "_execute_child" && m == "subprocess")
}

/// Before `fork()`: parks the writer thread of the active recording, if any.
pub fn before_fork(py: Python<'_>) {
    let guard = session();
    if let Some(active) = guard.as_ref() {
        monitoring::with_tracer(py, active.tool, |_, t: &mut RuntimeTracer| t.park_writer());
    }
}

/// After `fork()`, in the parent: restarts the writer thread (now, or on 3.13+ just after
/// `os.fork()` returns, see the module docs).
pub fn after_fork_in_parent(py: Python<'_>) {
    if py.version_info() < (3, 13) {
        resume_writer(py);
        return;
    }
    let guard = session();
    if let Some(active) = guard.as_ref() {
        monitoring::with_tracer(py, active.tool, |_, t: &mut RuntimeTracer| {
            t.resume_writer_at_next_record()
        });
        // SAFETY: the GIL is held; `resume_pending` is a plain function without state.
        unsafe {
            pyo3::ffi::Py_AddPendingCall(Some(resume_pending), std::ptr::null_mut());
        }
    }
}

fn resume_writer(py: Python<'_>) {
    let guard = session();
    if let Some(active) = guard.as_ref() {
        monitoring::with_tracer(py, active.tool, |_, t: &mut RuntimeTracer| {
            t.resume_writer()
        });
    }
}

/// The pending call of [`after_fork_in_parent`]: restarts the writer (a no-op when the next
/// record did already, or when the tracer is busy on this thread: the next record will).
extern "C" fn resume_pending(_arg: *mut std::ffi::c_void) -> std::ffi::c_int {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: CPython runs pending calls on the main thread with the GIL held.
        let py = unsafe { Python::assume_attached() };
        resume_writer(py);
    });
    0
}

/// After `fork()`, in the child: drops the recording inherited from the parent and, when
/// it follows children and `record` (the child is not about to `exec`), starts this child's
/// own. Returns the child's trace directory (`None`: nothing was recording, or no recording
/// was started).
pub fn after_fork_in_child(py: Python<'_>, record: bool) -> RecorderResult<Option<PathBuf>> {
    super::series::end(py); // an idle tracer of the parent's series is not this process's
    let Some(inherited) = session().take() else {
        return Ok(None);
    };
    // The tracer owns the parent's events file (parked, owned by the parent's pid): dropping
    // it here frees memory and closes this process's copy of the file, nothing else.
    let tracer = monitoring::uninstall(py, inherited.tool);
    drop(tracer);
    let _ = monitoring::release_tool_id(py, inherited.tool);
    super::terminate::disarm();
    let request = inherited.request;
    if !record || !request.policy.follow_children {
        return Ok(None);
    }
    let parent = Parent {
        pid: inherited.pid,
        dir: request.dir.clone(),
        started_by: StartedBy::Fork,
    };
    start_child(py, request, parent).map(Some)
}
