//! [`ValueEncoder`]: Python objects → trace values, without running user code.
//!
//! Only CPython's C API is used to look inside objects (no `repr()`, `str()`, `__len__`,
//! `__eq__`, properties or custom `__getattribute__`): builtin scalars and containers are read
//! from their storage, instances of Python classes become `Struct`s of their `__dict__` and
//! `__slots__` (slot values read through the slot's member descriptor only), everything else a
//! `Raw` with a safe description. Encoding is bounded by [`ValueLimits`] (depth, elements per
//! container, string length; cut parts are replaced by an elision marker) and cycle-safe (a
//! container that contains itself is recorded with a `<cycle>` marker at the point of
//! recursion).
//!
//! Values are written straight into bytes of the trace format by a [`ValueOut`] (no
//! `ValueRecord` tree is built); strings are read from their own storage (only the characters
//! recorded), and lists, tuples and dicts re-encode only the elements that changed since they
//! were last encoded ([`ContainerCache`]).

use std::ffi::c_int;
use std::fmt::Write as _;

use codetracer_policy::ValueLimits;
use codetracer_trace_filter::ValueAction;
use pyo3::ffi;
use pyo3::prelude::*;
use runtime_tracing::{TypeId, TypeKind, ValueRecord};

use super::container_cache::{self, ContainerCache, Reuse};
use super::ffi_str::{borrow_str, push_prefix};
use super::types::{class_name, Fixed, TypeRegistry};
use super::writer::value_out::{Shape, ValueOut};
use super::writer::{Records, TraceFormat};
use crate::errors::RecorderFailure;

/// Hard ceiling on nesting, whatever the policy says: the JSON reader of the trace format
/// rejects values nested more than ~60 levels (serde_json's recursion limit).
pub const MAX_DEPTH_CEILING: usize = 32;

extern "C" {
    // Public C API since 3.12 (not yet declared by pyo3-ffi): the args tuple of an exception,
    // read from the object's struct without calling any attribute machinery.
    fn PyException_GetArgs(exc: *mut ffi::PyObject) -> *mut ffi::PyObject;
}

/// Encodes values; holds its output buffer, the cycle-detection stack and the string cache
/// between calls so it does not allocate once warmed up.
pub struct ValueEncoder {
    limits: ValueLimits,
    in_progress: Vec<usize>,
    out: ValueOut,
    /// Scratch text for cut strings.
    text: String,
    containers: ContainerCache,
}

type Res = Result<(), RecorderFailure>;

/// What the encoder needs besides the value: the type table and the records it declares
/// types in, and the filters' verdict on attributes.
pub struct Out<'a> {
    /// The type table.
    pub types: &'a mut TypeRegistry,
    /// Where new `Type` records go.
    pub rec: &'a mut Records,
    /// The filters' action for struct fields (attributes), by name; `None`: allow all.
    pub attrs: Option<&'a mut dyn FnMut(&str) -> ValueAction>,
}

impl<'a> Out<'a> {
    /// Output without attribute filtering.
    pub fn new(types: &'a mut TypeRegistry, rec: &'a mut Records) -> Self {
        Self {
            types,
            rec,
            attrs: None,
        }
    }
}

impl ValueEncoder {
    /// A new encoder writing `format` with `limits` (depth clamped to [`MAX_DEPTH_CEILING`]).
    pub fn new(mut limits: ValueLimits, format: TraceFormat) -> Self {
        limits.max_depth = limits.max_depth.clamp(1, MAX_DEPTH_CEILING);
        limits.max_elements = limits.max_elements.max(1);
        Self {
            limits,
            in_progress: Vec::with_capacity(16),
            out: ValueOut::new(format),
            text: String::new(),
            containers: ContainerCache::default(),
        }
    }

    /// Encodes `obj`; returns the value's bytes (valid until the next call).
    pub fn encode(
        &mut self,
        py: Python<'_>,
        obj: &Bound<'_, PyAny>,
        out: &mut Out<'_>,
    ) -> Result<&[u8], RecorderFailure> {
        // SAFETY: `obj` is a live object and `py` proves the GIL is held.
        unsafe { self.encode_raw(py, obj.as_ptr(), out) }
    }

    /// Encodes a borrowed object pointer; returns the value's bytes.
    ///
    /// # Safety
    /// `obj` must be a valid object pointer and the GIL must be held.
    pub unsafe fn encode_raw(
        &mut self,
        py: Python<'_>,
        obj: *mut ffi::PyObject,
        out: &mut Out<'_>,
    ) -> Result<&[u8], RecorderFailure> {
        self.in_progress.clear();
        self.out.clear();
        // SAFETY: forwarded contract.
        unsafe { self.encode_ptr(py, obj, 0, out)? };
        Ok(self.out.bytes())
    }

    /// Encodes `obj` and reads it back as a `ValueRecord` (for tests and tools; needs a
    /// binary-format encoder).
    pub fn encode_record(
        &mut self,
        py: Python<'_>,
        obj: &Bound<'_, PyAny>,
        out: &mut Out<'_>,
    ) -> Result<ValueRecord, RecorderFailure> {
        let format = self.out.format();
        let bytes = self.encode(py, obj, out)?;
        let decoded = match format {
            TraceFormat::Binary => {
                cbor4ii::serde::from_slice::<ValueRecord>(bytes).map_err(|e| e.to_string())
            }
            TraceFormat::Json => {
                serde_json::from_slice::<ValueRecord>(bytes).map_err(|e| e.to_string())
            }
        };
        decoded.map_err(|e| RecorderFailure::internal(format!("value bytes do not read back: {e}")))
    }

    /// The bytes of the value encoded last.
    pub fn last_bytes(&self) -> &[u8] {
        self.out.bytes()
    }

    /// A `Raw` marker value of a fixed type (`<redacted>`, `<dropped>`, ...); returns its bytes.
    pub fn marker(
        &mut self,
        fixed: Fixed,
        text: &str,
        out: &mut Out<'_>,
    ) -> Result<&[u8], RecorderFailure> {
        let type_id = out.types.fixed(fixed, out.rec)?;
        self.out.clear();
        self.out.element_start();
        self.out.raw(text, type_id);
        Ok(self.out.bytes())
    }

    /// Starts an element and encodes `o` into it; returns where the element's bytes begin.
    unsafe fn encode_ptr(
        &mut self,
        py: Python<'_>,
        o: *mut ffi::PyObject,
        depth: usize,
        out: &mut Out<'_>,
    ) -> Result<usize, RecorderFailure> {
        let start = self.out.element_start();
        // SAFETY: forwarded contract.
        unsafe { self.encode_at(py, o, depth, out)? };
        Ok(start)
    }

    /// Encodes `o` into the element just started.
    unsafe fn encode_at(
        &mut self,
        py: Python<'_>,
        o: *mut ffi::PyObject,
        depth: usize,
        out: &mut Out<'_>,
    ) -> Res {
        // SAFETY: (whole body) `o` is live and the GIL is held (caller contract); every
        // pointer read below is owned by `o` or by its type and outlives this call.
        unsafe {
            if o == ffi::Py_None() {
                self.out.none(TypeId(0));
                return Ok(());
            }
            if o == ffi::Py_True() || o == ffi::Py_False() {
                let t = out.types.fixed(Fixed::Bool, out.rec)?;
                self.out.bool(o == ffi::Py_True(), t);
                return Ok(());
            }
            let tp = ffi::Py_TYPE(o);
            let exact = |t: *mut ffi::PyTypeObject| std::ptr::eq(tp, t);
            if ffi::PyLong_Check(o) != 0 {
                let type_id = if exact(&raw mut ffi::PyLong_Type) {
                    out.types.fixed(Fixed::Int, out.rec)?
                } else {
                    out.types.for_class(py, tp, TypeKind::Int, out.rec)?
                };
                encode_int(o, type_id, &mut self.out);
                return Ok(());
            }
            if ffi::PyFloat_Check(o) != 0 {
                let f = ffi::PyFloat_AS_DOUBLE(o);
                if f.is_finite() {
                    let type_id = if exact(&raw mut ffi::PyFloat_Type) {
                        out.types.fixed(Fixed::Float, out.rec)?
                    } else {
                        out.types.for_class(py, tp, TypeKind::Float, out.rec)?
                    };
                    self.out.float(f, type_id);
                } else {
                    let r = if f.is_nan() {
                        "nan"
                    } else if f > 0.0 {
                        "inf"
                    } else {
                        "-inf"
                    };
                    let t = out.types.fixed(Fixed::FloatSpecial, out.rec)?;
                    self.out.raw(r, t);
                }
                return Ok(());
            }
            if ffi::PyUnicode_Check(o) != 0 {
                let type_id = if exact(&raw mut ffi::PyUnicode_Type) {
                    out.types.fixed(Fixed::Str, out.rec)?
                } else {
                    out.types.for_class(py, tp, TypeKind::String, out.rec)?
                };
                self.write_string(o, type_id);
                return Ok(());
            }
            if ffi::PyBytes_Check(o) != 0 || ffi::PyByteArray_Check(o) != 0 {
                let is_bytes = ffi::PyBytes_Check(o) != 0;
                let (data, len) = if is_bytes {
                    (ffi::PyBytes_AsString(o).cast::<u8>(), ffi::PyBytes_Size(o))
                } else {
                    (
                        ffi::PyByteArray_AsString(o).cast::<u8>(),
                        ffi::PyByteArray_Size(o),
                    )
                };
                let len = usize::try_from(len).unwrap_or(0);
                let bytes: &[u8] = if data.is_null() {
                    &[]
                } else {
                    std::slice::from_raw_parts(data, len)
                };
                let fixed = if is_bytes {
                    Fixed::Bytes
                } else {
                    Fixed::ByteArray
                };
                let t = out.types.fixed(fixed, out.rec)?;
                self.out.raw(
                    &bytes_literal(bytes, is_bytes, self.limits.max_string_len),
                    t,
                );
                return Ok(());
            }
            let is_list = ffi::PyList_Check(o) != 0;
            let is_tuple = !is_list && ffi::PyTuple_Check(o) != 0;
            let is_dict = !is_list && !is_tuple && ffi::PyDict_Check(o) != 0;
            let is_set = !is_list && !is_tuple && !is_dict && ffi::PyAnySet_Check(o) != 0;
            if is_list || is_tuple || is_dict || is_set {
                return self.encode_container(py, o, tp, depth, out, (is_list, is_tuple, is_dict));
            }
            if ffi::PyExceptionInstance_Check(o) != 0 {
                let t = out.types.fixed(Fixed::Exception, out.rec)?;
                self.out.raw(&exception_text(o), t);
                return Ok(());
            }
            if ((*tp).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE) != 0
                && ffi::PyType_Check(o) == 0
                && self.encode_struct(py, o, tp, depth, out)?
            {
                return Ok(());
            }
            let t = out.types.for_class(py, tp, TypeKind::Raw, out.rec)?;
            let text = match self.limits.allow_repr {
                true => user_repr(o, self.limits.max_string_len).unwrap_or_else(|| describe(o, tp)),
                false => describe(o, tp),
            };
            self.out.raw(&text, t);
            Ok(())
        }
    }

    unsafe fn write_string(&mut self, o: *mut ffi::PyObject, type_id: TypeId) {
        // SAFETY: `o` is a live `str` (caller checked) and the GIL is held.
        unsafe {
            let max = self.limits.max_string_len;
            let len = usize::try_from(ffi::PyUnicode_GET_LENGTH(o)).unwrap_or(0);
            if len <= max && ffi::PyUnicode_IS_ASCII(o) == 0 {
                // Short non-ASCII text: CPython's own UTF-8 form (cached in the object).
                match borrow_str(o) {
                    Some(s) => self.out.string(s, type_id),
                    None => {
                        self.text.clear();
                        push_prefix(o, max, &mut self.text);
                        self.out.string(&self.text, type_id);
                    }
                }
                return;
            }
            self.text.clear();
            let total = push_prefix(o, max, &mut self.text);
            if total > max {
                let _ = write!(self.text, "…<+{} chars>", total - max);
            }
            self.out.string(&self.text, type_id);
        }
    }

    unsafe fn encode_container(
        &mut self,
        py: Python<'_>,
        o: *mut ffi::PyObject,
        tp: *mut ffi::PyTypeObject,
        depth: usize,
        out: &mut Out<'_>,
        (is_list, is_tuple, is_dict): (bool, bool, bool),
    ) -> Res {
        // SAFETY: (whole body) `o` is a live container of the checked kind; items are
        // borrowed from it while it is alive and the GIL is held (no Python code runs here, so
        // the container cannot change under us).
        unsafe {
            let (fixed, kind, exact_tp): (Fixed, TypeKind, *mut ffi::PyTypeObject) = if is_list {
                (Fixed::List, TypeKind::Seq, &raw mut ffi::PyList_Type)
            } else if is_tuple {
                (Fixed::Tuple, TypeKind::Tuple, &raw mut ffi::PyTuple_Type)
            } else if is_dict {
                (Fixed::Dict, TypeKind::Seq, &raw mut ffi::PyDict_Type)
            } else if ffi::PyFrozenSet_Check(o) != 0 {
                (
                    Fixed::FrozenSet,
                    TypeKind::Set,
                    &raw mut ffi::PyFrozenSet_Type,
                )
            } else {
                (Fixed::Set, TypeKind::Set, &raw mut ffi::PySet_Type)
            };
            let type_id = if std::ptr::eq(tp, exact_tp) {
                out.types.fixed(fixed, out.rec)?
            } else {
                out.types.for_class(py, tp, kind, out.rec)?
            };
            // The builtin storage size (never a Python-level `__len__` override).
            let raw_len = if is_list {
                ffi::PyList_Size(o)
            } else if is_tuple {
                ffi::PyTuple_Size(o)
            } else if is_dict {
                ffi::PyDict_Size(o)
            } else {
                ffi::PySet_Size(o)
            };
            if raw_len < 0 {
                ffi::PyErr_Clear();
            }
            let len = usize::try_from(raw_len).unwrap_or(0);
            if self.cycle_marked(o, tp, out)? {
                return Ok(());
            }
            if depth >= self.limits.max_depth {
                let t = out.types.fixed(Fixed::Elided, out.rec)?;
                self.out
                    .raw(&format!("<{} of {len} items>", class_name(tp)), t);
                return Ok(());
            }
            let shape = if is_tuple {
                Shape::Tuple
            } else {
                Shape::Sequence
            };
            let take = len.min(self.limits.max_elements);
            let elided = len - take;
            let elided_type = if elided > 0 {
                Some(out.types.fixed(Fixed::Elided, out.rec)?)
            } else {
                None
            };
            let tuple_type = if is_dict {
                Some(out.types.fixed(Fixed::Tuple, out.rec)?)
            } else {
                None
            };
            self.out.begin(shape, take + usize::from(elided > 0));
            self.in_progress.push(o as usize);
            let mut written = 0usize;
            // Lists, tuples and dicts of some size reuse the bytes of unchanged elements.
            let mut reuse = ((is_list || is_tuple || is_dict)
                && take >= container_cache::MIN_ELEMENTS)
                .then(|| {
                    let version = if is_dict {
                        container_cache::dict_version(o)
                    } else {
                        None
                    };
                    Reuse::begin(self.containers.take(o as usize), &self.out, version)
                });
            if let Some(r) = reuse.as_mut() {
                if r.copy_all_if_unchanged(&mut self.out, take) {
                    written = take;
                }
            }
            let null = std::ptr::null_mut::<ffi::PyObject>();
            let result = (|| -> Res {
                if written == take {
                    // Copied whole from the container cache.
                } else if is_list || is_tuple {
                    for i in 0..take {
                        let item = if is_list {
                            ffi::PyList_GetItem(o, i as ffi::Py_ssize_t)
                        } else {
                            ffi::PyTuple_GetItem(o, i as ffi::Py_ssize_t)
                        };
                        if item.is_null() {
                            ffi::PyErr_Clear();
                            break;
                        }
                        written += 1;
                        if let Some(r) = reuse.as_mut() {
                            if r.try_copy(&mut self.out, item, null) {
                                continue;
                            }
                        }
                        let start = self.encode_ptr(py, item, depth + 1, out)?;
                        if let Some(r) = reuse.as_mut() {
                            r.encoded(&self.out, start, item, null);
                        }
                    }
                } else if let Some(tuple_type) = tuple_type {
                    let mut pos: ffi::Py_ssize_t = 0;
                    let mut key: *mut ffi::PyObject = std::ptr::null_mut();
                    let mut value: *mut ffi::PyObject = std::ptr::null_mut();
                    while written < take && ffi::PyDict_Next(o, &mut pos, &mut key, &mut value) != 0
                    {
                        written += 1;
                        if let Some(r) = reuse.as_mut() {
                            if r.try_copy(&mut self.out, key, value) {
                                continue;
                            }
                        }
                        let start = self.out.element_start();
                        self.out.begin(Shape::Tuple, 2);
                        self.encode_ptr(py, key, depth + 1, out)?;
                        self.encode_ptr(py, value, depth + 1, out)?;
                        self.out.end(Shape::Tuple, tuple_type);
                        if let Some(r) = reuse.as_mut() {
                            r.encoded(&self.out, start, key, value);
                        }
                    }
                } else {
                    // Iterate with the set type's own iterator slot, so a subclass overriding
                    // `__iter__` is never called.
                    let base_iter = if ffi::PyFrozenSet_Check(o) != 0 {
                        ffi::PyFrozenSet_Type.tp_iter
                    } else {
                        ffi::PySet_Type.tp_iter
                    };
                    if let Some(iter_fn) = base_iter {
                        let it = iter_fn(o);
                        if it.is_null() {
                            ffi::PyErr_Clear();
                        } else {
                            while written < take {
                                let item = ffi::PyIter_Next(it);
                                if item.is_null() {
                                    ffi::PyErr_Clear();
                                    break;
                                }
                                let encoded = self.encode_ptr(py, item, depth + 1, out);
                                ffi::Py_DECREF(item);
                                encoded?;
                                written += 1;
                            }
                            ffi::Py_DECREF(it);
                        }
                    }
                }
                Ok(())
            })();
            self.in_progress.pop();
            result?;
            if let Some(r) = reuse {
                let entry = r.finish(py, &mut self.out);
                if written == take {
                    self.containers.put(o as usize, entry);
                }
            }
            // The element count was announced up front: pad if the storage held fewer.
            for _ in written..take {
                self.out.element_start();
                self.out.none(TypeId(0));
            }
            if let Some(t) = elided_type {
                self.out.element_start();
                self.out.raw(&format!("…<+{elided} more>"), t);
            }
            self.out.end(shape, type_id);
            Ok(())
        }
    }

    /// When `o` is being encoded already (it contains itself), writes the `<cycle: T>` marker
    /// instead and returns `true`.
    ///
    /// # Safety
    /// `tp` must be the live type of `o` and the GIL must be held.
    unsafe fn cycle_marked(
        &mut self,
        o: *mut ffi::PyObject,
        tp: *mut ffi::PyTypeObject,
        out: &mut Out<'_>,
    ) -> Result<bool, RecorderFailure> {
        if !self.in_progress.contains(&(o as usize)) {
            return Ok(false);
        }
        let t = out.types.fixed(Fixed::Cycle, out.rec)?;
        // SAFETY: `tp` is a live type object (contract).
        let name = unsafe { class_name(tp) };
        self.out.raw(&format!("<cycle: {name}>"), t);
        Ok(true)
    }

    /// Instances of Python classes: a `Struct` of `__dict__` entries then `__slots__` values.
    /// Returns `false` (writing nothing) when the object has neither.
    unsafe fn encode_struct(
        &mut self,
        py: Python<'_>,
        o: *mut ffi::PyObject,
        tp: *mut ffi::PyTypeObject,
        depth: usize,
        out: &mut Out<'_>,
    ) -> Result<bool, RecorderFailure> {
        // SAFETY: (whole body) `o` is live, the GIL is held; the attribute dict is a new
        // reference released below; slot values are new references released after encoding.
        unsafe {
            let mut names: Vec<*mut ffi::PyObject> = Vec::new();
            let mut values: Vec<*mut ffi::PyObject> = Vec::new(); // new references
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
                    while names.len() < self.limits.max_elements
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
            collect_slots(o, tp, &mut names, &mut values, self.limits.max_elements);
            // Filters: dropped attributes leave the struct, redacted ones keep their name.
            let mut redacted: Vec<bool> = vec![false; names.len()];
            if let Some(attrs) = out.attrs.as_mut() {
                let mut i = 0;
                while i < names.len() {
                    let action = match borrow_str(names[i]) {
                        Some(n) => attrs(n),
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
                    self.out.raw(&format!("<{} object>", class_name(tp)), t);
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
                                self.out.raw("<redacted>", t);
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

/// Appends `(name, value)` for every filled `__slots__` member of `tp`'s MRO, reading each
/// through its member descriptor's own getter (never a property or `__getattribute__`).
unsafe fn collect_slots(
    o: *mut ffi::PyObject,
    tp: *mut ffi::PyTypeObject,
    names: &mut Vec<*mut ffi::PyObject>,
    values: &mut Vec<*mut ffi::PyObject>,
    max: usize,
) {
    // SAFETY: (whole body) `tp` is the live type of the live `o`; its MRO tuple and the
    // classes' dicts are borrowed; descriptor getters of `member_descriptor` are C code.
    unsafe {
        let mro = (*tp).tp_mro;
        if mro.is_null() || ffi::PyTuple_Check(mro) == 0 {
            return;
        }
        for i in 0..ffi::PyTuple_Size(mro) {
            let cls = ffi::PyTuple_GetItem(mro, i).cast::<ffi::PyTypeObject>();
            if cls.is_null() || ((*cls).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE) == 0 {
                continue;
            }
            let cls_dict = (*cls).tp_dict;
            if cls_dict.is_null() {
                continue;
            }
            let slots = ffi::PyDict_GetItemString(cls_dict, c"__slots__".as_ptr());
            if slots.is_null() {
                continue;
            }
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

unsafe fn encode_int(o: *mut ffi::PyObject, type_id: TypeId, v: &mut ValueOut) {
    // SAFETY: `o` is a live int and the GIL is held.
    unsafe {
        let mut overflow: c_int = 0;
        let i = ffi::PyLong_AsLongLongAndOverflow(o, &mut overflow);
        if overflow == 0 {
            if i == -1 && !ffi::PyErr_Occurred().is_null() {
                ffi::PyErr_Clear();
            } else {
                v.int(i, type_id);
                return;
            }
        }
        // Big int: hex digits from the builtin int formatter (C code, no user hooks).
        let hex = ffi::PyNumber_ToBase(o, 16);
        if hex.is_null() {
            ffi::PyErr_Clear();
            v.raw("<int>", type_id);
            return;
        }
        let text = borrow_str(hex).unwrap_or("0x0").to_owned();
        ffi::Py_DECREF(hex);
        let negative = text.starts_with('-');
        let digits = text.trim_start_matches('-').trim_start_matches("0x");
        v.bigint(&hex_to_bytes(digits), negative, type_id);
    }
}

/// Big-endian magnitude bytes of a hex digit string.
pub fn hex_to_bytes(digits: &str) -> Vec<u8> {
    let nibbles: Vec<u8> = digits
        .bytes()
        .filter_map(|c| (c as char).to_digit(16).map(|d| d as u8))
        .collect();
    let mut out = Vec::with_capacity(nibbles.len().div_ceil(2));
    let mut iter = nibbles.iter();
    if nibbles.len() % 2 == 1 {
        if let Some(first) = iter.next() {
            out.push(*first);
        }
    }
    while let (Some(hi), Some(lo)) = (iter.next(), iter.next()) {
        out.push((hi << 4) | lo);
    }
    out
}

/// The literal form of a bytes object (`b'..'` / `bytearray(b'..')`), cut at `max` bytes.
pub fn bytes_literal(bytes: &[u8], is_bytes: bool, max: usize) -> String {
    let shown = &bytes[..bytes.len().min(max)];
    let mut s = String::with_capacity(shown.len() + 16);
    if !is_bytes {
        s.push_str("bytearray(");
    }
    s.push_str("b'");
    for &b in shown {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'\'' => s.push_str("\\'"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push('\'');
    if !is_bytes {
        s.push(')');
    }
    if bytes.len() > shown.len() {
        let _ = write!(s, "…<+{} bytes>", bytes.len() - shown.len());
    }
    s
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
unsafe fn describe(o: *mut ffi::PyObject, tp: *mut ffi::PyTypeObject) -> String {
    // SAFETY: `o` is live, the GIL is held; every call below is builtin C code that cannot
    // run user code for these exact types.
    unsafe {
        if ffi::PyModule_Check(o) != 0 {
            let name = ffi::PyModule_GetNameObject(o);
            if name.is_null() {
                ffi::PyErr_Clear();
                return "<module>".into();
            }
            let s = borrow_str(name).unwrap_or("?").to_owned();
            ffi::Py_DECREF(name);
            return format!("<module '{s}'>");
        }
        if ffi::PyType_Check(o) != 0 {
            return format!("<class '{}'>", class_name(o.cast()));
        }
        if ffi::PyFunction_Check(o) != 0 {
            let q = ffi::PyObject_GetAttrString(o, c"__qualname__".as_ptr());
            if q.is_null() {
                ffi::PyErr_Clear();
                return "<function>".into();
            }
            let s = borrow_str(q).unwrap_or("?").to_owned();
            ffi::Py_DECREF(q);
            return format!("<function {s}>");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_digits_become_big_endian_bytes() {
        assert_eq!(hex_to_bytes("1"), vec![1]);
        assert_eq!(hex_to_bytes("100"), vec![1, 0]);
        assert_eq!(hex_to_bytes("ffee"), vec![0xff, 0xee]);
    }

    #[test]
    fn bytes_literals_escape_and_truncate() {
        assert_eq!(bytes_literal(b"a'\n\x00", true, 10), "b'a\\'\\n\\x00'");
        assert_eq!(
            bytes_literal(b"abcdef", false, 3),
            "bytearray(b'abc')…<+3 bytes>"
        );
    }
}
