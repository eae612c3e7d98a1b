//! [`ModuleIdentityResolver`]: cached code object / filename → dotted module name.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pyo3::prelude::*;
use pyo3::types::PyCode;

use crate::names::{is_dotted_name, is_synthetic_filename};
use crate::path::module_name_from_normalized;
use crate::python::{
    absolute_normalized, code_filename, scan_sys_modules, sys_modules, sys_path_entries,
};

/// A per-code-object cache entry. Holding the code object keeps its address from being
/// reused by another object while the entry exists.
struct CodeEntry {
    _code: Py<PyCode>,
    name: Option<String>,
}

/// Resolves Python code objects and filenames to dotted module names, with caches.
///
/// [`resolve_for_code`](Self::resolve_for_code) tries, in order:
/// 1. the per-code cache (keyed by the code object's address; the code object is kept alive);
/// 2. code with a synthetic filename (`<string>`, `<frozen ...>`) → `None`, whatever the hints;
/// 3. `known_name`, a name the caller already knows (e.g. from the trace filter);
/// 4. `globals_name_hint` (see [`globals_name_hint`](crate::globals_name_hint));
/// 5. [`resolve_path`](Self::resolve_path) on `co_filename`: the filename cache, the path
///    heuristics over the snapshotted `sys.path` roots, then the cached `sys.modules` map.
///
/// Hints and known names are used only when they are valid dotted names. The resolver is
/// not thread-safe by itself (`&mut self`); callers share it behind their own lock.
pub struct ModuleIdentityResolver {
    roots: Vec<PathBuf>,
    cwd: Option<PathBuf>,
    by_code: HashMap<usize, CodeEntry>,
    by_filename: HashMap<String, String>,
    modules: HashMap<PathBuf, String>,
    modules_len: Option<usize>,
    scans: u64,
}

impl ModuleIdentityResolver {
    /// A resolver over the given `sys.path`-like roots. Relative roots (and `""`, meaning the
    /// working directory, as in `sys.path`) are made absolute against the current working
    /// directory captured now; all roots are normalised lexically.
    pub fn new(roots: Vec<PathBuf>) -> Self {
        let cwd = std::env::current_dir().ok();
        let mut normalized: Vec<PathBuf> = Vec::with_capacity(roots.len());
        for root in roots {
            let root = absolute_normalized(&root, cwd.as_deref());
            if !normalized.contains(&root) {
                normalized.push(root);
            }
        }
        Self {
            roots: normalized,
            cwd,
            by_code: HashMap::new(),
            by_filename: HashMap::new(),
            modules: HashMap::new(),
            modules_len: None,
            scans: 0,
        }
    }

    /// A resolver over a snapshot of the current `sys.path` (string entries only). Later
    /// changes to `sys.path` are not seen by the path heuristics, but modules imported from
    /// new entries are still found through `sys.modules`.
    pub fn from_sys_path(py: Python<'_>) -> PyResult<Self> {
        let roots = sys_path_entries(py)?
            .into_iter()
            .map(PathBuf::from)
            .collect();
        Ok(Self::new(roots))
    }

    /// The normalised, absolute roots used by the path heuristics.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// How many times `sys.modules` has been scanned. A scan happens only when a filename is
    /// unknown to both the path heuristics and the cached map and `len(sys.modules)` changed
    /// since the previous scan.
    pub fn sys_modules_scans(&self) -> u64 {
        self.scans
    }

    /// Forgets every cached result (and releases the cached code objects).
    pub fn clear(&mut self) {
        self.by_code.clear();
        self.by_filename.clear();
        self.modules.clear();
        self.modules_len = None;
    }

    /// The dotted module name of `code`, or `None` when nothing is known (synthetic
    /// filenames, frozen modules, files outside every root and unknown to `sys.modules`).
    ///
    /// `known_name` is a name the caller already derived (e.g. the filter engine's scope
    /// resolution). `globals_name_hint` is `__spec__.name` if set, else `__name__`, from the
    /// globals of the frame running `code`; use [`globals_name_hint`](crate::globals_name_hint)
    /// to compute it. With it a script is `__main__` and `python -m pkg.mod` is `pkg.mod`.
    /// The result is cached per code object (hint or not), so pass the hint on first sight.
    pub fn resolve_for_code(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        globals_name_hint: Option<&str>,
        known_name: Option<&str>,
    ) -> Option<String> {
        let key = code.as_ptr() as usize;
        if let Some(entry) = self.by_code.get(&key) {
            return entry.name.clone();
        }
        let name = match code_filename(py, code) {
            Some(filename) if !is_synthetic_filename(&filename) => {
                let name = known_name
                    .filter(|name| is_dotted_name(name))
                    .or(globals_name_hint.filter(|name| is_dotted_name(name)))
                    .map(str::to_owned)
                    .or_else(|| self.resolve_path(py, &filename));
                if name.is_none() {
                    log::debug!("no module name for code in {filename:?}; using <module>");
                }
                name
            }
            _ => None,
        };
        self.by_code.insert(
            key,
            CodeEntry {
                _code: code.clone().unbind(),
                name: name.clone(),
            },
        );
        name
    }

    /// The dotted module name of the file `filename` (as in `co_filename` or `__file__`),
    /// without hints: the filename cache, the path heuristics over the snapshotted roots,
    /// then the `sys.modules` map (rescanned only when the file is unknown and
    /// `len(sys.modules)` changed). Synthetic filenames give `None`. Shares its cache with
    /// [`resolve_for_code`](Self::resolve_for_code).
    pub fn resolve_path(&mut self, py: Python<'_>, filename: &str) -> Option<String> {
        if is_synthetic_filename(filename) {
            return None;
        }
        if let Some(name) = self.by_filename.get(filename) {
            return Some(name.clone());
        }
        let path = absolute_normalized(Path::new(filename), self.cwd.as_deref());
        let name = module_name_from_normalized(&path, &self.roots)
            .or_else(|| self.lookup_sys_modules(py, &path))?;
        self.by_filename.insert(filename.to_owned(), name.clone());
        Some(name)
    }

    /// `path` in the cached `sys.modules` map, rescanning once if `sys.modules` grew/shrank.
    fn lookup_sys_modules(&mut self, py: Python<'_>, path: &Path) -> Option<String> {
        if let Some(name) = self.modules.get(path) {
            return Some(name.clone());
        }
        let len = sys_modules(py)?.len();
        if self.modules_len == Some(len) {
            return None;
        }
        let scan = scan_sys_modules(py, self.cwd.as_deref())?;
        self.scans += 1;
        self.modules = scan.files;
        self.modules_len = Some(scan.len);
        self.modules.get(path).cloned()
    }
}

impl std::fmt::Debug for ModuleIdentityResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleIdentityResolver")
            .field("roots", &self.roots)
            .field("cached_code_objects", &self.by_code.len())
            .field("cached_filenames", &self.by_filename.len())
            .field("sys_modules_files", &self.modules.len())
            .field("sys_modules_scans", &self.scans)
            .finish()
    }
}
