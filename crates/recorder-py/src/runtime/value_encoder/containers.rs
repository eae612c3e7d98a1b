//! Containers: `list`, `tuple`, `dict`, `set`, `frozenset` and their subclasses, read from the
//! builtin storage (never a Python-level `__len__`, `__iter__` or `__getitem__`), cut at the
//! element limit, summarised at the depth limit, cycle-safe; lists, tuples and dicts copy the
//! bytes of unchanged elements from the [`container_cache`].

use codetracer_trace_stream::types::{TypeId, TypeKind};
use codetracer_trace_stream::Encoding;
use pyo3::ffi;
use pyo3::prelude::*;

use super::container_cache::{self, Reuse};
use super::{Out, Res, ValueEncoder};
use crate::runtime::types::{class_name, Fixed};
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
}
