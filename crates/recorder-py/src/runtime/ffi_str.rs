//! Reading Python `str` objects as Rust strings without running Python code.

use pyo3::ffi;

/// Borrows the UTF-8 form of a `str` object (cached inside the object by CPython).
///
/// Returns `None` (with the Python error cleared) for non-`str` objects and for strings that
/// cannot be encoded as UTF-8 (lone surrogates).
///
/// # Safety
/// `obj` must be a valid object pointer and the GIL must be held; the returned slice lives as
/// long as `obj`.
pub unsafe fn borrow_str<'a>(obj: *mut ffi::PyObject) -> Option<&'a str> {
    // SAFETY: the caller guarantees a live object and the GIL.
    unsafe {
        if ffi::PyUnicode_Check(obj) == 0 {
            return None;
        }
        let mut size: ffi::Py_ssize_t = 0;
        let data = ffi::PyUnicode_AsUTF8AndSize(obj, &mut size);
        if data.is_null() {
            ffi::PyErr_Clear();
            return None;
        }
        let bytes = std::slice::from_raw_parts(data.cast::<u8>(), usize::try_from(size).ok()?);
        // SAFETY: `PyUnicode_AsUTF8AndSize` returns CPython's UTF-8 form of the string, which
        // is valid UTF-8 by construction (strings with lone surrogates fail above instead).
        Some(std::str::from_utf8_unchecked(bytes))
    }
}

/// Copies a `str` object into a `String` (see [`borrow_str`]).
///
/// # Safety
/// As for [`borrow_str`].
pub unsafe fn to_string(obj: *mut ffi::PyObject) -> Option<String> {
    // SAFETY: forwarded contract.
    unsafe { borrow_str(obj).map(str::to_owned) }
}
