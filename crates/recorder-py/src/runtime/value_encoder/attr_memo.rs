//! [`AttrMemo`]: the filters' verdict on attribute and `str` dict-key names, remembered per
//! name object.
//!
//! With attribute filters in force (the builtin default filter has some), every field of every
//! struct and every `str` key of every dict the encoder writes afresh asks the filter engine
//! for its action: the name's UTF-8 borrowed, hashed and looked up in two maps. On a document
//! tree (docutils) that was a tenth of the recorder's time. The names are nearly always the
//! same few interned strings, so the verdict is remembered per (name object, filter token):
//! the token identifies what the filters decide (the scope's attribute fingerprint, as for the
//! container cache), and an exact `str` is immutable, so the same object under the same token
//! always gets the same verdict. The name is held, so no other object can take its address
//! while it is remembered. Only `Allow` is remembered: a redaction or a drop is asked again
//! each time, so the filter counters still count every one.

use codetracer_trace_filter::ValueAction;
use pyo3::ffi;

use super::Out;
use crate::runtime::ffi_str::borrow_str;
use crate::runtime::id_hash::IdHashMap;
use crate::runtime::owned_ref::OwnedRef;

/// Names remembered before the memo is emptied (bounds memory and held strings).
const MAX_NAMES: usize = 4096;

/// Names the filters allow, by (name address, filter token).
#[derive(Default)]
pub struct AttrMemo {
    allowed: IdHashMap<(usize, u64), OwnedRef>,
}

impl AttrMemo {
    /// The filters' action for the field or `str` key named by `name` under `out`'s filters
    /// (allow without filters, or when `name` is not a `str`).
    ///
    /// # Safety
    /// `name` must be a live object and the GIL must be held.
    pub unsafe fn action(&mut self, name: *mut ffi::PyObject, out: &mut Out<'_>) -> ValueAction {
        if out.attrs.is_none() {
            return ValueAction::Allow;
        }
        let key = (name as usize, out.attrs_token);
        if self.allowed.contains_key(&key) {
            return ValueAction::Allow;
        }
        // SAFETY: forwarded contract.
        let action = match unsafe { borrow_str(name) } {
            Some(text) => out.attr_action(text),
            None => return ValueAction::Allow,
        };
        // SAFETY: `name` is live (contract); only an exact `str` is immutable.
        unsafe {
            if action == ValueAction::Allow && ffi::PyUnicode_CheckExact(name) != 0 {
                if self.allowed.len() >= MAX_NAMES {
                    self.allowed.clear();
                }
                if let Some(held) = OwnedRef::new(name) {
                    self.allowed.insert(key, held);
                }
            }
        }
        action
    }

    /// Whether `name` is known to be allowed under the filters of token `token` (it was
    /// allowed by [`Self::action`] and remembered; `false` means "not known", not "hidden").
    pub fn known_allowed(&self, name: *mut ffi::PyObject, token: u64) -> bool {
        self.allowed.contains_key(&(name as usize, token))
    }
}
