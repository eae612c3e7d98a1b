//! `input()` at a terminal: a C-level audit hook that tells the Python layer about the
//! `builtins.input` and `builtins.input/result` audit events.
//!
//! When `sys.stdin` and `sys.stdout` are the process's terminal, `input()` reads the line
//! with `PyOS_Readline` (line editing, history) instead of calling `sys.stdin.readline()`,
//! so the stream proxies never see the prompt or the line. The interpreter raises the two
//! audit events on that path too; this hook hands them to the callback
//! `codetracer_python_recorder.io_capture` sets while its proxies are installed, so what
//! the user sees and types is unchanged and still recorded.
//!
//! A C hook (rather than `sys.addaudithook`) costs one atomic load per audit event of the
//! process while no callback is set, and a byte comparison while one is; audit hooks cannot
//! be removed, so it is added once and stays (inert) after the recording.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use pyo3::ffi;
use pyo3::prelude::*;

/// `Py_AuditHookFunction` (cpython/sysmodule.h).
type AuditHook = unsafe extern "C" fn(*const c_char, *mut ffi::PyObject, *mut c_void) -> c_int;

extern "C" {
    /// Not exposed by `pyo3::ffi`; part of CPython's C API since 3.8.
    fn PySys_AddAuditHook(hook: AuditHook, user_data: *mut c_void) -> c_int;
}

/// Whether a callback is set (read on every audit event of the process).
static ARMED: AtomicBool = AtomicBool::new(false);
/// Whether the hook was added to the interpreter (it cannot be removed).
static ADDED: AtomicBool = AtomicBool::new(false);
/// The Python callable given `(event, args)` for the `builtins.input*` events.
static CALLBACK: Mutex<Option<Py<PyAny>>> = Mutex::new(None);

const INPUT_EVENT_PREFIX: &[u8] = b"builtins.input";

/// Sets (or, with `None`, clears) the callable called as `callback(event, args)` for the
/// `builtins.input` and `builtins.input/result` audit events. Adds the audit hook the first
/// time.
#[pyfunction]
#[pyo3(signature = (callback))]
pub fn set_input_audit(py: Python<'_>, callback: Option<Py<PyAny>>) -> PyResult<()> {
    if callback.is_some() && !ADDED.load(Ordering::Acquire) {
        // SAFETY: the GIL is held; `audit_hook` matches `Py_AuditHookFunction` and uses no
        // user data (null). Adding a hook raises `sys.addaudithook` first: a Python hook may
        // refuse it, reported as the Python error set.
        if unsafe { PySys_AddAuditHook(audit_hook, std::ptr::null_mut()) } != 0 {
            return Err(PyErr::fetch(py));
        }
        ADDED.store(true, Ordering::Release);
    }
    let armed = callback.is_some();
    *CALLBACK.lock().unwrap_or_else(PoisonError::into_inner) = callback;
    ARMED.store(armed, Ordering::Release);
    Ok(())
}

/// The audit hook: forwards the `builtins.input*` events to the callback. Never fails the
/// audited operation: an error of the callback is logged (the program is not disturbed).
unsafe extern "C" fn audit_hook(
    event: *const c_char,
    args: *mut ffi::PyObject,
    _user_data: *mut c_void,
) -> c_int {
    if !ARMED.load(Ordering::Acquire) || event.is_null() || args.is_null() {
        return 0;
    }
    // SAFETY: CPython passes a NUL-terminated event name that lives for the call.
    let name = unsafe { CStr::from_ptr(event) };
    if !name.to_bytes().starts_with(INPUT_EVENT_PREFIX) {
        return 0;
    }
    // SAFETY: audit hooks run with the GIL held (the thread raising the event holds it).
    let py = unsafe { Python::assume_attached() };
    let callback = CALLBACK
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        .map(|c| c.clone_ref(py));
    let Some(callback) = callback else {
        return 0;
    };
    // SAFETY: `args` is the event's arguments tuple, a borrowed reference valid for the call.
    let args = unsafe { Bound::from_borrowed_ptr(py, args) };
    let result = name
        .to_str()
        .map_err(|e| PyErr::new::<pyo3::exceptions::PyValueError, _>(e.to_string()))
        .and_then(|name| callback.bind(py).call1((name, args)));
    if let Err(e) = result {
        log::error!("codetracer: cannot record input() at the terminal: {e}");
    }
    0
}
