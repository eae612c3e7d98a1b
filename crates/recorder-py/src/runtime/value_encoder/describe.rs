//! Descriptions: what is recorded of objects the encoder does not look into. An exception
//! becomes `TypeName: message` (its `str()` only when that cannot run user code); anything else
//! opaque a `Raw` named after its class with a safe description (`<module 'os'>`,
//! `<function f>`, `<class 'C'>`, the builtin repr of a few harmless builtins, else
//! `<TypeName object>`), or its `repr()` when the `allow_repr` policy lets user code run.

use codetracer_trace_stream::types::TypeKind;
use codetracer_trace_stream::Encoding;
use pyo3::ffi;
use pyo3::prelude::*;

use super::{Out, Res, ValueEncoder};
use crate::runtime::ffi_str::borrow_str;
use crate::runtime::types::{class_name, Fixed};

extern "C" {
    // Public C API since 3.12 (not yet declared by pyo3-ffi): the args tuple of an exception,
    // read from the object's struct without calling any attribute machinery.
    fn PyException_GetArgs(exc: *mut ffi::PyObject) -> *mut ffi::PyObject;
}

impl<E: Encoding> ValueEncoder<E> {
    /// An exception instance: a `Raw` of its [`exception_text`].
    ///
    /// # Safety
    /// `o` must be a live exception instance and the GIL must be held.
    pub(super) unsafe fn encode_exception(
        &mut self,
        o: *mut ffi::PyObject,
        out: &mut Out<'_>,
    ) -> Res {
        let t = out.types.fixed(Fixed::Exception, out.rec)?;
        // SAFETY: forwarded contract.
        let text = unsafe { exception_text(o) };
        self.out.raw(&text, t);
        Ok(())
    }

    /// Any other object: a `Raw` of its class with its [`describe`] text, or its `repr()` when
    /// the policy allows it (falling back to the description when `__repr__` raises).
    ///
    /// # Safety
    /// `o` must be a live object of type `tp` and the GIL must be held.
    pub(super) unsafe fn encode_opaque(
        &mut self,
        py: Python<'_>,
        o: *mut ffi::PyObject,
        tp: *mut ffi::PyTypeObject,
        out: &mut Out<'_>,
    ) -> Res {
        let t = out.types.for_class(py, tp, TypeKind::Raw, out.rec)?;
        // SAFETY: forwarded contract.
        let text = unsafe {
            match self.limits.allow_repr {
                true => user_repr(o, self.limits.max_string_len).unwrap_or_else(|| describe(o, tp)),
                false => describe(o, tp),
            }
        };
        self.out.raw(&text, t);
        Ok(())
    }
}

/// `TypeName: message` of an exception, calling `str()` only when that cannot run user code
/// (the class does not override `__str__` and every argument is a builtin scalar).
///
/// # Safety
/// `exc` must be a live exception instance and the GIL held.
pub unsafe fn exception_text(exc: *mut ffi::PyObject) -> String {
    // SAFETY: caller contract; `args` is a new reference released below.
    unsafe {
        let tp = ffi::Py_TYPE(exc);
        let name = class_name(tp);
        let args = PyException_GetArgs(exc);
        if args.is_null() {
            ffi::PyErr_Clear();
            return name;
        }
        let n = ffi::PyTuple_Size(args);
        let mut safe_args = true;
        for i in 0..n {
            let a = ffi::PyTuple_GetItem(args, i);
            safe_args &= !a.is_null()
                && (ffi::PyUnicode_CheckExact(a) != 0
                    || ffi::PyLong_CheckExact(a) != 0
                    || ffi::PyFloat_CheckExact(a) != 0
                    || a == ffi::Py_None()
                    || ffi::PyBytes_CheckExact(a) != 0);
        }
        ffi::Py_DECREF(args);
        if !safe_args || !str_is_builtin(tp) {
            return name;
        }
        let s = ffi::PyObject_Str(exc);
        if s.is_null() {
            ffi::PyErr_Clear();
            return name;
        }
        let text = borrow_str(s).map(str::to_owned);
        ffi::Py_DECREF(s);
        match text {
            Some(t) if !t.is_empty() => format!("{name}: {t}"),
            _ => name,
        }
    }
}

/// Whether `tp`'s `__str__` is inherited from a builtin (non-heap) class.
unsafe fn str_is_builtin(tp: *mut ffi::PyTypeObject) -> bool {
    // SAFETY: `tp` and its bases are live type objects.
    unsafe {
        let mut t = tp;
        while !t.is_null() && ((*t).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE) != 0 {
            t = (*t).tp_base;
        }
        !t.is_null() && (*t).tp_str.map(|f| f as usize) == (*tp).tp_str.map(|f| f as usize)
    }
}

/// `repr(o)` cut at `max` characters — runs user code; only with the `allow_repr` policy. An
/// exception raised by `__repr__` is cleared and `None` returned.
///
/// # Safety
/// `o` must be a live object and the GIL held.
unsafe fn user_repr(o: *mut ffi::PyObject, max: usize) -> Option<String> {
    // SAFETY: caller contract; the repr result is a new reference released below.
    unsafe {
        let r = ffi::PyObject_Repr(o);
        if r.is_null() {
            ffi::PyErr_Clear();
            return None;
        }
        let text = borrow_str(r).map(|s| match s.char_indices().nth(max) {
            Some((cut, _)) => format!("{}…", &s[..cut]),
            None => s.to_owned(),
        });
        ffi::Py_DECREF(r);
        text
    }
}

/// A safe description of an opaque object: `<module 'os'>`, `<function f>`, `<class 'C'>`,
/// the builtin repr of a few harmless builtin types, else `<TypeName object>`.
pub(super) unsafe fn describe(o: *mut ffi::PyObject, tp: *mut ffi::PyTypeObject) -> String {
    // SAFETY: `o` is live, the GIL is held; every call below is builtin C code that cannot
    // run user code for these exact types.
    unsafe {
        if ffi::PyModule_Check(o) != 0 {
            return match take_name(ffi::PyModule_GetNameObject(o)) {
                Some(s) => format!("<module '{s}'>"),
                None => "<module>".into(),
            };
        }
        if ffi::PyType_Check(o) != 0 {
            return format!("<class '{}'>", class_name(o.cast()));
        }
        if ffi::PyFunction_Check(o) != 0 {
            return match take_name(ffi::PyObject_GetAttrString(o, c"__qualname__".as_ptr())) {
                Some(s) => format!("<function {s}>"),
                None => "<function>".into(),
            };
        }
        let safe_repr = std::ptr::eq(tp, &raw mut ffi::PyComplex_Type)
            || std::ptr::eq(tp, &raw mut ffi::PyRange_Type)
            || std::ptr::eq(tp, &raw mut ffi::PyCFunction_Type)
            || o == ffi::Py_Ellipsis()
            || o == ffi::Py_NotImplemented();
        if safe_repr {
            let r = ffi::PyObject_Repr(o);
            if !r.is_null() {
                let s = borrow_str(r).map(str::to_owned);
                ffi::Py_DECREF(r);
                if let Some(s) = s {
                    return s;
                }
            }
            ffi::PyErr_Clear();
        }
        format!("<{} object>", class_name(tp))
    }
}

/// The text of `name`, a new reference (released here) returned by a name lookup: `?` when it
/// is not a `str`; `None` (the error cleared) when the lookup failed and returned null.
///
/// # Safety
/// `name` must be null or a new reference to a live object, and the GIL must be held.
unsafe fn take_name(name: *mut ffi::PyObject) -> Option<String> {
    // SAFETY: caller contract; `name` is released once read.
    unsafe {
        if name.is_null() {
            ffi::PyErr_Clear();
            return None;
        }
        let s = borrow_str(name).unwrap_or("?").to_owned();
        ffi::Py_DECREF(name);
        Some(s)
    }
}
