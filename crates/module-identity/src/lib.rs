//! `codetracer-module-identity`: real dotted module names for Python code.
//!
//! This crate will own the path → module-name heuristics (sys.path roots, package markers,
//! `.pyc` files, namespace packages) and, behind the `python` feature, a per-code-object
//! resolver using `__spec__`/`__name__` and `sys.modules`.
