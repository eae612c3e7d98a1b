//! `codetracer-trace-filter`: the trace filter language of CodeTracer recorders.
//!
//! This crate will own the TOML filter model, selector parsing (`pkg`/`file`/`obj` scopes,
//! `local`/`global`/`arg`/`ret`/`attr` values, glob/regex/literal matchers), the loader with
//! precise errors, the builtin filters, the compiled decision engine and the metadata summary.
//! It has no Python dependency so any tracer can use it.
