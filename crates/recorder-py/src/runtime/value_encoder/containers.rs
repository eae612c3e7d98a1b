//! Containers: `list`, `tuple`, `dict`, `set`, `frozenset` and their subclasses, read from the
//! builtin storage (never a Python-level `__len__`, `__iter__` or `__getitem__`), cut at the
//! element limit and the nodes left in the value's budget, summarised at the depth limit,
//! cycle-safe; lists, tuples and dicts copy the
//! bytes of unchanged elements from the [`container_cache`]. A dict entry whose `str` key the
//! attribute filters redact (a key named like a secret: `{"password": v}`,
//! `headers["Authorization"]`) keeps its key and records a marker instead of its value, at any
//! depth; so does a namedtuple field (`Login(user, password)`), by its name in `_fields`.

use codetracer_trace_filter::{ValueAction, DROPPED_MARKER, REDACTED_MARKER};
use codetracer_trace_stream::types::{TypeId, TypeKind};
use codetracer_trace_stream::Encoding;
use pyo3::ffi;
use pyo3::prelude::*;

use super::container_cache::{self, Reuse};
use super::structs::{class_tuple, ClassKey};
use super::{Out, Res, ValueEncoder};
use crate::runtime::ffi_str::borrow_str;
use crate::runtime::types::Fixed;
use codetracer_trace_stream::Shape;

impl<E: Encoding> ValueEncoder<E> {
    /// A `list`, `tuple`, `dict`, `set` or `frozenset` (or an instance of a subclass of one):
    /// a sequence (a dict: of `(key, value)` tuples) of at most `max_elements` elements, the
    /// rest elided with a marker; summarised at the depth limit and marked where it contains
    /// itself. Lists, tuples and dicts reuse the bytes of unchanged elements
    /// ([`ContainerCache`](super::container_cache::ContainerCache)).
    ///
    /// # Safety
    /// `o` must be a live object of type `tp` and of the kind the flags say (a set when none
    /// is set), and the GIL must be held.
    pub(super) unsafe fn encode_container(
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
            let type_id = out.class_type(py, tp, exact_tp, fixed, kind)?;
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
                let text = format!("<{} of {len} items>", self.names.get(tp));
                self.out.raw(&text, t);
                return Ok(());
            }
            let shape = if is_tuple {
                Shape::Tuple
            } else {
                Shape::Sequence
            };
            // At most one element per node left in the budget (each costs at least one).
            let take = len.min(self.limits.max_elements).min(self.nodes_left());
            if take < len.min(self.limits.max_elements) {
                // Cut by the budget: these bytes depend on what came before (never reused).
                self.cuts += 1;
            }
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
            // A namedtuple's fields have names: the filters hide them like attributes.
            let fields = if is_tuple && !std::ptr::eq(tp, exact_tp) && out.attrs.is_some() {
                field_actions(tp, take, out)
            } else {
                Vec::new()
            };
            let hides_a_field = fields.iter().any(|a| *a != ValueAction::Allow);
            // Lists, tuples and dicts of some size reuse the bytes of unchanged elements (not
            // a namedtuple hiding a field: its field names are not part of what is compared).
            let mut reuse = ((is_list || is_tuple || is_dict)
                && take >= container_cache::MIN_ELEMENTS
                && !hides_a_field)
                .then(|| {
                    let version = if is_dict {
                        container_cache::dict_version(o)
                    } else {
                        None
                    };
                    let old = self.containers.take(o as usize, out.attrs_token);
                    Reuse::begin(old, &self.out, version)
                });
            if let Some(r) = reuse.as_mut() {
                // A dict entry is three nodes (the pair, its key and its value).
                if self.nodes_left() >= 3 * take && r.copy_all_if_unchanged(&mut self.out, take) {
                    written = take;
                    self.nodes += 3 * take;
                }
            }
            let null = std::ptr::null_mut::<ffi::PyObject>();
            let result = (|| -> Res {
                if written == take {
                    // Copied whole from the container cache.
                } else if is_list || is_tuple {
                    for i in 0..take {
                        let item = seq_item(o, is_list, i);
                        if item.is_null() {
                            ffi::PyErr_Clear();
                            break;
                        }
                        written += 1;
                        let action = fields.get(i).copied().unwrap_or(ValueAction::Allow);
                        if action != ValueAction::Allow {
                            self.hidden_marker(action, out)?;
                            continue;
                        }
                        // A copied item is one atom: one node, as when encoded afresh.
                        if let Some(r) = reuse.as_mut() {
                            if self.nodes_left() >= 1 && r.try_copy(&mut self.out, item, null) {
                                self.nodes += 1;
                                continue;
                            }
                            r.flush(&mut self.out);
                        }
                        let cuts = self.cuts;
                        let start = self.encode_ptr(py, item, depth + 1, out)?;
                        if let Some(r) = reuse.as_mut() {
                            let reusable = if self.cuts == cuts { item } else { null };
                            r.encoded(&self.out, start, reusable, null);
                        }
                    }
                } else if let Some(tuple_type) = tuple_type {
                    let mut pos: ffi::Py_ssize_t = 0;
                    let mut key: *mut ffi::PyObject = std::ptr::null_mut();
                    let mut value: *mut ffi::PyObject = std::ptr::null_mut();
                    while written < take && ffi::PyDict_Next(o, &mut pos, &mut key, &mut value) != 0
                    {
                        written += 1;
                        if self.nodes_left() == 0 {
                            if let Some(r) = reuse.as_mut() {
                                r.flush(&mut self.out);
                            }
                            let start = self.out.element_start();
                            self.nodes_marker(out)?;
                            if let Some(r) = reuse.as_mut() {
                                r.encoded(&self.out, start, null, null);
                            }
                            continue;
                        }
                        // A remembered entry was allowed under these same filters (the cache
                        // is per filter token, and never holds a redacted entry); it is three
                        // nodes, as when encoded afresh.
                        if let Some(r) = reuse.as_mut() {
                            if self.nodes_left() >= 3 && r.try_copy(&mut self.out, key, value) {
                                self.nodes += 3;
                                continue;
                            }
                            r.flush(&mut self.out);
                        }
                        self.nodes += 1;
                        let cuts = self.cuts;
                        let action = self.attr_memo.action(key, out);
                        let start = self.out.element_start();
                        self.out.begin(Shape::Tuple, 2);
                        self.encode_ptr(py, key, depth + 1, out)?;
                        if action == ValueAction::Allow {
                            self.encode_ptr(py, value, depth + 1, out)?;
                        } else {
                            self.hidden_marker(action, out)?;
                        }
                        self.out.end(Shape::Tuple, tuple_type);
                        if let Some(r) = reuse.as_mut() {
                            let reusable = if action == ValueAction::Allow && self.cuts == cuts {
                                key
                            } else {
                                null
                            };
                            r.encoded(&self.out, start, reusable, value);
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

    /// An element whose value the filters hide: `<redacted>`, or `<dropped>` (a container
    /// element keeps its place).
    fn hidden_marker(&mut self, action: ValueAction, out: &mut Out<'_>) -> Res {
        let t = out.types.fixed(Fixed::Redacted, out.rec)?;
        self.out.element_start();
        let marker = if action == ValueAction::Drop {
            DROPPED_MARKER
        } else {
            REDACTED_MARKER
        };
        self.out.raw(marker, t);
        Ok(())
    }
}

/// Item `i` of list (`is_list`) or tuple `o`, borrowed (null, with an error set, past the end).
///
/// # Safety
/// `o` must be a live list or tuple as `is_list` says and the GIL must be held.
#[inline]
pub(super) unsafe fn seq_item(
    o: *mut ffi::PyObject,
    is_list: bool,
    i: usize,
) -> *mut ffi::PyObject {
    // SAFETY: forwarded contract.
    unsafe {
        if is_list {
            ffi::PyList_GetItem(o, i as ffi::Py_ssize_t)
        } else {
            ffi::PyTuple_GetItem(o, i as ffi::Py_ssize_t)
        }
    }
}

/// The filters' actions for the first `n` fields of a namedtuple class `tp` (by the names in
/// the `_fields` tuple of its class dict or a base's, read without running user code); empty
/// for any other tuple subclass.
///
/// # Safety
/// `tp` must be a live type object and the GIL must be held.
pub(super) unsafe fn field_actions(
    tp: *mut ffi::PyTypeObject,
    n: usize,
    out: &mut Out<'_>,
) -> Vec<ValueAction> {
    // SAFETY: (whole body) `tp` is live (contract); the `_fields` tuple and its strings are
    // borrowed from its class dicts, which outlive this call.
    unsafe {
        let names = class_tuple(tp, ClassKey::Fields);
        if names.is_null() {
            return Vec::new();
        }
        let count = usize::try_from(ffi::PyTuple_Size(names))
            .unwrap_or(0)
            .min(n);
        (0..count)
            .map(|j| {
                let name = ffi::PyTuple_GetItem(names, j as ffi::Py_ssize_t);
                match borrow_str(name) {
                    Some(text) => out.attr_action(text),
                    None => ValueAction::Allow,
                }
            })
            .collect()
    }
}
