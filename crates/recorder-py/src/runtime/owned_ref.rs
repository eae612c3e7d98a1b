//! [`OwnedRef`]: a strong reference that is released at once when dropped under the GIL.
//!
//! sys.monitoring callbacks run with the GIL held but without pyo3's "attached" marker (the
//! monitoring crate hands out `Python::assume_attached()` tokens, which is what keeps dispatch
//! cheap). pyo3 therefore does not release a `Py<T>` dropped inside a callback: it defers the
//! decref to its reference pool, which is drained only at the next `Python::attach` — and a
//! traced program may never cause one. Caches that let go of references on the hot path
//! (a few per step) would hold every object they ever saw alive; they hold `OwnedRef`s instead.

use std::ptr::NonNull;

use pyo3::ffi;

/// One strong reference to a Python object.
pub struct OwnedRef(NonNull<ffi::PyObject>);

// SAFETY: the reference is only created, read and released with the GIL held (see `new` and
// `Drop`); the object itself is shared by the interpreter anyway.
unsafe impl Send for OwnedRef {}

impl OwnedRef {
    /// A new strong reference to `o` (`None` for null).
    ///
    /// # Safety
    /// `o` must be null or a live object, and the GIL must be held.
    #[inline]
    pub unsafe fn new(o: *mut ffi::PyObject) -> Option<Self> {
        let ptr = NonNull::new(o)?;
        // SAFETY: `o` is live and the GIL is held (caller contract).
        unsafe { ffi::Py_INCREF(o) };
        Some(Self(ptr))
    }

    /// The object's address.
    #[inline]
    pub fn as_ptr(&self) -> *mut ffi::PyObject {
        self.0.as_ptr()
    }
}

impl Drop for OwnedRef {
    fn drop(&mut self) {
        // SAFETY: `PyGILState_Check` may be called from any thread at any time.
        if unsafe { ffi::PyGILState_Check() } == 1 {
            // SAFETY: we own one reference and this thread holds the GIL.
            unsafe { ffi::Py_DECREF(self.0.as_ptr()) };
        }
        // Without the GIL the reference is leaked rather than released unsafely; the
        // recorder drops its caches only with the GIL held, so this does not happen.
    }
}
