//! [`TypeFacts`]: what the encoder reads from a class's dicts, found once per class version.
//!
//! An instance with `__slots__` is recorded from the member descriptors its classes' dicts
//! hold for each name in their `__slots__`; a namedtuple from its class's `_fields`; a
//! summarised value's class name from its dict's `__module__`. Looking these up in the
//! class dicts of the whole MRO at every step (for every token of a parser's token list at
//! every line, say) was a fifth of the recorder's time on library code.
//!
//! Everything found there is a function of the class dicts of the MRO, and CPython gives a
//! class a new *version tag* whenever one of them may have changed: `PyType_Modified` (called
//! by every attribute assignment or deletion on a class, `__bases__` assignment, and for every
//! subclass of a class so modified) resets the tag to 0, and a tag once handed out is never
//! handed out again (a process-wide counter), so a class freed and another made at its
//! address cannot carry the old tag either. The facts of a class are therefore used only while
//! its tag is the one they were found under; a class without a tag is given one
//! (`PyUnstable_Type_AssignVersionTag`, what CPython's own attribute cache does on the first
//! lookup), and one that cannot get a tag is looked up afresh each time. The only content not
//! covered by the tag, a `__slots__` *list* mutated in place, is never cached (slots are
//! cached only when every class's `__slots__` is a `str` or a tuple).
//!
//! Nothing is held: the names and descriptors are borrowed from the class, which the caller's
//! object keeps alive while they are used; a stale entry is never dereferenced, only replaced.

use std::sync::Arc;

use pyo3::ffi;

use super::structs::{class_tuple, each_class_entry, interned, ClassKey};
use crate::runtime::id_hash::IdHashMap;
use std::sync::atomic::AtomicPtr;

extern "C" {
    /// CPython ≥ 3.12 (unstable C API): gives `tp` a version tag if it has none; 1 when it
    /// has one afterwards.
    fn PyUnstable_Type_AssignVersionTag(tp: *mut ffi::PyTypeObject) -> std::os::raw::c_int;
}

/// Classes remembered before the table is emptied (bounds memory).
const MAX_TYPES: usize = 4096;

/// One `__slots__` member of a class's MRO, in the order the encoder records it.
#[derive(Clone, Copy)]
pub struct Slot {
    /// The slot's name, borrowed from the class's `__slots__`.
    pub name: *mut ffi::PyObject,
    /// The member descriptor, borrowed from the class dict.
    pub descr: *mut ffi::PyObject,
    /// Where an object-valued slot (`Py_T_OBJECT_EX`) is stored in the instance: read
    /// directly (null: unset), as the descriptor's own getter would. `None`: read through the
    /// getter.
    pub offset: Option<isize>,
}

/// What the encoder reads from one class's dicts.
pub struct Facts {
    tag: u32,
    /// The `__slots__` members, or `None` when they cannot be cached (a `__slots__` list).
    pub slots: Option<Vec<Slot>>,
    /// The first `_fields` entry of the MRO that is a tuple (namedtuples), or null.
    pub fields: *mut ffi::PyObject,
    /// The class dict's `__module__` (null for none).
    pub module: *mut ffi::PyObject,
}

// SAFETY: the pointers are borrowed from a class and only read with the GIL held while the
// class is alive (an entry is used only after its class's version tag matched); the tracer
// that owns the table moves between threads only as a whole, under the GIL.
unsafe impl Send for Facts {}
// SAFETY: as above; nothing in `Facts` changes after it is made.
unsafe impl Sync for Facts {}

/// The facts of the classes seen, by class address.
#[derive(Default)]
pub struct TypeFacts {
    map: IdHashMap<usize, Arc<Facts>>,
}

/// `"__module__"`, interned (see [`interned`]).
static MODULE_KEY: AtomicPtr<ffi::PyObject> = AtomicPtr::new(std::ptr::null_mut());

impl TypeFacts {
    /// The facts of heap type `tp` as its dicts are now, or `None` when `tp` is not a heap
    /// type or cannot get a version tag (the caller then looks them up itself).
    ///
    /// # Safety
    /// `tp` must be a live type object and the GIL must be held.
    pub unsafe fn get(&mut self, tp: *mut ffi::PyTypeObject) -> Option<Arc<Facts>> {
        // SAFETY: (whole body) `tp` is live (contract); the version tag is a plain field.
        unsafe {
            if ((*tp).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE) == 0 {
                return None;
            }
            let mut tag = (*tp).tp_version_tag;
            if tag == 0 {
                if PyUnstable_Type_AssignVersionTag(tp) == 0 {
                    return None;
                }
                tag = (*tp).tp_version_tag;
                if tag == 0 {
                    return None;
                }
            }
            if let Some(f) = self.map.get(&(tp as usize)) {
                if f.tag == tag {
                    return Some(Arc::clone(f));
                }
            }
            if self.map.len() >= MAX_TYPES {
                self.map.clear();
            }
            let facts = Arc::new(Facts {
                tag,
                slots: find_slots(tp),
                fields: class_tuple(tp, ClassKey::Fields),
                module: find_module(tp),
            });
            self.map.insert(tp as usize, Arc::clone(&facts));
            Some(facts)
        }
    }
}

/// [`all_slots`] when they can be cached: `None` when a `__slots__` is a list (mutable in
/// place, so not covered by the class's version tag).
///
/// # Safety
/// `tp` must be a live type object and the GIL must be held.
pub unsafe fn find_slots(tp: *mut ffi::PyTypeObject) -> Option<Vec<Slot>> {
    // SAFETY: forwarded contract.
    let (slots, cacheable) = unsafe { all_slots(tp) };
    cacheable.then_some(slots)
}

/// Every `__slots__` member of `tp`'s MRO as the encoder records them: for each heap class
/// whose dict holds `__slots__` (a `str` or a sequence of names), each name whose class-dict
/// entry is a member descriptor; and whether no `__slots__` was a list.
///
/// # Safety
/// `tp` must be a live type object and the GIL must be held.
pub unsafe fn all_slots(tp: *mut ffi::PyTypeObject) -> (Vec<Slot>, bool) {
    let mut slots = Vec::new();
    let mut cacheable = true;
    // SAFETY: (whole body) the classes' dicts and their entries are borrowed from the live
    // `tp`; the lookups use `str` keys, so no Python code runs.
    unsafe {
        each_class_entry(tp, ClassKey::Slots, &mut |cls_dict, names| {
            if ffi::PyList_Check(names) != 0 {
                cacheable = false;
            }
            each_slot_name(names, |name| {
                if let Some(slot) = member_slot(cls_dict, name) {
                    slots.push(slot);
                }
            });
            true
        });
    }
    (slots, cacheable)
}

/// Calls `visit` for each name of a `__slots__` value (one `str`, or a tuple or list of them;
/// anything else names nothing).
///
/// # Safety
/// `names` must be a live object and the GIL must be held.
unsafe fn each_slot_name(names: *mut ffi::PyObject, mut visit: impl FnMut(*mut ffi::PyObject)) {
    // SAFETY: `names` is live; items are borrowed from it.
    unsafe {
        if ffi::PyUnicode_Check(names) != 0 {
            visit(names);
            return;
        }
        let is_tuple = ffi::PyTuple_Check(names) != 0;
        if !is_tuple && ffi::PyList_Check(names) == 0 {
            return;
        }
        for j in 0..ffi::PySequence_Size(names).max(0) {
            let name = if is_tuple {
                ffi::PyTuple_GetItem(names, j)
            } else {
                ffi::PyList_GetItem(names, j)
            };
            if name.is_null() {
                ffi::PyErr_Clear();
            } else {
                visit(name);
            }
        }
    }
}

/// The slot named `name` in class dict `cls_dict`: its member descriptor, when the entry is
/// one (anything else there, a property say, is not a slot the encoder reads).
///
/// # Safety
/// Both must be live objects and the GIL must be held.
unsafe fn member_slot(cls_dict: *mut ffi::PyObject, name: *mut ffi::PyObject) -> Option<Slot> {
    // SAFETY: borrowed lookup with a `str` key; a member descriptor's layout is
    // `PyMemberDescrObject`, its `PyMemberDef` owned by its class.
    unsafe {
        let descr = ffi::PyDict_GetItem(cls_dict, name);
        if descr.is_null() || !std::ptr::eq(ffi::Py_TYPE(descr), &raw mut ffi::PyMemberDescr_Type) {
            return None;
        }
        let def = (*descr.cast::<ffi::PyMemberDescrObject>()).d_member;
        let offset = (!def.is_null()
            && (*def).type_code == ffi::Py_T_OBJECT_EX
            && ((*def).flags & (ffi::Py_AUDIT_READ | ffi::Py_RELATIVE_OFFSET)) == 0)
            .then(|| (*def).offset);
        Some(Slot {
            name,
            descr,
            offset,
        })
    }
}

/// The value of `slot` in instance `o` of a class that has it: a new reference, or null when
/// unset (no error left set).
///
/// # Safety
/// `o` must be a live instance of a class whose MRO defines `slot`; the GIL must be held.
pub unsafe fn slot_value(
    o: *mut ffi::PyObject,
    tp: *mut ffi::PyTypeObject,
    slot: &Slot,
) -> *mut ffi::PyObject {
    // SAFETY: an object-valued member lives at `offset` in every instance of its class and
    // its subclasses (what the member descriptor's getter reads); otherwise the descriptor's
    // own getter (C code of `member_descriptor`) reads it.
    unsafe {
        if let Some(offset) = slot.offset {
            let v = *o.cast::<u8>().offset(offset).cast::<*mut ffi::PyObject>();
            if !v.is_null() {
                ffi::Py_INCREF(v);
            }
            return v;
        }
        let Some(get) = (*ffi::Py_TYPE(slot.descr)).tp_descr_get else {
            return std::ptr::null_mut();
        };
        let v = get(slot.descr, o, tp.cast());
        if v.is_null() {
            ffi::PyErr_Clear();
        }
        v
    }
}

/// The `__module__` entry of heap type `tp`'s own dict (borrowed), or null.
///
/// # Safety
/// `tp` must be a live type object and the GIL must be held.
pub unsafe fn find_module(tp: *mut ffi::PyTypeObject) -> *mut ffi::PyObject {
    // SAFETY: borrowed lookup with an interned `str` key (no Python code runs).
    unsafe {
        let dict = (*tp).tp_dict;
        let key = interned(&MODULE_KEY, c"__module__");
        if dict.is_null() || key.is_null() {
            return std::ptr::null_mut();
        }
        let module = ffi::PyDict_GetItem(dict, key);
        if module.is_null() {
            ffi::PyErr_Clear();
        }
        module
    }
}
