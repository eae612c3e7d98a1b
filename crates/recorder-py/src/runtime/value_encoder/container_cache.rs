//! [`ContainerCache`]: reuse of the bytes of unchanged container elements between steps.
//!
//! Every step records every visible variable, so a loop that updates one entry of a 100-entry
//! dict re-records the whole dict at each line. Re-encoding all 100 entries every time was most
//! of the recorder's cost on such code. This cache keeps, for recently encoded lists, tuples
//! and dicts, the bytes of their elements and, per element, the objects it was made of when
//! those are *atoms*: immutable objects whose bytes depend on nothing but themselves (exact
//! `str`, `int`, `float`, `bytes`, `bool`, `None`). At the next encoding of the container an
//! element made of the very same objects (by identity) has the very same bytes, so runs of
//! such elements are copied in one go instead of being encoded again.
//!
//! Bytes are reused only under the same attribute filtering ([`Entry`]'s token: the scope's
//! fingerprint), since a dict entry's bytes also depend on whether its key is redacted; a
//! redacted entry is never remembered (it is encoded, and counted, again each time).
//!
//! Soundness: the cache holds a strong reference to every atom it remembers, so no other
//! object can be allocated at a remembered address while the entry lives: identity is a sound
//! test. It never holds the containers themselves (a container's address only says which entry
//! to compare with; a new container at an old address is simply compared element by element).
//! Holding atoms alive is invisible to the program (they have no finalizers and no weak
//! references); memory is bounded by [`MAX_CONTAINERS`] entries of at most the encoder's
//! element limit each.

use pyo3::{ffi, Python};

use crate::runtime::id_hash::IdHashMap;
use crate::runtime::owned_ref::OwnedRef;
use codetracer_trace_stream::{Encoding, ValueOut};

/// Containers with fewer elements are cheaper to encode again than to compare.
pub const MIN_ELEMENTS: usize = 8;
/// Containers remembered before the cache is emptied (bounds memory and retained atoms).
pub const MAX_CONTAINERS: usize = 512;

/// One remembered element: where its bytes sit in [`Entry::bytes`] and the atoms it was made
/// of (`None` when it was not made of atoms only: such an element never matches).
struct Item {
    key: Option<OwnedRef>,
    value: Option<OwnedRef>,
    start: usize,
    end: usize,
}

impl Item {
    fn matches(&self, key: *mut ffi::PyObject, value: *mut ffi::PyObject) -> bool {
        let same = |held: &Option<OwnedRef>, o: *mut ffi::PyObject| match held {
            Some(h) => h.as_ptr() == o,
            None => o.is_null(),
        };
        self.key.is_some() && same(&self.key, key) && same(&self.value, value)
    }
}

/// What a container's elements looked like when it was last encoded.
#[derive(Default)]
pub struct Entry {
    bytes: Vec<u8>,
    items: Vec<Item>,
    /// For a dict made of atoms only: its version tag then (see [`dict_version`]).
    version: Option<u64>,
    /// The attribute filtering the bytes were made under ([`super::Out::attrs_token`]).
    token: u64,
}

/// The head of a `dict` object in CPython 3.12 and 3.13.
#[repr(C)]
struct DictHead {
    ob_base: ffi::PyObject,
    ma_used: ffi::Py_ssize_t,
    ma_version_tag: u64,
    ma_keys: *mut std::ffi::c_void,
    /// Non-null for a split table, whose values may live inside an instance.
    ma_values: *mut std::ffi::c_void,
}

/// The version tag of an exact `dict` (PEP 509) where the interpreter keeps one: CPython sets
/// it to a new interpreter-wide value at every modification made *through the dict*, so an
/// unchanged tag means unchanged entries. 3.12 and 3.13 only (3.14 reuses the field for other
/// bits), and only for combined tables: an instance's `__dict__` may share its values with
/// the instance, and on 3.13 `obj.attr = v` then changes them without touching the tag.
///
/// # Safety
/// `o` must be a live object and the GIL must be held.
pub unsafe fn dict_version(o: *mut ffi::PyObject) -> Option<u64> {
    // SAFETY: `Py_Version` is a constant of the running interpreter; `o` is live (contract)
    // and, being an exact dict of a 3.12/3.13 interpreter, starts with `DictHead`.
    unsafe {
        let running = ffi::Py_Version;
        let exact = std::ptr::eq(ffi::Py_TYPE(o), &raw mut ffi::PyDict_Type);
        if !exact || !(0x030C_0000..0x030E_0000).contains(&running) {
            return None;
        }
        let head = &*o.cast::<DictHead>();
        head.ma_values.is_null().then_some(head.ma_version_tag)
    }
}

/// Remembered containers, by address.
#[derive(Default)]
pub struct ContainerCache {
    map: IdHashMap<usize, Entry>,
}

impl ContainerCache {
    /// Takes the entry of the container at `addr` out of the cache (put it back with
    /// [`Reuse::finish`]); a fresh one if there is none or if it was made under another
    /// attribute filtering than `token`.
    pub fn take(&mut self, addr: usize, token: u64) -> Entry {
        self.map
            .remove(&addr)
            .filter(|e| e.token == token)
            .unwrap_or(Entry {
                token,
                ..Entry::default()
            })
    }

    /// Remembers `entry` for the container at `addr`.
    pub fn put(&mut self, addr: usize, entry: Entry) {
        if self.map.len() >= MAX_CONTAINERS {
            self.map.clear();
        }
        self.map.insert(addr, entry);
    }

    /// Forgets everything (releases the atoms).
    pub fn clear(&mut self) {
        self.map.clear();
    }
}

/// Whether the bytes of `o` depend on nothing but its identity.
///
/// # Safety
/// `o` must be null or a live object, and the GIL must be held.
#[inline]
pub unsafe fn is_atom(o: *mut ffi::PyObject) -> bool {
    if o.is_null() {
        return false;
    }
    // SAFETY: `o` is live (caller contract); reading its type and comparing addresses of the
    // static type objects and singletons reads no mutable state.
    unsafe {
        if o == ffi::Py_None() || o == ffi::Py_True() || o == ffi::Py_False() {
            return true;
        }
        let tp = ffi::Py_TYPE(o);
        std::ptr::eq(tp, &raw mut ffi::PyUnicode_Type)
            || std::ptr::eq(tp, &raw mut ffi::PyLong_Type)
            || std::ptr::eq(tp, &raw mut ffi::PyFloat_Type)
            || std::ptr::eq(tp, &raw mut ffi::PyBytes_Type)
    }
}

/// A freshly encoded element after the first change, or an element copied from the old entry.
struct Written {
    /// Index of the old item it was copied from (its atoms move to the new entry).
    old: Option<usize>,
    key: *mut ffi::PyObject,
    value: *mut ffi::PyObject,
    start: usize,
    end: usize,
}

/// One encoding of a container against its remembered [`Entry`]: decides per element whether
/// its old bytes can be copied, batches consecutive copies, and builds the new entry.
pub struct Reuse {
    old: Entry,
    /// Where the container's elements begin in the output.
    base: usize,
    /// Pending run of copied elements: `(old_from, old_to, new_from)` (byte offsets; new ones
    /// relative to `base`).
    run: Option<(usize, usize, usize)>,
    /// Set from the first element that differs from the old entry on (before it, the new
    /// elements sit exactly where the old ones did).
    changed: Option<Vec<Written>>,
    count: usize,
    /// The dict's version tag now, if it has one.
    version: Option<u64>,
}

impl Reuse {
    /// Starts encoding the elements of a container against `old`; `out` is positioned where
    /// the first element goes. `version`: the dict's version tag ([`dict_version`]).
    pub fn begin<E: Encoding>(old: Entry, out: &ValueOut<E>, version: Option<u64>) -> Self {
        Self {
            old,
            base: out.position(),
            run: None,
            changed: None,
            count: 0,
            version,
        }
    }

    /// A dict of atoms whose version tag has not moved since its last encoding: writes all
    /// `n` elements at once and returns `true` (the caller then skips the elements).
    pub fn copy_all_if_unchanged<E: Encoding>(&mut self, out: &mut ValueOut<E>, n: usize) -> bool {
        if n == 0 || self.version.is_none() || self.old.version != self.version {
            return false;
        }
        if self.old.items.len() != n {
            return false;
        }
        out.element_start();
        out.splice(&self.old.bytes);
        self.count = n;
        true
    }

    /// Element `self.count`, made of `key` (and `value` for dict entries, null otherwise): if
    /// the old entry has the same atoms at this index, queues a copy of its bytes and returns
    /// `true`; otherwise flushes pending copies and returns `false` (the caller then encodes the
    /// element and calls [`Self::encoded`]).
    pub fn try_copy<E: Encoding>(
        &mut self,
        out: &mut ValueOut<E>,
        key: *mut ffi::PyObject,
        value: *mut ffi::PyObject,
    ) -> bool {
        let i = self.count;
        let Some(item) = self.old.items.get(i).filter(|it| it.matches(key, value)) else {
            self.flush(out);
            return false;
        };
        let (start, end) = (item.start, item.end);
        let new_start = match &mut self.run {
            Some((old_from, old_to, new_from)) => {
                *old_to = end;
                *new_from + (start - *old_from)
            }
            None => {
                let new_from = out.element_start() - self.base;
                self.run = Some((start, end, new_from));
                new_from
            }
        };
        if let Some(written) = &mut self.changed {
            written.push(Written {
                old: Some(i),
                key,
                value,
                start: new_start,
                end: new_start + (end - start),
            });
        }
        self.count += 1;
        true
    }

    /// Records the element just encoded fresh, at `start..` (absolute output offsets; `start`
    /// is what `element_start` returned), made of `key` and `value` (null for list items;
    /// pass a null `key` for an element that must never be reused, such as a redacted entry).
    ///
    /// # Safety
    /// `key` and `value` must be null or live objects, and the GIL must be held.
    pub unsafe fn encoded<E: Encoding>(
        &mut self,
        out: &ValueOut<E>,
        start: usize,
        key: *mut ffi::PyObject,
        value: *mut ffi::PyObject,
    ) {
        let i = self.count;
        let written = self.changed.get_or_insert_with(|| {
            // Everything before `i` was copied to the same place it had: restate it.
            let mut w = Vec::with_capacity(i + 16);
            for (j, item) in self.old.items.iter().take(i).enumerate() {
                w.push(Written {
                    old: Some(j),
                    key: std::ptr::null_mut(),
                    value: std::ptr::null_mut(),
                    start: item.start,
                    end: item.end,
                });
            }
            w
        });
        // SAFETY: forwarded contract.
        let atoms = unsafe { is_atom(key) && (value.is_null() || is_atom(value)) };
        written.push(Written {
            old: None,
            key: if atoms { key } else { std::ptr::null_mut() },
            value: if atoms { value } else { std::ptr::null_mut() },
            start: start - self.base,
            end: out.position() - self.base,
        });
        self.count += 1;
    }

    /// Writes the pending run of copied elements.
    pub fn flush<E: Encoding>(&mut self, out: &mut ValueOut<E>) {
        if let Some((old_from, old_to, _)) = self.run.take() {
            out.splice(self.old.bytes.get(old_from..old_to).unwrap_or(&[]));
        }
    }

    /// Ends the elements (flushing pending copies) and returns the entry to remember: the old
    /// one when nothing changed, else one rebuilt from the output.
    ///
    /// # Safety
    /// The GIL must be held and every fresh element's objects must still be alive (they are:
    /// the container being encoded holds them).
    pub unsafe fn finish<E: Encoding>(mut self, _py: Python<'_>, out: &mut ValueOut<E>) -> Entry {
        self.flush(out);
        let Some(written) = self.changed.take() else {
            if self.count != self.old.items.len() {
                // Fewer elements than last time, all of them unchanged: keep the prefix.
                self.old.items.truncate(self.count);
                let end = self.old.items.last().map_or(0, |it| it.end);
                self.old.bytes.truncate(end);
            }
            self.old.version = self.version.filter(|_| all_atoms(&self.old.items));
            return self.old;
        };
        let end = out.position();
        let mut old_items: Vec<Option<Item>> = self.old.items.drain(..).map(Some).collect();
        let mut entry = Entry {
            bytes: self.old.bytes,
            items: Vec::with_capacity(written.len()),
            version: None,
            token: self.old.token,
        };
        entry.bytes.clear();
        entry
            .bytes
            .extend_from_slice(out.bytes().get(self.base..end).unwrap_or(&[]));
        // SAFETY: `o` is null or a live atom held by the container being encoded (contract).
        let hold = |o: *mut ffi::PyObject| unsafe { OwnedRef::new(o) };
        for w in written {
            let (key, value) = match w.old.and_then(|j| old_items.get_mut(j)?.take()) {
                Some(item) => (item.key, item.value),
                None => (hold(w.key), hold(w.value)),
            };
            entry.items.push(Item {
                key,
                value,
                start: w.start,
                end: w.end,
            });
        }
        entry.version = self.version.filter(|_| all_atoms(&entry.items));
        entry
    }
}

/// Whether every element was made of atoms only (then the bytes depend on nothing else).
fn all_atoms(items: &[Item]) -> bool {
    items.iter().all(|it| it.key.is_some())
}
