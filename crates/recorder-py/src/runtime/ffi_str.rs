//! Reading Python `str` objects as Rust strings without running Python code.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

/// The text of `s` as UTF-8, with lone surrogates — how Python holds bytes that are not
/// UTF-8 in a file name or argument (`caf\xe9.py` is `'caf\udce9.py'`) — written as the
/// escape Python shows, `\udce9` (`backslashreplace`), so a name that is not valid UTF-8
/// still has a faithful, readable text. Only the builtin UTF-8 codec runs.
pub fn escaped_text(s: &Bound<'_, PyString>) -> PyResult<String> {
    if let Ok(text) = s.to_str() {
        return Ok(text.to_owned());
    }
    // SAFETY: `s` is a live str and the GIL is held (`Bound`); the codec and error-handler
    // names are NUL-terminated literals; the result is a new reference owned by the `Bound`.
    let bytes = unsafe {
        let encoded = ffi::PyUnicode_AsEncodedString(
            s.as_ptr(),
            c"utf-8".as_ptr(),
            c"backslashreplace".as_ptr(),
        );
        Bound::from_owned_ptr_or_err(s.py(), encoded)?
    };
    let bytes = bytes.cast_into::<PyBytes>()?;
    Ok(String::from_utf8_lossy(bytes.as_bytes()).into_owned())
}

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

/// Appends the first `max` characters of the `str` object `obj` to `buf` as UTF-8, reading the
/// string's own storage (Latin-1, UCS-2 or UCS-4 code points); returns the string's length in
/// characters. Unlike [`borrow_str`] it never asks CPython for the UTF-8 form of the *whole*
/// string (which CPython would build and keep inside the object: a side effect on the program's
/// memory, and O(length) for a string we only show the start of). Lone surrogates become
/// U+FFFD.
///
/// # Safety
/// `obj` must be a live `str` and the GIL must be held.
pub unsafe fn push_prefix(obj: *mut ffi::PyObject, max: usize, buf: &mut String) -> usize {
    // SAFETY: `obj` is a live str (caller contract): its length, kind and data pointer describe
    // `len` code points of `kind` bytes each, which stay valid while we hold the GIL.
    unsafe {
        let len = usize::try_from(ffi::PyUnicode_GET_LENGTH(obj)).unwrap_or(0);
        let take = len.min(max);
        let data = ffi::PyUnicode_DATA(obj);
        if ffi::PyUnicode_IS_ASCII(obj) != 0 {
            let bytes = std::slice::from_raw_parts(data.cast::<u8>(), take);
            // ASCII is valid UTF-8.
            buf.push_str(std::str::from_utf8_unchecked(bytes));
            return len;
        }
        buf.reserve(take * 2);
        let push = |buf: &mut String, cp: u32| {
            buf.push(char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER));
        };
        match ffi::PyUnicode_KIND(obj) {
            1 => std::slice::from_raw_parts(data.cast::<u8>(), take)
                .iter()
                .for_each(|c| push(buf, u32::from(*c))),
            2 => std::slice::from_raw_parts(data.cast::<u16>(), take)
                .iter()
                .for_each(|c| push(buf, u32::from(*c))),
            _ => std::slice::from_raw_parts(data.cast::<u32>(), take)
                .iter()
                .for_each(|c| push(buf, *c)),
        }
        len
    }
}
