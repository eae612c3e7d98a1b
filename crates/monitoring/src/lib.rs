//! `codetracer-monitoring`: safe Rust bindings to CPython's `sys.monitoring` (PEP 669).
