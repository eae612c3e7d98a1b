//! Name-level helpers: Python identifier checks, synthetic filenames, function labels.
//!
//! Everything here is pure string handling; nothing touches the filesystem or Python.

/// The label used for module-level code whose module name is unknown.
pub const UNKNOWN_MODULE_LABEL: &str = "<module>";

/// Returns `true` when `s` is a Python identifier, as `str.isidentifier()` would say.
///
/// ASCII names are checked exactly. Non-ASCII characters are approximated with Unicode
/// alphabetic/alphanumeric classes instead of `XID_Start`/`XID_Continue` (no Unicode tables
/// are pulled in); the difference only matters for exotic combining marks. Keywords are
/// accepted, like `str.isidentifier()` does.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c == '_' || c.is_alphabetic() => {}
        _ => return false,
    }
    chars.all(|c| c == '_' || c.is_alphanumeric())
}

/// Returns `true` when `s` is a non-empty dotted module name (`pkg.sub.mod`) whose every
/// component is a Python identifier.
pub fn is_dotted_name(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(is_identifier)
}

/// Returns `true` for filenames that name no real file: `<string>`, `<stdin>`,
/// `<frozen importlib._bootstrap>`, `<frozen os>`, any other `<...>` and the empty string.
///
/// Code with such a filename never gets a module name: frozen modules and `exec`'d strings
/// have no file to derive a name from, and their globals may belong to an unrelated module.
pub fn is_synthetic_filename(name: &str) -> bool {
    name.is_empty() || (name.len() >= 2 && name.starts_with('<') && name.ends_with('>'))
}

/// The function label for module-level code: `<dotted.name>` when the module name is known,
/// [`UNKNOWN_MODULE_LABEL`] (`<module>`) otherwise.
pub fn module_function_name(name: Option<&str>) -> String {
    match name {
        Some(name) if !name.is_empty() => format!("<{name}>"),
        _ => UNKNOWN_MODULE_LABEL.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        for ok in [
            "a", "_", "_x1", "mod", "__init__", "__main__", "café", "class",
        ] {
            assert!(is_identifier(ok), "{ok}");
        }
        for bad in ["", "1a", "a-b", "a.b", "a b", "my-pkg", ".hidden", "x$"] {
            assert!(!is_identifier(bad), "{bad}");
        }
    }

    #[test]
    fn dotted_names() {
        assert!(is_dotted_name("pkg"));
        assert!(is_dotted_name("pkg.sub.mod"));
        assert!(is_dotted_name("__main__"));
        assert!(!is_dotted_name(""));
        assert!(!is_dotted_name("pkg..mod"));
        assert!(!is_dotted_name(".pkg"));
        assert!(!is_dotted_name("pkg."));
        assert!(!is_dotted_name("my-pkg.mod"));
    }

    #[test]
    fn synthetic_filenames() {
        for s in [
            "<string>",
            "<stdin>",
            "<frozen importlib._bootstrap>",
            "<frozen os>",
            "<ipython-input-1>",
            "",
        ] {
            assert!(is_synthetic_filename(s), "{s}");
        }
        for s in ["/a/b.py", "b.py", "<", ">", "<a", "a>", "x<y>.py"] {
            assert!(!is_synthetic_filename(s), "{s}");
        }
    }

    #[test]
    fn function_labels() {
        assert_eq!(module_function_name(Some("pkg.mod")), "<pkg.mod>");
        assert_eq!(module_function_name(Some("__main__")), "<__main__>");
        assert_eq!(module_function_name(None), "<module>");
        assert_eq!(module_function_name(Some("")), "<module>");
    }
}
