//! [`ValueEncoder`]: Python objects → trace values, without running user code.
//!
//! Only CPython's C API is used to look inside objects (no `repr()`, `str()`, `__len__`,
//! `__eq__`, properties or custom `__getattribute__`): builtin scalars and containers are read
//! from their storage, instances of Python classes become `Struct`s of their `__dict__` and
//! `__slots__` (slot values read through the slot's member descriptor only), everything else a
//! `Raw` with a safe description. Encoding is bounded by [`ValueLimits`] (depth, elements per
//! container, string length and an int's hexadecimal digits, nodes per value; cut parts are
//! replaced by an elision marker) and cycle-safe (a
//! container that contains itself is recorded with a `<cycle>` marker at the point of
//! recursion).
//!
//! Values are written straight into bytes of the trace format by a [`ValueOut`] (no
//! `ValueRecord` tree is built); strings are read from their own storage (only the characters
//! recorded), and lists, tuples and dicts re-encode only the elements that changed since they
//! were last encoded ([`ContainerCache`]).
//!
//! This file holds the encoder, its entry points and the dispatch by object type; one file per
//! kind of value does the rest: `scalars.rs` (int, float, str, bytes), `containers.rs` (list,
//! tuple, dict, set, frozenset) with [`container_cache`], `structs.rs` (instances of Python
//! classes), `describe.rs` (exceptions and opaque objects, the `allow_repr` policy) and
//! `class_names.rs` (the names of summarised values' classes, computed once per class),
//! `type_facts.rs` (what is read from a class's dicts: slots, `_fields`, `__module__`, once
//! per class version), `attr_memo.rs` (the filters' verdicts on attribute names), and
//! [`value_cache`] with `slot_map.rs` (reuse of whole unchanged values).

mod any_format;
mod attr_memo;
mod class_names;
pub mod container_cache;
mod containers;
mod describe;
mod scalars;
mod slot_map;
mod structs;
mod type_facts;
pub mod value_cache;

use codetracer_policy::ValueLimits;
use codetracer_trace_filter::ValueAction;
use codetracer_trace_stream::types::{TypeId, TypeKind, ValueRecord};
use pyo3::ffi;
use pyo3::prelude::*;

use super::types::{class_name, Fixed, TypeRegistry};
use crate::errors::RecorderFailure;
use attr_memo::AttrMemo;
use class_names::ClassNames;
use codetracer_trace_stream::{Encoding, TraceWriter, ValueOut};
use container_cache::ContainerCache;
use value_cache::{Ctx, ValueCache};

pub use any_format::FormatEncoder;
pub use describe::exception_text;
pub use scalars::{bytes_literal, hex_to_bytes};

/// Hard ceiling on nesting, whatever the policy says: the JSON reader of the trace format
/// rejects values nested more than ~60 levels (serde_json's recursion limit).
pub const MAX_DEPTH_CEILING: usize = 32;

/// What replaces each part of a value beyond its node budget (`max_value_nodes`).
pub const NODES_MARKER: &str = "…<max_value_nodes>";

/// Encodes values; holds its output buffer, the cycle-detection stack and the string cache
/// between calls so it does not allocate once warmed up.
pub struct ValueEncoder<E: Encoding> {
    limits: ValueLimits,
    in_progress: Vec<usize>,
    out: ValueOut<E>,
    /// Scratch text for cut strings.
    text: String,
    containers: ContainerCache,
    /// Names of the classes of summarised values.
    names: ClassNames,
    /// The filters' verdicts on attribute and key names.
    attr_memo: AttrMemo,
    /// Nodes of the value being encoded so far (see [`ValueLimits::max_nodes`]): one per
    /// scalar, container, object and dict entry, whether encoded or copied from the cache.
    nodes: usize,
    /// How many parts were cut by the node budget so far (an element whose encoding cut
    /// something is never remembered by the container cache or the value cache).
    cuts: u64,
    /// Whole encodings of unchanged objects, reused between steps.
    values: ValueCache,
    /// Whether the value cache is used (not under `allow_repr`: a `repr()` may depend on
    /// anything).
    reuse_values: bool,
    /// The value encoded last was handed out whole from the value cache: its address.
    last_reused: Option<usize>,
    /// The value being encoded was just checked against the value cache and did not match
    /// (its first check is skipped).
    root_checked: bool,
}

type Res = Result<(), RecorderFailure>;

/// The value cache's [`Ctx`] borrowed from the encoder's own fields (disjoint from
/// `self.values`, which the caller uses beside it).
macro_rules! cache_ctx {
    ($enc:ident, $out:expr) => {
        Ctx::new(
            &mut $enc.in_progress,
            &mut $enc.names,
            &mut $enc.attr_memo,
            &$enc.limits,
            $out,
        )
    };
}

/// What the encoder needs besides the value: the type table and the records it declares
/// types in, and the filters' verdict on attributes and dict keys.
pub struct Out<'a> {
    /// The type table.
    pub types: &'a mut TypeRegistry,
    /// Where new `Type` records go.
    pub rec: &'a mut TraceWriter,
    /// The filters' action for struct fields (attributes) and `str` dict keys, by name, at
    /// every depth; `None`: allow all.
    pub attrs: Option<&'a mut dyn FnMut(&str) -> ValueAction>,
    /// Identifies what `attrs` decides (the scope's attribute fingerprint; 0 without
    /// `attrs`): the container cache reuses bytes only under the same one.
    pub attrs_token: u64,
}

impl<'a> Out<'a> {
    /// Output without attribute filtering.
    pub fn new(types: &'a mut TypeRegistry, rec: &'a mut TraceWriter) -> Self {
        Self {
            types,
            rec,
            attrs: None,
            attrs_token: 0,
        }
    }

    /// The filters' action for the attribute or dict key `name` (allow without filters).
    pub fn attr_action(&mut self, name: &str) -> ValueAction {
        match self.attrs.as_mut() {
            Some(decide) => decide(name),
            None => ValueAction::Allow,
        }
    }
}

impl<E: Encoding> ValueEncoder<E> {
    /// A new encoder writing encoding `E` with `limits` (depth clamped to
    /// [`MAX_DEPTH_CEILING`]).
    pub fn new(mut limits: ValueLimits) -> Self {
        limits.max_depth = limits.max_depth.clamp(1, MAX_DEPTH_CEILING);
        limits.max_elements = limits.max_elements.max(1);
        limits.max_nodes = limits.max_nodes.max(1);
        Self {
            in_progress: Vec::with_capacity(16),
            out: ValueOut::new(),
            text: String::new(),
            containers: ContainerCache::default(),
            names: ClassNames::default(),
            attr_memo: AttrMemo::default(),
            nodes: 0,
            cuts: 0,
            values: ValueCache::default(),
            reuse_values: !limits.allow_repr,
            last_reused: None,
            root_checked: false,
            limits,
        }
    }

    /// How many encodings the value cache has copied so far.
    pub fn reused_values(&self) -> u64 {
        self.values.hits
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
        self.nodes = 0;
        self.last_reused = None;
        // SAFETY: forwarded contract.
        unsafe {
            if container_cache::is_atom(obj) {
                // The common case, straight to its encoding (nothing to check or remember).
                self.out.element_start();
                self.encode_fresh(py, obj, 0, out)?;
                return Ok(self.out.bytes());
            }
            if self.reuse_values && value_cache::kind_of(obj).is_some() {
                // A whole value still valid is handed out from the cache (no copy).
                let mut cx = cache_ctx!(self, out);
                let max = self.limits.max_nodes;
                if let Some((_, nodes)) = self.values.reusable(obj, 0, max, &mut cx) {
                    (self.nodes, self.last_reused) = (nodes, Some(obj as usize));
                    return Ok(self.values.bytes_of(obj, 0));
                }
                self.root_checked = true;
            }
            self.encode_ptr(py, obj, 0, out)?;
        }
        self.root_checked = false;
        Ok(self.out.bytes())
    }

    /// Encodes `obj` and reads it back as a `ValueRecord` (for tests and tools).
    pub fn encode_record(
        &mut self,
        py: Python<'_>,
        obj: &Bound<'_, PyAny>,
        out: &mut Out<'_>,
    ) -> Result<ValueRecord, RecorderFailure> {
        let bytes = self.encode(py, obj, out)?;
        Ok(E::decode_value(bytes)?)
    }

    /// The bytes of the value encoded last.
    pub fn last_bytes(&self) -> &[u8] {
        match self.last_reused {
            Some(addr) => self.values.bytes_of(addr as *mut ffi::PyObject, 0),
            None => self.out.bytes(),
        }
    }

    /// A `Raw` marker value of a fixed type ([`REDACTED_MARKER`](codetracer_trace_filter::REDACTED_MARKER),
    /// `<dropped>`, ...); returns its bytes.
    pub fn marker(
        &mut self,
        fixed: Fixed,
        text: &str,
        out: &mut Out<'_>,
    ) -> Result<&[u8], RecorderFailure> {
        let type_id = out.types.fixed(fixed, out.rec)?;
        self.last_reused = None;
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

    /// Encodes `o` into the element just started: copied from the [`ValueCache`] when the
    /// object is provably unchanged since it was last encoded at this depth, else afresh.
    #[inline]
    unsafe fn encode_at(
        &mut self,
        py: Python<'_>,
        o: *mut ffi::PyObject,
        depth: usize,
        out: &mut Out<'_>,
    ) -> Res {
        if self.nodes >= self.limits.max_nodes {
            return self.nodes_marker(out);
        }
        // SAFETY: `o` is live and the GIL is held (caller contract).
        unsafe {
            if self.reuse_values && !container_cache::is_atom(o) {
                if let Some(kind) = value_cache::kind_of(o) {
                    return self.encode_cached(py, o, kind, depth, out);
                }
            }
            self.encode_fresh(py, o, depth, out)
        }
    }

    /// [`Self::encode_at`] for an object the value cache can check: its remembered bytes, or
    /// a fresh encoding that is remembered when nothing in it was cut.
    ///
    /// # Safety
    /// `o` must be a live object of kind `kind` and the GIL must be held.
    #[inline(never)]
    unsafe fn encode_cached(
        &mut self,
        py: Python<'_>,
        o: *mut ffi::PyObject,
        kind: value_cache::Kind,
        depth: usize,
        out: &mut Out<'_>,
    ) -> Res {
        let cyclic = self.in_progress.contains(&(o as usize));
        let mut cx = cache_ctx!(self, out);
        let left = self.limits.max_nodes.saturating_sub(self.nodes);
        // SAFETY: (whole body) forwarded contract; `o` is not in progress where checked.
        unsafe {
            if depth >= self.limits.max_depth && value_cache::summarised_at_limit(o, kind, &mut cx)
            {
                // A class name and a length: cheaper to write than to look up.
                return self.encode_fresh(py, o, depth, out);
            }
            let checked = depth == 0 && std::mem::take(&mut self.root_checked);
            if !cyclic && !checked {
                if let Some((bytes, nodes)) = self.values.reusable(o, depth, left, &mut cx) {
                    self.out.splice(bytes);
                    self.nodes += nodes;
                    return Ok(());
                }
            }
            let (start, nodes, cuts) = (self.out.position(), self.nodes, self.cuts);
            self.encode_fresh(py, o, depth, out)?;
            if cyclic || self.cuts != cuts {
                self.values.forget(o, depth);
                return Ok(());
            }
            let mut cx = cache_ctx!(self, out);
            let bytes = self.out.bytes().get(start..).unwrap_or(&[]);
            let used = self.nodes - nodes;
            self.values
                .capture(o, kind, depth, bytes, used, &mut cx, out);
        }
        Ok(())
    }

    /// Encodes `o` into the element just started, without the value cache (its node is
    /// within the budget).
    #[inline]
    unsafe fn encode_fresh(
        &mut self,
        py: Python<'_>,
        o: *mut ffi::PyObject,
        depth: usize,
        out: &mut Out<'_>,
    ) -> Res {
        self.nodes += 1;
        // SAFETY: (whole body) `o` is live and the GIL is held (caller contract); its type
        // outlives this call; each branch passes on an object of the kind it checked.
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
            if ffi::PyLong_Check(o) != 0 {
                let t =
                    out.class_type(py, tp, &raw mut ffi::PyLong_Type, Fixed::Int, TypeKind::Int)?;
                scalars::write_int(o, t, self.limits.max_string_len, &mut self.out);
                return Ok(());
            }
            if ffi::PyFloat_Check(o) != 0 {
                return self.encode_float(py, o, tp, out);
            }
            if ffi::PyUnicode_Check(o) != 0 {
                let str_type = &raw mut ffi::PyUnicode_Type;
                let t = out.class_type(py, tp, str_type, Fixed::Str, TypeKind::String)?;
                self.write_string(o, t);
                return Ok(());
            }
            if ffi::PyBytes_Check(o) != 0 || ffi::PyByteArray_Check(o) != 0 {
                return self.encode_bytes(o, out);
            }
            let is_list = ffi::PyList_Check(o) != 0;
            let is_tuple = !is_list && ffi::PyTuple_Check(o) != 0;
            let is_dict = !is_list && !is_tuple && ffi::PyDict_Check(o) != 0;
            let is_set = !is_list && !is_tuple && !is_dict && ffi::PyAnySet_Check(o) != 0;
            if is_list || is_tuple || is_dict || is_set {
                return self.encode_container(py, o, tp, depth, out, (is_list, is_tuple, is_dict));
            }
            if ffi::PyExceptionInstance_Check(o) != 0 {
                return self.encode_exception(o, out);
            }
            if ((*tp).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE) != 0
                && ffi::PyType_Check(o) == 0
                && self.encode_struct(py, o, tp, depth, out)?
            {
                return Ok(());
            }
            self.encode_opaque(py, o, tp, out)
        }
    }

    /// Nodes left in the value's budget.
    fn nodes_left(&self) -> usize {
        self.limits.max_nodes.saturating_sub(self.nodes)
    }

    /// Writes the node-budget marker into the element just started (counts a cut).
    fn nodes_marker(&mut self, out: &mut Out<'_>) -> Res {
        let t = out.types.fixed(Fixed::Elided, out.rec)?;
        self.cuts += 1;
        self.out.raw(NODES_MARKER, t);
        Ok(())
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
}

impl Out<'_> {
    /// The type of an object of class `tp`: the `fixed` type when `tp` is exactly the builtin
    /// class `exact`, else a type named after `tp` (a subclass) of record kind `kind`.
    fn class_type(
        &mut self,
        py: Python<'_>,
        tp: *mut ffi::PyTypeObject,
        exact: *mut ffi::PyTypeObject,
        fixed: Fixed,
        kind: TypeKind,
    ) -> Result<TypeId, RecorderFailure> {
        if std::ptr::eq(tp, exact) {
            self.types.fixed(fixed, self.rec)
        } else {
            self.types.for_class(py, tp, kind, self.rec)
        }
    }
}
