//! Python-side helpers: reading `sys`, frame globals, code objects and `sys.modules`
//! without running user code.
//!
//! Every access here is a dict lookup, a C-level attribute of a builtin object (code objects,
//! module dicts) or an attribute of importlib's own `ModuleSpec`; nothing goes through
//! `__import__`, user-defined `__getattr__`, properties or `__eq__`.

use std::collections::HashMap;
use std::ffi::CStr;
use std::path::{Path, PathBuf};

use pyo3::prelude::*;
use pyo3::types::{PyCode, PyDict, PyList, PyModule, PyString};
use pyo3::{ffi, intern};

use crate::path::normalize_path;

/// `sys.<name>` read with `PySys_GetObject`: no import machinery, no user code.
fn sys_attr<'py>(py: Python<'py>, name: &CStr) -> Option<Bound<'py, PyAny>> {
    // SAFETY: we are attached to the interpreter (`py`), `name` is a valid NUL-terminated
    // string, and `PySys_GetObject` returns a borrowed reference or NULL without setting an
    // exception; `from_borrowed_ptr_or_opt` takes a new strong reference.
    unsafe { Bound::from_borrowed_ptr_or_opt(py, ffi::PySys_GetObject(name.as_ptr())) }
}

/// `sys.modules` as a dict, when it is one.
pub(crate) fn sys_modules(py: Python<'_>) -> Option<Bound<'_, PyDict>> {
    sys_attr(py, c"modules")?.cast_into::<PyDict>().ok()
}

/// The string entries of `sys.path`, in order (non-string entries are skipped).
pub(crate) fn sys_path_entries(py: Python<'_>) -> PyResult<Vec<String>> {
    let Some(path) = sys_attr(py, c"path") else {
        return Ok(Vec::new());
    };
    let list = path.cast_into::<PyList>()?;
    let mut entries = Vec::with_capacity(list.len());
    for item in list.iter() {
        if let Ok(text) = item.cast::<PyString>() {
            entries.push(text.to_str()?.to_owned());
        }
    }
    Ok(entries)
}

/// `code.co_filename` (a C-level member of code objects).
pub(crate) fn code_filename(py: Python<'_>, code: &Bound<'_, PyCode>) -> Option<String> {
    let filename = code.getattr(intern!(py, "co_filename")).ok()?;
    let text = filename.cast::<PyString>().ok()?;
    text.to_str().ok().map(str::to_owned)
}

/// A `str` value stored under `key` in `dict`, if any.
fn dict_str(dict: &Bound<'_, PyDict>, key: &Bound<'_, PyString>) -> Option<String> {
    let value = dict.get_item(key).ok()??;
    let text = value.cast::<PyString>().ok()?;
    text.to_str().ok().map(str::to_owned)
}

/// The module-name hint of a frame's globals: `__spec__.name` when `__spec__` is a genuine
/// `importlib` `ModuleSpec` (so `python -m pkg.mod` gives `pkg.mod`), else `__name__`
/// (so a script gives `__main__`), else `None`.
///
/// Callers pass the result as `globals_name_hint` to
/// [`ModuleIdentityResolver::resolve_for_code`](crate::ModuleIdentityResolver::resolve_for_code).
///
/// No user code runs: the globals are read with dict lookups, and `name` is read only from an
/// object whose type *is* `_frozen_importlib.ModuleSpec` (fetched from `sys.modules`, not
/// imported), a plain class without properties.
pub fn globals_name_hint(py: Python<'_>, globals: &Bound<'_, PyDict>) -> Option<String> {
    if let Ok(Some(spec)) = globals.get_item(intern!(py, "__spec__")) {
        if let Some(name) = spec_name(py, &spec) {
            return Some(name);
        }
    }
    dict_str(globals, intern!(py, "__name__"))
}

/// `spec.name` when `spec` is exactly importlib's `ModuleSpec` and the name is a `str`.
fn spec_name(py: Python<'_>, spec: &Bound<'_, PyAny>) -> Option<String> {
    if spec.is_none() {
        return None;
    }
    let importlib = sys_modules(py)?
        .get_item(intern!(py, "_frozen_importlib"))
        .ok()??;
    let importlib = importlib.cast::<PyModule>().ok()?;
    let spec_type = importlib
        .dict()
        .get_item(intern!(py, "ModuleSpec"))
        .ok()??;
    if !spec.get_type().is(&spec_type) {
        return None;
    }
    let name = spec.getattr(intern!(py, "name")).ok()?;
    let text = name.cast::<PyString>().ok()?;
    text.to_str().ok().map(str::to_owned)
}

/// The result of one `sys.modules` scan.
pub(crate) struct ModulesScan {
    /// Normalised absolute file path → module name.
    pub(crate) files: HashMap<PathBuf, String>,
    /// `len(sys.modules)` at the time of the scan.
    pub(crate) len: usize,
}

/// Scans `sys.modules` once, mapping each module's normalised `__file__` to its name.
///
/// Only real module objects are considered, and `__file__` is read from the module's
/// `__dict__` (no module-level `__getattr__` runs). A `.pyc` `__file__` is also recorded under
/// its source path, because sourceless modules keep the compile-time `co_filename`. When
/// several modules share a file, the first wins, except that any name replaces `__main__`.
pub(crate) fn scan_sys_modules(py: Python<'_>, cwd: Option<&Path>) -> Option<ModulesScan> {
    let modules = sys_modules(py)?;
    let len = modules.len();
    let mut files = HashMap::with_capacity(len);
    let key = intern!(py, "__file__");
    // `items()` copies the pairs into a list first, so the dict is not iterated while we read.
    for item in modules.items().iter() {
        let Ok((name, module)) = item.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>() else {
            continue;
        };
        let (Ok(name), Ok(module)) = (name.cast::<PyString>(), module.cast::<PyModule>()) else {
            continue;
        };
        let (Ok(name), Some(file)) = (name.to_str(), dict_str(&module.dict(), key)) else {
            continue;
        };
        let path = absolute_normalized(Path::new(&file), cwd);
        if let Some(source) = source_of_bytecode(&path) {
            insert_preferring_real_names(&mut files, source, name);
        }
        insert_preferring_real_names(&mut files, path, name);
    }
    Some(ModulesScan { files, len })
}

fn insert_preferring_real_names(files: &mut HashMap<PathBuf, String>, path: PathBuf, name: &str) {
    match files.get_mut(&path) {
        Some(existing) if existing == "__main__" && name != "__main__" => *existing = name.into(),
        Some(_) => {}
        None => {
            files.insert(path, name.to_owned());
        }
    }
}

/// The `.py` path a `.pyc` was compiled from (`__pycache__` layout or legacy layout).
fn source_of_bytecode(path: &Path) -> Option<PathBuf> {
    let file = path.file_name()?.to_str()?;
    let base = file.strip_suffix(".pyc")?;
    let parent = path.parent()?;
    if parent.file_name().and_then(|n| n.to_str()) == Some("__pycache__") {
        let stem = base.split('.').next()?;
        Some(parent.parent()?.join(format!("{stem}.py")))
    } else {
        Some(parent.join(format!("{base}.py")))
    }
}

/// `path` made absolute against `cwd` (when relative and `cwd` is known), then normalised.
pub(crate) fn absolute_normalized(path: &Path, cwd: Option<&Path>) -> PathBuf {
    match cwd {
        Some(cwd) if path.is_relative() => normalize_path(&cwd.join(path)),
        _ => normalize_path(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytecode_sources() {
        assert_eq!(
            source_of_bytecode(Path::new("/p/pkg/__pycache__/m.cpython-312.pyc")),
            Some(PathBuf::from("/p/pkg/m.py"))
        );
        assert_eq!(
            source_of_bytecode(Path::new("/p/pkg/legacy.pyc")),
            Some(PathBuf::from("/p/pkg/legacy.py"))
        );
        assert_eq!(source_of_bytecode(Path::new("/p/pkg/m.py")), None);
    }

    #[test]
    fn absolutising() {
        let cwd = Path::new("/work");
        assert_eq!(
            absolute_normalized(Path::new("a/../b.py"), Some(cwd)),
            PathBuf::from("/work/b.py")
        );
        assert_eq!(
            absolute_normalized(Path::new("/x/./y.py"), Some(cwd)),
            PathBuf::from("/x/y.py")
        );
        assert_eq!(
            absolute_normalized(Path::new("b.py"), None),
            PathBuf::from("b.py")
        );
    }
}
