//! Path → module-name heuristics over a set of `sys.path` roots.
//!
//! All handling is **lexical**: paths are normalised by dropping `.` components and folding
//! `..` into the preceding component, and nothing is read from the filesystem. Consequences,
//! by design:
//! * symlinks are not resolved (a root and a file reached through different symlinks do not
//!   match);
//! * a directory without `__init__.py` (a namespace package) still contributes a dotted
//!   component, because no directory is ever listed;
//! * comparison is case-sensitive on every platform;
//! * a root only matches a path of the same kind (both absolute, or both relative to the
//!   same directory); callers that hold relative paths should make them absolute first
//!   (the Python resolver does, with the working directory it saw at construction).

use std::path::{Component, Path, PathBuf};

use crate::names::is_identifier;

/// Lexically normalises `path`: removes `.` components and resolves `..` against the
/// preceding normal component (a leading `..` of a relative path is kept; `..` at the root
/// stays at the root). The filesystem is not consulted, so symlinks are not resolved.
pub fn normalize_path(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => out.push(component.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            Component::Normal(part) => out.push(part),
        }
    }
    out
}

/// Derives the dotted module name of the file `path` from the `sys.path`-like `roots`.
///
/// * The **longest** root (most path components) containing `path` decides; shorter roots
///   are not tried when it yields no valid name.
/// * `pkg/mod.py` → `pkg.mod`; `pkg/__init__.py` → `pkg`; directories without
///   `__init__.py` (namespace packages) still give components (`ns/sub/mod.py` → `ns.sub.mod`).
/// * Bytecode: `pkg/__pycache__/mod.cpython-312.pyc` (any tag, `opt-N` included) → `pkg.mod`,
///   and a legacy `pkg/mod.pyc` next to where its source would be → `pkg.mod`.
/// * Any other extension, an `__init__.py` directly in the root, or a component that is not
///   a Python identifier (`my-pkg`, `.venv`, `mod.cpython-312` outside `__pycache__`) → `None`.
/// * Paths outside every root → `None`.
///
/// Both `path` and `roots` are normalised lexically (see [`normalize_path`]); nothing is read
/// from the filesystem.
///
/// ```
/// use std::path::{Path, PathBuf};
/// use codetracer_module_identity::module_name_from_path;
///
/// let roots = [PathBuf::from("/proj"), PathBuf::from("/proj/.venv/lib/python3.12/site-packages")];
/// let name = |p: &str| module_name_from_path(Path::new(p), &roots);
/// assert_eq!(name("/proj/pkg/__pycache__/mod.cpython-312.pyc").as_deref(), Some("pkg.mod"));
/// assert_eq!(name("/proj/.venv/lib/python3.12/site-packages/six.py").as_deref(), Some("six"));
/// assert_eq!(name("/proj/pkg/__init__.py").as_deref(), Some("pkg"));
/// assert_eq!(name("/elsewhere/mod.py"), None);
/// ```
pub fn module_name_from_path(path: &Path, roots: &[PathBuf]) -> Option<String> {
    let path = normalize_path(path);
    let roots: Vec<PathBuf> = roots.iter().map(|root| normalize_path(root)).collect();
    module_name_from_normalized(&path, &roots)
}

/// [`module_name_from_path`] for a path and roots that are already normalised.
pub(crate) fn module_name_from_normalized(path: &Path, roots: &[PathBuf]) -> Option<String> {
    let relative = best_relative(path, roots)?;
    module_name_from_relative(relative)
}

/// The part of `path` below the longest root containing it.
fn best_relative<'a>(path: &'a Path, roots: &[PathBuf]) -> Option<&'a Path> {
    let mut best: Option<(usize, &'a Path)> = None;
    for root in roots {
        if root.is_absolute() != path.is_absolute() {
            continue;
        }
        let Ok(relative) = path.strip_prefix(root) else {
            continue;
        };
        let depth = root.components().count();
        if best.is_none_or(|(best_depth, _)| depth > best_depth) {
            best = Some((depth, relative));
        }
    }
    best.map(|(_, relative)| relative)
}

/// Turns a root-relative file path into a dotted name (see [`module_name_from_path`]).
fn module_name_from_relative(relative: &Path) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str()?),
            _ => return None,
        }
    }
    let file = parts.pop()?;
    let stem = if let Some(stem) = file.strip_suffix(".py") {
        stem
    } else if let Some(base) = file.strip_suffix(".pyc") {
        if parts.last() == Some(&"__pycache__") {
            // PEP 3147: `__pycache__/<name>.<tag>[.opt-N].pyc` belongs to `../<name>.py`.
            parts.pop();
            base.split('.').next()?
        } else {
            // Legacy (sourceless) bytecode beside its source: `<name>.pyc`.
            base
        }
    } else {
        return None;
    };
    if stem != "__init__" {
        parts.push(stem);
    }
    if parts.is_empty() || !parts.iter().all(|part| is_identifier(part)) {
        return None;
    }
    Some(parts.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(list: &[&str]) -> Vec<PathBuf> {
        list.iter().map(PathBuf::from).collect()
    }

    fn name(path: &str, list: &[&str]) -> Option<String> {
        module_name_from_path(Path::new(path), &roots(list))
    }

    #[test]
    fn normalisation_is_lexical() {
        assert_eq!(
            normalize_path(Path::new("/a/./b/../c")),
            PathBuf::from("/a/c")
        );
        assert_eq!(normalize_path(Path::new("/../a")), PathBuf::from("/a"));
        assert_eq!(
            normalize_path(Path::new("../a/./b")),
            PathBuf::from("../a/b")
        );
        assert_eq!(
            normalize_path(Path::new("a/../../b")),
            PathBuf::from("../b")
        );
        assert_eq!(
            normalize_path(Path::new("/proj/src/")),
            PathBuf::from("/proj/src")
        );
    }

    #[test]
    fn in_project_module() {
        assert_eq!(name("/proj/app.py", &["/proj"]).as_deref(), Some("app"));
        assert_eq!(
            name("/proj/pkg/sub/mod.py", &["/proj"]).as_deref(),
            Some("pkg.sub.mod")
        );
        assert_eq!(
            name("/proj/pkg/./x/../mod.py", &["/proj/"]).as_deref(),
            Some("pkg.mod")
        );
    }

    #[test]
    fn package_init_gives_package_name() {
        assert_eq!(
            name("/proj/pkg/__init__.py", &["/proj"]).as_deref(),
            Some("pkg")
        );
        assert_eq!(
            name("/proj/pkg/sub/__init__.py", &["/proj"]).as_deref(),
            Some("pkg.sub")
        );
        // An `__init__.py` directly in a root belongs to no importable package.
        assert_eq!(name("/proj/__init__.py", &["/proj"]), None);
        assert_eq!(
            name("/proj/pkg/__main__.py", &["/proj"]).as_deref(),
            Some("pkg.__main__")
        );
    }

    #[test]
    fn namespace_packages_still_get_dotted_names() {
        // No filesystem access: `ns` need not (and here does not) exist, let alone hold an
        // `__init__.py`.
        assert_eq!(
            name("/proj/ns/inner/leaf.py", &["/proj"]).as_deref(),
            Some("ns.inner.leaf")
        );
    }

    #[test]
    fn site_packages_root() {
        let list = [
            "/usr/lib/python312.zip",
            "/usr/lib/python3.12",
            "/usr/lib/python3.12/lib-dynload",
            "/venv/lib/python3.12/site-packages",
        ];
        assert_eq!(
            name(
                "/venv/lib/python3.12/site-packages/requests/adapters.py",
                &list
            )
            .as_deref(),
            Some("requests.adapters")
        );
        assert_eq!(
            name("/usr/lib/python3.12/json/__init__.py", &list).as_deref(),
            Some("json")
        );
        assert_eq!(
            name("/usr/lib/python312.zip/os.py", &list).as_deref(),
            Some("os")
        );
    }

    #[test]
    fn longest_root_wins() {
        let list = [
            "/proj",
            "/proj/src",
            "/proj/.venv/lib/python3.12/site-packages",
        ];
        assert_eq!(
            name("/proj/src/pkg/mod.py", &list).as_deref(),
            Some("pkg.mod")
        );
        assert_eq!(
            name("/proj/.venv/lib/python3.12/site-packages/six.py", &list).as_deref(),
            Some("six")
        );
        // Order of the roots does not matter.
        let reversed: Vec<&str> = list.iter().rev().copied().collect();
        assert_eq!(
            name("/proj/src/pkg/mod.py", &reversed).as_deref(),
            Some("pkg.mod")
        );
        // Without the venv root, `.venv` is not an identifier: no name.
        assert_eq!(
            name(
                "/proj/.venv/lib/python3.12/site-packages/six.py",
                &["/proj"]
            ),
            None
        );
        // Roots match whole components only.
        assert_eq!(name("/projects/x.py", &["/proj"]), None);
    }

    #[test]
    fn bytecode_files() {
        let list = ["/proj"];
        assert_eq!(
            name("/proj/pkg/__pycache__/mod.cpython-312.pyc", &list).as_deref(),
            Some("pkg.mod")
        );
        assert_eq!(
            name("/proj/pkg/__pycache__/mod.cpython-312.opt-2.pyc", &list).as_deref(),
            Some("pkg.mod")
        );
        assert_eq!(
            name("/proj/pkg/__pycache__/__init__.cpython-312.pyc", &list).as_deref(),
            Some("pkg")
        );
        assert_eq!(
            name("/proj/__pycache__/top.cpython-312.pyc", &list).as_deref(),
            Some("top")
        );
        assert_eq!(
            name("/proj/pkg/legacy.pyc", &list).as_deref(),
            Some("pkg.legacy")
        );
        // A tagged .pyc outside `__pycache__` is not importable under that name.
        assert_eq!(name("/proj/pkg/mod.cpython-312.pyc", &list), None);
    }

    #[test]
    fn invalid_identifiers_and_extensions() {
        let list = ["/proj"];
        assert_eq!(name("/proj/my-pkg/mod.py", &list), None);
        assert_eq!(name("/proj/pkg/my mod.py", &list), None);
        assert_eq!(name("/proj/pkg/1mod.py", &list), None);
        assert_eq!(name("/proj/pkg/mod.txt", &list), None);
        assert_eq!(name("/proj/pkg/mod", &list), None);
        assert_eq!(name("/proj/pkg/.py", &list), None);
        assert_eq!(name("/proj", &list), None);
    }

    #[test]
    fn outside_roots() {
        assert_eq!(name("/elsewhere/mod.py", &["/proj"]), None);
        assert_eq!(name("/proj/mod.py", &[]), None);
        assert_eq!(name("/proj/../elsewhere/mod.py", &["/proj"]), None);
        // Relative paths only match relative roots.
        assert_eq!(name("pkg/mod.py", &["/proj"]), None);
        assert_eq!(name("pkg/mod.py", &[""]).as_deref(), Some("pkg.mod"));
        assert_eq!(
            name("./lib/pkg/mod.py", &["lib"]).as_deref(),
            Some("pkg.mod")
        );
        assert_eq!(name("/proj/mod.py", &[""]), None);
    }

    #[test]
    fn synthetic_names_are_not_paths() {
        assert_eq!(name("<string>", &["", "/proj"]), None);
        assert_eq!(name("<frozen importlib._bootstrap>", &[""]), None);
    }
}
