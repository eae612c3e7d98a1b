//! [`ClassNames`]: the names of the classes the encoder summarises, computed once per class.
//!
//! Values cut at the depth limit are summarised by their class (`<Name of N items>`,
//! `<Name object>`). On library code (pygments' token types, three levels deep in its
//! tables) computing [`class_name`] for every summary at every step (the qualified name, the
//! module looked up in the class dict, new strings) was ~16 % of the recorder's instructions.
//!
//! A class's name depends only on its `tp_name` (static types) or on the objects its
//! `__qualname__` (`ht_qualname`) and its dict's `__module__` are (heap types; both are
//! immutable strings, replaced, never changed, when the program assigns them). An entry holds
//! the class and those objects, so no other object can appear at their addresses while it
//! lives, and is used only while the class still has the very same ones: the cached name is
//! always the name [`class_name`] would compute now.

use pyo3::ffi;

use crate::runtime::id_hash::IdHashMap;
use crate::runtime::owned_ref::OwnedRef;
use crate::runtime::types::class_name;

use super::type_facts::{find_module, TypeFacts};

/// Classes remembered before the cache is emptied (bounds memory and retained classes).
const MAX_CLASSES: usize = 1024;

/// One class's name and what it was computed from.
struct Named {
    _class: OwnedRef,
    qualname: Option<OwnedRef>,
    module: Option<OwnedRef>,
    name: String,
}

/// Class names by class address.
#[derive(Default)]
pub struct ClassNames {
    map: IdHashMap<usize, Named>,
    /// What the encoder reads from class dicts (the `__module__` of a name among it).
    pub facts: TypeFacts,
}

impl ClassNames {
    /// The qualified name of class `tp`, as [`class_name`] computes it.
    ///
    /// # Safety
    /// `tp` must be a live type object and the GIL must be held.
    pub unsafe fn get(&mut self, tp: *mut ffi::PyTypeObject) -> &str {
        // SAFETY: `tp` is live (contract); a heap type's object starts with a
        // `PyHeapTypeObject`; dict lookups are borrowed and run no Python code (str keys).
        unsafe {
            let (qualname, module) = self.sources(tp);
            let key = tp as usize;
            let fresh = match self.map.get(&key) {
                Some(n) => ptr_of(&n.qualname) != qualname || ptr_of(&n.module) != module,
                None => true,
            };
            if fresh {
                if self.map.len() >= MAX_CLASSES {
                    self.map.clear();
                }
                let named = Named {
                    _class: match OwnedRef::new(tp.cast()) {
                        Some(c) => c,
                        None => return "?",
                    },
                    qualname: OwnedRef::new(qualname),
                    module: OwnedRef::new(module),
                    name: class_name(tp),
                };
                self.map.insert(key, named);
            }
            self.map.get(&key).map_or("?", |n| n.name.as_str())
        }
    }

    /// The objects a heap type's name is made of (`ht_qualname`, the dict's `__module__`),
    /// null for a static type (its `tp_name` never changes).
    ///
    /// # Safety
    /// `tp` must be a live type object and the GIL must be held.
    pub(super) unsafe fn sources(
        &mut self,
        tp: *mut ffi::PyTypeObject,
    ) -> (*mut ffi::PyObject, *mut ffi::PyObject) {
        let null = std::ptr::null_mut();
        // SAFETY: see `get`.
        unsafe {
            if ((*tp).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE) == 0 {
                return (null, null);
            }
            let qualname = (*tp.cast::<ffi::PyHeapTypeObject>()).ht_qualname;
            let module = match self.facts.get(tp) {
                Some(f) => f.module,
                None => find_module(tp),
            };
            (qualname, module)
        }
    }
}

/// The address held (null for none).
fn ptr_of(held: &Option<OwnedRef>) -> *mut ffi::PyObject {
    held.as_ref().map_or(std::ptr::null_mut(), OwnedRef::as_ptr)
}
