//! `codetracer-policy`: the recorder policy of CodeTracer recorders.
//!
//! This crate will own the policy data model (error handling, partial traces, logging, IO
//! capture, value-capture limits), its defaults and validation, and the parsing of
//! `CODETRACER_*` variables from a caller-supplied `(name, value)` iterator.
