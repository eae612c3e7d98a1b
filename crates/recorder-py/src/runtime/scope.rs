//! [`ScopeRule`]: which code objects are recorded.
//!
//! The rule: code whose file is a real file, outside the interpreter's standard library
//! (site-packages is kept) and outside this recorder's own packages. Synthetic filenames
//! (`<string>`, `<frozen ...>`) are never recorded. The decision is made once per code object.

use std::path::{Path, PathBuf};

use pyo3::prelude::*;

/// Directories that decide whether a file is recorded.
#[derive(Debug, Clone, Default)]
pub struct ScopeRule {
    skip_dirs: Vec<PathBuf>,
    keep_dirs: Vec<PathBuf>,
}

impl ScopeRule {
    /// Builds the rule from the running interpreter's `sysconfig` paths and the locations of
    /// this recorder's packages.
    pub fn from_interpreter(py: Python<'_>) -> PyResult<Self> {
        let sysconfig = py.import("sysconfig")?;
        let paths = sysconfig.call_method0("get_paths")?;
        let get = |key: &str| -> Option<PathBuf> {
            paths.get_item(key).ok().and_then(|v| v.extract::<String>().ok()).map(PathBuf::from)
        };
        let mut skip_dirs: Vec<PathBuf> = ["stdlib", "platstdlib"].iter().filter_map(|k| get(k)).collect();
        let keep_dirs: Vec<PathBuf> = ["purelib", "platlib"].iter().filter_map(|k| get(k)).collect();
        for package in ["codetracer_python_recorder", "codetracer_python_recorder_core"] {
            if let Ok(spec) = py.import("importlib.util")?.call_method1("find_spec", (package,)) {
                if let Ok(locations) = spec.getattr("submodule_search_locations") {
                    if let Ok(list) = locations.extract::<Vec<String>>() {
                        skip_dirs.extend(list.into_iter().map(PathBuf::from));
                    }
                }
            }
        }
        Ok(Self::new(skip_dirs, keep_dirs))
    }

    /// A rule from explicit directory lists (canonicalised where they exist).
    pub fn new(skip_dirs: Vec<PathBuf>, keep_dirs: Vec<PathBuf>) -> Self {
        let canon = |v: Vec<PathBuf>| v.into_iter().map(|p| p.canonicalize().unwrap_or(p)).collect();
        Self {
            skip_dirs: canon(skip_dirs),
            keep_dirs: canon(keep_dirs),
        }
    }

    /// Whether code from `filename` is recorded.
    pub fn is_traced(&self, filename: &str) -> bool {
        if filename.is_empty() || (filename.starts_with('<') && filename.ends_with('>')) {
            return false;
        }
        let path = Path::new(filename);
        let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if self.keep_dirs.iter().any(|k| path.starts_with(k)) {
            // Keep dirs can sit inside a skipped dir (site-packages inside the stdlib dir);
            // a skip dir nested deeper than the keep dir (our own package) still wins.
            return !self
                .skip_dirs
                .iter()
                .any(|s| path.starts_with(s) && self.keep_dirs.iter().any(|k| s.starts_with(k) && s != k));
        }
        !self.skip_dirs.iter().any(|s| path.starts_with(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdlib_skipped_site_packages_kept_own_package_skipped() {
        let rule = ScopeRule::new(
            vec!["/usr/lib/python3.12".into(), "/usr/lib/python3.12/site-packages/codetracer_python_recorder".into()],
            vec!["/usr/lib/python3.12/site-packages".into()],
        );
        assert!(!rule.is_traced("/usr/lib/python3.12/json/__init__.py"));
        assert!(rule.is_traced("/usr/lib/python3.12/site-packages/requests/api.py"));
        assert!(!rule.is_traced("/usr/lib/python3.12/site-packages/codetracer_python_recorder/api.py"));
        assert!(rule.is_traced("/home/me/app.py"));
        assert!(!rule.is_traced("<string>"));
        assert!(!rule.is_traced("<frozen importlib._bootstrap>"));
    }
}
