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
use crate::runtime::types::Fixed;
use codetracer_trace_stream::Shape;
use std::ffi::CStr;
use std::sync::atomic::{AtomicPtr, Ordering};

use super::type_facts::{all_slots, slot_value, Facts, Slot};

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
            let facts = self.names.facts.get(tp);
            let Fields {
                mut names,
                mut values,
                dict,
                has_dict,
            } = collect_fields(o, tp, self.limits.max_elements, facts.as_deref());
            // Filters: dropped attributes leave the struct, redacted ones keep their name.
            let mut redacted: Vec<bool> = vec![false; names.len()];
            if out.attrs.is_some() {
                let mut i = 0;
                while i < names.len() {
                    let action = self.attr_memo.action(names[i], out);
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
/// `__slots__`, at most `max` in all (names borrowed from the instance's dict or its classes,
/// values new references), and whether the class gives its instances a dict.
pub(super) struct Fields {
    pub names: Vec<*mut ffi::PyObject>,
    pub values: Vec<*mut ffi::PyObject>,
    pub dict: *mut ffi::PyObject,
    pub has_dict: bool,
}

/// The [`Fields`] of `o` (see [`visit_fields`]); `dict` is always null.
///
/// # Safety
/// `o` must be a live object of type `tp` and the GIL must be held; the caller releases the
/// values.
pub(super) unsafe fn collect_fields(
    o: *mut ffi::PyObject,
    tp: *mut ffi::PyTypeObject,
    max: usize,
    facts: Option<&Facts>,
) -> Fields {
    let mut names: Vec<*mut ffi::PyObject> = Vec::with_capacity(8);
    let mut values: Vec<*mut ffi::PyObject> = Vec::with_capacity(8);
    // SAFETY: forwarded contract; each value pushed gets its own new reference.
    let has_dict = unsafe {
        visit_fields(o, tp, max, facts, &mut |name, value| {
            ffi::Py_INCREF(value);
            names.push(name);
            values.push(value);
            true
        })
    };
    Fields {
        names,
        values,
        dict: std::ptr::null_mut(),
        has_dict,
    }
}

/// Calls `visit(name, value)` for each field of instance `o` in the order it is recorded:
/// its `__dict__` entries with `str` keys, then every filled `__slots__` member of `tp`'s MRO
/// (read through its member descriptor's own getter, never a property or
/// `__getattribute__`), at most `max`, until `visit` returns `false`. `value` is borrowed for
/// the call; `name` lives as long as `o` keeps its dict and class. Returns whether the class
/// gives its instances a dict. No user code runs (the encoder and the value cache's check
/// read the very same fields). `facts` are `tp`'s as [`TypeFacts`](super::type_facts) found
/// them now (`None`: the slots are looked up in the class dicts).
///
/// # Safety
/// `o` must be a live object of type `tp` and the GIL must be held.
pub(super) unsafe fn visit_fields(
    o: *mut ffi::PyObject,
    tp: *mut ffi::PyTypeObject,
    max: usize,
    facts: Option<&Facts>,
    visit: &mut dyn FnMut(*mut ffi::PyObject, *mut ffi::PyObject) -> bool,
) -> bool {
    // SAFETY: (whole body) `o` is live, the GIL is held; the attribute dict is a new reference
    // released here (the instance keeps it, and so its keys, alive); slot values are new
    // references released after the visit.
    unsafe {
        let mut seen = 0usize;
        let has_dict = gives_dict(tp);
        if has_dict {
            let dict = ffi::PyObject_GenericGetDict(o, std::ptr::null_mut());
            if dict.is_null() {
                ffi::PyErr_Clear();
            } else {
                let mut go_on = true;
                if ffi::PyDict_Check(dict) != 0 {
                    let mut pos: ffi::Py_ssize_t = 0;
                    let mut key: *mut ffi::PyObject = std::ptr::null_mut();
                    let mut value: *mut ffi::PyObject = std::ptr::null_mut();
                    while go_on
                        && seen < max
                        && ffi::PyDict_Next(dict, &mut pos, &mut key, &mut value) != 0
                    {
                        if ffi::PyUnicode_Check(key) == 0 {
                            continue;
                        }
                        seen += 1;
                        go_on = visit(key, value);
                    }
                }
                ffi::Py_DECREF(dict);
                if !go_on {
                    return has_dict;
                }
            }
        }
        if seen < max {
            match facts.and_then(|f| f.slots.as_deref()) {
                Some(slots) => visit_slots(o, tp, slots, max - seen, visit),
                // Not cached (no version tag, a `__slots__` list): looked up now.
                None => visit_slots(o, tp, &all_slots(tp).0, max - seen, visit),
            }
        }
        has_dict
    }
}

/// Whether class `tp` gives its instances a `__dict__`.
///
/// # Safety
/// `tp` must be a live type object.
pub(super) unsafe fn gives_dict(tp: *mut ffi::PyTypeObject) -> bool {
    // SAFETY: `tp` is live (contract); plain fields.
    unsafe { (*tp).tp_dictoffset != 0 || ((*tp).tp_flags & ffi::Py_TPFLAGS_MANAGED_DICT) != 0 }
}

/// The interned `str` object of one of the class attributes the encoder reads, made once per
/// process (interned strings are immortal since CPython 3.12); null if it cannot be made.
///
/// # Safety
/// The GIL must be held.
pub(super) unsafe fn interned(slot: &AtomicPtr<ffi::PyObject>, name: &CStr) -> *mut ffi::PyObject {
    let known = slot.load(Ordering::Relaxed);
    if !known.is_null() {
        return known;
    }
    // SAFETY: the GIL is held (contract); the new reference is kept for the process.
    unsafe {
        let key = ffi::PyUnicode_InternFromString(name.as_ptr());
        if key.is_null() {
            ffi::PyErr_Clear();
        }
        slot.store(key, Ordering::Relaxed);
        key
    }
}

/// `"__slots__"`, interned (see [`interned`]).
static SLOTS_KEY: AtomicPtr<ffi::PyObject> = AtomicPtr::new(std::ptr::null_mut());
/// `"_fields"`, interned (see [`interned`]).
static FIELDS_KEY: AtomicPtr<ffi::PyObject> = AtomicPtr::new(std::ptr::null_mut());

/// A class attribute the encoder reads from class dicts.
#[derive(Clone, Copy)]
pub(super) enum ClassKey {
    /// `__slots__`.
    Slots,
    /// `_fields` (namedtuples).
    Fields,
}

/// For each class of `tp`'s MRO defined in Python (a heap type) whose class dict holds `key`:
/// calls `visit(dict, value)` (borrowed pointers, valid while `tp` lives) until it returns
/// `false`. Reads the dicts only: no descriptor, property or metaclass code runs.
///
/// # Safety
/// `tp` must be a live type object and the GIL must be held.
pub(super) unsafe fn each_class_entry(
    tp: *mut ffi::PyTypeObject,
    key: ClassKey,
    visit: &mut dyn FnMut(*mut ffi::PyObject, *mut ffi::PyObject) -> bool,
) {
    // SAFETY: (whole body) `tp` is live (contract); its MRO tuple and the classes' dicts are
    // borrowed from it; the key is an interned `str`, so the lookups run no Python code.
    unsafe {
        let name = match key {
            ClassKey::Slots => interned(&SLOTS_KEY, c"__slots__"),
            ClassKey::Fields => interned(&FIELDS_KEY, c"_fields"),
        };
        let mro = (*tp).tp_mro;
        if name.is_null() || mro.is_null() || ffi::PyTuple_Check(mro) == 0 {
            return;
        }
        for i in 0..ffi::PyTuple_Size(mro) {
            let cls = ffi::PyTuple_GetItem(mro, i).cast::<ffi::PyTypeObject>();
            if cls.is_null() || ((*cls).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE) == 0 {
                continue;
            }
            let dict = (*cls).tp_dict;
            if dict.is_null() {
                continue;
            }
            let value = ffi::PyDict_GetItem(dict, name);
            if !value.is_null() && !visit(dict, value) {
                break;
            }
        }
        if !ffi::PyErr_Occurred().is_null() {
            ffi::PyErr_Clear();
        }
    }
}

/// The first `key` entry of `tp`'s MRO class dicts that is a tuple (borrowed), or null.
///
/// # Safety
/// `tp` must be a live type object and the GIL must be held.
pub(super) unsafe fn class_tuple(tp: *mut ffi::PyTypeObject, key: ClassKey) -> *mut ffi::PyObject {
    let mut found = std::ptr::null_mut();
    // SAFETY: forwarded contract.
    unsafe {
        each_class_entry(tp, key, &mut |_, v| {
            if ffi::PyTuple_Check(v) != 0 {
                found = v;
                return false;
            }
            true
        });
    }
    found
}

/// Visits every filled slot of `slots` (at most `max`), reading each at its offset or through
/// its member descriptor (never a property or `__getattribute__`).
///
/// # Safety
/// `o` must be a live object of type `tp`, `slots` `tp`'s as they are now; the GIL must be
/// held.
unsafe fn visit_slots(
    o: *mut ffi::PyObject,
    tp: *mut ffi::PyTypeObject,
    slots: &[Slot],
    max: usize,
    visit: &mut dyn FnMut(*mut ffi::PyObject, *mut ffi::PyObject) -> bool,
) {
    let mut seen = 0usize;
    for slot in slots {
        // SAFETY: forwarded contract.
        if seen >= max || !unsafe { visit_slot(o, tp, slot, &mut seen, visit) } {
            return;
        }
    }
}

/// Visits one slot of `o` when it is filled (counted in `seen`); whether to go on.
///
/// # Safety
/// `o` must be a live instance of a class whose MRO defines `slot`; the GIL must be held.
unsafe fn visit_slot(
    o: *mut ffi::PyObject,
    tp: *mut ffi::PyTypeObject,
    slot: &Slot,
    seen: &mut usize,
    visit: &mut dyn FnMut(*mut ffi::PyObject, *mut ffi::PyObject) -> bool,
) -> bool {
    // SAFETY: forwarded contract; the value is a new reference released here.
    unsafe {
        let value = slot_value(o, tp, slot);
        if value.is_null() {
            return true; // unset slot
        }
        *seen += 1;
        let go_on = visit(slot.name, value);
        ffi::Py_DECREF(value);
        go_on
    }
}
