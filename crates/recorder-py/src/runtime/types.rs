//! [`TypeRegistry`]: `Type` records of one trace, interned so each is declared once, before
//! its first use, with a distinct id per (kind, Python type, field list).

use std::collections::HashMap;

use codetracer_trace_stream::types::{FieldTypeRecord, TypeId, TypeKind, TypeSpecificInfo};
use pyo3::ffi;
use pyo3::prelude::*;

use super::id_hash::IdHashMap;
use crate::errors::RecorderFailure;
use codetracer_trace_stream::TraceWriter;

/// Types every trace may need, declared lazily (except `None`, which is always type 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Fixed {
    /// `None` — must be `TypeId(0)`: declared at the start of every trace.
    None = 0,
    /// `bool`.
    Bool,
    /// `int` (also big ints).
    Int,
    /// `float`.
    Float,
    /// `str`.
    Str,
    /// `bytes`.
    Bytes,
    /// `bytearray`.
    ByteArray,
    /// `list`.
    List,
    /// `tuple`.
    Tuple,
    /// `dict` (a sequence of key/value tuples).
    Dict,
    /// `set`.
    Set,
    /// `frozenset`.
    FrozenSet,
    /// The declared type of struct fields.
    Object,
    /// The marker standing for elided elements or values cut at the depth limit.
    Elided,
    /// A value left out by a filter (`<redacted>`).
    Redacted,
    /// A recursive reference to a container being encoded.
    Cycle,
    /// Exceptions.
    Exception,
}

const FIXED_COUNT: usize = Fixed::Exception as usize + 1;

fn fixed_spec(fixed: Fixed) -> (TypeKind, &'static str) {
    match fixed {
        Fixed::None => (TypeKind::None, "None"),
        Fixed::Bool => (TypeKind::Bool, "bool"),
        Fixed::Int => (TypeKind::Int, "int"),
        Fixed::Float => (TypeKind::Float, "float"),
        Fixed::Str => (TypeKind::String, "str"),
        Fixed::Bytes => (TypeKind::Raw, "bytes"),
        Fixed::ByteArray => (TypeKind::Raw, "bytearray"),
        Fixed::List => (TypeKind::Seq, "list"),
        Fixed::Tuple => (TypeKind::Tuple, "tuple"),
        Fixed::Dict => (TypeKind::Seq, "dict"),
        Fixed::Set => (TypeKind::Set, "set"),
        Fixed::FrozenSet => (TypeKind::Set, "frozenset"),
        Fixed::Object => (TypeKind::Any, "object"),
        Fixed::Elided => (TypeKind::Raw, "<elided>"),
        Fixed::Redacted => (TypeKind::Raw, "<redacted>"),
        Fixed::Cycle => (TypeKind::Raw, "<cycle>"),
        Fixed::Exception => (TypeKind::Raw, "exception"),
    }
}

struct StructType {
    id: TypeId,
    fields: Vec<usize>,
    _keep: Vec<Py<PyAny>>,
}

/// Interned `Type` records.
pub struct TypeRegistry {
    fixed: [Option<TypeId>; FIXED_COUNT],
    by_class: IdHashMap<(usize, u8), TypeId>,
    structs: HashMap<(usize, u64), Vec<StructType>>,
    keep_alive: Vec<Py<PyAny>>,
}

impl Default for TypeRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl TypeRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self {
            fixed: [None; FIXED_COUNT],
            by_class: IdHashMap::default(),
            structs: HashMap::new(),
            keep_alive: Vec::new(),
        }
    }

    /// Declares `None` as type 0; call once right after the toplevel `Call`.
    pub fn declare_none(&mut self, rec: &mut TraceWriter) -> Result<TypeId, RecorderFailure> {
        self.fixed(Fixed::None, rec)
    }

    /// The id of a fixed type.
    #[inline]
    pub fn fixed(
        &mut self,
        fixed: Fixed,
        rec: &mut TraceWriter,
    ) -> Result<TypeId, RecorderFailure> {
        if let Some(id) = self.fixed[fixed as usize] {
            return Ok(id);
        }
        let (kind, name) = fixed_spec(fixed);
        let id = rec.new_type(kind, name, TypeSpecificInfo::None)?;
        self.fixed[fixed as usize] = Some(id);
        Ok(id)
    }

    /// The id of a type named after the Python class of an object (subclasses of builtins,
    /// opaque objects), keyed by the class object and the record kind.
    pub(crate) fn for_class(
        &mut self,
        py: Python<'_>,
        class: *mut ffi::PyTypeObject,
        kind: TypeKind,
        rec: &mut TraceWriter,
    ) -> Result<TypeId, RecorderFailure> {
        let key = (class as usize, kind as u8);
        if let Some(id) = self.by_class.get(&key) {
            return Ok(*id);
        }
        // SAFETY: `class` is the live type of an object the caller holds (GIL held: `py`).
        let name = unsafe { class_name(class) };
        let id = rec.new_type(kind, &name, TypeSpecificInfo::None)?;
        // SAFETY: `class` is a live type object (the type of an object we hold); taking a new
        // reference keeps its address from being reused while the registry keys on it.
        let keep = unsafe { Bound::<PyAny>::from_borrowed_ptr(py, class.cast()) }.unbind();
        self.keep_alive.push(keep);
        self.by_class.insert(key, id);
        Ok(id)
    }

    /// The `Struct` type of `class` with exactly these field names (borrowed `str` pointers).
    pub(crate) fn for_struct(
        &mut self,
        py: Python<'_>,
        class: *mut ffi::PyTypeObject,
        fields: &[*mut ffi::PyObject],
        rec: &mut TraceWriter,
    ) -> Result<TypeId, RecorderFailure> {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for f in fields {
            hash = (hash ^ (*f as u64)).wrapping_mul(0x0100_0000_01b3);
        }
        let key = (class as usize, hash);
        if let Some(list) = self.structs.get(&key) {
            for st in list {
                if st.fields.len() == fields.len()
                    && st.fields.iter().zip(fields).all(|(a, b)| *a == *b as usize)
                {
                    return Ok(st.id);
                }
            }
        }
        let object = self.fixed(Fixed::Object, rec)?;
        let mut records = Vec::with_capacity(fields.len());
        let mut keep = Vec::with_capacity(fields.len() + 1);
        for f in fields {
            // SAFETY: field names are live `str` objects borrowed from the instance dict or
            // the class's slot list; the new references keep them (and their addresses) alive.
            let obj = unsafe { Bound::<PyAny>::from_borrowed_ptr(py, *f) };
            // SAFETY: `obj` is a live `str` (dict keys are checked to be `str`; slot names
            // come from `__slots__`); its text is read from storage, never via `__str__`.
            let name =
                unsafe { crate::runtime::ffi_str::to_string(obj.as_ptr()) }.unwrap_or_default();
            records.push(FieldTypeRecord {
                name,
                type_id: object,
            });
            keep.push(obj.unbind());
        }
        // SAFETY: see `for_class`.
        keep.push(unsafe { Bound::<PyAny>::from_borrowed_ptr(py, class.cast()) }.unbind());
        // SAFETY: as above.
        let name = unsafe { class_name(class) };
        let id = rec.new_type(
            TypeKind::Struct,
            &name,
            TypeSpecificInfo::Struct { fields: records },
        )?;
        self.structs.entry(key).or_default().push(StructType {
            id,
            fields: fields.iter().map(|f| *f as usize).collect(),
            _keep: keep,
        });
        Ok(id)
    }
}

/// The qualified name of a class (`module.QualName`, builtins without a module prefix),
/// read from the type object without running Python code.
///
/// # Safety
/// `class` must be a live type object and the GIL must be held.
pub unsafe fn class_name(class: *mut ffi::PyTypeObject) -> String {
    // SAFETY: `class` is a live type object; `tp_name` is a NUL-terminated C string that lives
    // as long as the type (for heap types it is the UTF-8 of `__name__`, for static types a
    // literal). For heap types we prefer `__module__` + `__qualname__` from the type's own
    // dict and its `ht_qualname`, read with borrowed dict lookups (no descriptors run).
    unsafe {
        let tp_name = std::ffi::CStr::from_ptr((*class).tp_name)
            .to_string_lossy()
            .into_owned();
        if ((*class).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE) == 0 {
            return tp_name;
        }
        let qual = ffi::PyType_GetQualName(class);
        let qualname = if qual.is_null() {
            ffi::PyErr_Clear();
            tp_name
        } else {
            let s = crate::runtime::ffi_str::to_string(qual).unwrap_or(tp_name);
            ffi::Py_DECREF(qual);
            s
        };
        let dict = (*class).tp_dict;
        if dict.is_null() {
            return qualname;
        }
        let module = ffi::PyDict_GetItemString(dict, c"__module__".as_ptr());
        if module.is_null() || ffi::PyUnicode_Check(module) == 0 {
            return qualname;
        }
        match crate::runtime::ffi_str::borrow_str(module) {
            Some(m) if m != "builtins" => format!("{m}.{qualname}"),
            _ => qualname,
        }
    }
}
