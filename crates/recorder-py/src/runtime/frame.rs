//! Frame inspection: the current frame of an event, its variables and its globals, read with
//! `PyFrame_GetVar` over the code object's cached names (faster than materialising
//! `f_locals`, and free of 3.13's locals proxy) and borrowed dict lookups for globals.

use pyo3::ffi;
use pyo3::prelude::*;

use super::code_info::VarSlot;

/// The frame executing right now (the frame that raised the current sys.monitoring event:
/// our callbacks are C functions, so no Python frame of ours sits on top of it).
/// Returns a new reference, or `None` when no Python frame is running.
pub fn current_frame(py: Python<'_>) -> Option<Bound<'_, PyAny>> {
    // SAFETY: the GIL is held (`py`); `PyEval_GetFrame` returns a borrowed pointer that we
    // turn into an owned reference immediately.
    unsafe {
        let frame = ffi::PyEval_GetFrame();
        if frame.is_null() {
            None
        } else {
            Some(Bound::from_borrowed_ptr(py, frame.cast()))
        }
    }
}

/// Whether `frame` runs `code` (guards against reading the wrong frame's variables).
pub fn frame_runs(frame: &Bound<'_, PyAny>, code: *mut ffi::PyObject) -> bool {
    // SAFETY: `frame` is a live frame object; `PyFrame_GetCode` returns a new reference that
    // we release right away (we only compare addresses).
    unsafe {
        let c = ffi::PyFrame_GetCode(frame.as_ptr().cast());
        if c.is_null() {
            ffi::PyErr_Clear();
            return false;
        }
        let same = std::ptr::eq(c.cast(), code);
        ffi::Py_DECREF(c.cast());
        same
    }
}

/// Calls `visit` with each bound local of `frame` named in `slots` (unbound names skipped).
/// The value pointer is valid only during the call.
pub fn for_each_local(
    py: Python<'_>,
    frame: &Bound<'_, PyAny>,
    slots: &[VarSlot],
    indices: Option<&[usize]>,
    mut visit: impl FnMut(&VarSlot, *mut ffi::PyObject),
) {
    let mut one = |slot: &VarSlot| {
        // SAFETY: `frame` is a live frame, the name a live str, the GIL is held; the result
        // is a new reference (or NULL with NameError for unbound names, which we clear).
        unsafe {
            let value = ffi::PyFrame_GetVar(frame.as_ptr().cast(), slot.name.bind(py).as_ptr());
            if value.is_null() {
                ffi::PyErr_Clear();
                return;
            }
            visit(slot, value);
            ffi::Py_DECREF(value);
        }
    };
    match indices {
        Some(idx) => idx.iter().filter_map(|i| slots.get(*i)).for_each(&mut one),
        None => slots.iter().for_each(&mut one),
    }
}

/// Calls `visit` with each name of `slots` (those at `indices` only, when given) bound in the
/// frame's globals.
pub fn for_each_global(
    py: Python<'_>,
    frame: &Bound<'_, PyAny>,
    slots: &[VarSlot],
    indices: Option<&[usize]>,
    mut visit: impl FnMut(&VarSlot, *mut ffi::PyObject),
) {
    if slots.is_empty() || indices.is_some_and(<[usize]>::is_empty) {
        return;
    }
    // SAFETY: `frame` is live and the GIL held; `PyFrame_GetGlobals` returns a new reference
    // to the globals dict, released at the end; `PyDict_GetItem` returns borrowed values that
    // stay alive while the dict is (no Python code runs in between).
    unsafe {
        let globals = ffi::PyFrame_GetGlobals(frame.as_ptr().cast());
        if globals.is_null() {
            ffi::PyErr_Clear();
            return;
        }
        if ffi::PyDict_Check(globals) != 0 {
            let mut one = |slot: &VarSlot| {
                let value = ffi::PyDict_GetItem(globals, slot.name.bind(py).as_ptr());
                if !value.is_null() {
                    visit(slot, value);
                }
            };
            match indices {
                Some(idx) => idx.iter().filter_map(|i| slots.get(*i)).for_each(&mut one),
                None => slots.iter().for_each(&mut one),
            }
        }
        ffi::Py_DECREF(globals);
    }
}

/// The frame's globals dict.
pub fn frame_globals<'py>(
    py: Python<'py>,
    frame: &Bound<'py, PyAny>,
) -> Option<Bound<'py, pyo3::types::PyDict>> {
    // SAFETY: `frame` is a live frame and the GIL is held; `PyFrame_GetGlobals` returns a new
    // reference (owned by the returned `Bound`).
    let globals = unsafe {
        let g = ffi::PyFrame_GetGlobals(frame.as_ptr().cast());
        if g.is_null() {
            ffi::PyErr_Clear();
            return None;
        }
        Bound::from_owned_ptr(py, g)
    };
    globals.cast_into::<pyo3::types::PyDict>().ok()
}

/// The current thread's interpreter thread-state id (`PyThreadState_GetID`): unlike its
/// ident, never given to another thread while the interpreter lives.
#[inline]
pub fn thread_key() -> u64 {
    // SAFETY: callbacks run with the GIL held, so the current thread has a thread state.
    let id = unsafe { ffi::PyThreadState_GetID(ffi::PyThreadState_Get()) };
    id as u64
}

/// The current thread's identifier (`threading.get_ident()`).
#[inline]
#[allow(clippy::useless_conversion)] // `c_ulong` is 32 bits on some platforms
pub fn thread_ident() -> u64 {
    // SAFETY: `PyThread_get_thread_ident` has no preconditions.
    u64::from(unsafe { ffi::PyThread_get_thread_ident() })
}
