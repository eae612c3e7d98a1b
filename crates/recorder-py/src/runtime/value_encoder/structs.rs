//! Structs: instances of Python classes recorded as a `Struct` of their `__dict__` entries then
//! their `__slots__` values (each slot read through its member descriptor's own getter, never
//! a property or `__getattribute__`), at most `max_elements` fields, filtered by the
//! attribute filters (dropped fields leave the struct, redacted ones keep their name),
//! summarised at the depth limit and cycle-safe.

use codetracer_trace_filter::{ValueAction, REDACTED_MARKER};
use codetracer_trace_stream::Encoding;
use pyo3::ffi;
use pyo3::prelude::*;

use super::{Out, Res, ValueEncoder};
use crate::errors::RecorderFailure;
use crate::runtime::ffi_str::borrow_str;
use crate::runtime::types::Fixed;
use codetracer_trace_stream::Shape;

impl<E: Encoding> ValueEncoder<E> {
    /// Instances of Python classes: a `Struct` of `__dict__` entries then `__slots__` values.
    /// Returns `false` (writing nothing) when the object has neither.
    ///
    /// # Safety
    /// `o` must be a live object of type `tp` and the GIL must be held.
    pub(super) unsafe fn encode_struct(
        &mut self,
        py: Python<'_>,
        o: *mut ffi::PyObject,
        tp: *mut ffi::PyTypeObject,
        depth: usize,
        out: &mut Out<'_>,
    ) -> Result<bool, RecorderFailure> {
        // SAFETY: (whole body) `o` is live, the GIL is held; the attribute dict and the
        // values are new references released below.
        unsafe {
            let Fields {
                mut names,
                mut values,
                dict,
                has_dict,
            } = collect_fields(o, tp, self.limits.max_elements);
            // Filters: dropped attributes leave the struct, redacted ones keep their name.
            let mut redacted: Vec<bool> = vec![false; names.len()];
            if out.attrs.is_some() {
                let mut i = 0;
                while i < names.len() {
                    let action = match borrow_str(names[i]) {
                        Some(n) => out.attr_action(n),
                        None => ValueAction::Allow,
                    };
                    match action {
                        ValueAction::Allow => i += 1,
                        ValueAction::Redact => {
                            redacted[i] = true;
                            i += 1;
                        }
                        ValueAction::Drop => {
                            names.remove(i);
                            ffi::Py_DECREF(values.remove(i));
                            redacted.remove(i);
                        }
                    }
                }
            }
            let release = |values: Vec<*mut ffi::PyObject>, dict: *mut ffi::PyObject| {
                for v in values {
                    ffi::Py_DECREF(v);
                }
                if !dict.is_null() {
                    ffi::Py_DECREF(dict);
                }
            };
            if names.is_empty() && !has_dict {
                release(values, dict);
                return Ok(false);
            }
            let result = (|| -> Res {
                if self.cycle_marked(o, tp, out)? {
                    return Ok(());
                }
                if depth >= self.limits.max_depth {
                    let t = out.types.fixed(Fixed::Elided, out.rec)?;
                    let text = format!("<{} object>", self.names.get(tp));
                    self.out.raw(&text, t);
                    return Ok(());
                }
                let type_id = out.types.for_struct(py, tp, &names, out.rec)?;
                let redacted_type = if redacted.iter().any(|r| *r) {
                    Some(out.types.fixed(Fixed::Redacted, out.rec)?)
                } else {
                    None
                };
                self.in_progress.push(o as usize);
                self.out.begin(Shape::Struct, values.len());
                let r = (|| -> Res {
                    for (v, hidden) in values.iter().zip(&redacted) {
                        match (hidden, redacted_type) {
                            (true, Some(t)) => {
                                self.out.element_start();
                                self.out.raw(REDACTED_MARKER, t);
                            }
                            _ => {
                                self.encode_ptr(py, *v, depth + 1, out)?;
                            }
                        }
                    }
                    Ok(())
                })();
                self.in_progress.pop();
                r?;
                self.out.end(Shape::Struct, type_id);
                Ok(())
            })();
            release(values, dict);
            result.map(|()| true)
        }
    }
}

/// What an instance is recorded from: its `__dict__` entries with `str` keys, then its filled
/// `__slots__`, at most `max` in all (names borrowed, values new references), and the dict
/// (a new reference, or null) and whether the class gives its instances one.
pub(super) struct Fields {
    pub names: Vec<*mut ffi::PyObject>,
    pub values: Vec<*mut ffi::PyObject>,
    pub dict: *mut ffi::PyObject,
    pub has_dict: bool,
}

/// The [`Fields`] of `o`, read without running user code (the encoder and the value cache's
/// check read the same ones).
///
/// # Safety
/// `o` must be a live object of type `tp` and the GIL must be held; the caller releases the
/// returned references.
pub(super) unsafe fn collect_fields(
    o: *mut ffi::PyObject,
    tp: *mut ffi::PyTypeObject,
    max: usize,
) -> Fields {
    // SAFETY: (whole body) `o` is live, the GIL is held; the attribute dict is a new
    // reference handed to the caller; every value pushed gets its own new reference.
    unsafe {
        let mut names: Vec<*mut ffi::PyObject> = Vec::new();
        let mut values: Vec<*mut ffi::PyObject> = Vec::new();
        let has_dict =
            (*tp).tp_dictoffset != 0 || ((*tp).tp_flags & ffi::Py_TPFLAGS_MANAGED_DICT) != 0;
        let mut dict: *mut ffi::PyObject = std::ptr::null_mut();
        if has_dict {
            dict = ffi::PyObject_GenericGetDict(o, std::ptr::null_mut());
            if dict.is_null() {
                ffi::PyErr_Clear();
            } else if ffi::PyDict_Check(dict) != 0 {
                let mut pos: ffi::Py_ssize_t = 0;
                let mut key: *mut ffi::PyObject = std::ptr::null_mut();
                let mut value: *mut ffi::PyObject = std::ptr::null_mut();
                while names.len() < max
                    && ffi::PyDict_Next(dict, &mut pos, &mut key, &mut value) != 0
                {
                    if ffi::PyUnicode_Check(key) == 0 {
                        continue;
                    }
                    ffi::Py_INCREF(value);
                    names.push(key);
                    values.push(value);
                }
            }
        }
        collect_slots(o, tp, &mut names, &mut values, max);
        Fields {
            names,
            values,
            dict,
            has_dict,
        }
    }
}

/// For each class of `tp`'s MRO defined in Python (a heap type) whose class dict holds
/// `name`: that dict and the value (borrowed pointers, valid while `tp` lives). Reads the
/// dicts only: no descriptor, property or metaclass code runs.
///
/// # Safety
/// `tp` must be a live type object and the GIL must be held.
pub(super) unsafe fn class_entries(
    tp: *mut ffi::PyTypeObject,
    name: &std::ffi::CStr,
) -> Vec<(*mut ffi::PyObject, *mut ffi::PyObject)> {
    // SAFETY: (whole body) `tp` is live (contract); its MRO tuple and the classes' dicts are
    // borrowed from it.
    unsafe {
        let mro = (*tp).tp_mro;
        if mro.is_null() || ffi::PyTuple_Check(mro) == 0 {
            return Vec::new();
        }
        let mut found = Vec::new();
        for i in 0..ffi::PyTuple_Size(mro) {
            let cls = ffi::PyTuple_GetItem(mro, i).cast::<ffi::PyTypeObject>();
            if cls.is_null() || ((*cls).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE) == 0 {
                continue;
            }
            let dict = (*cls).tp_dict;
            if dict.is_null() {
                continue;
            }
            let value = ffi::PyDict_GetItemString(dict, name.as_ptr());
            if !value.is_null() {
                found.push((dict, value));
            }
        }
        if !ffi::PyErr_Occurred().is_null() {
            ffi::PyErr_Clear();
        }
        found
    }
}

/// Appends `(name, value)` for every filled `__slots__` member of `tp`'s MRO, reading each
/// through its member descriptor's own getter (never a property or `__getattribute__`).
unsafe fn collect_slots(
    o: *mut ffi::PyObject,
    tp: *mut ffi::PyTypeObject,
    names: &mut Vec<*mut ffi::PyObject>,
    values: &mut Vec<*mut ffi::PyObject>,
    max: usize,
) {
    // SAFETY: (whole body) `tp` is the live type of the live `o`; the classes' dicts and
    // their entries are borrowed; descriptor getters of `member_descriptor` are C code.
    unsafe {
        for (cls_dict, slots) in class_entries(tp, c"__slots__") {
            let slot_names: Vec<*mut ffi::PyObject> = if ffi::PyUnicode_Check(slots) != 0 {
                vec![slots]
            } else if ffi::PyTuple_Check(slots) != 0 || ffi::PyList_Check(slots) != 0 {
                let n = ffi::PySequence_Size(slots);
                (0..n)
                    .map(|j| {
                        if ffi::PyTuple_Check(slots) != 0 {
                            ffi::PyTuple_GetItem(slots, j)
                        } else {
                            ffi::PyList_GetItem(slots, j)
                        }
                    })
                    .filter(|p| !p.is_null())
                    .collect()
            } else {
                continue;
            };
            for name in slot_names {
                if names.len() >= max {
                    return;
                }
                let descr = ffi::PyDict_GetItem(cls_dict, name);
                if descr.is_null()
                    || !std::ptr::eq(ffi::Py_TYPE(descr), &raw mut ffi::PyMemberDescr_Type)
                {
                    continue;
                }
                let Some(get) = (*ffi::Py_TYPE(descr)).tp_descr_get else {
                    continue;
                };
                let value = get(descr, o, tp.cast());
                if value.is_null() {
                    ffi::PyErr_Clear(); // unset slot
                    continue;
                }
                names.push(name);
                values.push(value);
            }
        }
        if !ffi::PyErr_Occurred().is_null() {
            ffi::PyErr_Clear();
        }
    }
}
